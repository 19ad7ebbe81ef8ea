//! Site owners: creating accounts, checking passwords (argon2id), growing delays after repeated
//! failures, and console sessions.
//!
//! Signing in is split in two so that the slow part never blocks the single writer:
//! [`check_password`] reads and hashes on a blocking thread, then [`record_sign_in`] writes the
//! outcome (failure count, or a new session) through the writer.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{Duration, NaiveDateTime, Utc};
use std::sync::OnceLock;

use crate::crypto::{random_bytes, sha256_hex};
use crate::db::DbConnection;
use crate::db::owners::{self, NewOwner, OwnerRow, OwnerSession};
use crate::db::second_factor;
use crate::domain::Email;
use crate::domain::owner::{self, PasswordError, Role};
use crate::domain::second_factor::{
    FREE_FAILURES, FREE_NETWORK_FAILURES, Stage, after_password, delay_after, failures_forgotten_after,
};
use crate::services::rights::{Actor, audit_action};
use crate::services::second_factor::Checked;

/// A session ends 8 hours after sign-in, whatever happens.
pub const SESSION_ABSOLUTE: Duration = Duration::hours(8);
/// The code must follow the password within 10 minutes.
pub const SECOND_FACTOR_WITHIN: Duration = Duration::minutes(10);
/// A session ends after 30 minutes without a request.
pub const SESSION_IDLE: Duration = Duration::minutes(30);

#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("not a valid e-mail address")]
    InvalidEmail,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("an owner with this e-mail address already exists")]
    EmailTaken,
    #[error("could not hash the password")]
    Hash,
    #[error("database error")]
    Storage(#[from] diesel::result::Error),
}

/// A signed-in owner as the console sees them.
#[derive(Debug, Clone)]
pub struct Owner {
    pub id: String,
    pub email: String,
    pub role: Role,
}

/// Hashes a password with argon2id and the crate's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, OwnerError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| OwnerError::Hash)
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of nothing anyone knows, verified against when the address is unknown so that an
/// unknown address takes as long to refuse as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        use base64::Engine as _;
        let secret = base64::engine::general_purpose::STANDARD.encode(random_bytes::<24>());
        hash_password(&secret).unwrap_or_default()
    })
}

/// Creates an owner; the address is normalised (trimmed, lower-cased). Returns the new id.
pub fn create(conn: &mut DbConnection, email: &str, password: &str, role: Role) -> Result<String, OwnerError> {
    let email = Email::parse(email).map_err(|_| OwnerError::InvalidEmail)?;
    owner::check_new_password(password)?;
    if owners::find_by_email(conn, email.as_str())?.is_some() {
        return Err(OwnerError::EmailTaken);
    }
    let hash = hash_password(password)?;
    let id = uuid::Uuid::new_v4().to_string();
    owners::insert(
        conn,
        &NewOwner {
            id: &id,
            email: email.as_str(),
            password_hash: &hash,
            role: role.as_str(),
            failed_logins: 0,
            invited: false,
            created_at: Utc::now().naive_utc(),
        },
    )?;
    audit_action(conn, &Actor::Owner(id.clone()), "owner_created", None, role.as_str())?;
    Ok(id)
}

/// Whether `password` is the account's current one (slow on purpose: run it on a blocking
/// thread). Too long a password is never hashed.
pub fn is_current_password(conn: &mut DbConnection, owner_id: &str, password: &str) -> diesel::QueryResult<bool> {
    let row = owners::find(conn, owner_id)?;
    let phc: &str = match &row {
        Some(r) => &r.password_hash,
        None => dummy_hash(),
    };
    Ok(password.chars().count() <= owner::MAX_PASSWORD_CHARS && verify_password(password, phc) && row.is_some())
}

/// What a password check found. Unknown addresses and wrong passwords must be told apart
/// only in what is written, never in what is shown.
#[derive(Debug)]
pub enum PasswordCheck {
    /// No such (enabled) owner.
    Unknown,
    Wrong {
        owner_id: String,
    },
    Right {
        owner_id: String,
    },
}

/// Reads the owner and verifies the password (slow on purpose: run it on a blocking thread).
/// An unknown address is checked against a dummy hash, so it takes as long.
pub fn check_password(conn: &mut DbConnection, email: &str, password: &str) -> Result<PasswordCheck, OwnerError> {
    let found = match Email::parse(email) {
        Ok(email) if password.chars().count() <= owner::MAX_PASSWORD_CHARS => {
            owners::find_by_email(conn, email.as_str())?
        }
        _ => None,
    };
    let Some(row) = found.filter(|o| o.disabled_at.is_none()) else {
        verify_password(password, dummy_hash());
        return Ok(PasswordCheck::Unknown);
    };
    Ok(if verify_password(password, &row.password_hash) {
        PasswordCheck::Right { owner_id: row.id }
    } else {
        PasswordCheck::Wrong { owner_id: row.id }
    })
}

/// A new console session: the cookie value (given to the browser, never stored), its CSRF token,
/// and how far it has come (a second factor may be next).
pub struct OpenedSession {
    pub cookie: String,
    pub csrf: String,
    pub stage: Stage,
}

/// What signing in came to, once written.
pub enum SignIn {
    /// The password was right: the new session (at the stage it opens at).
    Opened(OpenedSession),
    /// Unknown address or wrong password (told apart nowhere the person can see).
    Refused,
}

#[derive(Debug, Clone)]
/// The keys a run of failed attempts is counted under: the address typed (whether or not an
/// account has it, so both are written alike) and the client's network. Keyed hashes only.
pub struct Attempt {
    pub address_key: String,
    pub network_key: Option<String>,
    pub origin: SessionOrigin,
    /// `ASSENT_REQUIRE_2FA`: an account without a second factor sets one up before anything else.
    pub require_second_factor: bool,
}

/// When the next attempt for these keys may be made, if it must wait.
pub fn must_wait(conn: &mut DbConnection, attempt: &Attempt, now: NaiveDateTime) -> diesel::QueryResult<Option<i64>> {
    let keys: Vec<&str> = std::iter::once(attempt.address_key.as_str()).chain(attempt.network_key.as_deref()).collect();
    let until = second_factor::not_before(conn, &keys)?;
    Ok(until.filter(|t| *t > now).map(|t| (t - now).num_seconds() + 1))
}

/// Counts a failed attempt (password or code) under each of the attempt's keys: the next one
/// waits longer ([`delay_after`]). Audited, for known and unknown addresses alike.
pub fn count_failure(
    conn: &mut DbConnection,
    attempt: &Attempt,
    owner_id: Option<&str>,
    what: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let forget_before = now - failures_forgotten_after();
    let address = std::iter::once((attempt.address_key.as_str(), FREE_FAILURES));
    for (key, free) in address.chain(attempt.network_key.as_deref().map(|k| (k, FREE_NETWORK_FAILURES))) {
        let failures = second_factor::count_failure(conn, key, now, forget_before)?;
        second_factor::set_not_before(conn, key, now + delay_after(failures, free))?;
    }
    let actor = Actor::Job("console_sign_in");
    let detail = match owner_id {
        Some(id) => format!("{what}: account {id}"),
        None => format!("{what}: no account with this address ({})", &attempt.address_key[..12]),
    };
    audit_action(conn, &actor, "staff.sign_in_failed", None, &detail)
}

/// Writes the outcome of a password check: counts a failure, or opens a session at the stage the
/// account's second factor calls for.
pub fn record_sign_in(
    conn: &mut DbConnection,
    check: &PasswordCheck,
    attempt: &Attempt,
    now: NaiveDateTime,
) -> Result<SignIn, OwnerError> {
    match check {
        PasswordCheck::Unknown => {
            count_failure(conn, attempt, None, "password", now)?;
            Ok(SignIn::Refused)
        }
        PasswordCheck::Wrong { owner_id } => {
            count_failure(conn, attempt, Some(owner_id), "password", now)?;
            Ok(SignIn::Refused)
        }
        PasswordCheck::Right { owner_id } => {
            let enrolled = crate::services::second_factor::enrolled(conn, owner_id)?;
            let stage = after_password(enrolled, attempt.require_second_factor);
            if stage == Stage::SignedIn {
                second_factor::forget(conn, &attempt.address_key)?;
            }
            let opened = open_session(conn, owner_id, &attempt.origin, stage, now)?;
            let action = if stage == Stage::SignedIn { "owner_signed_in" } else { "staff.password_accepted" };
            audit_action(conn, &Actor::Owner(owner_id.clone()), action, None, stage.as_str())?;
            Ok(SignIn::Opened(opened))
        }
    }
}

/// Checks the second factor typed by a session at the code step: a right one moves the session
/// on to signed in (and forgets the run of failures); a wrong one counts as a failed attempt.
pub fn pass_second_factor(
    conn: &mut DbConnection,
    keyring: &crate::crypto::Keyring,
    session_hash: &str,
    owner_id: &str,
    typed: &str,
    attempt: &Attempt,
    now: NaiveDateTime,
) -> Result<Checked, crate::services::ServiceError> {
    let checked = crate::services::second_factor::verify(conn, keyring, owner_id, typed, now)?;
    if checked == Checked::Wrong {
        count_failure(conn, attempt, Some(owner_id), "second factor", now)?;
    } else {
        second_factor::set_stage(conn, session_hash, Stage::SignedIn.as_str())?;
        second_factor::forget(conn, &attempt.address_key)?;
        audit_action(conn, &Actor::Owner(owner_id.to_owned()), "owner_signed_in", None, "second factor")?;
    }
    Ok(checked)
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Where a session is opened from, as the account's list of sessions shows it.
#[derive(Debug, Clone, Default)]
pub struct SessionOrigin {
    pub device: String,
    pub ip_pseudonym: String,
}

fn open_session(
    conn: &mut DbConnection,
    owner_id: &str,
    origin: &SessionOrigin,
    stage: Stage,
    now: NaiveDateTime,
) -> diesel::QueryResult<OpenedSession> {
    let cookie = base64url(&random_bytes::<32>());
    let csrf = base64url(&random_bytes::<24>());
    owners::insert_session(
        conn,
        &OwnerSession {
            id_hash: sha256_hex(cookie.as_bytes()),
            owner_id: owner_id.to_owned(),
            csrf_token: csrf.clone(),
            created_at: now,
            last_seen_at: now,
            ended_at: None,
            device: origin.device.chars().take(160).collect(),
            ip_pseudonym: origin.ip_pseudonym.clone(),
            stage: stage.as_str().to_owned(),
        },
    )?;
    Ok(OpenedSession { cookie, csrf, stage })
}

/// A live console session: not ended, used within 30 minutes, opened within 8 hours, by an
/// owner who is still enabled.
pub struct LiveSession {
    pub id_hash: String,
    /// How far the session has come: only [`Stage::SignedIn`] opens the console.
    pub stage: Stage,
    pub csrf: String,
    pub last_seen_at: NaiveDateTime,
    pub owner: Owner,
}

pub fn current_session(
    conn: &mut DbConnection,
    cookie: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<LiveSession>> {
    if cookie.len() > 100 {
        return Ok(None);
    }
    let Some((session, row)) = owners::find_session(conn, &sha256_hex(cookie.as_bytes()))? else { return Ok(None) };
    let stage = Stage::parse(&session.stage);
    // Eight hours at most; ten minutes while the code is still to come.
    let limit = if stage == Stage::SecondFactor { SECOND_FACTOR_WITHIN } else { SESSION_ABSOLUTE };
    let live = session.ended_at.is_none()
        && now - session.created_at < limit
        && now - session.last_seen_at < SESSION_IDLE
        && row.disabled_at.is_none();
    let Some(role) = Role::parse(&row.role).filter(|_| live) else { return Ok(None) };
    Ok(Some(LiveSession {
        stage,
        id_hash: session.id_hash,
        csrf: session.csrf_token,
        last_seen_at: session.last_seen_at,
        owner: owner_of(row, role),
    }))
}

fn owner_of(row: OwnerRow, role: Role) -> Owner {
    Owner { id: row.id, email: row.email, role }
}

/// Ends a session (sign-out).
pub fn end_session(
    conn: &mut DbConnection,
    id_hash: &str,
    owner_id: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    owners::end_session(conn, id_hash, now)?;
    audit_action(conn, &Actor::Owner(owner_id.to_owned()), "owner_signed_out", None, "")
}
