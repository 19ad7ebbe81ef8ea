//! The mail outbox: rows written in the same transaction as the change that causes them,
//! delivered later by a job that leases them, with retries and back-off.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{outbox, outbox_messages};

/// A mail to queue: its outbox row and its sealed message.
#[derive(Debug)]
pub struct NewMail<'a> {
    pub row: NewOutboxRow<'a>,
    pub message: &'a [u8],
}

/// A queued mail's row. A missing subject is bound as NULL (the column has no other default), so
/// that on SQLite a batch's rows go in one statement, not one each inside a savepoint.
#[derive(Debug, Clone, Copy, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct NewOutboxRow<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub dedupe_key: &'a str,
    pub subject_id: Option<&'a str>,
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = outbox_messages)]
struct NewMessage<'a> {
    outbox_id: &'a str,
    message: &'a [u8],
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct LeasedRow {
    id: String,
    kind: String,
    attempts: i64,
    subject_id: Option<String>,
}

/// A leased mail with its sealed message (`None` if the message is gone).
#[derive(Debug, Clone)]
pub struct LeasedMail {
    pub id: String,
    pub kind: String,
    pub message: Option<Vec<u8>>,
    pub attempts: i64,
    /// Whose mail it is (the file mailer names its files by it).
    pub subject_id: Option<String>,
}

/// Queues a mail unless one with the same `dedupe_key` exists; says whether it was queued.
pub fn enqueue(conn: &mut DbConnection, mail: &NewMail<'_>) -> QueryResult<bool> {
    if exists(conn, mail.row.dedupe_key)? {
        return Ok(false);
    }
    insert_new(conn, std::slice::from_ref(mail))?;
    Ok(true)
}

/// Queues mails whose dedupe keys are known to be new (e.g. they name a subject created in the
/// same transaction).
pub fn insert_new(conn: &mut DbConnection, mails: &[NewMail<'_>]) -> QueryResult<()> {
    let rows: Vec<NewOutboxRow<'_>> = mails.iter().map(|m| m.row).collect();
    crate::insert_rows!(conn, outbox::table, &rows)?;
    let messages: Vec<NewMessage<'_>> =
        mails.iter().map(|m| NewMessage { outbox_id: m.row.id, message: m.message }).collect();
    crate::insert_rows!(conn, outbox_messages::table, &messages)
}

pub fn exists(conn: &mut DbConnection, dedupe_key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(outbox::table.filter(outbox::dedupe_key.eq(dedupe_key)))).get_result(conn)
}

/// Unsent, due by `now`, and not leased (or its lease ran out).
#[diesel::dsl::auto_type]
fn due_at(now: NaiveDateTime) -> _ {
    outbox::sent_at
        .is_null()
        .and(outbox::next_attempt_at.le(now))
        .and(outbox::lease_until.is_null().or(outbox::lease_until.lt(now)))
}

/// Whether any mail is due and not leased: a read, so that an idle delivery loop costs the writer
/// nothing (its empty lease would be a commit all the same, and every commit invalidates the
/// consent cache on PostgreSQL).
pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(outbox::table.filter(due_at(now)))).get_result(conn)
}

/// Leases up to `limit` due mails to `owner` until `until`; returns them.
pub fn lease_due(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<LeasedMail>> {
    let due: Vec<String> = outbox::table
        .filter(due_at(now))
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // The lease conditions are repeated so that another process's lease taken meanwhile wins.
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(&due))
            .filter(outbox::sent_at.is_null())
            .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(now))),
    )
    .set((outbox::lease_until.eq(until), outbox::lease_owner.eq(owner)))
    .execute(conn)?;
    let leased: Vec<LeasedRow> = outbox::table
        .filter(outbox::id.eq_any(&due))
        .filter(outbox::lease_owner.eq(owner))
        .filter(outbox::lease_until.eq(until))
        .select(LeasedRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = leased.iter().map(|m| m.id.as_str()).collect();
    let mut messages: std::collections::HashMap<String, Vec<u8>> = outbox_messages::table
        .filter(outbox_messages::outbox_id.eq_any(&ids))
        .select((outbox_messages::outbox_id, outbox_messages::message))
        .load::<(String, Vec<u8>)>(conn)?
        .into_iter()
        .collect();
    Ok(leased
        .into_iter()
        .map(|m| LeasedMail {
            message: messages.remove(&m.id),
            id: m.id,
            kind: m.kind,
            attempts: m.attempts,
            subject_id: m.subject_id,
        })
        .collect())
}

/// Delivered: the messages (personal data) are dropped, the fact is kept. Two statements for the
/// whole batch, whatever its size.
pub fn mark_sent(conn: &mut DbConnection, ids: &[&str], at: NaiveDateTime) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::delete(outbox_messages::table.filter(outbox_messages::outbox_id.eq_any(ids))).execute(conn)?;
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set((
            outbox::sent_at.eq(Some(at)),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::lease_owner.eq(None::<String>),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_failed(conn: &mut DbConnection, id: &str, next: NaiveDateTime, error: &str) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::next_attempt_at.eq(next),
            outbox::last_error.eq(Some(error)),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::lease_owner.eq(None::<String>),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Mails not yet sent (the backlog).
pub fn backlog(conn: &mut DbConnection) -> QueryResult<i64> {
    outbox::table.filter(outbox::sent_at.is_null()).count().get_result(conn)
}

/// Drops unsent mail to these subjects (on erasure, before any confirmation is queued).
pub fn drop_unsent_for_many(conn: &mut DbConnection, subject_ids: &[impl AsRef<str>]) -> QueryResult<()> {
    let subject_ids: Vec<&str> = subject_ids.iter().map(AsRef::as_ref).collect();
    diesel::delete(outbox::table.filter(outbox::subject_id.eq_any(subject_ids)).filter(outbox::sent_at.is_null()))
        .execute(conn)
        .map(|_| ())
}

/// Mails given up after `max_attempts` (parked), and mails due since before `late` still unsent.
pub fn stuck(conn: &mut DbConnection, max_attempts: i64, late: NaiveDateTime) -> QueryResult<(i64, i64)> {
    let unsent = outbox::table.filter(outbox::sent_at.is_null());
    let parked = unsent.filter(outbox::attempts.ge(max_attempts)).count().get_result(conn)?;
    let backlog = unsent
        .filter(outbox::attempts.lt(max_attempts))
        .filter(outbox::next_attempt_at.lt(late))
        .count()
        .get_result(conn)?;
    Ok((parked, backlog))
}
