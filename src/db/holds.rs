//! Data held under a statutory retention obligation (migration 30): values moved out of
//! `field_values` when their consent ended, and the copy of each holder's data key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{field_values, held_values, hold_keys, subjects};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = held_values)]
pub struct HeldValue {
    pub id: String,
    pub subject_id: String,
    pub field_key: String,
    pub purpose_key: String,
    pub law: String,
    pub ciphertext: Vec<u8>,
    pub recorded_at: NaiveDateTime,
    pub held_since: NaiveDateTime,
    pub held_until: NaiveDateTime,
}

/// A stored value about to go: (id, subject, field, purposes, ciphertext, recorded at).
pub type Leaving = (String, String, String, String, Vec<u8>, NaiveDateTime);

/// These values, as they are stored.
pub fn leaving(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<Vec<Leaving>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(1000) {
        rows.extend(
            field_values::table
                .filter(field_values::id.eq_any(chunk))
                .select((
                    field_values::id,
                    field_values::subject_id,
                    field_values::field_key,
                    field_values::purposes,
                    field_values::ciphertext,
                    field_values::created_at,
                ))
                .load::<Leaving>(conn)?,
        );
    }
    Ok(rows)
}

/// Holds these values, and keeps a copy of each holder's data key and blind index (once).
pub fn hold(conn: &mut DbConnection, rows: &[HeldValue]) -> QueryResult<()> {
    let mut holders: Vec<&str> = rows.iter().map(|r| r.subject_id.as_str()).collect();
    holders.sort_unstable();
    holders.dedup();
    let known: Vec<String> =
        hold_keys::table.filter(hold_keys::subject_id.eq_any(&holders)).select(hold_keys::subject_id).load(conn)?;
    let new: Vec<&str> = holders.into_iter().filter(|h| !known.iter().any(|k| k == h)).collect();
    let keys: Vec<(String, Option<Vec<u8>>, Vec<u8>)> = subjects::table
        .filter(subjects::id.eq_any(&new))
        .select((subjects::id, subjects::wrapped_key, subjects::email_index))
        .load(conn)?;
    for (subject_id, wrapped, index) in keys {
        let Some(wrapped) = wrapped else { continue };
        diesel::insert_into(hold_keys::table)
            .values((
                hold_keys::subject_id.eq(subject_id),
                hold_keys::wrapped_key.eq(wrapped),
                hold_keys::email_index.eq(index),
            ))
            .execute(conn)?;
    }
    crate::insert_rows!(conn, held_values::table, rows)
}

/// Everything held about a person, soonest to go first.
pub fn of_subject(conn: &mut DbConnection, subject_id: &str) -> QueryResult<Vec<HeldValue>> {
    held_values::table
        .filter(held_values::subject_id.eq(subject_id))
        .order((held_values::held_until.asc(), held_values::id.asc()))
        .select(HeldValue::as_select())
        .load(conn)
}

/// (purpose, until) of everything held about these people, with whose it is.
pub fn purposes_of(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<Vec<(String, String, NaiveDateTime)>> {
    held_values::table
        .filter(held_values::subject_id.eq_any(ids))
        .select((held_values::subject_id, held_values::purpose_key, held_values::held_until))
        .load(conn)
}

/// The person an (erased or live) address's blind index names among the holders.
pub fn holder_by_index(conn: &mut DbConnection, index: &[u8]) -> QueryResult<Option<String>> {
    hold_keys::table.filter(hold_keys::email_index.eq(index)).select(hold_keys::subject_id).first(conn).optional()
}

/// A holder's copy of their wrapped data key.
pub fn key_of(conn: &mut DbConnection, subject_id: &str) -> QueryResult<Option<Vec<u8>>> {
    hold_keys::table.find(subject_id).select(hold_keys::wrapped_key).first(conn).optional()
}

/// Destroys what was held until `now` or before, and the key copies no longer needed; returns
/// (values destroyed, the people they were about).
pub fn release(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<(usize, Vec<String>)> {
    let mut people: Vec<String> = held_values::table
        .filter(held_values::held_until.le(now))
        .select(held_values::subject_id)
        .distinct()
        .load(conn)?;
    let values = diesel::delete(held_values::table.filter(held_values::held_until.le(now))).execute(conn)?;
    let still: Vec<String> = held_values::table
        .filter(held_values::subject_id.eq_any(&people))
        .select(held_values::subject_id)
        .load(conn)?;
    let done: Vec<&String> = people.iter().filter(|p| !still.contains(p)).collect();
    diesel::delete(hold_keys::table.filter(hold_keys::subject_id.eq_any(done))).execute(conn)?;
    people.sort_unstable();
    Ok((values, people))
}

/// Up to `limit` key copies with subject ids after `after` (for master-key rotation).
pub fn keys_after(conn: &mut DbConnection, after: &str, limit: i64) -> QueryResult<Vec<(String, Vec<u8>)>> {
    hold_keys::table
        .filter(hold_keys::subject_id.gt(after))
        .order(hold_keys::subject_id.asc())
        .limit(limit)
        .select((hold_keys::subject_id, hold_keys::wrapped_key))
        .load(conn)
}

/// Re-wraps one key copy if it still holds `old` (compare-and-swap).
pub fn swap_key(conn: &mut DbConnection, subject_id: &str, old: &[u8], new: &[u8]) -> QueryResult<usize> {
    diesel::update(hold_keys::table.filter(hold_keys::subject_id.eq(subject_id)).filter(hold_keys::wrapped_key.eq(old)))
        .set(hold_keys::wrapped_key.eq(new))
        .execute(conn)
}

/// The first `limit` held values, soonest to go first (for the privacy officer's list).
pub fn soonest(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<HeldValue>> {
    held_values::table
        .order((held_values::held_until.asc(), held_values::id.asc()))
        .limit(limit)
        .select(HeldValue::as_select())
        .load(conn)
}
