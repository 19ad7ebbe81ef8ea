//! Subjects (the people whose data is held), their submissions and their encrypted field values.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{field_values, subjects, submissions};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subjects)]
pub struct Subject {
    pub id: String,
    pub email_index: Vec<u8>,
    pub wrapped_key: Option<Vec<u8>>,
    pub email_ciphertext: Option<Vec<u8>>,
    pub locale: String,
    pub created_at: NaiveDateTime,
    pub erased_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = subjects, treat_none_as_default_value = false)]
pub struct NewSubject<'a> {
    pub id: &'a str,
    pub email_index: &'a [u8],
    pub wrapped_key: Option<&'a [u8]>,
    pub email_ciphertext: Option<&'a [u8]>,
    pub locale: &'a str,
    pub created_at: super::stamp::Stamp,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = submissions)]
pub struct NewSubmission<'a> {
    pub id: &'a str,
    pub subject_id: &'a str,
    pub form_version_id: &'a str,
    pub locale: &'a str,
    pub created_at: super::stamp::Stamp,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = field_values)]
pub struct NewFieldValue<'a> {
    pub id: &'a str,
    pub submission_id: &'a str,
    pub subject_id: &'a str,
    pub field_key: &'a str,
    pub purposes: &'a str,
    pub ciphertext: &'a [u8],
    pub created_at: super::stamp::Stamp,
}

pub fn find_by_index(conn: &mut DbConnection, index: &[u8]) -> QueryResult<Option<Subject>> {
    subjects::table.filter(subjects::email_index.eq(index)).select(Subject::as_select()).first(conn).optional()
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Subject>> {
    subjects::table.find(id).select(Subject::as_select()).first(conn).optional()
}

/// The subjects holding any of these blind indexes.
pub fn find_by_indexes(conn: &mut DbConnection, indexes: &[&[u8]]) -> QueryResult<Vec<Subject>> {
    subjects::table.filter(subjects::email_index.eq_any(indexes)).select(Subject::as_select()).load(conn)
}

pub fn insert_many(conn: &mut DbConnection, rows: &[NewSubject<'_>]) -> QueryResult<()> {
    crate::insert_rows!(conn, subjects::table, rows)
}

pub fn insert_submissions(conn: &mut DbConnection, rows: &[NewSubmission<'_>]) -> QueryResult<()> {
    crate::insert_rows!(conn, submissions::table, rows)
}

pub fn insert_values(conn: &mut DbConnection, values: &[NewFieldValue<'_>]) -> QueryResult<()> {
    crate::insert_rows!(conn, field_values::table, values)
}

/// A stored value with where it came from.
#[derive(Debug, Clone, Queryable)]
pub struct StoredValue {
    pub id: String,
    pub field_key: String,
    pub purposes: String,
    pub ciphertext: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub submission_id: String,
    pub form_version_id: String,
}

/// Every value held about a subject, oldest first.
///
/// Two index lookups rather than a join: on a table that grew fast since PostgreSQL last
/// analysed it, the planner would otherwise hash-join the whole `submissions` table.
pub fn values_of(conn: &mut DbConnection, subject_id: &str) -> QueryResult<Vec<StoredValue>> {
    let rows: Vec<(String, String, String, Vec<u8>, NaiveDateTime, String)> = field_values::table
        .filter(field_values::subject_id.eq(subject_id))
        .order((field_values::created_at.asc(), field_values::id.asc()))
        .select((
            field_values::id,
            field_values::field_key,
            field_values::purposes,
            field_values::ciphertext,
            field_values::created_at,
            field_values::submission_id,
        ))
        .load(conn)?;
    let submission_ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.5.as_str()).collect();
    let versions: std::collections::HashMap<String, String> = submissions::table
        .filter(submissions::id.eq_any(submission_ids))
        .select((submissions::id, submissions::form_version_id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|(id, field_key, purposes, ciphertext, created_at, submission_id)| {
            let form_version_id = versions.get(&submission_id)?.clone();
            Some(StoredValue { id, field_key, purposes, ciphertext, created_at, submission_id, form_version_id })
        })
        .collect())
}

pub fn delete_values(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(field_values::table.filter(field_values::id.eq_any(ids))).execute(conn)
}

/// A rectified value: new ciphertext under a new row id (the ciphertext is bound to its id).
pub fn replace_value(conn: &mut DbConnection, id: &str, new_id: &str, ciphertext: &[u8]) -> QueryResult<()> {
    diesel::update(field_values::table.find(id))
        .set((field_values::id.eq(new_id), field_values::ciphertext.eq(ciphertext)))
        .execute(conn)
        .map(|_| ())
}

pub fn replace_identity(
    conn: &mut DbConnection,
    id: &str,
    email_index: &[u8],
    email_ciphertext: &[u8],
) -> QueryResult<()> {
    diesel::update(subjects::table.find(id))
        .set((subjects::email_index.eq(email_index), subjects::email_ciphertext.eq(Some(email_ciphertext))))
        .execute(conn)
        .map(|_| ())
}

/// (id, wrapped data key) of those of `ids` not erased.
pub fn wrapped_keys(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<Vec<(String, Vec<u8>)>> {
    let rows: Vec<(String, Option<Vec<u8>>)> = subjects::table
        .filter(subjects::id.eq_any(ids))
        .filter(subjects::wrapped_key.is_not_null())
        .select((subjects::id, subjects::wrapped_key))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, key)| Some((id, key?))).collect())
}

/// Crypto-shredding: the data key, the encrypted address and every value go; each blind index
/// is replaced by its erased form ([`erased_index`]) so the address no longer finds the row.
/// What remains names no one.
pub fn shred_many(conn: &mut DbConnection, ids: &[impl AsRef<str>], at: NaiveDateTime) -> QueryResult<()> {
    use super::schema::pending_values;
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    diesel::delete(field_values::table.filter(field_values::subject_id.eq_any(ids.clone()))).execute(conn)?;
    diesel::delete(pending_values::table.filter(pending_values::subject_id.eq_any(ids.clone()))).execute(conn)?;
    diesel::delete(submissions::table.filter(submissions::subject_id.eq_any(ids.clone()))).execute(conn)?;
    super::external_ids::delete_many(conn, &ids)?;
    diesel::delete(
        super::schema::email_changes::table.filter(super::schema::email_changes::subject_id.eq_any(ids.clone())),
    )
    .execute(conn)?;
    // One statement for them all: each row's new blind index is computed from its own id.
    let index = diesel::dsl::sql::<diesel::sql_types::Binary>(match conn {
        DbConnection::Sqlite(_) => "CAST(X'006572617365643A' || id AS BLOB)",
        DbConnection::Postgres(_) => "'\\x006572617365643a'::bytea || convert_to(id, 'UTF8')",
    });
    diesel::update(subjects::table.filter(subjects::id.eq_any(ids)))
        .set((
            subjects::wrapped_key.eq(None::<Vec<u8>>),
            subjects::email_ciphertext.eq(None::<Vec<u8>>),
            subjects::email_index.eq(index),
            subjects::erased_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// An erased person's blind index (what `shred_many` writes, computed in SQL): `\0erased:`
/// followed by the row's id. Unique (it holds the id), never an HMAC output (those are 32
/// bytes, this is longer), and sorted next to the other erased ones, so erasing in bulk writes
/// one corner of the unique index instead of random pages all over it.
pub fn erased_index(id: &str) -> Vec<u8> {
    [b"\0erased:".as_slice(), id.as_bytes()].concat()
}

/// Those of `ids` whose data still exists (not yet erased).
pub fn live_among(conn: &mut DbConnection, ids: &[impl AsRef<str>]) -> QueryResult<Vec<String>> {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    subjects::table
        .filter(subjects::id.eq_any(ids))
        .filter(subjects::wrapped_key.is_not_null())
        .select(subjects::id)
        .load(conn)
}

/// (value id, subject id, field key, purposes) of every value held about these subjects.
pub fn value_purposes_of(
    conn: &mut DbConnection,
    ids: &[impl AsRef<str>],
) -> QueryResult<Vec<(String, String, String, String)>> {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    field_values::table
        .filter(field_values::subject_id.eq_any(ids))
        .order((field_values::created_at.asc(), field_values::id.asc()))
        .select((field_values::id, field_values::subject_id, field_values::field_key, field_values::purposes))
        .load(conn)
}

/// How many values these people hold (without reading them).
pub fn count_values_of(conn: &mut DbConnection, ids: &[impl AsRef<str>]) -> QueryResult<usize> {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    let n: i64 = field_values::table.filter(field_values::subject_id.eq_any(ids)).count().get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The form-version definitions (JSON) by id.
pub fn form_definitions(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, String, i64, String)>> {
    use super::schema::form_versions;
    form_versions::table
        .filter(form_versions::id.eq_any(ids))
        .select((form_versions::id, form_versions::form_key, form_versions::version, form_versions::definition))
        .load(conn)
}

/// (id, when) of every person erased: what the erasure journal must hold.
pub fn erased_all(conn: &mut DbConnection) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = subjects::table
        .filter(subjects::erased_at.is_not_null())
        .select((subjects::id, subjects::erased_at))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, at)| Some((id, at?))).collect())
}

/// A live subject as a listing reads it: (id, wrapped key, created at).
pub type LiveSubject = (String, Option<Vec<u8>>, NaiveDateTime);

/// Up to `limit` live subjects with ids after `after`, in id order.
pub fn live_after(conn: &mut DbConnection, after: &str, limit: i64) -> QueryResult<Vec<LiveSubject>> {
    subjects::table
        .filter(subjects::id.gt(after))
        .filter(subjects::wrapped_key.is_not_null())
        .order(subjects::id.asc())
        .limit(limit)
        .select((subjects::id, subjects::wrapped_key, subjects::created_at))
        .load(conn)
}

/// A sealed value as a listing reads it: (value id, subject id, field key, ciphertext).
pub type SealedValue = (String, String, String, Vec<u8>);

/// These subjects' values of these fields, oldest first.
/// The ids of every value held about these people.
pub fn value_ids_of(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<Vec<String>> {
    field_values::table.filter(field_values::subject_id.eq_any(ids)).select(field_values::id).load(conn)
}

pub fn values_of_fields(conn: &mut DbConnection, ids: &[&str], fields: &[&str]) -> QueryResult<Vec<SealedValue>> {
    field_values::table
        .filter(field_values::subject_id.eq_any(ids))
        .filter(field_values::field_key.eq_any(fields))
        .order((field_values::created_at.asc(), field_values::id.asc()))
        .select((field_values::id, field_values::subject_id, field_values::field_key, field_values::ciphertext))
        .load(conn)
}
