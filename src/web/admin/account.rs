//! `/admin/account`: one's own account, for every role. The password (the current one asked for;
//! every other session ends; a mail tells the account) and the open sessions, each shown by when
//! and where it was opened, any other one or all of them signed out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::{AdminError, Chrome, Problems, SignedIn, see_other};
use crate::db::team;
use crate::i18n::message_struct;
use crate::services::account::{self, Changing};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

message_struct! {
    /// The account page's words (ids `account-<field>`).
    pub struct AccountStrings("account-") {
        title, intro, password_title, current, new, again, change, changed, wrong_current, mismatch,
        sessions_title, sessions_intro, opened, last_seen, device, place, this_one, sign_out, sign_out_others,
        unknown_device, two_factor, two_factor_link,
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/account").route(web::get().to(show)))
        .service(web::resource("/admin/account/password").route(web::post().to(change_password)))
        .service(web::resource("/admin/account/sessions/others/end").route(web::post().to(end_others)))
        .service(web::resource("/admin/account/sessions/{handle}/end").route(web::post().to(end_one)));
}

struct SessionView {
    /// The first 16 hex digits of the cookie's hash: names the session without revealing it.
    handle: String,
    opened: String,
    last_seen: String,
    device: String,
    place: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage {
    c: Chrome,
    a: &'static AccountStrings,
    sessions: Vec<SessionView>,
    /// The password form's inputs: name, label, `autocomplete`.
    inputs: [(&'static str, &'static str, &'static str); 3],
    notice: Option<&'static str>,
    problems: Problems,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    who: &SignedIn,
    notice: Option<&'static str>,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let (a, locale) = (AccountStrings::get(who.locale), who.locale);
    let (pool, owner_id) = (state.db.pool.clone(), who.owner.id.clone());
    let rows = web::block(move || -> Result<_, AppError> { Ok(team::sessions_of(&mut *pool.get()?, &owner_id)?) })
        .await
        .map_err(|e| AdminError::new(e, locale))?
        .map_err(|e| AdminError::new(e, locale))?;
    let when = |t: chrono::NaiveDateTime| format!("{} UTC", t.format("%Y-%m-%d %H:%M"));
    let sessions = rows
        .into_iter()
        .map(|s| SessionView {
            handle: s.id_hash.chars().take(16).collect(),
            opened: when(s.created_at),
            last_seen: when(s.last_seen_at),
            device: if s.device.is_empty() { a.unknown_device.to_owned() } else { s.device },
            place: s.ip_pseudonym.chars().take(12).collect(),
            current: s.id_hash == who.session_hash(),
        })
        .collect();
    let c = who.chrome(req, "account");
    let inputs = [
        ("current", a.current, "current-password"),
        ("new", a.new, "new-password"),
        ("again", a.again, "new-password"),
    ];
    let mut response = render_with_status(&AccountPage { c, a, sessions, inputs, notice, problems }, status);
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn show(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    page(&req, &state, &who, None, Problems::default(), StatusCode::OK).await
}

async fn change_password(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    use crate::domain::owner::{PasswordError, check_new_password};
    let fields = who.form(&req, payload).await?;
    let (current, new, again) = (fields.get("current").to_owned(), fields.get("new").to_owned(), fields.get("again"));
    let (a, locale) = (AccountStrings::get(who.locale), who.locale);
    let passwords = crate::web::admin::password::PasswordStrings::get(locale);
    let mut problems = Problems::default();
    match check_new_password(&new) {
        Err(PasswordError::TooShort) => problems.add("new", passwords.too_short),
        Err(PasswordError::TooLong) => problems.add("new", passwords.too_long),
        Ok(()) if new != again => problems.add("again", a.mismatch),
        Ok(()) => {}
    }
    // Checked (and the new one hashed) off the writer and the async threads: argon2 is slow.
    let (pool, owner_id) = (state.db.pool.clone(), who.owner.id.clone());
    let checked = state
        .limits
        .hashing(move || -> Result<(bool, Option<String>), AppError> {
            let right = crate::services::owners::is_current_password(&mut *pool.get()?, &owner_id, &current)?;
            let hash = if right { crate::services::team::checked_password(&new).ok() } else { None };
            Ok((right, hash))
        })
        .await
        .and_then(|checked| checked)
        .map_err(|e| AdminError::new(e, locale))?;
    if !checked.0 {
        problems.add("current", a.wrong_current);
    }
    let (true, Some(hash)) = checked else {
        return page(&req, &state, &who, None, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if !problems.is_empty() {
        return page(&req, &state, &who, None, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let (keyring, mail) = (state.keyring.clone(), state.mail.clone());
    let (owner_id, email, session) = (who.owner.id.clone(), who.owner.email.clone(), who.session_hash().to_owned());
    state
        .db
        .writer
        .write(move |tx| {
            let changing = Changing { owner_id: &owner_id, email: &email, session: &session, locale };
            account::change_password(tx, &keyring, &mail, &changing, &hash, Utc::now().naive_utc())
        })
        .await
        .map_err(|e: crate::services::ServiceError| AdminError::new(AppError::from(e), locale))?;
    state.mail_queued.notify_one();
    page(&req, &state, &who, Some(a.changed), Problems::default(), StatusCode::OK).await
}

async fn end(who: &SignedIn, state: &AppState, only: Option<String>) -> Result<HttpResponse, AdminError> {
    let (owner_id, keep, locale) = (who.owner.id.clone(), who.session_hash().to_owned(), who.locale);
    state
        .db
        .writer
        .write(move |tx| -> Result<usize, AppError> {
            // A handle names one of the account's own sessions by its hash's first digits.
            let only = match only {
                Some(handle) => {
                    let own = team::sessions_of(tx.conn, &owner_id)?;
                    match own.into_iter().find(|s| s.id_hash.starts_with(&handle) && handle.len() == 16) {
                        Some(s) => Some(s.id_hash),
                        None => return Ok(0),
                    }
                }
                None => None,
            };
            Ok(account::sign_out_others(tx, &owner_id, &keep, only.as_deref(), Utc::now().naive_utc())?)
        })
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    Ok(see_other(&format!("/admin/account?lang={}", locale.as_str())))
}

async fn end_one(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.form(&req, payload).await?;
    end(&who, &state, Some(path.into_inner())).await
}

async fn end_others(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.form(&req, payload).await?;
    end(&who, &state, None).await
}
