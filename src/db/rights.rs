//! Rights requests and the audit log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::schema::{audit_log, rights_requests};

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
}

pub fn insert_requests(conn: &mut DbConnection, requests: &[RightsRequest]) -> QueryResult<()> {
    crate::insert_rows!(conn, rights_requests::table, requests)
}

pub fn requests_for(conn: &mut DbConnection, subject_id: &str) -> QueryResult<Vec<RightsRequest>> {
    rights_requests::table
        .filter(rights_requests::subject_id.eq(subject_id))
        .order(rights_requests::received_at.asc())
        .select(RightsRequest::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry<'a> {
    pub id: String,
    pub actor_kind: &'a str,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub subject_id: Option<&'a str>,
    pub detail: &'a str,
    pub occurred_at: NaiveDateTime,
}

pub fn audit(conn: &mut DbConnection, entries: &[AuditEntry<'_>]) -> QueryResult<()> {
    crate::insert_rows!(conn, audit_log::table, entries)
}
