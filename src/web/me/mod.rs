//! The preference center at `/me`: password-less sign-in by e-mailed link (here), then
//! everything a person can do with their data: see and download it (`profile.rs`), correct it,
//! change consents and delete it (`changes.rs`). Every POST is CSRF-checked against the session.

mod changes;
mod profile;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use std::collections::HashMap;

use crate::db::sessions::Session;
use crate::domain::{Email, ErrorCode, Locale};
use crate::services::links;
use crate::services::rights::RightsError;
use crate::web::body::read_form;
use crate::web::error::{AppError, PageError};
use crate::web::i18n::Strings;
use crate::web::pages::{ButtonForm, MessagePage, SignInPage, render, render_with_status};
use crate::web::{AppState, locale_of};

pub const SESSION_COOKIE: &str = "assent_session";

use changes::{ask, change_consent, delete, delete_page, rectify};
use profile::{export_csv, export_json, profile_page, receipt};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").route(web::get().to(home)).route(web::post().to(request_link)))
        .service(web::resource("/me/login").route(web::get().to(login_page)).route(web::post().to(login)))
        .service(crate::web::only("/me/logout", "POST", web::post().to(logout)))
        .service(crate::web::only("/me/values", "POST", web::post().to(rectify)))
        .service(crate::web::only("/me/consents", "POST", web::post().to(change_consent)))
        .service(crate::web::only("/me/requests", "POST", web::post().to(ask)))
        .service(web::resource("/me/delete").route(web::get().to(delete_page)).route(web::post().to(delete)))
        .service(crate::web::only("/me/export.json", "GET", web::get().to(export_json)))
        .service(crate::web::only("/me/export.csv", "GET", web::get().to(export_csv)))
        .service(crate::web::only("/me/receipt", "GET", web::get().to(receipt)));
}

/// The session behind the request's cookie, if it is live; refreshes its idle timer.
async fn session(req: &HttpRequest, state: &AppState) -> Result<Option<Session>, AppError> {
    let Some(key) = req.cookie(SESSION_COOKIE).and_then(|c| links::session_key(c.value())) else { return Ok(None) };
    let now = Utc::now().naive_utc();
    let found = match state.me_sessions.get(&key) {
        Some(kept) => Some(Session::clone(&kept)),
        None => {
            let (pool, stamp, id) = (state.db.pool.clone(), state.me_sessions.stamp(), key.clone());
            let found = web::block(move || -> Result<_, AppError> {
                let mut conn = pool.get()?;
                Ok(crate::db::sessions::find_session(&mut conn, &id)?)
            })
            .await??;
            if let Some(s) = &found {
                state.me_sessions.put(key, stamp, &s.subject_id, std::sync::Arc::new(s.clone()));
            }
            found
        }
    }
    .filter(|s| links::is_live(s, now));
    if let Some(s) = &found
        && now - s.last_seen_at > chrono::Duration::seconds(60)
    {
        let id = s.id_hash.clone();
        state
            .db
            .writer
            .write(move |tx| Ok::<_, AppError>(crate::db::sessions::touch_session(tx.conn, &id, now)?))
            .await?;
    }
    Ok(found)
}

/// The session, or a page asking to sign in again.
async fn require_session(req: &HttpRequest, state: &AppState, locale: Locale) -> Result<Session, PageError> {
    session(req, state)
        .await
        .map_err(|e| PageError::new(e, locale))?
        .ok_or_else(|| PageError::new(AppError::Forbidden(ErrorCode::SessionRequired), locale))
}

/// Parses a urlencoded POST body and checks its CSRF token against the session.
async fn form_fields(
    req: &HttpRequest,
    payload: web::Payload,
    session: Option<&Session>,
    locale: Locale,
) -> Result<HashMap<String, String>, PageError> {
    let fields = read_form(req, payload, locale).await?;
    if let Some(s) = session {
        use subtle::ConstantTimeEq;
        let sent = fields.get("_csrf").map(String::as_bytes).unwrap_or_default();
        if !bool::from(sent.ct_eq(s.csrf_token.as_bytes())) {
            return Err(PageError::new(AppError::Forbidden(ErrorCode::CsrfFailed), locale));
        }
    }
    Ok(fields)
}

fn message(locale: Locale, title: &str, paragraphs: Vec<String>) -> MessagePage {
    MessagePage::new(locale, title, paragraphs)
}

async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    match session(&req, &state).await.map_err(|e| PageError::new(e, locale))? {
        Some(s) => profile_page(&req, &state, &s, locale, None).await,
        None => Ok(sign_in_page(&state, locale, String::new(), None, StatusCode::OK)),
    }
}

fn sign_in_page(
    state: &AppState,
    locale: Locale,
    email: String,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let page = SignInPage {
        t: Strings::get(locale),
        lang: locale.as_str(),
        languages: crate::web::i18n::languages(locale, state.catalog.current().locales.offered()),
        email,
        error,
    };
    render_with_status(&page, status)
}

/// `POST /me`: the same answer whether or not the address is known.
async fn request_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let fields = form_fields(&req, payload, None, locale).await?;
    let raw = fields.get("email").cloned().unwrap_or_default();
    let Ok(email) = Email::parse(&raw) else {
        let error = crate::domain::form::FieldError {
            field: "email".into(),
            code: crate::domain::form::FieldErrorCode::InvalidEmail,
            max_length: None,
        };
        return Ok(sign_in_page(&state, locale, raw, Some(t.field_error(&error)), StatusCode::UNPROCESSABLE_ENTITY));
    };
    let ip = crate::web::client_ip(&req, &state.settings);
    let index = state.keyring.email_index(&email);
    if !state.limits.sign_in_link(ip, &index).await.map_err(|e| PageError::new(e, locale))? {
        return Err(PageError::new(AppError::TooManyRequests, locale));
    }
    let (keyring, mail) = (state.keyring.clone(), state.mail.clone());
    state
        .db
        .writer
        .write(move |tx| links::request_sign_in(tx, &keyring, &mail, &email, locale))
        .await
        .map_err(|e| PageError::new(e, locale))?;
    state.mail_queued.notify_one();
    Ok(render(&message(locale, t.me.sent_title, vec![t.me.sent_body.to_owned()])))
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// `GET /me/login`: a button, not an automatic sign-in, so that mail scanners that follow
/// links do not use the single-use token up.
async fn login_page(req: HttpRequest) -> HttpResponse {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let token =
        web::Query::<TokenQuery>::from_query(req.query_string()).ok().and_then(|q| q.0.token).unwrap_or_default();
    let mut page = message(locale, t.me.continue_title, vec![t.me.continue_body.to_owned()]);
    page.form = Some(ButtonForm {
        action: format!("/me/login?lang={}", locale.as_str()),
        hidden: vec![("token".into(), token)],
        button: t.me.continue_button,
        danger: false,
    });
    render(&page)
}

async fn login(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    // Login CSRF: another site must not sign a visitor in to a session of its choosing (its own
    // link's), so a cross-site POST is refused before the link is looked at (and stays unused).
    if !crate::domain::origin::post_allowed(&state.settings.base_url, &[], crate::web::public::post_source(&req)) {
        return Err(PageError::new(AppError::Forbidden(ErrorCode::CrossSitePost), locale));
    }
    let fields = form_fields(&req, payload, None, locale).await?;
    let token = fields.get("token").cloned().unwrap_or_default();
    let keyring = state.keyring.clone();
    let opened = state.db.writer.write(move |tx| links::sign_in(tx, &keyring, &token)).await;
    let opened = match opened {
        Ok(opened) => opened,
        Err(e @ (RightsError::Link(_) | RightsError::NotFound | RightsError::Erased)) => {
            return Ok(link_problem(locale, e.into()));
        }
        Err(e) => return Err(PageError::new(e, locale)),
    };
    let cookie = Cookie::build(SESSION_COOKIE, opened.cookie)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.is_https())
        .finish();
    Ok(HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((header::LOCATION, format!("/me?lang={}", locale.as_str())))
        .finish())
}

/// A used, expired or forged link: say so, and offer a new one.
fn link_problem(locale: Locale, error: AppError) -> HttpResponse {
    let onward = (format!("/me?lang={}", locale.as_str()), Strings::get(locale).me.ask_again.to_owned());
    error.problem_page(locale, onward)
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    form_fields(&req, payload, Some(&s), locale).await?;
    let now = Utc::now().naive_utc();
    state
        .db
        .writer
        .write(move |tx| Ok::<_, AppError>(crate::db::sessions::end_session(tx.conn, &s.id_hash, now)?))
        .await
        .map_err(|e| PageError::new(e, locale))?;
    Ok(HttpResponse::SeeOther()
        .cookie(expired_cookie())
        .insert_header((header::LOCATION, format!("/me?lang={}", locale.as_str())))
        .finish())
}

fn expired_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "").path("/").http_only(true).same_site(SameSite::Lax).finish();
    cookie.set_max_age(CookieAge::ZERO);
    cookie
}

fn done(locale: Locale) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/me?lang={}&done=1", locale.as_str()))).finish()
}
