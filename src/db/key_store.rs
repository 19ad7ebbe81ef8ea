//! The stored keys (`key_secrets`, `signing_keys`) and the pages of wrapped material a master key
//! rotation walks. Every rewrite is compare-and-swap on the old bytes, so a row changed meanwhile
//! (a subject erased, a mail sent) is left as it now is.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use super::DbConnection;
use super::schema::{key_secrets, outbox_messages, signing_keys, subjects};

/// A signing key row (the purpose as stored).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub key_id: String,
    pub purpose: String,
    pub public_key: String,
    pub wrapped_seed: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

/// Every stored secret, by name.
pub fn secrets(conn: &mut DbConnection) -> QueryResult<Vec<(String, Vec<u8>)>> {
    key_secrets::table.select((key_secrets::name, key_secrets::wrapped)).order(key_secrets::name).load(conn)
}

/// Stores a secret unless one of that name exists (another process may have just stored it).
pub fn insert_secret(conn: &mut DbConnection, name: &str, wrapped: &[u8], now: NaiveDateTime) -> QueryResult<bool> {
    let row = (key_secrets::name.eq(name), key_secrets::wrapped.eq(wrapped), key_secrets::created_at.eq(now));
    ignore_duplicate(diesel::insert_into(key_secrets::table).values(row).execute(conn))
}

pub fn swap_secret(conn: &mut DbConnection, name: &str, old: &[u8], new: &[u8]) -> QueryResult<usize> {
    diesel::update(key_secrets::table.filter(key_secrets::name.eq(name)).filter(key_secrets::wrapped.eq(old)))
        .set(key_secrets::wrapped.eq(new))
        .execute(conn)
}

/// Every signing key, newest first.
pub fn signing_keys(conn: &mut DbConnection) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table
        .select(SigningKeyRow::as_select())
        .order((signing_keys::created_at.desc(), signing_keys::key_id.desc()))
        .load(conn)
}

pub fn insert_signing_key(conn: &mut DbConnection, row: &SigningKeyRow) -> QueryResult<bool> {
    ignore_duplicate(diesel::insert_into(signing_keys::table).values(row).execute(conn))
}

/// Retires every key of `purpose` but `keep`.
pub fn retire_others(conn: &mut DbConnection, purpose: &str, keep: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        signing_keys::table
            .filter(signing_keys::purpose.eq(purpose))
            .filter(signing_keys::key_id.ne(keep))
            .filter(signing_keys::retired_at.is_null()),
    )
    .set(signing_keys::retired_at.eq(Some(now)))
    .execute(conn)
}

pub fn swap_seed(conn: &mut DbConnection, key_id: &str, old: &[u8], new: &[u8]) -> QueryResult<usize> {
    diesel::update(
        signing_keys::table.filter(signing_keys::key_id.eq(key_id)).filter(signing_keys::wrapped_seed.eq(old)),
    )
    .set(signing_keys::wrapped_seed.eq(new))
    .execute(conn)
}

/// Up to `limit` subjects after `after` (by id) that still have a data key, with it.
pub fn wrapped_keys_after(conn: &mut DbConnection, after: &str, limit: i64) -> QueryResult<Vec<(String, Vec<u8>)>> {
    let rows: Vec<(String, Option<Vec<u8>>)> = subjects::table
        .filter(subjects::id.gt(after))
        .filter(subjects::wrapped_key.is_not_null())
        .order(subjects::id.asc())
        .limit(limit)
        .select((subjects::id, subjects::wrapped_key))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, k)| Some((id, k?))).collect())
}

pub fn swap_wrapped_key(conn: &mut DbConnection, id: &str, old: &[u8], new: &[u8]) -> QueryResult<usize> {
    diesel::update(subjects::table.filter(subjects::id.eq(id)).filter(subjects::wrapped_key.eq(old)))
        .set(subjects::wrapped_key.eq(Some(new)))
        .execute(conn)
}

/// Up to `limit` queued messages after `after` (by outbox id).
pub fn messages_after(conn: &mut DbConnection, after: &str, limit: i64) -> QueryResult<Vec<(String, Vec<u8>)>> {
    outbox_messages::table
        .filter(outbox_messages::outbox_id.gt(after))
        .order(outbox_messages::outbox_id.asc())
        .limit(limit)
        .select((outbox_messages::outbox_id, outbox_messages::message))
        .load(conn)
}

pub fn swap_message(conn: &mut DbConnection, id: &str, old: &[u8], new: &[u8]) -> QueryResult<usize> {
    diesel::update(
        outbox_messages::table.filter(outbox_messages::outbox_id.eq(id)).filter(outbox_messages::message.eq(old)),
    )
    .set(outbox_messages::message.eq(new))
    .execute(conn)
}

fn ignore_duplicate(result: QueryResult<usize>) -> QueryResult<bool> {
    match result {
        Ok(n) => Ok(n > 0),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}
