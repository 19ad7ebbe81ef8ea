//! A staff member's own account: changing their password (the current one asked for; every other
//! session ends; the account is told by mail) and their open sessions (each shown by where it was
//! opened; any other one, or all the others, signed out).

use chrono::NaiveDateTime;

use crate::crypto::Keyring;
use crate::db::WriteTx;
use crate::db::team;
use crate::mail::{self, MailContext, messages};
use crate::services::ServiceError;
use crate::services::rights::{Actor, audit_action};

/// The account whose password changes, and the session it changes from (kept open).
pub struct Changing<'a> {
    pub owner_id: &'a str,
    pub email: &'a str,
    pub session: &'a str,
    pub locale: crate::domain::Locale,
}

/// Stores the new password's hash (the current password was checked off the writer), ends every
/// other session, queues a mail to the account and audits it.
pub fn change_password(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    mail_ctx: &MailContext,
    who: &Changing<'_>,
    hash: &str,
    now: NaiveDateTime,
) -> Result<usize, ServiceError> {
    team::set_password(tx.conn, who.owner_id, hash)?;
    let ended = team::end_sessions_but(tx.conn, who.owner_id, who.session, None, now)?;
    let link = format!("{}/admin/account?lang={}", mail_ctx.base_url, who.locale.as_str());
    let content = messages::password_changed(who.locale, &mail_ctx.business, &link);
    let composed = mail::compose(mail_ctx, who.email, &content, None).map_err(|e| ServiceError::Mail(e.to_string()))?;
    let dedupe = format!("password-changed:{}:{}", who.owner_id, now.and_utc().timestamp_micros());
    mail::enqueue(tx.conn, keyring, "password_changed", &dedupe, None, &composed)?;
    let actor = Actor::Owner(who.owner_id.to_owned());
    audit_action(tx.conn, &actor, "staff.password_changed", None, &format!("{ended} other sessions ended"))?;
    Ok(ended)
}

/// Signs out one other session (`only`, by cookie hash) or every other one; audited.
pub fn sign_out_others(
    tx: &mut WriteTx<'_>,
    owner_id: &str,
    keep: &str,
    only: Option<&str>,
    now: NaiveDateTime,
) -> Result<usize, ServiceError> {
    let ended = team::end_sessions_but(tx.conn, owner_id, keep, only, now)?;
    let actor = Actor::Owner(owner_id.to_owned());
    audit_action(tx.conn, &actor, "staff.sessions_ended", None, &ended.to_string())?;
    Ok(ended)
}
