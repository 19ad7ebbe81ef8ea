//! Values waiting for the person's confirmation by mail (see migration 10): a public form typed
//! for an address on record would have changed a value it holds.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{field_values, pending_values};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_values)]
pub struct PendingValue {
    pub id: String,
    pub submission_id: String,
    pub subject_id: String,
    pub field_key: String,
    pub purposes: String,
    pub ciphertext: Vec<u8>,
    pub created_at: NaiveDateTime,
    /// When it is dropped unconfirmed.
    pub expires_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = field_values)]
struct Promoted<'a> {
    id: &'a str,
    submission_id: &'a str,
    subject_id: &'a str,
    field_key: &'a str,
    purposes: &'a str,
    ciphertext: &'a [u8],
    created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, rows: &[PendingValue]) -> QueryResult<()> {
    crate::insert_rows!(conn, pending_values::table, rows)
}

/// Confirmed: every unexpired pending value of the subject that `needed` keeps (it serves a
/// consent in force) replaces the values it holds for the same fields, keeping its row id, which
/// its ciphertext is bound to; the others go. Returns the field keys replaced.
pub fn promote(
    conn: &mut DbConnection,
    subject_id: &str,
    now: NaiveDateTime,
    needed: impl Fn(&str) -> bool,
) -> QueryResult<Vec<String>> {
    let waiting: Vec<PendingValue> = pending_values::table
        .filter(pending_values::subject_id.eq(subject_id))
        .filter(pending_values::expires_at.gt(now))
        .order(pending_values::created_at.asc())
        .select(PendingValue::as_select())
        .load(conn)?;
    let waiting: Vec<PendingValue> = waiting.into_iter().filter(|v| needed(&v.purposes)).collect();
    let mut fields: Vec<String> = waiting.iter().map(|v| v.field_key.clone()).collect();
    fields.sort();
    fields.dedup();
    if !fields.is_empty() {
        diesel::delete(
            field_values::table
                .filter(field_values::subject_id.eq(subject_id))
                .filter(field_values::field_key.eq_any(&fields)),
        )
        .execute(conn)?;
        let rows: Vec<Promoted<'_>> = waiting
            .iter()
            .map(|v| Promoted {
                id: &v.id,
                submission_id: &v.submission_id,
                subject_id: &v.subject_id,
                field_key: &v.field_key,
                purposes: &v.purposes,
                ciphertext: &v.ciphertext,
                created_at: v.created_at,
            })
            .collect();
        crate::insert_rows!(conn, field_values::table, &rows)?;
    }
    diesel::delete(pending_values::table.filter(pending_values::subject_id.eq(subject_id))).execute(conn)?;
    Ok(fields)
}

/// (id, subject, purposes) of the values waiting for these people.
pub fn purposes_of(
    conn: &mut DbConnection,
    subject_ids: &[impl AsRef<str>],
) -> QueryResult<Vec<(String, String, String)>> {
    let subject_ids: Vec<&str> = subject_ids.iter().map(AsRef::as_ref).collect();
    pending_values::table
        .filter(pending_values::subject_id.eq_any(subject_ids))
        .select((pending_values::id, pending_values::subject_id, pending_values::purposes))
        .load(conn)
}

pub fn delete(conn: &mut DbConnection, ids: &[String]) -> QueryResult<usize> {
    diesel::delete(pending_values::table.filter(pending_values::id.eq_any(ids))).execute(conn)
}

/// Drops the values whose confirmation lapsed; returns how many.
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(pending_values::table.filter(pending_values::expires_at.le(now))).execute(conn)
}
