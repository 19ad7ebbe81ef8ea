//! A submission's values: sealed under the subject's key, each bound to its own new row id, and
//! told apart from what is already held (a change typed by someone who only knows the address
//! waits for the person's confirmation).

use super::ServiceError;
use crate::crypto::{Bound, DataKey};
use crate::db::{DbConnection, subjects};
use crate::domain::AcceptedSubmission;

/// (field key, value) of everything held about a returning person, decrypted.
pub(super) fn held_values(
    conn: &mut DbConnection,
    key: &DataKey,
    subject_id: &str,
) -> Result<Vec<(String, String)>, ServiceError> {
    subjects::values_of(conn, subject_id)?
        .into_iter()
        .map(|v| {
            let bound = Bound::Value { subject: subject_id, value_id: &v.id, field: &v.field_key };
            Ok((v.field_key.clone(), key.open_text(&v.ciphertext, bound)?))
        })
        .collect()
}

/// A value for a field that is held, but with none of the held values: a change.
pub(super) fn changes_held(held: &[(String, String)], field: &str, value: &str) -> bool {
    let mut same_field = held.iter().filter(|(f, _)| f == field).peekable();
    same_field.peek().is_some() && !same_field.any(|(_, v)| v == value)
}

/// Each accepted value sealed under the subject's key, bound to its own new row id.
pub(super) fn seal_values(
    key: &DataKey,
    subject_id: &str,
    accepted: &AcceptedSubmission,
) -> Result<Vec<(String, String, Vec<u8>)>, ServiceError> {
    accepted
        .values
        .iter()
        .map(|v| {
            let id = crate::db::new_row_id();
            let purposes = v.purposes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" ");
            let bound = Bound::Value { subject: subject_id, value_id: &id, field: v.key.as_str() };
            let ciphertext = key.seal(v.value.as_bytes(), bound)?;
            Ok((id, purposes, ciphertext))
        })
        .collect()
}
