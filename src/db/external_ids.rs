//! External ids as stored (migration 20): an integrator's own id for a person (its CRM customer
//! id), found by a blind index and kept sealed under the person's data key. One per person, and
//! one person per id; removed with the person (`subjects::shred_many`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::external_ids;

/// Attaches (or replaces) `subject_id`'s external id.
pub fn set(
    conn: &mut DbConnection,
    subject_id: &str,
    index: &[u8],
    ciphertext: &[u8],
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(external_ids::table.find(subject_id)).execute(conn)?;
    diesel::insert_into(external_ids::table)
        .values((
            external_ids::subject_id.eq(subject_id),
            external_ids::external_index.eq(index),
            external_ids::ciphertext.eq(ciphertext),
            external_ids::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The person this blind index names, if any.
pub fn subject_of(conn: &mut DbConnection, index: &[u8]) -> QueryResult<Option<String>> {
    external_ids::table
        .filter(external_ids::external_index.eq(index))
        .select(external_ids::subject_id)
        .first(conn)
        .optional()
}

/// (subject id, sealed external id) of those of `ids` that have one.
pub fn sealed_of(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<Vec<(String, Vec<u8>)>> {
    external_ids::table
        .filter(external_ids::subject_id.eq_any(ids))
        .select((external_ids::subject_id, external_ids::ciphertext))
        .load(conn)
}

/// Removes the external ids of these people.
pub fn delete_many(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<usize> {
    diesel::delete(external_ids::table.filter(external_ids::subject_id.eq_any(ids))).execute(conn)
}

/// (blind index, subject id) of every external id among these blind indexes.
pub fn subjects_of(conn: &mut DbConnection, indexes: &[&[u8]]) -> QueryResult<Vec<(Vec<u8>, String)>> {
    external_ids::table
        .filter(external_ids::external_index.eq_any(indexes))
        .select((external_ids::external_index, external_ids::subject_id))
        .load(conn)
}
