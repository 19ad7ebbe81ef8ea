//! The console's team, managed by owners: inviting a colleague by e-mail (a single-use link to
//! set their password), changing a role, disabling (their sessions end at once) and enabling.
//! Nobody changes or disables their own account, and the last enabled owner stays one.

use chrono::{Duration, NaiveDateTime};

use crate::crypto::{Keyring, random_bytes, sha256_hex};
use crate::db::owners::{self, NewOwner};
use crate::db::team::{self, OwnerToken};
use crate::db::{DbConnection, WriteTx};
use crate::domain::Email;
use crate::domain::owner::{Role, check_new_password};
use crate::mail::{self, MailContext, messages};
use crate::services::ServiceError;
use crate::services::owners::hash_password;
use crate::services::rights::{Actor, audit_action};

/// How long an invitation's link works.
pub const INVITE_HOURS: i64 = 72;
/// How long a password-reset link works.
pub const RESET_MINUTES: i64 = 15;

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("not a valid e-mail address")]
    InvalidEmail,
    #[error("an account with this address already exists")]
    EmailTaken,
    #[error("no such account")]
    NotFound,
    #[error("you cannot change or disable your own account")]
    Yourself,
    #[error("the last owner must stay an enabled owner")]
    LastOwner,
    #[error("the link is not valid, was used, or has expired")]
    LinkInvalid,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<diesel::result::Error> for TeamError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Service(e.into())
    }
}

/// Who invites and how the mail reads.
pub struct Inviting<'a> {
    pub by: &'a Actor,
    pub keyring: &'a Keyring,
    pub mail: &'a MailContext,
    /// The role's name in the mail's language.
    pub role_words: &'a str,
    pub locale: crate::domain::Locale,
}

/// Creates the account (no password anyone knows: `unusable_hash`, made off the writer) and
/// queues the invitation; returns the account's id.
pub fn invite(
    tx: &mut WriteTx<'_>,
    inviting: &Inviting<'_>,
    email: &str,
    role: Role,
    unusable_hash: &str,
    now: NaiveDateTime,
) -> Result<String, TeamError> {
    let email = Email::parse(email).map_err(|_| TeamError::InvalidEmail)?;
    if owners::find_by_email(tx.conn, email.as_str())?.is_some() {
        return Err(TeamError::EmailTaken);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let new = NewOwner {
        id: &id,
        email: email.as_str(),
        password_hash: unusable_hash,
        role: role.as_str(),
        failed_logins: 0,
        created_at: now,
        invited: true,
    };
    owners::insert(tx.conn, &new)?;
    let link = new_link(tx.conn, &id, "invite", now + Duration::hours(INVITE_HOURS), now)?;
    let url = format!("{}/admin/password?token={link}&lang={}", inviting.mail.base_url, inviting.locale.as_str());
    let business = inviting.mail.business.as_str();
    let content = messages::staff_invite(inviting.locale, business, inviting.role_words, INVITE_HOURS, &url);
    let composed =
        mail::compose(inviting.mail, email.as_str(), &content, None).map_err(|e| ServiceError::Mail(e.to_string()))?;
    mail::enqueue(tx.conn, inviting.keyring, "staff_invite", &format!("staff-invite:{id}"), None, &composed)
        .map_err(ServiceError::from)?;
    audit_action(tx.conn, inviting.by, "staff.invited", None, &format!("{id} {}", role.as_str()))?;
    Ok(id)
}

fn new_link(
    conn: &mut DbConnection,
    owner_id: &str,
    purpose: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> diesel::QueryResult<String> {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let row = OwnerToken {
        id_hash: sha256_hex(token.as_bytes()),
        owner_id: owner_id.to_owned(),
        purpose: purpose.to_owned(),
        created_at: now,
        expires_at,
        used_at: None,
    };
    team::insert_token(conn, &row)?;
    Ok(token)
}

/// Someone asked for a reset link for `email`: an enabled account with that address gets one by
/// mail (15 minutes, single use); anyone else gets nothing, and the caller answers the same.
/// Says whether a link was sent (for the audit, never for the answer).
pub fn request_reset(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    mail_ctx: &MailContext,
    email: &crate::domain::Email,
    locale: crate::domain::Locale,
    now: NaiveDateTime,
) -> Result<bool, TeamError> {
    let Some(account) = owners::find_by_email(tx.conn, email.as_str())?.filter(|o| o.disabled_at.is_none()) else {
        return Ok(false);
    };
    let link = new_link(tx.conn, &account.id, "reset", now + Duration::minutes(RESET_MINUTES), now)?;
    let url = format!("{}/admin/password?token={link}&lang={}", mail_ctx.base_url, locale.as_str());
    let content = messages::password_reset(locale, &mail_ctx.business, RESET_MINUTES, &url);
    let composed =
        mail::compose(mail_ctx, &account.email, &content, None).map_err(|e| ServiceError::Mail(e.to_string()))?;
    let dedupe = format!("password-reset:{}:{}", account.id, now.and_utc().timestamp_micros());
    mail::enqueue(tx.conn, keyring, "password_reset", &dedupe, None, &composed).map_err(ServiceError::from)?;
    audit_action(tx.conn, &Actor::Owner(account.id.clone()), "staff.password_reset_requested", None, "")?;
    Ok(true)
}

/// The account `id` as another owner may change it: not oneself, and it exists.
fn other(conn: &mut DbConnection, by: &Actor, id: &str) -> Result<owners::OwnerRow, TeamError> {
    if matches!(by, Actor::Owner(me) if me == id) {
        return Err(TeamError::Yourself);
    }
    owners::find(conn, id)?.ok_or(TeamError::NotFound)
}

/// Whether taking `row` out of the enabled owners would leave none.
fn last_owner(conn: &mut DbConnection, row: &owners::OwnerRow) -> diesel::QueryResult<bool> {
    Ok(row.role == "owner" && row.disabled_at.is_none() && team::enabled_owners(conn)? <= 1)
}

pub fn set_role(conn: &mut DbConnection, by: &Actor, id: &str, role: Role) -> Result<(), TeamError> {
    let row = other(conn, by, id)?;
    if role != Role::Owner && last_owner(conn, &row)? {
        return Err(TeamError::LastOwner);
    }
    team::set_role(conn, id, role.as_str())?;
    audit_action(conn, by, "staff.role_changed", None, &format!("{id} {} -> {}", row.role, role.as_str()))?;
    Ok(())
}

/// Disables the account, ends its sessions (its next request signs it out) and revokes the API
/// keys it made, at once.
pub fn disable(conn: &mut DbConnection, by: &Actor, id: &str, now: NaiveDateTime) -> Result<(), TeamError> {
    let row = other(conn, by, id)?;
    if last_owner(conn, &row)? {
        return Err(TeamError::LastOwner);
    }
    team::set_disabled(conn, id, Some(now))?;
    let ended = team::end_sessions_of(conn, id, now)?;
    let keys = crate::db::api_keys::revoke_made_by(conn, id, now)?;
    audit_action(conn, by, "staff.disabled", None, &format!("{id} ({ended} sessions ended, {keys} keys revoked)"))?;
    Ok(())
}

/// Removes a colleague's second factor (a lost phone) and ends their sessions; audited.
pub fn remove_second_factor(
    conn: &mut DbConnection,
    by: &Actor,
    id: &str,
    now: NaiveDateTime,
) -> Result<(), TeamError> {
    other(conn, by, id)?;
    crate::services::second_factor::remove(conn, by, id)?;
    team::end_sessions_of(conn, id, now)?;
    Ok(())
}

pub fn enable(conn: &mut DbConnection, by: &Actor, id: &str) -> Result<(), TeamError> {
    other(conn, by, id)?;
    team::set_disabled(conn, id, None)?;
    audit_action(conn, by, "staff.enabled", None, id)?;
    Ok(())
}

/// Whether `token` is a live link to set a password (for showing the form).
pub fn link_is_live(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> diesel::QueryResult<bool> {
    Ok(live_link(conn, token, now)?.is_some())
}

fn live_link(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> diesel::QueryResult<Option<OwnerToken>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    Ok(team::find_token(conn, &sha256_hex(token.as_bytes()))?.filter(|t| t.used_at.is_none() && t.expires_at > now))
}

/// Checks a new password before it is hashed (off the writer).
pub fn checked_password(password: &str) -> Result<String, crate::domain::owner::PasswordError> {
    check_new_password(password)?;
    hash_password(password).map_err(|_| crate::domain::owner::PasswordError::TooLong)
}

/// Sets the password through the link (used once), clears the invitation and any lock, and ends
/// every session the account had.
pub fn set_password(conn: &mut DbConnection, token: &str, hash: &str, now: NaiveDateTime) -> Result<(), TeamError> {
    let link = live_link(conn, token, now)?.ok_or(TeamError::LinkInvalid)?;
    let account = owners::find(conn, &link.owner_id)?.filter(|o| o.disabled_at.is_none());
    let Some(account) = account else { return Err(TeamError::LinkInvalid) };
    if !team::use_token(conn, &link.id_hash, now)? {
        return Err(TeamError::LinkInvalid);
    }
    team::set_password(conn, &account.id, hash)?;
    team::end_sessions_of(conn, &account.id, now)?;
    audit_action(conn, &Actor::Owner(account.id.clone()), "staff.password_set", None, &link.purpose)?;
    Ok(())
}
