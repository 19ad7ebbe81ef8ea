//! The public forms: `GET/POST /f/{form}`, the thank-you page and the policy texts.
//!
//! A plain HTML form on the owner's own site may post here with a `redirect` field (or
//! `?redirect=`): after a successful submission the person is sent back there, but only to one of
//! the form's allowed origins; any other target is ignored and the thank-you page is shown. A post
//! from any other site is refused (403) before anything is read: see [`origin::post_allowed`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::body::{FORM_URLENCODED, parse_urlencoded, read_limited, require_content_type};
use super::error::{AppError, PageError, error_anchor};
use super::i18n::Strings;
use super::pages::{ChoiceView, ErrorLink, FieldView, FormPage, PurposeView, ThanksPage, render, render_with_status};
use super::submission::Door;
use super::{AppState, locale_of};
use crate::crypto::Keyring;
use crate::db::catalog::{Catalog, PublishedForm};
use crate::domain::form::{FieldDefinition, FieldError, RawSubmission};
use crate::domain::{ErrorCode, Locale, Method, origin};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/f/{form}").route(web::get().to(show_form)).route(web::post().to(submit_form)))
        .service(crate::web::only("/f/{form}/thanks", "GET", web::get().to(thanks)))
        .service(crate::web::only("/policies/{purpose}/{version}", "GET", web::get().to(super::policy::policy)));
}

/// What the person typed and ticked, to show again after a mistake.
#[derive(Default)]
struct Typed<'a> {
    fields: &'a [(String, String)],
    purposes: &'a [String],
    errors: &'a [FieldError],
    /// Where to go after success (already checked against the allowed origins).
    redirect: Option<&'a str>,
    /// The age inputs, on a form with a minimum age.
    age: Option<&'a crate::domain::minors::AgeAnswer>,
}

#[derive(serde::Deserialize)]
struct RedirectQuery {
    redirect: Option<String>,
}

/// The `redirect` target of a post (the field wins over the query), if the form allows it.
fn redirect_target(req: &HttpRequest, pairs: &mut Vec<(String, String)>, form: &PublishedForm) -> Option<String> {
    let from_query = web::Query::<RedirectQuery>::from_query(req.query_string()).ok().and_then(|q| q.0.redirect);
    let from_body = pairs.iter().rev().find(|(k, _)| k == "redirect").map(|(_, v)| v.clone());
    pairs.retain(|(k, _)| k != "redirect");
    from_body
        .or(from_query)
        .map(|url| url.trim().to_owned())
        .filter(|url| origin::redirect_allowed(&form.definition.allowed_origins, url))
}

/// Takes the signed wording a form says it displayed out of the post, and says where it differs
/// from the wording in force (an unreadable or forged one differs as a whole). A post without it
/// (a script, an old snippet) was shown nothing by Assent and is taken at the wording in force.
fn stale_wording(
    keyring: &Keyring,
    catalog: &Catalog,
    form: &PublishedForm,
    pairs: &mut Vec<(String, String)>,
) -> Vec<FieldError> {
    let sent = pairs.iter().rev().find(|(k, _)| k == "_shown").map(|(_, v)| v.clone());
    pairs.retain(|(k, _)| k != "_shown");
    let Some(token) = sent else { return Vec::new() };
    match keyring.open_shown(&token) {
        Some(shown) => shown.stale_against(&catalog.shown(form)),
        None => vec![FieldError::new("purpose", crate::domain::form::FieldErrorCode::WordingChanged)],
    }
}

/// Where the browser says this post came from (a header it sent unreadable counts as untrusted).
pub(crate) fn post_source(req: &HttpRequest) -> origin::PostSource<'_> {
    let sent = |name: &str| req.headers().get(name).map(|v| v.to_str().unwrap_or("null"));
    origin::PostSource {
        origin: sent(header::ORIGIN.as_str()),
        sec_fetch_site: sent("sec-fetch-site"),
        referer: sent(header::REFERER.as_str()),
    }
}

async fn show_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let catalog = state.catalog.current();
    let form =
        catalog.form(&path).ok_or_else(|| PageError::new(AppError::NotFound(ErrorCode::FormNotFound), locale))?;
    Ok(form_response(&state.keyring, &catalog, form, locale, &Typed::default()))
}

async fn submit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let page_error = |e: AppError| PageError::new(e, locale);
    let catalog = state.catalog.current();
    let form = catalog.form(&path).ok_or_else(|| page_error(AppError::NotFound(ErrorCode::FormNotFound)))?;
    if !origin::post_allowed(&state.settings.base_url, &form.definition.allowed_origins, post_source(&req)) {
        return Err(page_error(AppError::Forbidden(ErrorCode::CrossSitePost)));
    }
    require_content_type(&req, FORM_URLENCODED).map_err(page_error)?;
    let body = read_limited(&req, payload).await.map_err(page_error)?;
    let mut pairs = parse_urlencoded(&body, locale).map_err(page_error)?;
    let redirect = redirect_target(&req, &mut pairs, form);
    let stale = stale_wording(&state.keyring, &catalog, form, &mut pairs);
    let age = super::age::min_age_of(&catalog, form).map(|_| super::age::take(&mut pairs));

    let (purposes, fields): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| k == "purpose");
    let raw = RawSubmission { fields, purposes: purposes.into_iter().map(|(_, v)| v).collect() };
    let checked = match super::submission::checked(&state, &catalog, form, &raw, age.as_ref()) {
        Ok(checked) if stale.is_empty() => checked,
        outcome => {
            let errors = [stale, outcome.err().unwrap_or_default()].concat();
            let again = Refused { raw: &raw, errors: &errors, redirect: redirect.as_deref(), age: age.as_ref() };
            return Ok(form_again(&state.keyring, &catalog, form, locale, again));
        }
    };
    state.limits.submission(crate::web::client_ip(&req, &state.settings)).await.map_err(page_error)?;
    // A public form cannot tell who is typing the address: nothing is vouched for.
    let door = Door { locale, method: Method::Form, verified: false };
    let input = super::submission::input(&req, &state, &catalog, form, checked, door);
    // Field keys only (never what was typed), for the thank-you page to name by their labels.
    let dropped: String = input.accepted.dropped.iter().map(|k| format!("&dropped={k}")).collect();
    let guardian = input.guardian.is_some();
    let outcome = state.submissions.record(catalog.clone(), input).await.map_err(|e| page_error(e.into()))?;
    let pending = match (outcome.pending.is_empty(), guardian) {
        (true, _) => "",
        (false, guardian) => {
            state.mail_queued.notify_one();
            if guardian { "&pending=guardian" } else { "&pending=1" }
        }
    };
    let location =
        redirect.unwrap_or_else(|| format!("/f/{}/thanks?lang={}{pending}{dropped}", form.key, locale.as_str()));
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish())
}

/// A post that cannot be recorded, as it came.
struct Refused<'a> {
    raw: &'a RawSubmission,
    errors: &'a [FieldError],
    redirect: Option<&'a str>,
    age: Option<&'a crate::domain::minors::AgeAnswer>,
}

/// The form again (422) with what was typed and a message next to each problem. A purpose whose
/// wording changed is shown unticked: the person reads it again.
fn form_again(
    keyring: &Keyring,
    catalog: &Catalog,
    form: &PublishedForm,
    locale: Locale,
    r: Refused<'_>,
) -> HttpResponse {
    let ticked: Vec<String> = r
        .raw
        .purposes
        .iter()
        .filter(|p| !r.errors.iter().any(|e| e.field == format!("purpose.{p}")))
        .cloned()
        .collect();
    let typed = Typed { fields: &r.raw.fields, purposes: &ticked, errors: r.errors, redirect: r.redirect, age: r.age };
    let mut response = form_response(keyring, catalog, form, locale, &typed);
    *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    response
}

async fn thanks(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let catalog = state.catalog.current();
    let form =
        catalog.form(&path).ok_or_else(|| PageError::new(AppError::NotFound(ErrorCode::FormNotFound), locale))?;
    let query: Vec<&str> = req.query_string().split('&').collect();
    let page = ThanksPage {
        t: Strings::get(locale),
        lang: locale.as_str(),
        title: form.definition.title.get(locale, catalog.default_locale()).to_owned(),
        form_key: form.key.to_string(),
        pending: query.contains(&"pending=1"),
        guardian: query.contains(&"pending=guardian"),
        dropped: dropped_labels(form, &query, locale, catalog.default_locale()),
    };
    let mut response = render(&page);
    set_frame_policy(&mut response, form);
    Ok(response)
}

/// The labels of the fields the query names as dropped. Only keys of this form's fields are
/// named, each once: the query cannot put words on the page.
fn dropped_labels(form: &PublishedForm, query: &[&str], locale: Locale, default: Locale) -> Vec<String> {
    let mut dropped: Vec<String> = Vec::new();
    for key in query.iter().filter_map(|p| p.strip_prefix("dropped=")) {
        if let Some(field) = form.definition.field(key) {
            let label = field.label.get(locale, default).to_owned();
            if !dropped.contains(&label) {
                dropped.push(label);
            }
        }
    }
    dropped
}

fn form_response(
    keyring: &Keyring,
    catalog: &Catalog,
    form: &PublishedForm,
    locale: Locale,
    typed: &Typed<'_>,
) -> HttpResponse {
    let mut page = form_page(catalog, form, locale, typed);
    page.shown = Some(catalog.shown_token(form, |shown| keyring.sign_shown(shown)));
    let mut response = render_with_status(&page, actix_web::http::StatusCode::OK);
    set_frame_policy(&mut response, form);
    response
}

/// Form pages may be framed by the form's allowed origins (and nobody else); their form may
/// lead there too (the redirect back after a post).
fn set_frame_policy(response: &mut HttpResponse, form: &PublishedForm) {
    let mut ancestors = vec!["'self'".to_owned()];
    ancestors.extend(form.definition.allowed_origins.iter().filter_map(|o| origin::origin_of(o)));
    let ancestors = ancestors.join(" ");
    let csp = format!(
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action {ancestors}; frame-ancestors {ancestors}"
    );
    if let Ok(value) = header::HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
}

fn form_page(catalog: &Catalog, form: &PublishedForm, locale: Locale, typed: &Typed<'_>) -> FormPage {
    let t = Strings::get(locale);
    let def = &form.definition;
    FormPage {
        t,
        lang: locale.as_str(),
        languages: crate::web::i18n::languages(locale, catalog.locales.offered()),
        form_key: form.key.to_string(),
        title: def.title.get(locale, catalog.default_locale()).to_owned(),
        description: def.description.as_ref().map(|d| d.get(locale, catalog.default_locale()).to_owned()),
        fields: field_views(catalog, def, locale, typed),
        purposes: purpose_views(catalog, def, locale, typed),
        errors: error_links(catalog, form, locale, typed),
        redirect: typed.redirect.map(str::to_owned),
        shown: None,
        age: super::age::min_age_of(catalog, form).map(|min| {
            let answer = typed.age.cloned().unwrap_or_default();
            super::age::view(min, def.age_check, &answer, typed.errors, locale)
        }),
    }
}

/// The message for `field` (or `purpose.<key>`), if the typed submission was refused there.
fn error_for(typed: &Typed<'_>, locale: Locale, field: &str) -> Option<String> {
    typed.errors.iter().find(|e| e.field == field).map(|e| Strings::get(locale).field_error(e))
}

/// The form's inputs, with what was typed and any message next to each.
fn field_views(
    catalog: &Catalog,
    def: &crate::domain::FormDefinition,
    locale: Locale,
    typed: &Typed<'_>,
) -> Vec<FieldView> {
    def.fields.iter().map(|f| field_view(catalog, f, locale, typed)).collect()
}

/// One field of the public form: what was typed, its error, and the purposes it serves (named
/// under its label and tied to the control with `aria-describedby`, after the error).
fn field_view(catalog: &Catalog, f: &FieldDefinition, locale: Locale, typed: &Typed<'_>) -> FieldView {
    let key = f.key.as_str();
    let value = typed.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    let error = error_for(typed, locale, key);
    let titles: Vec<String> = f
        .purposes
        .iter()
        .filter_map(|p| catalog.purpose(p.as_str()))
        .map(|p| p.policy.title().get(locale, catalog.default_locale()).to_owned())
        .collect();
    let mut described_by = Vec::new();
    if error.is_some() {
        described_by.push(error_anchor(key));
    }
    if !titles.is_empty() {
        described_by.push(format!("field-{key}-purposes"));
    }
    FieldView {
        key: key.to_owned(),
        label: f.label.get(locale, catalog.default_locale()).to_owned(),
        input_type: f.kind.input_type(),
        textarea: f.kind == crate::domain::FieldType::Textarea,
        choices: f
            .choices
            .iter()
            .map(|c| ChoiceView {
                value: c.value.clone(),
                label: c.label.get(locale, catalog.default_locale()).to_owned(),
                selected: c.value == value,
            })
            .collect(),
        required: f.required,
        error,
        max_length: f.max_length(),
        autocomplete: f.kind.autocomplete(key),
        purposes: f.purposes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" "),
        used_for: titles.join(", "),
        described_by: described_by.join(" "),
        value,
    }
}

/// The consent checkboxes, in the form's order.
fn purpose_views(
    catalog: &Catalog,
    def: &crate::domain::FormDefinition,
    locale: Locale,
    typed: &Typed<'_>,
) -> Vec<PurposeView> {
    def.purposes
        .iter()
        .filter_map(|key| catalog.purpose(key.as_str()))
        .map(|p| PurposeView {
            items: def
                .fields
                .iter()
                .filter(|f| f.purposes.contains(&p.key))
                .map(|f| f.label.get(locale, catalog.default_locale()).to_owned())
                .collect::<Vec<_>>()
                .join(", "),
            key: p.key.to_string(),
            title: p.policy.title().get(locale, catalog.default_locale()).to_owned(),
            text: p.policy.text().get(locale, catalog.default_locale()).to_owned(),
            required: p.required,
            checked: typed.purposes.iter().any(|t| t == p.key.as_str()),
            retention: crate::i18n::catalogue(locale).retention(p.retention),
            policy_url: format!("/policies/{}/v{}?lang={}", p.key, p.policy.version, locale.as_str()),
            policy_version: p.policy.version,
            refusal: super::notice_words::refusal(&p.details, p.required, locale, catalog.default_locale()),
            recipients: (
                super::notice_words::recipients_label(locale),
                super::notice_words::recipients(&p.details, locale, catalog.default_locale()),
            ),
            error: error_for(typed, locale, &format!("purpose.{}", p.key)),
        })
        .collect()
}

/// The error summary: each refusal, linked to its input.
fn error_links(catalog: &Catalog, form: &PublishedForm, locale: Locale, typed: &Typed<'_>) -> Vec<ErrorLink> {
    let t = Strings::get(locale);
    typed
        .errors
        .iter()
        .map(|e| ErrorLink {
            anchor: match e.field.as_str() {
                "purpose" => "purpose-legend".to_owned(),
                f if form.definition.field(f).is_some() => format!("field-{f}"),
                f if f.starts_with("purpose.") => format!("purpose-{}", &f["purpose.".len()..]),
                f if crate::domain::minors::AGE_INPUTS.contains(&f) => format!("field-{f}"),
                _ => error_anchor(&e.field),
            },
            message: format!("{}: {}", label_of(catalog, form, &e.field, locale), t.field_error(e)),
        })
        .collect()
}

/// The public form page for a definition that may not be published yet: the form builder's
/// preview renders through exactly this.
pub fn preview_page(
    catalog: &Catalog,
    key: &crate::domain::FormKey,
    definition: &crate::domain::FormDefinition,
    locale: Locale,
) -> FormPage {
    let form =
        PublishedForm { key: key.clone(), version_id: String::new(), version: 0, definition: definition.clone() };
    form_page(catalog, &form, locale, &Typed::default())
}

/// How a field (or purpose) is named in the error summary.
fn label_of(catalog: &Catalog, form: &PublishedForm, field: &str, locale: Locale) -> String {
    if let Some(f) = form.definition.field(field) {
        return f.label.get(locale, catalog.default_locale()).to_owned();
    }
    if let Some(p) = field.strip_prefix("purpose.").and_then(|k| catalog.purpose(k)) {
        return p.policy.title().get(locale, catalog.default_locale()).to_owned();
    }
    if field == "purpose" {
        return Strings::get(locale).purposes_legend.to_owned();
    }
    if let Some(label) = super::age::label(field, locale) {
        return label;
    }
    field.to_owned()
}
