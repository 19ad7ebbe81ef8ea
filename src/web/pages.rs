//! Page structs for askama templates, and turning a template into a response.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::i18n::Strings;

/// Renders a page; a template that fails to render is a bug, answered with a bare 500.
pub fn render_with_status(page: &impl Template, status: StatusCode) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body("internal error")
        }
    }
}

/// A moment as a page shows it, in the workspace's time zone with the zone named ("6 December
/// 2026 13:40 (UTC+09:00)" in the page's words), and the same moment for `<time datetime>`.
pub fn local_time(
    at: chrono::DateTime<chrono::Utc>,
    zone: crate::domain::import::Zone,
    locale: crate::domain::Locale,
) -> (String, String) {
    let local = at.with_timezone(&zone.offset());
    let date = crate::i18n::catalogue(locale).date(local.date_naive());
    (
        format!("{date} {} ({})", local.format("%H:%M"), zone.label()),
        local.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// A purpose's title in `locale`, or its key when the catalogue has no such purpose.
pub fn purpose_title(catalog: &crate::db::catalog::Catalog, key: &str, locale: crate::domain::Locale) -> String {
    catalog
        .purpose(key)
        .map_or_else(|| key.to_owned(), |p| p.policy.title().get(locale, catalog.default_locale()).to_owned())
}

/// A form's title in `locale`, or its key when the catalogue has no such form or it has no title.
pub fn form_title(catalog: &crate::db::catalog::Catalog, key: &str, locale: crate::domain::Locale) -> String {
    let title = catalog.form(key).map(|f| f.definition.title.get(locale, catalog.default_locale())).unwrap_or_default();
    if title.trim().is_empty() { key.to_owned() } else { title.to_owned() }
}

pub fn render(page: &impl Template) -> HttpResponse {
    render_with_status(page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub status: u16,
    pub message: String,
}

/// One input on the public form.
pub struct FieldView {
    pub key: String,
    pub label: String,
    pub input_type: &'static str,
    pub textarea: bool,
    pub choices: Vec<ChoiceView>,
    pub required: bool,
    pub value: String,
    pub error: Option<String>,
    pub max_length: usize,
    pub autocomplete: &'static str,
    pub purposes: String,
    /// The titles of the purposes the field serves, in the page's language ("Used for: …").
    pub used_for: String,
    /// The ids of the error and the purposes note, for `aria-describedby` (empty: none).
    pub described_by: String,
}

pub struct ChoiceView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One consent checkbox on the public form.
pub struct PurposeView {
    pub key: String,
    pub title: String,
    pub text: String,
    pub required: bool,
    pub checked: bool,
    pub retention: String,
    pub policy_url: String,
    pub policy_version: i64,
    pub error: Option<String>,
    /// The items collected for it: the labels of the form's fields bound to it (PIPA art. 15(2)).
    pub items: String,
    /// What refusing it means (the business's text, or the statutory sentence).
    pub refusal: String,
    /// For provision to third parties: the heading and a line per recipient.
    pub recipients: (String, Vec<String>),
}

pub struct ErrorLink {
    pub anchor: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "public/form.html")]
pub struct FormPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    /// The language switcher (`web::i18n::languages`).
    pub languages: Vec<crate::web::i18n::LanguageLink>,
    pub form_key: String,
    pub title: String,
    pub description: Option<String>,
    pub fields: Vec<FieldView>,
    pub purposes: Vec<PurposeView>,
    pub errors: Vec<ErrorLink>,
    /// A checked `redirect` target, carried through a re-rendered form.
    pub redirect: Option<String>,
    /// The signed wording this page displays (`Keyring::sign_shown`); none in the builder preview.
    pub shown: Option<String>,
    /// The age check, on a form with a minimum age.
    pub age: Option<crate::web::age::AgeView>,
}

#[derive(Template)]
#[template(path = "public/thanks.html")]
pub struct ThanksPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub title: String,
    pub form_key: String,
    /// Double opt-in: a confirmation mail is on its way.
    pub pending: bool,
    /// Under the minimum age: the parent or guardian was written to.
    pub guardian: bool,
    /// Labels of the values typed but not kept, because none of their purposes was agreed to.
    pub dropped: Vec<String>,
}

#[derive(Template)]
#[template(path = "public/policy.html")]
pub struct PolicyPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub title: String,
    pub text: String,
    pub version: i64,
    /// When it was published: as shown, and for `<time datetime>`.
    pub published: (String, String),
    pub hash: String,
    /// The language the wording is shown in (the page's, or the default where it was not
    /// published in the page's), and the hash of the wording in it.
    pub shown_lang: String,
    pub shown_hash: String,
    /// Every language this version was published in: tag, name, link.
    pub published_in: Vec<(String, String, String)>,
    pub policy_shown_hash_label: String,
    pub policy_published_in_label: String,
    /// What refusing means (label, text) and the recipients (label, a line each), as this
    /// version's terms say.
    pub refusal: (String, String),
    pub recipients: (String, Vec<String>),
}

/// A form with one button on a message page.
pub struct ButtonForm {
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub button: &'static str,
    pub danger: bool,
}

/// A short page: a title, a few sentences, perhaps one button and some links.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub alert: bool,
    pub form: Option<ButtonForm>,
    pub links: Vec<(String, String)>,
}

impl MessagePage {
    pub fn new(locale: crate::domain::Locale, title: &str, paragraphs: Vec<String>) -> Self {
        Self {
            t: Strings::get(locale),
            lang: locale.as_str(),
            title: title.to_owned(),
            paragraphs,
            alert: false,
            form: None,
            links: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "me/signin.html")]
pub struct SignInPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    /// The language switcher (`web::i18n::languages`).
    pub languages: Vec<crate::web::i18n::LanguageLink>,
    pub email: String,
    pub error: Option<String>,
}

pub struct ValueRow {
    pub label: String,
    pub value: String,
    pub source: String,
    pub purposes: String,
}

pub struct EditRow {
    pub field: String,
    pub label: String,
    pub value: String,
    pub input_type: &'static str,
    pub error: Option<String>,
}

pub struct ConsentRow {
    pub purpose: String,
    pub title: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub since: Option<String>,
    pub expires: Option<String>,
    pub wording: String,
    pub policy_version: i64,
    pub policy_url: String,
    pub required: bool,
    pub can_withdraw: bool,
    /// For provision to third parties: the heading and a line per recipient.
    pub recipients: (String, Vec<String>),
}

pub struct HistoryRow {
    pub at: String,
    pub at_iso: String,
    pub purpose: String,
    pub action: String,
    pub method: String,
}

#[derive(Template)]
#[template(path = "me/profile.html")]
pub struct ProfilePage {
    pub t: &'static Strings,
    pub lang: &'static str,
    /// The language switcher (`web::i18n::languages`).
    pub languages: Vec<crate::web::i18n::LanguageLink>,
    pub csrf: String,
    pub email: String,
    /// The id an integrator attached, shown so the person sees everything held.
    pub external_id: Option<String>,
    pub notice: Option<&'static str>,
    /// The notice is that a request reached the rights desk (no new receipt to offer).
    pub asked: bool,
    pub problem: Option<String>,
    pub values: Vec<ValueRow>,
    pub edits: Vec<EditRow>,
    pub consents: Vec<ConsentRow>,
    pub history: Vec<HistoryRow>,
    /// What another law obliges the business to keep: (title, intro, a line each); empty lines
    /// when nothing is held.
    pub kept: (String, String, Vec<String>),
}
