//! One form in the builder: its page (settings, fields, publish), saving its settings,
//! publishing it and previewing it.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::drafts::{builder_error, load, localized, text};
use super::field_views::{self, FieldFormView};
use super::texts::{TextKind, TextRow, rows};
use super::{AdminError, AdminStrings, Chrome, Fields, Problems, SignedIn, refresh_catalog, see_other};
use crate::db::catalog::Catalog;
use crate::domain::{ErrorCode, FormDefinition, Locale, Localized};
use crate::services::builder::{self, BuilderError, Working};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/forms/{key}").route(web::get().to(show)))
        .service(web::resource("/admin/forms/{key}/publish").route(web::post().to(publish)));
}

/// Form settings as shown (and as typed back on a refused save).
pub struct SettingsView {
    pub kind: String,
    /// As stored or typed, one entry per language.
    pub title: Localized,
    pub description: Localized,
    pub origins: String,
    pub double_opt_in: bool,
    /// Every purpose: key, title, asked by this form.
    pub purposes: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "admin/builder.html")]
pub struct BuilderPage {
    pub c: Chrome,
    pub key: String,
    /// The form's title in the console's language (its key while it has none).
    pub title: String,
    /// What is announced when a field moves, `{field}`, `{position}` and `{total}` left for the
    /// page's script to fill.
    pub moved: String,
    pub published: Option<i64>,
    pub changes: bool,
    pub settings: SettingsView,
    /// The settings' text inputs: name, label, value, required.
    pub settings_inputs: Vec<(&'static str, &'static str, String, bool)>,
    /// The kinds offered (value, words); a kind set as code and not offered is kept as a choice.
    pub kinds: Vec<(String, String)>,
    /// The title and description, a row per offered language.
    pub texts: Vec<TextRow>,
    pub fields: Vec<FieldFormView>,
    pub new_field: FieldFormView,
    pub problems: Problems,
    pub publish_error: Option<String>,
    pub notice: Option<&'static str>,
}

/// The builder page for `work`, with whatever the request refused.
pub fn builder_page(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    work: &Working,
    refused: Refused,
) -> HttpResponse {
    let t = AdminStrings::get(who.locale);
    let catalog = state.catalog.current();
    let key = work.key.to_string();
    let settings = refused.settings.unwrap_or_else(|| draft_settings(&work.draft, &catalog, who.locale));
    let (views, new_field) = match refused.fields {
        Some((views, new)) => (views, new.unwrap_or_else(|| field_views::new_view(&catalog, who.locale))),
        None => (field_views::views(&catalog, who.locale, &work.draft), field_views::new_view(&catalog, who.locale)),
    };
    let status = if refused.problems.is_empty() && refused.publish_error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut kinds: Vec<(String, String)> =
        super::forms::KINDS.iter().map(|k| ((*k).to_owned(), super::forms::kind_words(who.locale, k))).collect();
    if !kinds.iter().any(|(k, _)| *k == settings.kind) {
        kinds.push((settings.kind.clone(), settings.kind.clone()));
    }
    let title = work.draft.title.get(who.locale, catalog.default_locale());
    let moved = crate::i18n::catalogue(who.locale).format(
        "console-moved",
        &[("field", "{field}".into()), ("position", "{position}".into()), ("total", "{total}".into())],
    );
    let page = BuilderPage {
        title: if title.trim().is_empty() { key.clone() } else { title.to_owned() },
        moved,
        kinds,
        settings_inputs: settings_inputs(&settings, t),
        texts: settings_texts(&settings, &catalog, who.locale),
        c: who.chrome(req, "forms"),
        key,
        published: work.published,
        changes: work.unpublished_changes,
        settings,
        fields: views,
        new_field,
        problems: refused.problems,
        publish_error: refused.publish_error,
        notice: refused.notice.map(|n| notice_text(n, t)),
    };
    let mut response = render_with_status(&page, status);
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// The settings of a draft as the builder shows them.
fn draft_settings(d: &FormDefinition, catalog: &Catalog, locale: Locale) -> SettingsView {
    SettingsView {
        kind: d.kind.clone(),
        title: d.title.clone(),
        description: d.description.clone().unwrap_or_default(),
        origins: d.allowed_origins.join("\n"),
        double_opt_in: d.double_opt_in,
        purposes: catalog
            .purposes
            .values()
            .map(|p| {
                let title = p.policy.title().get(locale, catalog.default_locale()).to_owned();
                (p.key.to_string(), title, d.purposes.contains(&p.key))
            })
            .collect(),
    }
}

/// The settings' text inputs: name, label, value, required.
fn settings_inputs(settings: &SettingsView, t: &AdminStrings) -> Vec<(&'static str, &'static str, String, bool)> {
    vec![("kind", t.form_kind, settings.kind.clone(), true)]
}

/// The title and description, a row per offered language.
fn settings_texts(settings: &SettingsView, catalog: &Catalog, locale: Locale) -> Vec<TextRow> {
    let mut texts = rows("title", TextKind::Title, &settings.title, &catalog.locales, locale);
    let mut description = rows("description", TextKind::Description, &settings.description, &catalog.locales, locale);
    for row in &mut description {
        // The description as a whole is optional; written at all, it needs the default language.
        row.required = false;
    }
    texts.extend(description);
    texts
}

/// What the page says after a save or publish (`done=` in the URL).
fn notice_text(notice: &str, t: &AdminStrings) -> &'static str {
    match notice {
        "published" => t.published_now,
        "unchanged" => t.nothing_to_publish,
        _ => t.saved,
    }
}

/// What a refused builder request puts back on the page.
#[derive(Default)]
pub struct Refused {
    pub problems: Problems,
    pub settings: Option<SettingsView>,
    /// The fields as typed, and the new one if one was typed.
    pub fields: Option<(Vec<FieldFormView>, Option<FieldFormView>)>,
    pub publish_error: Option<String>,
    pub notice: Option<&'static str>,
}

async fn show(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let work = load(&state, &who, &path).await?;
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok();
    let notice = query.and_then(|q| {
        q.get("done").map(|d| match d.as_str() {
            "published" => "published",
            "unchanged" => "unchanged",
            _ => "saved",
        })
    });
    Ok(builder_page(&req, &who, &state, &work, Refused { notice, ..Refused::default() }))
}

/// The settings as typed (to show back), and what is wrong with them.
pub(super) fn typed_settings(
    form: &Fields,
    t: &AdminStrings,
    catalog: &Catalog,
    locale: Locale,
) -> (SettingsView, Problems) {
    let mut problems = Problems::default();
    let kind = text(&mut problems, t, form, "kind", 40);
    let locales = &catalog.locales;
    localized(&mut problems, t, form, "title", locales, 200);
    let description = form.text("description", locales);
    if description.tags().any(|tag| description.0.get(tag).is_some_and(|d| !d.trim().is_empty())) {
        localized(&mut problems, t, form, "description", locales, 2000);
    }
    if builder::parse_origins(form.get("allowed_origins")).is_err() {
        problems.add("allowed_origins", t.says(ErrorCode::InvalidOrigin));
    }
    let asked = form.all("purposes");
    let purposes = catalog
        .purposes
        .values()
        .map(|p| {
            let title = p.policy.title().get(locale, catalog.default_locale()).to_owned();
            (p.key.to_string(), title, asked.contains(&p.key.as_str()))
        })
        .collect();
    let view = SettingsView {
        kind,
        title: form.text("title", locales),
        description,
        origins: form.get("allowed_origins").to_owned(),
        double_opt_in: form.get("double_opt_in") == "1",
        purposes,
    };
    (view, problems)
}

/// The draft with valid settings applied; purposes keep the catalogue's order, so the public form
/// lists them as the purposes page does.
pub(super) fn with_settings(mut draft: FormDefinition, s: SettingsView, catalog: &Catalog) -> FormDefinition {
    draft.kind = s.kind;
    draft.title = s.title.tidy();
    let description = s.description.tidy();
    draft.description = (!description.0.is_empty()).then_some(description);
    let asked: Vec<&str> = s.purposes.iter().filter(|(_, _, on)| *on).map(|(k, _, _)| k.as_str()).collect();
    draft.purposes =
        catalog.purposes.values().filter(|p| asked.contains(&p.key.as_str())).map(|p| p.key.clone()).collect();
    draft.allowed_origins = builder::parse_origins(&s.origins).unwrap_or_default();
    draft.double_opt_in = s.double_opt_in;
    draft
}

async fn publish(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.owner_form(&req, payload).await?;
    publish_key(&req, &who, &state, path.into_inner()).await
}

/// Publishes the saved draft of `key`; a definition that cannot be published shows the page
/// again with why.
pub(super) async fn publish_key(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    key: String,
) -> Result<HttpResponse, AdminError> {
    let t = AdminStrings::get(who.locale);
    let (actor, k) = (who.actor(), key.clone());
    let published = state.db.writer.write(move |tx| builder::publish(tx.conn, &k, &actor)).await;
    match published {
        Ok(version) => {
            refresh_catalog(state).await.map_err(|e| AdminError::new(e, who.locale))?;
            let done = if version.is_some() { "published" } else { "unchanged" };
            Ok(see_other(&format!("/admin/forms/{key}?lang={}&done={done}", who.locale.as_str())))
        }
        Err(BuilderError::Invalid(e)) => {
            let work = load(state, who, &key).await?;
            let refused = Refused { publish_error: Some(t.definition_error(&e)), ..Refused::default() };
            Ok(builder_page(req, who, state, &work, refused))
        }
        Err(e) => Err(builder_error(e, who.locale)),
    }
}

/// `GET /admin/forms/{key}/preview`: the saved draft through the public form's own template.
pub(super) async fn preview(
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let work = load(&state, &who, &path).await?;
    render_preview(&who, &state.catalog.current(), &work.key, &work.draft)
}

/// A draft through the public form's own template, marked as a preview and made unsubmittable
/// (disabled button, CSP `form-action 'none'`); the builder shows it in a frame beside the editor.
pub(super) fn render_preview(
    who: &SignedIn,
    catalog: &Catalog,
    key: &crate::domain::FormKey,
    draft: &FormDefinition,
) -> Result<HttpResponse, AdminError> {
    let t = AdminStrings::get(who.locale);
    let page = crate::web::public::preview_page(catalog, key, draft, who.locale);
    let html = match page.render() {
        Ok(html) => html,
        Err(e) => return Err(AdminError::new(AppError::Internal(e.into()), who.locale)),
    };
    let back = format!("/admin/forms/{key}?lang={}", who.locale.as_str());
    // The catalogue's own sentences (no markup in them) and a path built from a checked key.
    let banner = format!(
        "<main id=\"main\"><p class=\"notice\" role=\"status\">{} <a href=\"{back}\" target=\"_top\">{}</a></p>",
        t.preview_note, t.back_to_forms
    );
    let html = html
        .replacen("<main id=\"main\">", &banner, 1)
        .replace("<button type=\"submit\">", "<button type=\"submit\" disabled>");
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
        ))
        .body(html))
}
