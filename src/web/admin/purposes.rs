//! Purposes in the console: the list (current version, retention, renewal window, channel,
//! legal basis, and how many people agreed to each policy version), create and edit.
//! Editing the wording publishes a new policy version (through `services::purposes`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::texts::{TextKind, TextRow, rows};
use super::{AdminError, AdminStrings, Chrome, Fields, Problems, SignedIn, refresh_catalog, see_other};
use crate::db::builder::{self, VersionAgreement};
use crate::db::catalog::Catalog;
use crate::domain::{ErrorCode, Locale, Locales, PurposeCategory};
use crate::services::purposes::{self, PRESETS, PurposeError, PurposeInput};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/purposes").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/admin/purposes/new").route(web::get().to(new_page)))
        .service(web::resource("/admin/purposes/{key}").route(web::get().to(edit_page)).route(web::post().to(update)));
}

struct PurposeView {
    key: String,
    title: String,
    version: i64,
    legal_basis: &'static str,
    required: bool,
    channel: &'static str,
    retention: String,
    renewal_window_days: i64,
    agreements: Vec<(i64, i64)>,
}

#[derive(Template)]
#[template(path = "admin/purposes.html")]
struct ListPage {
    c: Chrome,
    purposes: Vec<PurposeView>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "admin/purpose_form.html")]
struct FormPage {
    c: Chrome,
    creating: bool,
    action: String,
    input: PurposeInput,
    problems: Problems,
    bases: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, &'static str)>,
    presets: Vec<(&'static str, &'static str)>,
    /// Every purpose category: its wire name and label.
    categories: Vec<(&'static str, String)>,
    /// The title and the wording, a row per offered language.
    texts: Vec<TextRow>,
}

pub fn basis_label(t: &AdminStrings, basis: &str) -> &'static str {
    match basis {
        "consent" => t.basis_consent,
        "contract" => t.basis_contract,
        "legal_obligation" => t.basis_legal_obligation,
        _ => t.basis_legitimate_interest,
    }
}

pub fn channel_label(t: &AdminStrings, channel: &str) -> &'static str {
    match channel {
        "email" => t.channel_email,
        "sms" => t.channel_sms,
        "push" => t.channel_push,
        _ => t.channel_none,
    }
}

/// A purpose category in words (`purpose-category-<name>`).
pub fn category_label(locale: Locale, category: PurposeCategory) -> String {
    crate::i18n::catalogue(locale).text(&format!("purpose-category-{}", crate::i18n::kebab(category.as_str())))
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let locale = who.locale;
    let t = AdminStrings::get(locale);
    let pool = state.db.pool.clone();
    let counts: Vec<VersionAgreement> = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(builder::agreements(&mut conn)?)
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?;
    let catalog = state.catalog.current();
    let purposes = catalog
        .purposes
        .values()
        .map(|p| PurposeView {
            key: p.key.to_string(),
            title: p.policy.title().get(locale, catalog.default_locale()).to_owned(),
            version: p.policy.version,
            legal_basis: basis_label(t, p.legal_basis.as_str()),
            required: p.required,
            channel: channel_label(t, p.channel.as_str()),
            retention: crate::i18n::catalogue(locale).retention(p.retention),
            renewal_window_days: p.renewal_window_days,
            agreements: counts
                .iter()
                .filter(|c| c.purpose_key == p.key.as_str())
                .map(|c| (c.version, c.agreed))
                .collect(),
        })
        .collect();
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok();
    let notice = query.and_then(|q| q.get("saved").map(|v| if v == "new" { t.published_version } else { t.saved }));
    Ok(render_with_status(&ListPage { c: who.chrome(&req, "purposes"), purposes, notice }, StatusCode::OK))
}

fn form_page(
    req: &HttpRequest,
    who: &SignedIn,
    catalog: &Catalog,
    creating: bool,
    input: PurposeInput,
    problems: Problems,
    status: StatusCode,
) -> HttpResponse {
    let t = AdminStrings::get(who.locale);
    let lang = who.locale.as_str();
    let action = if creating {
        format!("/admin/purposes?lang={lang}")
    } else {
        format!("/admin/purposes/{}?lang={lang}", input.key)
    };
    let bases =
        ["consent", "contract", "legal_obligation", "legitimate_interest"].map(|b| (b, basis_label(t, b))).to_vec();
    let channels = ["none", "email", "sms", "push"].map(|c| (c, channel_label(t, c))).to_vec();
    let labels = [t.preset_payment, t.preset_disputes, t.preset_advertising, t.preset_marketing];
    let presets = PRESETS.iter().copied().zip(labels).collect();
    let locales = &catalog.locales;
    let mut texts = rows("title", TextKind::Title, &input.title, locales, who.locale);
    texts.extend(rows("text", TextKind::Wording, &input.text, locales, who.locale));
    texts.extend(rows("refusal", TextKind::Refusal, &input.refusal, locales, who.locale));
    let c = who.chrome(req, "purposes");
    let categories = PurposeCategory::ALL.iter().map(|c| (c.as_str(), category_label(who.locale, *c))).collect();
    let page = FormPage { c, creating, action, input, problems, bases, channels, presets, categories, texts };
    render_with_status(&page, status)
}

async fn new_page(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let input = PurposeInput {
        legal_basis: "consent".into(),
        channel: "none".into(),
        renewal_window_days: "30".into(),
        ..PurposeInput::default()
    };
    Ok(form_page(&req, &who, &state.catalog.current(), true, input, Problems::default(), StatusCode::OK))
}

async fn edit_page(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let catalog = state.catalog.current();
    let Some(purpose) = catalog.purpose(&path) else { return Err(not_found(who.locale)) };
    Ok(form_page(&req, &who, &catalog, false, purposes::input_of(purpose), Problems::default(), StatusCode::OK))
}

fn not_found(locale: Locale) -> AdminError {
    AdminError::Refused { status: StatusCode::NOT_FOUND, code: ErrorCode::NotFound, locale }
}

fn input_from(fields: &Fields, key: &str, locales: &Locales) -> PurposeInput {
    PurposeInput {
        key: key.to_owned(),
        title: fields.text("title", locales),
        text: fields.text("text", locales),
        legal_basis: fields.get("legal_basis").to_owned(),
        required: fields.get("required") == "1",
        channel: fields.get("channel").to_owned(),
        retention: fields.get("retention").to_owned(),
        retention_preset: fields.get("retention_preset").to_owned(),
        renewal_window_days: fields.get("renewal_window_days").to_owned(),
        category: fields.get("category").to_owned(),
        third_parties: fields.get("third_parties").to_owned(),
        sensitive: fields.get("sensitive") == "1",
        night_time: fields.get("night_time") == "1",
        sale_or_share: fields.get("sale_or_share") == "1",
        obligation_period: fields.get("obligation_period").to_owned(),
        obligation_law: fields.get("obligation_law").to_owned(),
        refusal: fields.text("refusal", locales),
        kind: Default::default(),
        recipients: Vec::new(),
    }
}

async fn create(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let input = input_from(&fields, fields.get("key").trim(), &state.catalog.current().locales);
    save(&req, &who, &state, input, true).await
}

async fn update(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let catalog = state.catalog.current();
    if catalog.purpose(&path).is_none() {
        return Err(not_found(who.locale));
    }
    let mut input = input_from(&fields, &path, &catalog.locales);
    if let Some(existing) = catalog.purpose(&path) {
        // Declared in the workspace file; the console's form does not edit them.
        (input.kind, input.recipients) = (existing.details.kind, existing.details.recipients.clone());
    }
    save(&req, &who, &state, input, false).await
}

async fn save(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    input: PurposeInput,
    creating: bool,
) -> Result<HttpResponse, AdminError> {
    let t = AdminStrings::get(who.locale);
    let catalog = state.catalog.current();
    let spec = match purposes::parse(&input, &catalog.locales) {
        Ok(spec) => spec,
        Err(refused) => {
            let mut problems = Problems::default();
            for (field, code) in refused {
                match code {
                    ErrorCode::BundledConsent => problems.add(field, t.bundled_consent(input.key.trim())),
                    _ => problems.add(field, t.says(code)),
                }
            }
            return Ok(form_page(req, who, &catalog, creating, input, problems, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let actor = who.actor();
    let saved =
        state.db.writer.write(move |tx| purposes::save(tx.conn, spec, creating, &actor).map_err(Saved::from)).await;
    let version = match saved {
        Ok(version) => version,
        Err(Saved::Purpose(PurposeError::KeyTaken)) => {
            let mut problems = Problems::default();
            problems.add("key", t.says(ErrorCode::KeyTaken));
            return Ok(form_page(req, who, &catalog, creating, input, problems, StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(Saved::Purpose(PurposeError::NotFound)) => return Err(not_found(who.locale)),
        Err(Saved::Purpose(e)) => return Err(AdminError::new(AppError::Internal(e.into()), who.locale)),
        Err(Saved::App(e)) => return Err(AdminError::new(e, who.locale)),
    };
    refresh_catalog(state).await.map_err(|e| AdminError::new(e, who.locale))?;
    let saved = if version.is_some() { "new" } else { "1" };
    Ok(see_other(&format!("/admin/purposes?lang={}&saved={saved}", who.locale.as_str())))
}

/// A write's outcome: the service's own refusal, or the writer's (commit failed).
#[derive(Debug)]
enum Saved {
    Purpose(PurposeError),
    App(AppError),
}

impl From<PurposeError> for Saved {
    fn from(e: PurposeError) -> Self {
        Self::Purpose(e)
    }
}

impl From<diesel::result::Error> for Saved {
    fn from(e: diesel::result::Error) -> Self {
        Self::Purpose(PurposeError::Storage(e))
    }
}

impl From<crate::db::CommitFailed> for Saved {
    fn from(e: crate::db::CommitFailed) -> Self {
        Self::App(e.into())
    }
}
