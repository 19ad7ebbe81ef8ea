//! The form builder's list of forms, and creating one. The builder itself is in `builder.rs`,
//! field edits in `fields.rs`, what they share in `drafts.rs`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::drafts::{builder_error, localized, read};
use super::texts::{TextKind, TextRow, rows};
use super::{AdminError, AdminStrings, Chrome, Problems, SignedIn, see_other};
use crate::domain::{ErrorCode, FieldDefinition, FieldKey, FieldType, FormDefinition, FormKey, Localized};
use crate::i18n::catalogue;
use crate::services::builder::{self, BuilderError};
use crate::web::AppState;
use crate::web::pages::render_with_status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/forms").route(web::get().to(list)).route(web::post().to(create)));
}

struct FormRow {
    key: String,
    title: String,
    kind: String,
    published: Option<i64>,
    changes: bool,
}

/// The "new form" inputs.
#[derive(Default)]
struct NewForm {
    key: String,
    kind: String,
    title: Localized,
}

#[derive(Template)]
#[template(path = "admin/forms.html")]
struct ListPage {
    c: Chrome,
    forms: Vec<FormRow>,
    /// The "new form" inputs: name, label, value typed.
    new_inputs: Vec<(&'static str, &'static str, String)>,
    /// The kind chosen, and every kind offered (value, words).
    kind: String,
    kinds: Vec<(&'static str, String)>,
    /// The new form's title, a row per offered language.
    texts: Vec<TextRow>,
    problems: Problems,
}

/// A form's kind in the console's words (one the console does not offer, as written).
pub fn kind_words(locale: crate::domain::Locale, kind: &str) -> String {
    let id = format!("console-form-kind-{kind}");
    let c = catalogue(locale);
    if KINDS.contains(&kind) && c.has(&id) { c.text(&id) } else { kind.to_owned() }
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    list_page(&req, &who, &state, NewForm::default(), Problems::default(), StatusCode::OK).await
}

async fn list_page(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    new: NewForm,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let catalog = state.catalog.current();
    let locales = catalog.locales.clone();
    let texts = rows("title", TextKind::Title, &new.title, &locales, who.locale);
    let all = read(state, who.locale, move |conn| builder::all(conn, &catalog)).await?;
    let forms = all
        .into_iter()
        .map(|w| FormRow {
            key: w.key.to_string(),
            title: w.draft.title.get(who.locale, locales.default_locale()).to_owned(),
            kind: kind_words(who.locale, &w.draft.kind),
            published: w.published,
            changes: w.unpublished_changes,
        })
        .collect();
    let t = AdminStrings::get(who.locale);
    let new_inputs = vec![("key", t.key_label, new.key)];
    let kinds = KINDS.iter().map(|k| (*k, kind_words(who.locale, k))).collect();
    let page = ListPage { c: who.chrome(req, "forms"), forms, new_inputs, kind: new.kind, kinds, texts, problems };
    Ok(render_with_status(&page, status))
}

/// What a form is for, as the console offers it (a form made as code may say anything else).
pub const KINDS: [&str; 5] = ["signup", "newsletter", "contact", "checkout", "other"];

/// A new form starts with the one field every form needs, the person's e-mail address, asking
/// for the workspace's required purpose (the service itself) and bound to it, so that it can be
/// published as it is. Its label is the interface's own "email address" in each offered language.
fn starter(kind: String, title: Localized, catalog: &crate::db::catalog::Catalog) -> Option<FormDefinition> {
    let locales = &catalog.locales;
    let serves: Vec<_> = catalog.purposes.values().find(|p| p.required).map(|p| p.key.clone()).into_iter().collect();
    let label = locales.offered().iter().map(|l| (*l, catalogue(*l).text("texts-email-label"))).collect::<Vec<_>>();
    let email = FieldDefinition {
        key: FieldKey::parse("email").ok()?,
        kind: FieldType::Email,
        label: Localized::new(label.iter().map(|(l, t)| (*l, t.as_str()))),
        required: true,
        purposes: serves.clone(),
        max_length: None,
        choices: Vec::new(),
    };
    Some(FormDefinition {
        kind,
        title,
        description: None,
        double_opt_in: false,
        purposes: serves,
        allowed_origins: Vec::new(),
        fields: vec![email],
        min_age: None,
        age_check: Default::default(),
    })
}

async fn create(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let t = AdminStrings::get(who.locale);
    let mut problems = Problems::default();
    let key =
        FormKey::parse(fields.get("key").trim()).map_err(|_| problems.add("key", t.says(ErrorCode::InvalidKey))).ok();
    let kind = fields.get("kind").to_owned();
    if !KINDS.contains(&kind.as_str()) {
        problems.add("kind", t.says(ErrorCode::InvalidChoice));
    }
    let catalog = state.catalog.current();
    let locales = catalog.locales.clone();
    let title = localized(&mut problems, t, &fields, "title", &locales, 200);
    let new = NewForm { key: fields.get("key").to_owned(), kind: kind.clone(), title: fields.text("title", &locales) };
    let (Some(key), Some(draft), true) = (key, starter(kind, title, &catalog), problems.is_empty()) else {
        return list_page(&req, &who, &state, new, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let (actor, k) = (who.actor(), key.clone());
    let created = state.db.writer.write(move |tx| builder::create(tx.conn, &k, &draft, &actor)).await;
    match created {
        Ok(()) => Ok(see_other(&format!("/admin/forms/{key}?lang={}", who.locale.as_str()))),
        Err(BuilderError::KeyTaken) => {
            problems.add("key", t.says(ErrorCode::KeyTaken));
            list_page(&req, &who, &state, new, problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(builder_error(e, who.locale)),
    }
}
