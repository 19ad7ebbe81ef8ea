//! The team (`/admin/team`, owners only): every console account with its role and state; invite a
//! colleague by e-mail, change a role, disable (their sessions end at once) or enable. The link in
//! an invitation opens `/admin/password` (see `password.rs`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::{AdminError, AdminStrings, Chrome, Problems, SignedIn, see_other};
use crate::db::owners::AccountState;
use crate::db::team;
use crate::domain::owner::Role;
use crate::domain::{ErrorCode, Locale};
use crate::i18n::message_struct;
use crate::services::team::{self as staff, Inviting, TeamError};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

message_struct! {
    /// The team page's words (ids `team-<field>`).
    pub struct TeamStrings("team-") {
        title, intro, account, role, state, active, invited, disabled, change_role, disable, enable,
        invite_title, invite_intro, invite, invited_notice, email_taken, email_invalid, second_factor,
        second_factor_on, second_factor_off, remove_second_factor,
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/team").route(web::get().to(list)).route(web::post().to(invite)))
        .service(web::resource("/admin/team/{id}/role").route(web::post().to(change_role)))
        .service(web::resource("/admin/team/{id}/disable").route(web::post().to(disable)))
        .service(web::resource("/admin/team/{id}/enable").route(web::post().to(enable)))
        .service(web::resource("/admin/team/{id}/second-factor/remove").route(web::post().to(remove_second_factor)));
}

struct Member {
    id: String,
    email: String,
    role: Role,
    state: &'static str,
    disabled: bool,
    me: bool,
    /// Whether the account has a second factor set up.
    second_factor: bool,
}

#[derive(Template)]
#[template(path = "admin/team.html")]
struct TeamPage {
    c: Chrome,
    m: &'static TeamStrings,
    members: Vec<Member>,
    roles: Vec<(&'static str, &'static str)>,
    email: String,
    role: String,
    notice: Option<&'static str>,
    problems: Problems,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    who: &SignedIn,
    draft: (String, String),
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let (m, t, locale) = (TeamStrings::get(who.locale), AdminStrings::get(who.locale), who.locale);
    let pool = state.db.pool.clone();
    let rows = web::block(move || -> Result<_, AppError> { Ok(team::all(&mut *pool.get()?)?) })
        .await
        .map_err(|e| AdminError::new(e, locale))?
        .map_err(|e| AdminError::new(e, locale))?;
    let members = rows
        .into_iter()
        .filter_map(|r| {
            let role = Role::parse(&r.role)?;
            let disabled = r.disabled_at.is_some();
            let state = match r.state() {
                AccountState::Disabled => m.disabled,
                AccountState::Invited => m.invited,
                AccountState::Active => m.active,
            };
            let second_factor = r.totp_confirmed_at.is_some();
            Some(Member { me: r.id == who.owner.id, id: r.id, email: r.email, role, state, disabled, second_factor })
        })
        .collect();
    let roles = Role::ALL.iter().map(|r| (r.as_str(), t.role(*r))).collect();
    let notice = (status == StatusCode::CREATED).then_some(m.invited_notice);
    let (email, role) = draft;
    let c = who.chrome(req, "team");
    Ok(render_with_status(&TeamPage { c, m, members, roles, email, role, notice, problems }, status))
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    page(&req, &state, &who, (String::new(), "analyst".into()), Problems::default(), StatusCode::OK).await
}

async fn invite(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.form(&req, payload).await?;
    let (email, role) = (fields.get("email").trim().to_owned(), fields.get("role").to_owned());
    let (m, t) = (TeamStrings::get(who.locale), AdminStrings::get(who.locale));
    let mut problems = Problems::default();
    let parsed = Role::parse(&role);
    if parsed.is_none() {
        problems.add("role", t.says(ErrorCode::InvalidChoice));
    }
    if email.is_empty() {
        problems.add("email", t.says(ErrorCode::Required));
    } else if crate::domain::Email::parse(&email).is_err() {
        problems.add("email", m.email_invalid);
    }
    let Some(role) = parsed.filter(|_| problems.is_empty()) else {
        return page(&req, &state, &who, (email, role), problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    // No password anyone knows, hashed off the writer (argon2 is slow on purpose).
    let unusable = state
        .limits
        .hashing(|| staff::checked_password(&crate::crypto::sha256_hex(&crate::crypto::random_bytes::<32>())))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(AppError::Internal(e.into()), who.locale))?;
    let (actor, keyring, mail, locale, to) =
        (who.actor(), state.keyring.clone(), state.mail.clone(), who.locale, email.clone());
    let done = state
        .db
        .writer
        .write(move |tx| -> Result<Result<String, TeamError>, AppError> {
            let inviting = Inviting { by: &actor, keyring: &keyring, mail: &mail, role_words: t.role(role), locale };
            match staff::invite(tx, &inviting, &to, role, &unusable, Utc::now().naive_utc()) {
                Err(TeamError::Service(e)) => Err(e.into()),
                other => Ok(other),
            }
        })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    state.mail_queued.notify_one();
    match done {
        Ok(_) => {
            page(&req, &state, &who, (String::new(), "analyst".into()), Problems::default(), StatusCode::CREATED).await
        }
        Err(_) => {
            let mut problems = Problems::default();
            problems.add("email", m.email_taken);
            page(&req, &state, &who, (email, role.as_str().into()), problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// Applies `change` to the account in the path; a refusal (oneself, the last owner, unknown)
/// is answered 409/404 with the reason.
async fn act(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
    change: fn(&mut crate::db::DbConnection, &crate::services::rights::Actor, &str, &str) -> Result<(), TeamError>,
) -> Result<HttpResponse, AdminError> {
    let fields = who.form(&req, payload).await?;
    let (actor, id, value) = (who.actor(), path.into_inner(), fields.get("role").to_owned());
    let done = state
        .db
        .writer
        .write(move |tx| -> Result<Result<(), TeamError>, AppError> {
            match change(tx.conn, &actor, &id, &value) {
                Err(TeamError::Service(e)) => Err(e.into()),
                other => Ok(other),
            }
        })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    refused(done, who.locale)?;
    Ok(see_other(&format!("/admin/team?lang={}", who.locale.as_str())))
}

fn refused(done: Result<(), TeamError>, locale: Locale) -> Result<(), AdminError> {
    let (status, code) = match done {
        Ok(()) => return Ok(()),
        Err(TeamError::NotFound) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
        Err(TeamError::Yourself) => (StatusCode::CONFLICT, ErrorCode::NotYourself),
        Err(TeamError::LastOwner) => (StatusCode::CONFLICT, ErrorCode::LastOwner),
        Err(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidChoice),
    };
    Err(AdminError::Refused { status, code, locale })
}

async fn change_role(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    act(req, who, state, path, payload, |conn, by, id, role| {
        let role = Role::parse(role).ok_or(TeamError::NotFound)?;
        staff::set_role(conn, by, id, role)
    })
    .await
}

async fn disable(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let keys = state.api_keys.clone();
    let done =
        act(req, who, state, path, payload, |conn, by, id, _| staff::disable(conn, by, id, Utc::now().naive_utc()))
            .await;
    // The keys it made were revoked in the same transaction: none stays live in this server's cache.
    keys.forget_all();
    done
}

/// For a colleague who lost their phone and their recovery codes: they sign in with their
/// password alone (or set one up again, when every account must have one).
async fn remove_second_factor(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    act(req, who, state, path, payload, |conn, by, id, _| {
        staff::remove_second_factor(conn, by, id, Utc::now().naive_utc())
    })
    .await
}

async fn enable(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    act(req, who, state, path, payload, |conn, by, id, _| staff::enable(conn, by, id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_team_word_is_in_every_language() {
        for locale in Locale::shipped() {
            for id in TeamStrings::ids() {
                assert!(crate::i18n::catalogue(locale).has(&id), "{id} missing in {locale}");
            }
        }
    }
}
