//! Read-only queries behind the site owner's console: submissions (filtered, in keyset pages),
//! consent state in pages, the audit log, rights requests, and the counts the dashboard charts.
//! Every list pages by a key (time, id), never by offset, so page 1 000 costs what page 1 does.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{
    audit_log, consent_events, consent_state, field_values, form_versions, owners, policy_versions, rights_requests,
    subjects, submissions,
};

/// Which submissions to list or export. Empty means "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmissionFilter {
    pub form: Option<String>,
    /// Subjects with a state row for this purpose (in `status`, if given).
    pub purpose: Option<String>,
    pub status: Option<String>,
    pub from: Option<NaiveDateTime>,
    /// Exclusive.
    pub until: Option<NaiveDateTime>,
    /// Found through the blind index of an exact address.
    pub subject_id: Option<String>,
}

/// A position in a list: the (time, id) of the last row shown.
pub type Cursor = (NaiveDateTime, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    NewestFirst,
    OldestFirst,
}

#[derive(Debug, Clone, Queryable)]
pub struct SubmissionRow {
    pub id: String,
    pub subject_id: String,
    pub created_at: NaiveDateTime,
    pub form_key: String,
    pub form_version: i64,
    pub form_version_id: String,
}

/// One page of submissions after `after`, in `direction`.
pub fn submissions_page(
    conn: &mut DbConnection,
    filter: &SubmissionFilter,
    after: Option<&Cursor>,
    direction: Direction,
    limit: i64,
) -> QueryResult<Vec<SubmissionRow>> {
    let mut query = submissions::table
        .inner_join(form_versions::table.on(form_versions::id.eq(submissions::form_version_id)))
        .select((
            submissions::id,
            submissions::subject_id,
            submissions::created_at,
            form_versions::form_key,
            form_versions::version,
            submissions::form_version_id,
        ))
        .into_boxed();
    if let Some(form) = &filter.form {
        query = query.filter(form_versions::form_key.eq(form.clone()));
    }
    if let Some(subject) = &filter.subject_id {
        query = query.filter(submissions::subject_id.eq(subject.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(submissions::created_at.ge(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(submissions::created_at.lt(until));
    }
    // A subject with a state row for the purpose (in the status): `subject_id IN (…)`.
    let (purpose_col, status_col, subject_col) =
        (consent_state::purpose_key, consent_state::status, consent_state::subject_id);
    query = match (filter.purpose.clone(), filter.status.clone()) {
        (Some(p), Some(st)) => query.filter(
            submissions::subject_id
                .eq_any(consent_state::table.filter(purpose_col.eq(p)).filter(status_col.eq(st)).select(subject_col)),
        ),
        (Some(p), None) => query
            .filter(submissions::subject_id.eq_any(consent_state::table.filter(purpose_col.eq(p)).select(subject_col))),
        (None, Some(st)) => query
            .filter(submissions::subject_id.eq_any(consent_state::table.filter(status_col.eq(st)).select(subject_col))),
        (None, None) => query,
    };
    query = match (direction, after) {
        (Direction::NewestFirst, Some((t, id))) => query.filter(
            submissions::created_at.lt(*t).or(submissions::created_at.eq(*t).and(submissions::id.lt(id.clone()))),
        ),
        (Direction::OldestFirst, Some((t, id))) => query.filter(
            submissions::created_at.gt(*t).or(submissions::created_at.eq(*t).and(submissions::id.gt(id.clone()))),
        ),
        (_, None) => query,
    };
    query = match direction {
        Direction::NewestFirst => query.order((submissions::created_at.desc(), submissions::id.desc())),
        Direction::OldestFirst => query.order((submissions::created_at.asc(), submissions::id.asc())),
    };
    query.limit(limit).load(conn)
}

pub fn submission(conn: &mut DbConnection, id: &str) -> QueryResult<Option<SubmissionRow>> {
    submissions::table
        .inner_join(form_versions::table.on(form_versions::id.eq(submissions::form_version_id)))
        .filter(submissions::id.eq(id))
        .select((
            submissions::id,
            submissions::subject_id,
            submissions::created_at,
            form_versions::form_key,
            form_versions::version,
            submissions::form_version_id,
        ))
        .first(conn)
        .optional()
}

/// (submission id, field key, ciphertext) of the values of these submissions.
/// (submission id, value id, field key, ciphertext) of the values of these submissions.
pub type SealedValue = (String, String, String, Vec<u8>);

pub fn values_of_submissions(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<SealedValue>> {
    field_values::table
        .filter(field_values::submission_id.eq_any(ids))
        .order(field_values::id.asc())
        .select((field_values::submission_id, field_values::id, field_values::field_key, field_values::ciphertext))
        .load(conn)
}

/// (id, blind index, wrapped key, encrypted address) of these subjects.
pub type SubjectKeys = (String, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

pub fn subject_keys(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<SubjectKeys>> {
    subjects::table
        .filter(subjects::id.eq_any(ids))
        .select((subjects::id, subjects::email_index, subjects::wrapped_key, subjects::email_ciphertext))
        .load(conn)
}

/// The definitions (JSON) of every version of `form` (or of all forms), oldest first.
pub fn form_definitions(conn: &mut DbConnection, form: Option<&str>) -> QueryResult<Vec<String>> {
    let mut query = form_versions::table.select(form_versions::definition).into_boxed();
    if let Some(form) = form {
        query = query.filter(form_versions::form_key.eq(form.to_owned()));
    }
    query.order((form_versions::form_key.asc(), form_versions::version.asc())).load(conn)
}

/// One row of the consent-state export.
#[derive(Debug, Clone, Queryable)]
pub struct StateRow {
    pub subject_id: String,
    pub purpose: String,
    pub status: String,
    pub policy_version: i64,
    pub granted_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// One page of consent state after (subject id, purpose), in that order.
pub fn states_page(
    conn: &mut DbConnection,
    after: Option<&(String, String)>,
    limit: i64,
) -> QueryResult<Vec<StateRow>> {
    let mut query = consent_state::table
        .inner_join(policy_versions::table.on(policy_versions::id.eq(consent_state::policy_version_id)))
        .select((
            consent_state::subject_id,
            consent_state::purpose_key,
            consent_state::status,
            policy_versions::version,
            consent_state::granted_at,
            consent_state::expires_at,
            consent_state::updated_at,
        ))
        .into_boxed();
    if let Some((subject, purpose)) = after {
        query = query.filter(
            consent_state::subject_id
                .gt(subject.clone())
                .or(consent_state::subject_id.eq(subject.clone()).and(consent_state::purpose_key.gt(purpose.clone()))),
        );
    }
    query.order((consent_state::subject_id.asc(), consent_state::purpose_key.asc())).limit(limit).load(conn)
}

/// Submissions received in `[from, to)`.
pub fn count_submissions(conn: &mut DbConnection, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<i64> {
    submissions::table
        .filter(submissions::created_at.ge(from))
        .filter(submissions::created_at.lt(to))
        .count()
        .get_result(conn)
}

/// (purpose, action, count) of ledger events since `since`.
pub fn event_counts(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<Vec<(String, String, i64)>> {
    consent_events::table
        .filter(consent_events::occurred_at.ge(since))
        .group_by((consent_events::purpose_key, consent_events::action))
        .select((consent_events::purpose_key, consent_events::action, diesel::dsl::count_star()))
        .order((consent_events::purpose_key.asc(), consent_events::action.asc()))
        .load(conn)
}

/// Granted consents that expire in `[from, to)`.
pub fn count_expiring(conn: &mut DbConnection, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<i64> {
    consent_state::table
        .filter(consent_state::expires_at.ge(from))
        .filter(consent_state::expires_at.lt(to))
        .filter(consent_state::status.eq("granted"))
        .count()
        .get_result(conn)
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_kind: Option<String>,
    pub action: Option<String>,
    pub subject_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable)]
pub struct AuditRow {
    pub id: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub subject_id: Option<String>,
    pub detail: String,
    pub occurred_at: NaiveDateTime,
}

/// One page of the audit log, newest first, before `before`.
pub fn audit_page(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    before: Option<&Cursor>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .select((
            audit_log::id,
            audit_log::actor_kind,
            audit_log::actor_id,
            audit_log::action,
            audit_log::subject_id,
            audit_log::detail,
            audit_log::occurred_at,
        ))
        .into_boxed();
    if let Some(kind) = &filter.actor_kind {
        query = query.filter(audit_log::actor_kind.eq(kind.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(subject) = &filter.subject_id {
        query = query.filter(audit_log::subject_id.eq(subject.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::occurred_at.ge(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_log::occurred_at.lt(until));
    }
    if let Some((t, id)) = before {
        query = query
            .filter(audit_log::occurred_at.lt(*t).or(audit_log::occurred_at.eq(*t).and(audit_log::id.lt(id.clone()))));
    }
    query.order((audit_log::occurred_at.desc(), audit_log::id.desc())).limit(limit).load(conn)
}

/// (id, e-mail) of these console accounts: the audit log names staff by address.
pub fn owner_emails(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    owners::table.filter(owners::id.eq_any(ids)).select((owners::id, owners::email)).load(conn)
}

/// One page of rights requests, newest first, before `before`.
pub fn rights_page(
    conn: &mut DbConnection,
    before: Option<&Cursor>,
    limit: i64,
) -> QueryResult<Vec<super::rights::RightsRequest>> {
    let mut query = rights_requests::table.select(super::rights::RightsRequest::as_select()).into_boxed();
    if let Some((t, id)) = before {
        query = query.filter(
            rights_requests::received_at
                .lt(*t)
                .or(rights_requests::received_at.eq(*t).and(rights_requests::id.lt(id.clone()))),
        );
    }
    query.order((rights_requests::received_at.desc(), rights_requests::id.desc())).limit(limit).load(conn)
}
