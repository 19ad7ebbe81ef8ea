//! Rights requests and the audit log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::schema::{audit_log, rights_requests};
use super::stamp::Stamp;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = rights_requests)]
pub struct RightsRequest {
    pub id: String,
    #[serde(skip)]
    pub subject_id: String,
    pub kind: String,
    pub channel: String,
    pub detail: String,
    /// UTC, without an offset (`2026-01-31T09:00:00.123`).
    #[schema(value_type = String)]
    pub received_at: NaiveDateTime,
    #[schema(value_type = String)]
    pub due_at: NaiveDateTime,
    #[schema(value_type = Option<String>)]
    pub completed_at: Option<NaiveDateTime>,
    /// `received`, `verified`, `in_progress`, `extended`, `completed` or `refused`.
    pub state: String,
    /// Done at once by the person (or a system for them), not worked by staff.
    pub self_service: bool,
    /// The deadline regime: `gdpr`, `pipa` or `ccpa`.
    pub regime: String,
    /// The staff account working it (`owners.id`).
    #[serde(skip)]
    pub assignee: Option<String>,
    /// What the requester wrote, sealed under the person's data key.
    #[serde(skip)]
    pub note: Option<Vec<u8>>,
    /// Why it was extended or refused, sealed under the person's data key.
    #[serde(skip)]
    pub reason: Option<Vec<u8>>,
    #[serde(skip)]
    pub updated_at: Option<NaiveDateTime>,
    #[serde(skip)]
    pub reminded_at: Option<NaiveDateTime>,
}

pub fn insert_requests(conn: &mut DbConnection, requests: &[RightsRequest]) -> QueryResult<()> {
    crate::insert_rows!(conn, rights_requests::table, requests)
}

pub fn request(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RightsRequest>> {
    rights_requests::table.find(id).select(RightsRequest::as_select()).first(conn).optional()
}

/// A step taken: the new state, deadline, answer time and reason, only if the request is still
/// in `from` (two people stepping at once cannot both win). Returns whether it was.
pub struct Stepped<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub due_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    pub reason: Option<&'a [u8]>,
    pub at: NaiveDateTime,
}

pub fn step(conn: &mut DbConnection, id: &str, s: &Stepped<'_>) -> QueryResult<bool> {
    let target = rights_requests::table.filter(rights_requests::id.eq(id)).filter(rights_requests::state.eq(s.from));
    let mut changed = diesel::update(target)
        .set((
            rights_requests::state.eq(s.to),
            rights_requests::due_at.eq(s.due_at),
            rights_requests::completed_at.eq(s.completed_at),
            rights_requests::updated_at.eq(Some(s.at)),
        ))
        .execute(conn)?;
    if changed == 1 && s.reason.is_some() {
        changed = diesel::update(rights_requests::table.find(id))
            .set(rights_requests::reason.eq(s.reason.map(<[u8]>::to_vec)))
            .execute(conn)?;
    }
    Ok(changed == 1)
}

pub fn assign(conn: &mut DbConnection, id: &str, assignee: Option<&str>, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(rights_requests::table.find(id))
        .set((
            rights_requests::assignee.eq(assignee),
            rights_requests::updated_at.eq(Some(at)),
            rights_requests::reminded_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Which requests the desk lists. Empty means all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeskFilter {
    /// Self-service actions (done at once) instead of requests that need work.
    pub self_service: bool,
    pub states: Vec<String>,
    pub kind: Option<String>,
    pub assignee: Option<String>,
    /// Due before this time (overdue: now; due soon: a few days ahead), still open.
    pub due_before: Option<NaiveDateTime>,
}

/// One page of requests, by deadline (soonest first) for work, newest first for self-service,
/// after `after` (the (time, id) of the last row shown).
pub fn desk_page(
    conn: &mut DbConnection,
    filter: &DeskFilter,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<RightsRequest>> {
    use rights_requests::dsl as r;
    let mut query = r::rights_requests
        .select(RightsRequest::as_select())
        .filter(r::self_service.eq(filter.self_service))
        .into_boxed();
    if !filter.states.is_empty() {
        query = query.filter(r::state.eq_any(filter.states.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(r::kind.eq(kind.clone()));
    }
    if let Some(assignee) = &filter.assignee {
        query = query.filter(r::assignee.eq(assignee.clone()));
    }
    if let Some(before) = filter.due_before {
        query = query.filter(r::due_at.lt(before)).filter(r::state.ne_all(["completed", "refused"]));
    }
    if filter.self_service {
        if let Some((t, id)) = after {
            query = query.filter(r::received_at.lt(*t).or(r::received_at.eq(*t).and(r::id.lt(id.clone()))));
        }
        return query.order((r::received_at.desc(), r::id.desc())).limit(limit).load(conn);
    }
    if let Some((t, id)) = after {
        query = query.filter(r::due_at.gt(*t).or(r::due_at.eq(*t).and(r::id.gt(id.clone()))));
    }
    query.order((r::due_at.asc(), r::id.asc())).limit(limit).load(conn)
}

/// Open requests that need work and are due before `before`.
pub fn open_due_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<i64> {
    use rights_requests::dsl as r;
    r::rights_requests
        .filter(r::self_service.eq(false))
        .filter(r::state.ne_all(["completed", "refused"]))
        .filter(r::due_at.lt(before))
        .count()
        .get_result(conn)
}

/// Open, assigned requests due before `before` whose assignee has not been reminded.
pub fn unreminded_due_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<Vec<RightsRequest>> {
    use rights_requests::dsl as r;
    r::rights_requests
        .select(RightsRequest::as_select())
        .filter(r::self_service.eq(false))
        .filter(r::state.ne_all(["completed", "refused"]))
        .filter(r::assignee.is_not_null())
        .filter(r::reminded_at.is_null())
        .filter(r::due_at.lt(before))
        .order(r::due_at.asc())
        .limit(500)
        .load(conn)
}

pub fn mark_reminded(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(rights_requests::table.find(id)).set(rights_requests::reminded_at.eq(Some(at))).execute(conn)
}

/// The audit entries about one desk request (its steps, and what was done for the person),
/// oldest first: (when, actor kind, actor id, action).
pub fn history_of(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<(NaiveDateTime, String, String, String)>> {
    audit_log::table
        .filter(audit_log::detail.like(format!("%(request {id})")))
        .order(audit_log::occurred_at.asc())
        .select((audit_log::occurred_at, audit_log::actor_kind, audit_log::actor_id, audit_log::action))
        .load(conn)
}

pub fn requests_for(conn: &mut DbConnection, subject_id: &str) -> QueryResult<Vec<RightsRequest>> {
    rights_requests::table
        .filter(rights_requests::subject_id.eq(subject_id))
        .order(rights_requests::received_at.asc())
        .select(RightsRequest::as_select())
        .load(conn)
}

/// An audit-log row as inserted. A missing subject is bound as NULL (not as the column's
/// default), so that on SQLite a call's rows go in one statement: diesel writes rows with
/// defaultable columns one statement each there, inside a savepoint.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditEntry<'a> {
    pub id: String,
    pub actor_kind: &'a str,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub subject_id: Option<&'a str>,
    pub detail: &'a str,
    pub occurred_at: Stamp,
}

pub fn audit(conn: &mut DbConnection, entries: &[AuditEntry<'_>]) -> QueryResult<()> {
    crate::insert_rows!(conn, audit_log::table, entries)
}
