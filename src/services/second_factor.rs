//! A console account's second factor: RFC 6238 TOTP (`totp-rs`: SHA-1, six digits, 30-second
//! steps, one step of drift either way, as every authenticator app expects), set up from a QR
//! code and confirmed with a code from it, then asked for at every sign-in. A time step's code is
//! good once. Ten single-use recovery codes (only their SHA-256 kept) stand in for a lost phone.
//!
//! The shared secret is sealed under the master key, bound to the account's id, and re-wrapped by
//! `assent keys rotate` with the other stored secrets.

use chrono::NaiveDateTime;
use totp_rs::{Algorithm, TOTP};

use super::ServiceError;
use crate::crypto::{CryptoError, Keyring, Wrapped, random_bytes, sha256_hex};
use crate::db::DbConnection;
use crate::db::second_factor as stored;
use crate::domain::second_factor::{RECOVERY_CODES, normalise_code, normalise_recovery_code, recovery_code};
use crate::services::rights::{Actor, audit_action};

const STEP_SECONDS: u64 = 30;

/// What setting up shows: the secret to type in by hand, and the same as a QR code.
pub struct Enrolment {
    /// The secret in base32, in groups of four for reading.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code as an SVG image (a `data:` URI for an `<img>`).
    pub qr: String,
}

fn aad(owner_id: &str) -> Vec<u8> {
    format!("totp:{owner_id}").into_bytes()
}

/// The generator for a secret, labelled (in the app) with the business and the account.
fn generator(secret: Vec<u8>, issuer: &str, account: &str) -> Result<TOTP, ServiceError> {
    // The app's label: no colons (they separate issuer and account), short enough for any QR code.
    let clean = |s: &str| s.replace(':', " ").trim().chars().take(80).collect::<String>();
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECONDS, secret, Some(clean(issuer)), clean(account))
        .map_err(|_| CryptoError::Malformed.into())
}

fn enrolment(totp: &TOTP) -> Result<Enrolment, ServiceError> {
    use base64::Engine as _;
    let uri = totp.get_url();
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|_| ServiceError::Crypto(CryptoError::Malformed))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).build();
    let qr = format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg));
    let plain = totp.get_secret_base32();
    let secret = plain.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>();
    Ok(Enrolment { secret: secret.join(" "), uri, qr })
}

/// Who is setting up: the account, and the names the authenticator app shows.
pub struct Account<'a> {
    pub owner_id: &'a str,
    pub email: &'a str,
    pub issuer: &'a str,
}

/// A new secret for the account, not yet asked for at sign-in (until [`confirm`]).
pub fn start(conn: &mut DbConnection, keyring: &Keyring, account: &Account<'_>) -> Result<Enrolment, ServiceError> {
    let secret = random_bytes::<20>().to_vec();
    let sealed = keyring.masters().wrap(Wrapped::Secret, &secret, &aad(account.owner_id))?;
    stored::set_pending(conn, account.owner_id, &sealed)?;
    enrolment(&generator(secret, account.issuer, account.email)?)
}

/// The secret being set up, if the account started and has not confirmed it.
pub fn pending(
    conn: &mut DbConnection,
    keyring: &Keyring,
    account: &Account<'_>,
) -> Result<Option<Enrolment>, ServiceError> {
    let Some(row) = stored::find(conn, account.owner_id)? else { return Ok(None) };
    match (row.totp_sealed, row.totp_confirmed_at) {
        (Some(sealed), None) => {
            let secret = keyring.masters().unwrap(Wrapped::Secret, &sealed, &aad(account.owner_id))?;
            Ok(Some(enrolment(&generator(secret, account.issuer, account.email)?)?))
        }
        _ => Ok(None),
    }
}

/// Whether the account has a confirmed second factor.
pub fn enrolled(conn: &mut DbConnection, owner_id: &str) -> diesel::QueryResult<bool> {
    Ok(stored::find(conn, owner_id)?.is_some_and(|r| r.totp_confirmed_at.is_some()))
}

/// The time step (within one step of `now`) whose code `code` is.
fn matching_step(totp: &TOTP, code: &str, now: NaiveDateTime) -> Option<i64> {
    use subtle::ConstantTimeEq;
    let now = u64::try_from(now.and_utc().timestamp()).ok()?;
    let steps = [now.saturating_sub(STEP_SECONDS), now, now + STEP_SECONDS];
    let found = steps.into_iter().find(|t| bool::from(totp.generate(*t).as_bytes().ct_eq(code.as_bytes())))?;
    i64::try_from(found / STEP_SECONDS).ok()
}

fn secret_of(keyring: &Keyring, owner_id: &str, sealed: &[u8]) -> Result<TOTP, ServiceError> {
    let secret = keyring.masters().unwrap(Wrapped::Secret, sealed, &aad(owner_id))?;
    generator(secret, "Assent", "account")
}

/// Confirms the secret being set up with a code from it: from now on it is asked for at sign-in.
/// Returns the ten recovery codes (shown once), or `None` if the code is not right.
pub fn confirm(
    conn: &mut DbConnection,
    keyring: &Keyring,
    owner_id: &str,
    typed: &str,
    now: NaiveDateTime,
) -> Result<Option<Vec<String>>, ServiceError> {
    let Some(row) = stored::find(conn, owner_id)? else { return Ok(None) };
    let (Some(sealed), None) = (row.totp_sealed, row.totp_confirmed_at) else { return Ok(None) };
    let totp = secret_of(keyring, owner_id, &sealed)?;
    let Some(step) = normalise_code(typed).and_then(|code| matching_step(&totp, &code, now)) else { return Ok(None) };
    stored::confirm(conn, owner_id, now, step)?;
    let codes = new_recovery_codes(conn, owner_id, now)?;
    audit_action(conn, &Actor::Owner(owner_id.to_owned()), "staff.second_factor_enrolled", None, "")?;
    Ok(Some(codes))
}

/// Ten new recovery codes for the account (the old ones stop working); shown once.
pub fn new_recovery_codes(
    conn: &mut DbConnection,
    owner_id: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<Vec<String>> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code(random_bytes::<6>())).collect();
    let hashes: Vec<String> =
        codes.iter().filter_map(|c| normalise_recovery_code(c)).map(|c| sha256_hex(c.as_bytes())).collect();
    stored::replace_codes(conn, owner_id, &hashes, now)?;
    Ok(codes)
}

/// What a typed second factor came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// A code from the authenticator, for a time step not used before.
    Code,
    /// One of the recovery codes (now used); this many are left.
    RecoveryCode {
        left: i64,
    },
    Wrong,
}

/// Checks a code from the authenticator or a recovery code, using it up if right.
pub fn verify(
    conn: &mut DbConnection,
    keyring: &Keyring,
    owner_id: &str,
    typed: &str,
    now: NaiveDateTime,
) -> Result<Checked, ServiceError> {
    let Some(row) = stored::find(conn, owner_id)? else { return Ok(Checked::Wrong) };
    let (Some(sealed), Some(_)) = (row.totp_sealed, row.totp_confirmed_at) else { return Ok(Checked::Wrong) };
    if let Some(code) = normalise_code(typed) {
        let totp = secret_of(keyring, owner_id, &sealed)?;
        let fresh = match matching_step(&totp, &code, now) {
            Some(step) => stored::use_step(conn, owner_id, step)?,
            None => false,
        };
        return Ok(if fresh { Checked::Code } else { Checked::Wrong });
    }
    if let Some(code) = normalise_recovery_code(typed)
        && stored::use_code(conn, owner_id, &sha256_hex(code.as_bytes()), now)?
    {
        let left = stored::codes_left(conn, owner_id)?;
        let actor = Actor::Owner(owner_id.to_owned());
        audit_action(conn, &actor, "staff.recovery_code_used", None, &format!("{left} left"))?;
        return Ok(Checked::RecoveryCode { left });
    }
    Ok(Checked::Wrong)
}

/// Removes the account's second factor and recovery codes (by the account itself, or by an owner
/// for a colleague who lost their phone); audited.
pub fn remove(conn: &mut DbConnection, by: &Actor, owner_id: &str) -> diesel::QueryResult<()> {
    stored::remove(conn, owner_id)?;
    audit_action(conn, by, "staff.second_factor_removed", None, owner_id)
}

/// A sealed secret and what it becomes under the current master key: (owner id, old, new).
pub type Rewrapped = (String, Vec<u8>, Vec<u8>);

/// Every sealed TOTP secret under an older master key, re-wrapped under the current one.
pub fn rewrapped(conn: &mut DbConnection, keyring: &Keyring) -> Result<Vec<Rewrapped>, ServiceError> {
    let mut out = Vec::new();
    for (owner_id, sealed) in stored::sealed(conn)? {
        if let Some(new) = keyring.masters().rewrap(Wrapped::Secret, &sealed, &aad(&owner_id))? {
            out.push((owner_id, sealed, new));
        }
    }
    Ok(out)
}
