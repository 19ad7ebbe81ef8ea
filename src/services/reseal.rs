//! Re-sealing, once, the ciphertexts written before each was bound to what it is (see
//! `crypto::sealing`): addresses get their blind index in the associated data, field values
//! their row id. Idempotent and safe to interrupt: a ciphertext that already opens under its new
//! binding is left alone, and the marker row (migration 11) goes only when every page is done.
//! Evidence in the ledger cannot be re-sealed (it is hashed into the chain) and keeps opening
//! under its old binding.

use diesel::prelude::*;

use super::ServiceError;
use crate::crypto::{Bound, DataKey, Keyring};
use crate::db::DbConnection;
use crate::db::console::SubjectKeys;
use crate::db::schema::{field_values, reseal_pending, subjects};

/// People per transaction.
const PAGE: i64 = 500;

/// Re-seals what is left to re-seal; returns how many ciphertexts were re-sealed.
pub fn legacy_ciphertexts(conn: &mut DbConnection, keyring: &Keyring) -> Result<usize, ServiceError> {
    if reseal_pending::table.count().get_result::<i64>(conn)? == 0 {
        return Ok(0);
    }
    let mut resealed = 0;
    let mut after = String::new();
    loop {
        let page: Vec<SubjectKeys> = subjects::table
            .filter(subjects::id.gt(&after))
            .filter(subjects::wrapped_key.is_not_null())
            .order(subjects::id.asc())
            .limit(PAGE)
            .select((subjects::id, subjects::email_index, subjects::wrapped_key, subjects::email_ciphertext))
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.0.clone();
        resealed += conn.transaction(|conn| -> Result<usize, ServiceError> {
            let mut n = 0;
            for (id, index, wrapped, email) in &page {
                let key = keyring.unwrap_data_key(wrapped.as_deref().unwrap_or_default(), id)?;
                n += reseal_person(conn, &key, id, index, email.as_deref())?;
            }
            Ok(n)
        })?;
    }
    diesel::delete(reseal_pending::table).execute(conn)?;
    if resealed > 0 {
        tracing::info!(resealed, "re-sealed ciphertexts written before they were bound to their rows");
    }
    Ok(resealed)
}

fn reseal_person(
    conn: &mut DbConnection,
    key: &DataKey,
    id: &str,
    index: &[u8],
    email: Option<&[u8]>,
) -> Result<usize, ServiceError> {
    let mut n = 0;
    if let Some(sealed) = email {
        let bound = Bound::Email { subject: id, index };
        if let Some(plain) = legacy_plaintext(key, sealed, bound, id, "email") {
            let resealed = key.seal(&plain, bound)?;
            diesel::update(subjects::table.find(id))
                .set(subjects::email_ciphertext.eq(Some(resealed)))
                .execute(conn)?;
            n += 1;
        }
    }
    let values: Vec<(String, String, Vec<u8>)> = field_values::table
        .filter(field_values::subject_id.eq(id))
        .select((field_values::id, field_values::field_key, field_values::ciphertext))
        .load(conn)?;
    for (value_id, field, sealed) in values {
        let bound = Bound::Value { subject: id, value_id: &value_id, field: &field };
        if let Some(plain) = legacy_plaintext(key, &sealed, bound, id, &field) {
            let resealed = key.seal(&plain, bound)?;
            diesel::update(field_values::table.find(&value_id))
                .set(field_values::ciphertext.eq(resealed))
                .execute(conn)?;
            n += 1;
        }
    }
    Ok(n)
}

/// The plaintext of a ciphertext that does not open under its binding but does under the old
/// one; `None` when it is already bound (or opens under neither, which reading will report).
fn legacy_plaintext(key: &DataKey, sealed: &[u8], bound: Bound<'_>, subject: &str, field: &str) -> Option<Vec<u8>> {
    if key.open(sealed, bound).is_ok() {
        return None;
    }
    key.open(sealed, Bound::Legacy { subject, field }).ok()
}
