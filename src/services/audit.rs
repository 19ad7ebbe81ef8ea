//! Who did what: the audit log and the rights-requests list that every change to personal data
//! leaves behind.

use chrono::{NaiveDateTime, Utc};

use crate::db::rights::{self, AuditEntry, RightsRequest};
use crate::db::{DbConnection, WriteTx};
use crate::domain::rights::{Deadline, RequestState, RightKind};
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

/// Every action written by [`audit_action`] besides a rights-desk step (`rights_request.<step>`)
/// and a right carried out (a [`crate::domain::rights::RightKind`]): the console says each in
/// words (`audit-action-<action>`), and a test build refuses an action missing here.
pub const ACTIONS: &[&str] = &[
    "owner_created",
    "owner_signed_in",
    "owner_signed_out",
    "staff.invited",
    "staff.role_changed",
    "staff.disabled",
    "staff.enabled",
    "staff.sessions_ended",
    "staff.sign_in_failed",
    "staff.password_accepted",
    "staff.password_set",
    "staff.password_changed",
    "staff.password_reset_requested",
    "staff.second_factor_enrolled",
    "staff.second_factor_removed",
    "staff.recovery_code_used",
    "staff.recovery_codes_replaced",
    "purpose_created",
    "purpose_changed",
    "form_created",
    "form_published",
    "workspace_locales_changed",
    "api_key_created",
    "api_key_revoked",
    "api_key.scope_refused",
    "webhook_created",
    "webhook_changed",
    "webhook_rotated",
    "webhook_removed",
    "webhook_resumed",
    "webhook_resent",
    "view_submission",
    "view_held",
    "held_data.destroyed",
    "export_submissions",
    "export_consents",
    "export_deidentified",
    "rights_request.received",
    "rights_request.assigned",
];

/// Whether `action` is one the console can say in words.
pub fn is_known_action(action: &str) -> bool {
    use crate::domain::rights::{RightKind, Step};
    ACTIONS.contains(&action)
        || RightKind::parse(action).is_some()
        || action.strip_prefix("rights_request.").and_then(Step::parse).is_some()
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
    debug_assert!(is_known_action(action), "audit action {action} is not in audit::ACTIONS");
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
            occurred_at: Utc::now().naive_utc().into(),
        }],
    )
}

/// Who asked, through which door, and (for staff acting on a rights-desk request) which
/// request: for the ledger and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub actor: &'a Actor,
    pub method: Method,
    /// The rights-desk request this is done for (its id goes into the ledger's evidence and the
    /// audit log; no second request is written).
    pub request: Option<&'a str>,
}

impl<'a> By<'a> {
    pub fn new(actor: &'a Actor, method: Method) -> Self {
        Self { actor, method, request: None }
    }

    /// Done by staff for the desk's request `id`.
    pub fn for_request(actor: &'a Actor, id: &'a str) -> Self {
        Self { actor, method: Method::Admin, request: Some(id) }
    }
}

/// What was done, for whom, by whom and through which door.
pub struct Done<'a> {
    pub by: By<'a>,
    pub kind: RightKind,
    pub detail: &'a str,
    pub at: NaiveDateTime,
}

/// One completed self-service rights request and audit entry per subject, in two statements.
/// Requests fall due under the configured regime (`ASSENT_RIGHTS_DEADLINE`), which the writer
/// hands to each write. Done for a desk request, only the audit entry is written (naming it).
pub fn record(tx: &mut WriteTx<'_>, subject_ids: &[SubjectId], done: &Done<'_>) -> diesel::QueryResult<()> {
    let (conn, deadline) = (&mut *tx.conn, tx.rights_deadline);
    // Requests are what people (or a CRM on their behalf) ask for; the retention job's erasures
    // are the policy at work, answered by the audit log and the ledger, not the requests list.
    if !matches!(done.by.actor, Actor::Job(_)) && done.by.request.is_none() {
        rights::insert_requests(conn, &completed_requests(subject_ids, done, deadline))?;
    }
    let (actor_kind, actor_id) = done.by.actor.parts();
    let on_request = done.by.request.map(|id| format!("{} (request {id})", done.detail));
    let detail = on_request.as_deref().unwrap_or(done.detail);
    let entries: Vec<AuditEntry<'_>> = subject_ids
        .iter()
        .map(|subject_id| AuditEntry {
            id: crate::db::new_row_id(),
            actor_kind,
            actor_id,
            action: done.kind.as_str(),
            subject_id: Some(subject_id),
            detail,
            occurred_at: done.at.into(),
        })
        .collect();
    rights::audit(conn, &entries)
}

/// The completed self-service request of each subject.
fn completed_requests(subject_ids: &[SubjectId], done: &Done<'_>, deadline: Deadline) -> Vec<RightsRequest> {
    subject_ids
        .iter()
        .map(|subject_id| RightsRequest {
            id: crate::db::new_row_id(),
            subject_id: subject_id.to_string(),
            kind: done.kind.as_str().to_owned(),
            channel: done.by.method.as_str().to_owned(),
            detail: done.detail.to_owned(),
            received_at: done.at,
            due_at: deadline.due(done.at.and_utc()).naive_utc(),
            completed_at: Some(done.at),
            state: RequestState::Completed.as_str().to_owned(),
            self_service: true,
            regime: deadline.as_str().to_owned(),
            assignee: None,
            note: None,
            reason: None,
            updated_at: None,
            reminded_at: None,
        })
        .collect()
}
