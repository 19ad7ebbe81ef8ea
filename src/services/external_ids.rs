//! External ids (issue 16): an integrator's own id for a person (its CRM customer id), so that
//! the consent check, the subject API and the event feed speak the CRM's language. Attached with
//! `PUT /api/v1/subjects/{id}/external-id`; found through a blind index (an HMAC under the same
//! stable key as the address's, domain-separated); kept sealed under the person's data key, so
//! erasure destroys it with everything else.

use std::collections::HashMap;

use chrono::Utc;

use super::ServiceError;
use super::audit::{self, Actor, By, Done};
use super::rights::RightsError;
use super::subject::live_subject;
use crate::crypto::{Bound, Keyring};
use crate::db::{DbConnection, WriteTx, external_ids as stored, subjects};
use crate::domain::ledger::ledger_time;
use crate::domain::rights::RightKind;
use crate::domain::{Method, SubjectId};

pub use crate::domain::ids::{MAX_EXTERNAL_ID_CHARS as MAX_CHARS, check_external_id as check};

/// Attaches `external_id` to the person (replacing the one they had); audited. Refused when
/// another person has it.
pub fn set(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    subject_id: &SubjectId,
    external_id: &str,
    actor: &Actor,
    method: Method,
) -> Result<(), RightsError> {
    let live = live_subject(tx.conn, keyring, subject_id)?;
    let index = keyring.external_index(external_id);
    if stored::subject_of(tx.conn, &index)?.is_some_and(|other| other != subject_id.as_str()) {
        return Err(RightsError::ExternalIdTaken);
    }
    let sealed = live.key.seal(external_id.as_bytes(), Bound::External { subject: subject_id })?;
    let now = ledger_time(Utc::now().naive_utc());
    stored::set(tx.conn, subject_id, &index, &sealed, now).map_err(taken_or)?;
    let done = Done { by: By::new(actor, method), kind: RightKind::Rectification, detail: "external_id", at: now };
    Ok(audit::record(tx, std::slice::from_ref(subject_id), &done)?)
}

/// Removes the person's external id (nothing to remove is not an error); audited.
pub fn remove(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    subject_id: &SubjectId,
    actor: &Actor,
    method: Method,
) -> Result<(), RightsError> {
    live_subject(tx.conn, keyring, subject_id)?;
    stored::delete_many(tx.conn, &[subject_id.as_str()])?;
    let done = Done {
        by: By::new(actor, method),
        kind: RightKind::Rectification,
        detail: "external_id",
        at: Utc::now().naive_utc(),
    };
    Ok(audit::record(tx, std::slice::from_ref(subject_id), &done)?)
}

/// Another process attached the same id between the check and the insert.
fn taken_or(e: diesel::result::Error) -> RightsError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => RightsError::ExternalIdTaken,
        other => other.into(),
    }
}

/// The person an external id names, if any (an erased person's is gone).
pub fn subject_of(
    conn: &mut DbConnection,
    keyring: &Keyring,
    external_id: &str,
) -> diesel::QueryResult<Option<String>> {
    stored::subject_of(conn, &keyring.external_index(external_id))
}

/// The external ids of those of `ids` that have one, opened.
pub fn of(conn: &mut DbConnection, keyring: &Keyring, ids: &[&str]) -> Result<HashMap<String, String>, ServiceError> {
    let sealed = stored::sealed_of(conn, ids)?;
    if sealed.is_empty() {
        return Ok(HashMap::new());
    }
    let holders: Vec<&str> = sealed.iter().map(|(id, _)| id.as_str()).collect();
    let keys: HashMap<String, Vec<u8>> = subjects::wrapped_keys(conn, &holders)?.into_iter().collect();
    let mut opened = HashMap::with_capacity(sealed.len());
    for (id, ciphertext) in sealed {
        let Some(wrapped) = keys.get(&id) else { continue };
        let key = keyring.unwrap_data_key(wrapped, &id)?;
        let text = key.open_text(&ciphertext, Bound::External { subject: &id })?;
        opened.insert(id, text);
    }
    Ok(opened)
}
