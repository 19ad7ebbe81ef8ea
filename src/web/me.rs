//! The preference center at `/me`: password-less sign-in by e-mailed link, then everything a
//! person can do with their data. Every POST is CSRF-checked against the session.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use std::collections::HashMap;

use super::body::read_form;
use super::error::{AppError, PageError};
use super::i18n::Strings;
use super::pages::{
    ButtonForm, ConsentRow, EditRow, HistoryRow, MessagePage, ProfilePage, SignInPage, ValueRow, render,
    render_with_status,
};
use super::{AppState, evidence_of, locale_of};
use crate::db::sessions::Session;
use crate::domain::rights::RightKind;
use crate::domain::{ConsentStatus, Email, ErrorCode, Locale, Method};
use crate::services::links;
use crate::services::rights::{self, Actor, Change, ChangeRequest, Profile, RightsError};

pub const SESSION_COOKIE: &str = "assent_session";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").route(web::get().to(home)).route(web::post().to(request_link)))
        .service(web::resource("/me/login").route(web::get().to(login_page)).route(web::post().to(login)))
        .route("/me/logout", web::post().to(logout))
        .route("/me/values", web::post().to(rectify))
        .route("/me/consents", web::post().to(change_consent))
        .service(web::resource("/me/delete").route(web::get().to(delete_page)).route(web::post().to(delete)))
        .route("/me/export.json", web::get().to(export_json))
        .route("/me/export.csv", web::get().to(export_csv))
        .route("/me/receipt", web::get().to(receipt));
}

fn other(locale: Locale) -> &'static str {
    if locale == Locale::Ko { "en" } else { "ko" }
}

/// The session behind the request's cookie, if it is live; refreshes its idle timer.
async fn session(req: &HttpRequest, state: &AppState) -> Result<Option<Session>, AppError> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else { return Ok(None) };
    let value = cookie.value().to_owned();
    let pool = state.db.pool.clone();
    let now = Utc::now().naive_utc();
    let found = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(links::current_session(&mut conn, &value, now)?)
    })
    .await??;
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
        None => Ok(sign_in_page(locale, String::new(), None, StatusCode::OK)),
    }
}

fn sign_in_page(locale: Locale, email: String, error: Option<String>, status: StatusCode) -> HttpResponse {
    let page = SignInPage { t: Strings::get(locale), lang: locale.as_str(), other_lang: other(locale), email, error };
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
        return Ok(sign_in_page(locale, raw, Some(t.field_error(&error)), StatusCode::UNPROCESSABLE_ENTITY));
    };
    let ip = crate::web::client_ip(&req, &state.settings);
    let index = state.keyring.email_index(&email);
    let limited = ip.is_some_and(|ip| state.limits.sign_in_per_ip.check_key(&ip).is_err())
        || state.limits.sign_in_per_address.check_key(&index).is_err();
    if limited {
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

async fn rectify(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let fields = form_fields(&req, payload, Some(&s), locale).await?;
    let field = fields.get("field").cloned().unwrap_or_default();
    let value = fields.get("value").cloned().unwrap_or_default();
    let (keyring, subject) = (state.keyring.clone(), s.subject_id.clone());
    let actor = Actor::Subject(subject.clone());
    let f = field.clone();
    let result = state
        .db
        .writer
        .write(move |tx| rights::rectify(tx, &keyring, &subject, &f, &value, &actor, Method::PreferenceCenter))
        .await;
    match result {
        Ok(()) => Ok(done(locale)),
        Err(RightsError::Invalid(error)) => {
            let message = Strings::get(locale).field_error(&error);
            let mut response = profile_page(&req, &state, &s, locale, Some((field, message))).await?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e) => Err(PageError::new(e, locale)),
    }
}

async fn change_consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let fields = form_fields(&req, payload, Some(&s), locale).await?;
    let change = match fields.get("action").map(String::as_str) {
        Some("withdraw") => Change::Withdraw,
        Some("grant") => Change::Grant,
        _ => {
            let detail = "action must be grant or withdraw".to_owned();
            return Err(PageError::new(AppError::BadRequest { code: ErrorCode::InvalidAction, detail }, locale));
        }
    };
    let purpose = fields.get("purpose").cloned().unwrap_or_default();
    let evidence = evidence_of(&req, &state, locale, "");
    let (keyring, catalog, subject) = (state.keyring.clone(), state.catalog.current(), s.subject_id.clone());
    state
        .db
        .writer
        .write(move |tx| {
            let request = ChangeRequest {
                subject_id: &subject,
                purpose: &purpose,
                change,
                method: Method::PreferenceCenter,
                actor: Actor::Subject(subject.clone()),
                evidence,
            };
            rights::change_consent(tx, &keyring, &catalog, &request)
        })
        .await
        .map_err(|e| PageError::new(e, locale))?;
    Ok(done(locale))
}

async fn delete_page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let s = require_session(&req, &state, locale).await?;
    let mut page = message(locale, t.me.delete_title, vec![t.me.delete_body.to_owned()]);
    page.form = Some(ButtonForm {
        action: format!("/me/delete?lang={}", locale.as_str()),
        hidden: vec![("_csrf".into(), s.csrf_token), ("confirm".into(), "yes".into())],
        button: t.me.delete_button,
        danger: true,
    });
    page.links = vec![(format!("/me?lang={}", locale.as_str()), t.me.cancel.to_owned())];
    Ok(render(&page))
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let s = require_session(&req, &state, locale).await?;
    let fields = form_fields(&req, payload, Some(&s), locale).await?;
    if fields.get("confirm").map(String::as_str) != Some("yes") {
        return delete_page(req, state).await;
    }
    let (keyring, mail, subject) = (state.keyring.clone(), state.mail.clone(), s.subject_id.clone());
    state
        .db
        .writer
        .write(move |tx| {
            let actor = Actor::Subject(subject.clone());
            rights::erase(tx, &keyring, &subject, &actor, Method::PreferenceCenter, Some((&mail, locale)))
        })
        .await
        .map_err(|e| PageError::new(e, locale))?;
    state.mail_queued.notify_one();
    let mut response = render(&message(locale, t.me.deleted_title, vec![t.me.deleted_body.to_owned()]));
    response.add_cookie(&expired_cookie()).ok();
    Ok(response)
}

/// Reads the profile (personal data) and records the access.
async fn load_profile(state: &AppState, subject_id: &str, kind: Option<RightKind>) -> Result<Profile, AppError> {
    let (pool, keyring, catalog, id) =
        (state.db.pool.clone(), state.keyring.clone(), state.catalog.current(), subject_id.to_owned());
    let profile = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(rights::profile(&mut conn, &keyring, &catalog, &id)?)
    })
    .await??;
    if let Some(kind) = kind {
        let id = subject_id.to_owned();
        state
            .db
            .writer
            .write(move |tx| {
                rights::record_access(tx, &Actor::Subject(id.clone()), &id, kind, Method::PreferenceCenter)
            })
            .await?;
    }
    Ok(profile)
}

async fn profile_page(
    req: &HttpRequest,
    state: &AppState,
    s: &Session,
    locale: Locale,
    edit_error: Option<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let t = Strings::get(locale);
    let profile = match load_profile(state, &s.subject_id, None).await {
        Ok(p) => p,
        Err(e @ (AppError::Gone(_) | AppError::NotFound(_))) => return Err(PageError::new(e, locale)),
        Err(e) => return Err(PageError::new(e, locale)),
    };
    let catalog = state.catalog.current();
    let when = |at: chrono::DateTime<Utc>| at.format("%Y-%m-%d %H:%M").to_string();
    let label = |field: &str, l: &Option<crate::domain::Localized>| {
        l.as_ref().map(|l| l.get(locale).to_owned()).unwrap_or_else(|| field.to_owned())
    };
    let purpose_title = |key: &str| {
        catalog.purpose(key).map(|p| p.policy.title().get(locale).to_owned()).unwrap_or_else(|| key.to_owned())
    };
    let values = profile
        .values
        .iter()
        .map(|v| ValueRow {
            label: label(&v.field, &v.label),
            value: v.value.clone(),
            source: format!("{} · {}", v.form, when(v.submitted_at)),
            purposes: v.purposes.iter().map(|p| purpose_title(p)).collect::<Vec<_>>().join(", "),
        })
        .collect();
    let mut edits: Vec<EditRow> = Vec::new();
    for v in profile.values.iter().rev() {
        if edits.iter().any(|e| e.field == v.field) {
            continue;
        }
        let error = edit_error.as_ref().filter(|(f, _)| *f == v.field).map(|(_, m)| m.clone());
        edits.push(EditRow {
            field: v.field.clone(),
            label: label(&v.field, &v.label),
            value: v.value.clone(),
            input_type: match v.field.as_str() {
                "email" => "email",
                "phone" => "tel",
                _ => "text",
            },
            error,
        });
    }
    edits.reverse();
    let consents = catalog
        .purposes
        .values()
        .map(|p| {
            let held = profile.consents.iter().find(|c| c.purpose == p.key.as_str());
            let status = held.map_or(ConsentStatus::Never, |c| c.status);
            ConsentRow {
                purpose: p.key.to_string(),
                title: held.map_or_else(|| p.policy.title().get(locale).to_owned(), |c| c.title.get(locale).to_owned()),
                status: t.status(status),
                status_key: status.as_str(),
                since: held.map(|c| when(c.since)),
                expires: held.and_then(|c| c.expires_at).map(when),
                wording: held
                    .map_or_else(|| p.policy.text().get(locale).to_owned(), |c| c.wording.get(locale).to_owned()),
                policy_version: held.map_or(p.policy.version, |c| c.policy_version),
                policy_url: format!(
                    "/policies/{}/v{}?lang={}",
                    p.key,
                    held.map_or(p.policy.version, |c| c.policy_version),
                    locale.as_str()
                ),
                required: p.required,
                can_withdraw: matches!(status, ConsentStatus::Granted | ConsentStatus::Pending),
            }
        })
        .collect();
    let history = profile
        .history
        .iter()
        .rev()
        .map(|h| HistoryRow {
            at: when(h.at),
            at_iso: h.at.to_rfc3339(),
            purpose: purpose_title(&h.purpose),
            action: h.action.clone(),
            method: h.method.clone(),
        })
        .collect();
    let notice = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .filter(|q| q.contains_key("done"))
        .map(|_| t.me.done);
    let page = ProfilePage {
        t,
        lang: locale.as_str(),
        other_lang: other(locale),
        csrf: s.csrf_token.clone(),
        email: profile.email,
        notice,
        problem: None,
        values,
        edits,
        consents,
        history,
    };
    let mut response = render(&page);
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn export_json(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let profile = load_profile(&state, &s.subject_id, Some(RightKind::Portability))
        .await
        .map_err(|e| PageError::new(e, locale))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"my-data.json\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(profile))
}

async fn export_csv(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let profile = load_profile(&state, &s.subject_id, Some(RightKind::Portability))
        .await
        .map_err(|e| PageError::new(e, locale))?;
    let csv = crate::services::export::to_csv(&profile).map_err(|e| PageError::new(AppError::Internal(e), locale))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"my-data.csv\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(csv))
}

async fn receipt(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let profile = load_profile(&state, &s.subject_id, None).await.map_err(|e| PageError::new(e, locale))?;
    let token = crate::services::export::state_receipt(&state.keyring, &state.settings.base_url, &profile)
        .map_err(|e| PageError::new(AppError::Internal(e.into()), locale))?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwt")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"consent-receipt.jwt\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(token))
}
