//! Mail-link tokens: signed, single-use where it matters (sign-in, confirmation, renewal), and
//! the one-click unsubscribe URL (RFC 8058), which stays valid so that unsubscribing twice is
//! harmless.

use chrono::{Duration, NaiveDateTime, Utc};

use super::ServiceError;
use crate::crypto::{Keyring, LinkClaims, LinkError, LinkKind};
use crate::db::DbConnection;
use crate::db::sessions::{self, NewLinkToken};
use crate::domain::Locale;
use crate::mail::MailContext;

/// One-click unsubscribe links keep working for as long as a mail may sit in an inbox.
pub const UNSUBSCRIBE_TTL: Duration = Duration::days(3 * 365);

/// Why a link did not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    #[error("the link is not valid")]
    Invalid,
    #[error("the link has expired")]
    Expired,
    #[error("the link was already used")]
    Used,
}

impl From<LinkError> for LinkProblem {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Expired => Self::Expired,
            LinkError::Invalid => Self::Invalid,
        }
    }
}

/// A single-use token row plus its signed form.
pub fn issue_link(
    conn: &mut DbConnection,
    keyring: &Keyring,
    subject_id: &str,
    kind: LinkKind,
    ttl: Duration,
    purposes: Vec<String>,
    now: NaiveDateTime,
) -> Result<String, ServiceError> {
    let id = uuid::Uuid::new_v4().to_string();
    let expires_at = now + ttl;
    sessions::insert_token(
        conn,
        &NewLinkToken { id: &id, subject_id, kind: kind.as_str(), expires_at, created_at: now },
    )?;
    Ok(keyring.links().sign(&LinkClaims {
        sub: subject_id.to_owned(),
        jti: id,
        kind,
        purposes,
        exp: expires_at.and_utc().timestamp(),
        guardian: None,
    })?)
}

/// A link token checked but not used: its claims, or why it does not work.
pub fn claims(keyring: &Keyring, token: &str, kind: LinkKind) -> Result<LinkClaims, LinkProblem> {
    Ok(keyring.links().verify(token, kind)?)
}

/// Checks a single-use token and uses it up.
pub fn redeem(
    conn: &mut DbConnection,
    keyring: &Keyring,
    token: &str,
    kind: LinkKind,
    now: NaiveDateTime,
) -> Result<Result<LinkClaims, LinkProblem>, diesel::result::Error> {
    let claims = match claims(keyring, token, kind) {
        Ok(c) => c,
        Err(problem) => return Ok(Err(problem)),
    };
    let Some(row) = sessions::find_token(conn, &claims.jti)? else { return Ok(Err(LinkProblem::Invalid)) };
    if row.subject_id != claims.sub || row.kind != kind.as_str() {
        return Ok(Err(LinkProblem::Invalid));
    }
    if row.used_at.is_some() {
        return Ok(Err(LinkProblem::Used));
    }
    if row.expires_at <= now {
        return Ok(Err(LinkProblem::Expired));
    }
    if !sessions::use_token(conn, &claims.jti, now)? {
        return Ok(Err(LinkProblem::Used));
    }
    Ok(Ok(claims))
}

/// A one-click unsubscribe URL for these purposes (RFC 8058); not single-use, so that
/// unsubscribing twice is harmless.
pub fn unsubscribe_url(
    keyring: &Keyring,
    ctx: &MailContext,
    subject_id: &str,
    purposes: Vec<String>,
    locale: Locale,
) -> Result<String, ServiceError> {
    let exp = (Utc::now() + UNSUBSCRIBE_TTL).timestamp();
    let token = keyring.links().sign(&LinkClaims {
        sub: subject_id.to_owned(),
        jti: uuid::Uuid::new_v4().to_string(),
        kind: LinkKind::Unsubscribe,
        purposes,
        exp,
        guardian: None,
    })?;
    Ok(format!("{}/u?token={token}&lang={}", ctx.base_url, locale.as_str()))
}

pub fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
