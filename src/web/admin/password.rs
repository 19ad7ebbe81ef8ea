//! `/admin/password?token=…`: an invited colleague sets their password through the single-use
//! link the invitation mailed (the token in the form is a secret no other site knows, so it also
//! guards the form against cross-site posts). Setting it ends every session the account had.
//! `/admin/password/reset` mails such a link (15 minutes) to an account's address; the answer is
//! the same whether or not the address has an account.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::{AdminError, Chrome, Problems};
use crate::i18n::message_struct;
use crate::services::team::{self as staff, TeamError};
use crate::web::body::read_form;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;
use crate::web::{AppState, console_locale_of};

message_struct! {
    /// The set-password page's words (ids `password-<field>`).
    pub struct PasswordStrings("password-") {
        title, intro, new, again, save, mismatch, link_invalid, done, too_short, too_long,
        reset_title, reset_intro, reset_send, reset_sent, forgot, email_invalid,
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/password").route(web::get().to(form)).route(web::post().to(set)))
        .service(web::resource("/admin/password/reset").route(web::get().to(reset_form)).route(web::post().to(reset)));
}

#[derive(Template)]
#[template(path = "admin/reset_password.html")]
struct ResetPage {
    c: Chrome,
    p: &'static PasswordStrings,
    email: String,
    sent: bool,
    problems: Problems,
}

fn reset_page(req: &HttpRequest, email: String, sent: bool, problems: Problems, status: StatusCode) -> HttpResponse {
    let locale = console_locale_of(req);
    let page = ResetPage { c: Chrome::anonymous(req, locale), p: PasswordStrings::get(locale), email, sent, problems };
    render_with_status(&page, status)
}

async fn reset_form(req: HttpRequest) -> HttpResponse {
    reset_page(&req, String::new(), false, Problems::default(), StatusCode::OK)
}

/// Mails a reset link if the address has an enabled account; answers the same either way (and
/// refuses, 429, past the sign-in limits per IP and per address).
async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let locale = console_locale_of(&req);
    let fields = read_form(&req, payload, locale).await.map_err(AdminError::Page)?;
    let typed = fields.get("email").map(|e| e.trim().to_owned()).unwrap_or_default();
    let Ok(email) = crate::domain::Email::parse(&typed) else {
        let mut problems = Problems::default();
        problems.add("email", PasswordStrings::get(locale).email_invalid);
        return Ok(reset_page(&req, typed, false, problems, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let ip = crate::web::client_ip(&req, &state.settings);
    if !state.limits.console_attempt(ip, email.as_str()).await.map_err(|e| AdminError::new(e, locale))? {
        let code = crate::domain::ErrorCode::RateLimited;
        return Err(AdminError::Refused { status: StatusCode::TOO_MANY_REQUESTS, code, locale });
    }
    let (keyring, mail) = (state.keyring.clone(), state.mail.clone());
    state
        .db
        .writer
        .write(move |tx| -> Result<bool, AppError> {
            match staff::request_reset(tx, &keyring, &mail, &email, locale, Utc::now().naive_utc()) {
                Err(TeamError::Service(e)) => Err(e.into()),
                Err(_) => Ok(false),
                Ok(sent) => Ok(sent),
            }
        })
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    state.mail_queued.notify_one();
    Ok(reset_page(&req, String::new(), true, Problems::default(), StatusCode::OK))
}

#[derive(Template)]
#[template(path = "admin/set_password.html")]
struct PasswordPage {
    c: Chrome,
    p: &'static PasswordStrings,
    token: String,
    /// The link is live: the form is shown.
    live: bool,
    /// The password was set.
    done: bool,
    problems: Problems,
}

#[derive(Deserialize)]
struct Link {
    #[serde(default)]
    token: String,
}

fn render(
    req: &HttpRequest,
    token: String,
    state: (bool, bool),
    problems: Problems,
    status: StatusCode,
) -> HttpResponse {
    let locale = console_locale_of(req);
    let (live, done) = state;
    let page = PasswordPage {
        c: Chrome::anonymous(req, locale),
        p: PasswordStrings::get(locale),
        token,
        live,
        done,
        problems,
    };
    let mut response = render_with_status(&page, status);
    // The URL holds a secret: never cached, never sent on as a referrer.
    let headers = response.headers_mut();
    headers
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    headers.insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let token = web::Query::<Link>::from_query(req.query_string()).map(|q| q.into_inner().token).unwrap_or_default();
    let (pool, asked, locale) = (state.db.pool.clone(), token.clone(), console_locale_of(&req));
    let live = web::block(move || -> Result<bool, AppError> {
        Ok(staff::link_is_live(&mut *pool.get()?, &asked, Utc::now().naive_utc())?)
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?;
    let status = if live { StatusCode::OK } else { StatusCode::GONE };
    Ok(render(&req, token, (live, false), Problems::default(), status))
}

async fn set(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, AdminError> {
    let locale = console_locale_of(&req);
    let fields = read_form(&req, payload, locale).await.map_err(AdminError::Page)?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let (token, password, again) = (field("token"), field("password"), field("again"));
    let p = PasswordStrings::get(locale);
    let mut problems = Problems::default();
    match crate::domain::owner::check_new_password(&password) {
        Err(crate::domain::owner::PasswordError::TooShort) => problems.add("password", p.too_short),
        Err(crate::domain::owner::PasswordError::TooLong) => problems.add("password", p.too_long),
        Ok(()) if password != again => problems.add("again", p.mismatch),
        Ok(()) => {}
    }
    if !problems.is_empty() {
        return Ok(render(&req, token, (true, false), problems, StatusCode::UNPROCESSABLE_ENTITY));
    }
    // Hashed off the writer and the async threads: argon2 is slow on purpose.
    let hash = state
        .limits
        .hashing(move || staff::checked_password(&password))
        .await
        .map_err(|e| AdminError::new(e, locale))?
        .map_err(|e| AdminError::new(AppError::Internal(e.into()), locale))?;
    let used = token.clone();
    let done = state
        .db
        .writer
        .write(move |tx| -> Result<Result<(), TeamError>, AppError> {
            match staff::set_password(tx.conn, &used, &hash, Utc::now().naive_utc()) {
                Err(TeamError::Service(e)) => Err(e.into()),
                other => Ok(other),
            }
        })
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    Ok(match done {
        Ok(()) => render(&req, String::new(), (false, true), Problems::default(), StatusCode::OK),
        Err(_) => render(&req, token, (false, false), Problems::default(), StatusCode::GONE),
    })
}
