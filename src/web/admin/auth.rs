//! Signing in to and out of the console.
//!
//! The same answer for an unknown address and a wrong password (and an unknown address takes
//! as long: a dummy hash is verified, and the same rows are written). Attempts are limited per
//! IP and per address in each server; failures in a row make the next attempt wait, growing to a
//! minute, per address and per network, in the database (so every server counts alike). The
//! sign-in form carries its own CSRF token (a double-submit cookie), since there is no session
//! yet to hold one. With a second factor, the password opens a session that only leads to the
//! code (`login_code`).

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use std::net::IpAddr;

use super::{AdminError, COOKIE, Chrome, Fields, Problems, SignedIn, see_other};
use crate::crypto::random_bytes;
use crate::domain::{ErrorCode, Locale};
use crate::services::owners::{self, SignIn};
use crate::web::body::{FORM_URLENCODED, parse_urlencoded, read_limited, require_content_type};
use crate::web::error::AppError;
use crate::web::pages::render_with_status;
use crate::web::{AppState, console_locale_of};

/// Holds the sign-in form's CSRF token until the form is sent.
const LOGIN_COOKIE: &str = "assent_admin_login";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/login").route(web::get().to(login_page)).route(web::post().to(login)))
        .service(web::resource("/admin/logout").route(web::post().to(logout)));
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    c: Chrome,
    email: String,
    problems: Problems,
    /// A refusal of the whole attempt (wrong credentials, locked), shown above the form.
    refusal: Option<&'static str>,
    /// The link to ask for a new password.
    forgot: &'static str,
}

fn cookie(name: &str, value: String, secure: bool, age: Option<CookieAge>) -> Cookie<'static> {
    let mut cookie = Cookie::build(name.to_owned(), value)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    if let Some(age) = age {
        cookie.set_max_age(age);
    }
    cookie
}

/// Renders the sign-in form with a fresh CSRF token (in a cookie and in the form).
fn login_form(
    req: &HttpRequest,
    state: &AppState,
    locale: Locale,
    email: String,
    problems: Problems,
    refusal: Option<&'static str>,
    status: StatusCode,
) -> HttpResponse {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<24>());
    let mut c = Chrome::anonymous(req, locale);
    c.csrf = token.clone();
    let forgot = super::password::PasswordStrings::get(locale).forgot;
    let mut response = render_with_status(&LoginPage { c, email, problems, refusal, forgot }, status);
    let _ = response.add_cookie(&cookie(LOGIN_COOKIE, token, state.settings.is_https(), None));
    response
}

async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    login_form(&req, &state, console_locale_of(&req), String::new(), Problems::default(), None, StatusCode::OK)
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let locale = console_locale_of(&req);
    let t = super::AdminStrings::get(locale);
    let fields = login_fields(&req, payload, locale).await?;
    let email = fields.get("email").trim().to_owned();
    let password = fields.get("password").to_owned();
    let mut problems = Problems::default();
    if email.is_empty() {
        problems.add("email", t.says(ErrorCode::EmailRequired));
    }
    if password.is_empty() {
        problems.add("password", t.says(ErrorCode::PasswordRequired));
    }
    if !problems.is_empty() {
        return Ok(login_form(&req, &state, locale, email, problems, None, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let ip = crate::web::client_ip(&req, &state.settings);
    if !state.limits.console_attempt(ip, &email).await.map_err(|e| AdminError::new(e, locale))? {
        return Err(AdminError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: ErrorCode::RateLimited,
            locale,
        });
    }
    let attempt = attempt_of(&req, &state, &email, ip);
    let outcome = sign_in(&state, email.clone(), password, attempt).await.map_err(|e| AdminError::new(e, locale))?;
    match outcome {
        Err(seconds) => {
            let status = StatusCode::TOO_MANY_REQUESTS;
            let mut response =
                login_form(&req, &state, locale, email, Problems::default(), Some(t.says(ErrorCode::Locked)), status);
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds.max(1)));
            Ok(response)
        }
        Ok(SignIn::Opened(session)) => {
            let mut response = see_other(&format!("{}?lang={}", session.stage.page(), locale.as_str()));
            let secure = state.settings.is_https();
            let _ = response.add_cookie(&cookie(COOKIE, session.cookie, secure, None));
            let _ = response.add_cookie(&cookie(LOGIN_COOKIE, String::new(), secure, Some(CookieAge::ZERO)));
            Ok(response)
        }
        Ok(SignIn::Refused) => {
            let refusal = Some(t.says(ErrorCode::BadCredentials));
            Ok(login_form(&req, &state, locale, email, Problems::default(), refusal, StatusCode::UNAUTHORIZED))
        }
    }
}

/// What an attempt from this request for `address` is counted under (keyed hashes of the address
/// and of the client's network, an IPv6 client by its /64), and where a session would be opened.
pub(super) fn attempt_of(req: &HttpRequest, state: &AppState, address: &str, ip: Option<IpAddr>) -> owners::Attempt {
    let pseudonym = |s: String| state.keyring.ip_pseudonym(&s);
    owners::Attempt {
        address_key: pseudonym(format!("console-address:{}", address.trim().to_lowercase())),
        network_key: ip.map(|ip| pseudonym(format!("console-network:{}", crate::web::limits::limit_key(ip)))),
        origin: owners::SessionOrigin {
            device: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned(),
            ip_pseudonym: ip.map(|ip| state.keyring.ip_pseudonym(&ip.to_string())).unwrap_or_default(),
        },
        require_second_factor: state.settings.require_2fa,
    }
}

/// The sign-in form as sent, once its CSRF token matches the one in its cookie (403 if not).
async fn login_fields(req: &HttpRequest, payload: web::Payload, locale: Locale) -> Result<Fields, AdminError> {
    require_content_type(req, FORM_URLENCODED).map_err(|e| AdminError::new(e, locale))?;
    let body = read_limited(req, payload).await.map_err(|e| AdminError::new(e, locale))?;
    let fields = Fields(parse_urlencoded(&body, locale).map_err(|e| AdminError::new(e, locale))?);
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    use subtle::ConstantTimeEq;
    if expected.is_empty() || !bool::from(fields.get("csrf").as_bytes().ct_eq(expected.as_bytes())) {
        return Err(AdminError::forbidden(ErrorCode::CsrfFailed, locale));
    }
    Ok(fields)
}

/// Unless earlier failures make this attempt wait (`Err`: seconds), checks the password off the
/// executor, then records the attempt (and opens a session). Known and unknown addresses take
/// the same path: the same reads, a hash, the same writes.
async fn sign_in(
    state: &AppState,
    email: String,
    password: String,
    attempt: owners::Attempt,
) -> Result<Result<SignIn, i64>, AppError> {
    let now = Utc::now().naive_utc();
    let pool = state.db.pool.clone();
    // In one of the hashing slots, or 503 at once (see `RateLimits::hashing`).
    let (checked, attempt) = state
        .limits
        .hashing(move || -> Result<_, AppError> {
            let mut conn = pool.get()?;
            if let Some(seconds) = owners::must_wait(&mut conn, &attempt, now)? {
                return Ok((Err(seconds), attempt));
            }
            let check =
                owners::check_password(&mut conn, &email, &password).map_err(|e| AppError::Internal(e.into()))?;
            Ok((Ok(check), attempt))
        })
        .await??;
    let check = match checked {
        Err(seconds) => return Ok(Err(seconds)),
        Ok(check) => check,
    };
    state
        .db
        .writer
        .write(move |tx| {
            owners::record_sign_in(tx.conn, &check, &attempt, now).map(Ok).map_err(|e| AppError::Internal(e.into()))
        })
        .await
}

async fn logout(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.form(&req, payload).await?;
    let (id_hash, owner_id) = (who.session_hash().to_owned(), who.owner.id.clone());
    let now = Utc::now().naive_utc();
    state
        .db
        .writer
        .write(move |tx| Ok::<_, AppError>(owners::end_session(tx.conn, &id_hash, &owner_id, now)?))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    let mut response = see_other(&format!("/admin/login?lang={}", who.locale.as_str()));
    let _ = response.add_cookie(&cookie(COOKIE, String::new(), state.settings.is_https(), Some(CookieAge::ZERO)));
    Ok(response)
}
