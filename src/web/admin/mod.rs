//! The site owner's console at `/admin`: routes, the signed-in owner ([`SignedIn`], an
//! extractor), the CSRF check every POST goes through ([`SignedIn::form`]), role checks, and
//! the layout every console page shares ([`Chrome`]).
//!
//! A handler reads: `async fn page(req: HttpRequest, who: SignedIn, ..) -> Result<HttpResponse,
//! AdminError>`; a GET without a session is sent to `/admin/login` (303), a POST without one
//! is refused (403).

pub mod access;
pub mod account;
pub mod audit;
pub mod auth;
pub mod builder;
pub mod charts;
pub mod dashboard;
pub mod data_strings;
pub mod draft_edit;
mod drafts;
pub mod embed;
pub mod field_views;
pub mod forms;
pub mod held;
pub mod imports;
pub mod keys;
pub mod languages;
mod login_code;
mod messages;
pub mod password;
pub mod purposes;
pub mod rights;
pub mod strings;
pub mod submissions;
pub mod team;
pub mod texts;
pub mod two_factor;
pub mod webhooks;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use chrono::Utc;
use std::future::Future;
use std::pin::Pin;

use super::body::{FORM_URLENCODED, parse_urlencoded, read_limited, require_content_type};
use super::error::{AppError, PageError};
use super::pages::render_with_status;
use super::{AppState, console_locale_of};
use crate::domain::console_access::{self, Permission};
use crate::domain::second_factor::Stage;
use crate::domain::{ErrorCode, Locale};
use crate::services::owners::{self, Owner};
use crate::services::rights::Actor;
pub use strings::AdminStrings;

/// The console's session cookie (Path=/admin, HttpOnly, SameSite=Strict).
pub const COOKIE: &str = "assent_admin";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(auth::routes)
        .configure(keys::routes)
        .configure(team::routes)
        .configure(account::routes)
        .configure(two_factor::routes)
        .configure(login_code::routes)
        .configure(password::routes)
        .configure(webhooks::routes)
        .configure(imports::routes)
        .configure(languages::routes)
        .configure(purposes::routes)
        .configure(forms::routes)
        .configure(builder::routes)
        .configure(draft_edit::routes)
        .service(web::resource("/admin").route(web::get().to(dashboard::page)))
        .service(web::resource("/admin/").route(web::get().to(dashboard::page)))
        .configure(submissions::routes)
        .configure(rights::routes)
        .configure(held::routes)
        .service(web::resource("/admin/audit").route(web::get().to(audit::page)))
        .service(web::resource("/admin/access").route(web::get().to(access::page)))
        .service(web::resource("/admin/forms/{key}/embed").route(web::get().to(embed::page)));
}

/// Why a console request was not served.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No live session on a page: go and sign in.
    #[error("sign-in required")]
    SignInRequired(Locale),
    /// The session must go through its next step first (a second factor).
    #[error("a second factor first")]
    NextStep(Stage, Locale),
    /// Refused with a message from the console catalogue (`AdminStrings::says`).
    #[error("refused: {code}")]
    Refused { status: StatusCode, code: ErrorCode, locale: Locale },
    #[error(transparent)]
    Page(#[from] PageError),
}

impl AdminError {
    pub fn new(error: impl Into<AppError>, locale: Locale) -> Self {
        Self::Page(PageError::new(error, locale))
    }

    pub fn forbidden(code: ErrorCode, locale: Locale) -> Self {
        Self::Refused { status: StatusCode::FORBIDDEN, code, locale }
    }
}

#[derive(Template)]
#[template(path = "admin/refused.html")]
struct RefusedPage {
    t: &'static AdminStrings,
    lang: &'static str,
    status: u16,
    message: &'static str,
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInRequired(_) | Self::NextStep(..) => StatusCode::SEE_OTHER,
            Self::Refused { status, .. } => *status,
            Self::Page(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignInRequired(locale) => see_other(&format!("/admin/login?lang={}", locale.as_str())),
            Self::NextStep(stage, locale) => see_other(&format!("{}?lang={}", stage.page(), locale.as_str())),
            Self::Refused { status, code, locale } => {
                let t = AdminStrings::get(*locale);
                let page = RefusedPage { t, lang: locale.as_str(), status: status.as_u16(), message: t.says(*code) };
                render_with_status(&page, *status)
            }
            Self::Page(e) => e.error_response(),
        }
    }
}

/// A 303 to `location` (after a POST, or to the sign-in page).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}

/// The owner behind the request's session, with the session's CSRF token.
pub struct SignedIn {
    pub owner: Owner,
    pub csrf: String,
    pub locale: Locale,
    session: String,
    /// How far the session has come: short of [`Stage::SignedIn`], it opens only what
    /// [`Stage::opens`] lists.
    pub stage: Stage,
}

impl SignedIn {
    /// As recorded in the audit log.
    pub fn actor(&self) -> Actor {
        Actor::Owner(self.owner.id.clone())
    }

    /// Whether this account's role may do `permission` (every route's own permission is checked
    /// before its handler runs; this is for what a page offers).
    pub fn may(&self, permission: Permission) -> bool {
        self.owner.role.may(permission)
    }

    /// The hash of this session's cookie (for signing out).
    pub fn session_hash(&self) -> &str {
        &self.session
    }

    /// Reads a urlencoded POST body and checks its `csrf` field against the session's token in
    /// constant time: 403, and nothing done, on a mismatch.
    pub async fn form(&self, req: &HttpRequest, payload: web::Payload) -> Result<Fields, AdminError> {
        let locale = self.locale;
        require_content_type(req, FORM_URLENCODED).map_err(|e| AdminError::new(e, locale))?;
        let body = read_limited(req, payload).await.map_err(|e| AdminError::new(e, locale))?;
        let fields = Fields(parse_urlencoded(&body, locale).map_err(|e| AdminError::new(e, locale))?);
        self.check_csrf(fields.get("csrf"))?;
        Ok(fields)
    }

    /// Checks a form's `csrf` field against the session's token in constant time (403 on a
    /// mismatch).
    pub fn check_csrf(&self, token: &str) -> Result<(), AdminError> {
        use subtle::ConstantTimeEq;
        if bool::from(token.as_bytes().ct_eq(self.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(AdminError::forbidden(ErrorCode::CsrfFailed, self.locale))
        }
    }

    /// A POST that changes something: the CSRF-checked form (the role was checked, for the
    /// route, before the handler ran).
    pub async fn owner_form(&self, req: &HttpRequest, payload: web::Payload) -> Result<Fields, AdminError> {
        self.form(req, payload).await
    }

    /// The shared layout's data for a page in section `active` (e.g. `"purposes"`).
    pub fn chrome(&self, req: &HttpRequest, active: &'static str) -> Chrome {
        let t = AdminStrings::get(self.locale);
        Chrome {
            t,
            lang: self.locale.as_str(),
            languages: crate::web::i18n::shipped_languages(self.locale),
            path: req.path().to_owned(),
            active,
            email: Some(self.owner.email.clone()),
            role: t.role(self.owner.role),
            can_write: match console_access::to_change(active) {
                Some(permission) => self.may(permission),
                None => self.may(Permission::EditWorkspace) || self.may(Permission::ActForPeople),
            },
            sees_held: self.may(Permission::OpenHeld),
            staff_role: Some(self.owner.role),
            csrf: self.csrf.clone(),
        }
    }
}

/// Form fields in order, repeated names kept (checkbox groups).
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The last value sent under `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().rev().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every value sent under `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The inputs named `<scope>-<name>`, as `<name>` (one block of a page with several).
    pub fn scoped(&self, scope: &str) -> Fields {
        Fields(
            self.0
                .iter()
                .filter_map(|(k, v)| {
                    let name = k.strip_prefix(scope)?.strip_prefix('-')?;
                    Some((name.to_owned(), v.clone()))
                })
                .collect(),
        )
    }

    /// A text typed in one input per offered language (`<prefix>_<tag>`), as typed.
    pub fn text(&self, prefix: &str, locales: &crate::domain::Locales) -> crate::domain::Localized {
        let mut text = crate::domain::Localized::default();
        for locale in locales.offered() {
            text.set(*locale, self.get(&format!("{prefix}_{locale}")));
        }
        text
    }
}

impl FromRequest for SignedIn {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let locale = console_locale_of(&req);
            let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
                return Err(AdminError::new(AppError::Unavailable, locale));
            };
            match signed_in(&req, &state, locale).await.map_err(|e| AdminError::new(e, locale))? {
                Some(who) => permitted(&req, who),
                None if req.method() == Method::GET || req.method() == Method::HEAD => {
                    Err(AdminError::SignInRequired(locale))
                }
                None => Err(AdminError::forbidden(ErrorCode::SessionRequired, locale)),
            }
        })
    }
}

/// The signed-in account if its role may use this route ([`console_access::needed`], the one
/// place the console decides) and its session has come far enough ([`Stage::opens`]); 403
/// otherwise (a page asked for is sent on to the session's next step), before the handler reads
/// anything.
fn permitted(req: &HttpRequest, who: SignedIn) -> Result<SignedIn, AdminError> {
    let pattern = req.match_pattern().unwrap_or_default();
    if !who.stage.opens(&pattern) {
        return Err(match *req.method() {
            Method::GET | Method::HEAD => AdminError::NextStep(who.stage, who.locale),
            _ => AdminError::forbidden(ErrorCode::SessionRequired, who.locale),
        });
    }
    match console_access::needed(req.method().as_str(), &pattern) {
        Some(permission) if who.may(permission) => Ok(who),
        Some(Permission::OpenHeld) => Err(AdminError::forbidden(ErrorCode::PrivacyOfficerRequired, who.locale)),
        _ => Err(AdminError::forbidden(ErrorCode::RoleNotAllowed, who.locale)),
    }
}

/// The live session behind the cookie, if any; refreshes its idle timer (at most once a minute).
async fn signed_in(req: &HttpRequest, state: &AppState, locale: Locale) -> Result<Option<SignedIn>, AppError> {
    let Some(cookie) = req.cookie(COOKIE) else { return Ok(None) };
    let value = cookie.value().to_owned();
    let pool = state.db.pool.clone();
    let now = Utc::now().naive_utc();
    let found = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(owners::current_session(&mut conn, &value, now)?)
    })
    .await??;
    let Some(live) = found else { return Ok(None) };
    if now - live.last_seen_at > chrono::Duration::seconds(60) {
        let id = live.id_hash.clone();
        state
            .db
            .writer
            .write(move |tx| Ok::<_, AppError>(crate::db::owners::touch_session(tx.conn, &id, now)?))
            .await?;
    }
    Ok(Some(SignedIn { owner: live.owner, csrf: live.csrf, locale, session: live.id_hash, stage: live.stage }))
}

/// What the layout (`templates/admin/layout.html`) needs: language, navigation, the owner.
pub struct Chrome {
    pub t: &'static AdminStrings,
    pub lang: &'static str,
    /// The language switcher (`web::i18n::languages`).
    pub languages: Vec<crate::web::i18n::LanguageLink>,
    /// This page's path, for the language switch.
    pub path: String,
    /// The navigation entry to mark as current.
    pub active: &'static str,
    /// `None` on the sign-in page.
    pub email: Option<String>,
    pub role: &'static str,
    pub can_write: bool,
    /// A privacy officer: may open data held under a statutory obligation.
    pub sees_held: bool,
    /// The signed-in account's role (`None` before sign-in): which sections the navigation shows.
    pub staff_role: Option<crate::domain::owner::Role>,
    pub csrf: String,
}

impl Chrome {
    /// The layout of a page shown before sign-in.
    pub fn anonymous(req: &HttpRequest, locale: Locale) -> Self {
        let t = AdminStrings::get(locale);
        Self {
            t,
            lang: locale.as_str(),
            languages: crate::web::i18n::shipped_languages(locale),
            path: req.path().to_owned(),
            active: "",
            email: None,
            role: "",
            can_write: false,
            sees_held: false,
            staff_role: None,
            csrf: String::new(),
        }
    }

    /// Whether the navigation shows `section` (the signed-in role may open it).
    pub fn opens(&self, section: &str) -> bool {
        self.staff_role.is_some_and(|r| r.may(console_access::to_open(section)))
    }

    /// `aria-current` for the navigation entry `section`.
    pub fn current(&self, section: &str) -> &'static str {
        if self.active == section { "page" } else { "false" }
    }
}

/// One refused field: its input's id and the message shown next to it (and in the summary).
#[derive(Debug, Clone)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// The messages of a refused form, by field.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<FieldProblem>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem { field: field.into(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if it was refused.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|p| p.field == field).map(|p| p.message.as_str())
    }
}

/// Reloads the catalogue after a change made here, so public pages serve it at once (other
/// processes see the catalogue's version move and reload within a fraction of a second).
pub async fn refresh_catalog(state: &AppState) -> Result<(), AppError> {
    let pool = state.db.pool.clone();
    let catalog = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(crate::db::catalog::Catalog::load(&mut conn)?)
    })
    .await??;
    state.catalog.replace(catalog);
    Ok(())
}

/// A list filter's `YYYY-MM-DD` input as the start (UTC) of that day plus `days` (`1` for an
/// inclusive "until"); `None` when empty, and when not a date, which also sets `ignored` (the page
/// says a filter was not understood).
pub(crate) fn day_filter(raw: &str, days: i64, ignored: &mut bool) -> Option<chrono::NaiveDateTime> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
    *ignored |= parsed.is_none();
    parsed.and_then(|d| d.checked_add_signed(chrono::Duration::days(days))).and_then(|d| d.and_hms_opt(0, 0, 0))
}
