//! Who did what: the audit log and the rights-requests list that every change to personal data
//! leaves behind.

use chrono::{NaiveDateTime, Utc};

use crate::db::rights::{self, AuditEntry, RightsRequest};
use crate::db::{DbConnection, WriteTx};
use crate::domain::rights::RightKind;
use crate::domain::{Method, SubjectId};

/// Who acts: recorded in the audit log.
#[derive(Debug, Clone)]
pub enum Actor {
    Subject(SubjectId),
    ApiKey(String),
    Job(&'static str),
    /// A site owner in the console (their id, never their address).
    Owner(String),
}

impl Actor {
    /// The audit log's `actor_kind` and `actor_id`.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::Subject(id) => ("subject", id),
            Self::ApiKey(id) => ("api_key", id),
            Self::Job(name) => ("job", name),
            Self::Owner(id) => ("owner", id),
        }
    }
}

/// Writes one audit-log row: `actor` did `action` (to `subject_id`'s data, if any). `detail`
/// must not hold personal data (name what was done: a form key, a purpose, a count).
pub fn audit_action(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    subject_id: Option<&str>,
    detail: &str,
) -> diesel::QueryResult<()> {
    let (actor_kind, actor_id) = actor.parts();
    rights::audit(
        conn,
        &[AuditEntry {
            id: crate::db::new_row_id(),
            actor_kind,
            actor_id,
            action,
            subject_id,
            detail,
            occurred_at: Utc::now().naive_utc(),
        }],
    )
}

/// What was done, for whom, by whom and through which door.
pub struct Done<'a> {
    pub actor: &'a Actor,
    pub kind: RightKind,
    pub method: Method,
    pub detail: &'a str,
    pub at: NaiveDateTime,
}

/// One completed rights request and audit entry per subject, in two statements. Requests fall
/// due under the configured regime (`ASSENT_RIGHTS_DEADLINE`), which the writer hands to each
/// write.
pub fn record(tx: &mut WriteTx<'_>, subject_ids: &[SubjectId], done: &Done<'_>) -> diesel::QueryResult<()> {
    let (conn, deadline) = (&mut *tx.conn, tx.rights_deadline);
    let requests: Vec<RightsRequest> = subject_ids
        .iter()
        .map(|subject_id| RightsRequest {
            id: crate::db::new_row_id(),
            subject_id: subject_id.to_string(),
            kind: done.kind.as_str().to_owned(),
            channel: done.method.as_str().to_owned(),
            detail: done.detail.to_owned(),
            received_at: done.at,
            due_at: deadline.due(done.at.and_utc()).naive_utc(),
            completed_at: Some(done.at),
        })
        .collect();
    // Requests are what people (or a CRM on their behalf) ask for; the retention job's erasures
    // are the policy at work, answered by the audit log and the ledger, not the requests list.
    if !matches!(done.actor, Actor::Job(_)) {
        rights::insert_requests(conn, &requests)?;
    }
    let (actor_kind, actor_id) = done.actor.parts();
    let entries: Vec<AuditEntry<'_>> = subject_ids
        .iter()
        .map(|subject_id| AuditEntry {
            id: crate::db::new_row_id(),
            actor_kind,
            actor_id,
            action: done.kind.as_str(),
            subject_id: Some(subject_id),
            detail: done.detail,
            occurred_at: done.at,
        })
        .collect();
    rights::audit(conn, &entries)
}
