//! The current consent state per (subject, purpose), kept in step with the ledger.
//!
//! [`record`] is the only code that writes `consent_events` and `consent_state`, and it writes
//! both in one call: an event and the state row it leads to cannot be written apart. Only the
//! consent door (`services::consent`) calls it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::ledger::{self, ConsentEvent, NewEvent};
use super::schema::consent_state;
use super::stamp::Stamp;
use super::write_loop::LedgerHead;
use crate::domain::lifecycle::Standing;
use crate::domain::{ConsentStatus, SubjectId};

/// One state row as read.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = consent_state)]
pub struct ConsentState {
    #[diesel(deserialize_as = String)]
    pub subject_id: SubjectId,
    pub purpose_key: String,
    #[diesel(deserialize_as = String)]
    pub status: ConsentStatus,
    pub policy_version_id: String,
    pub granted_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub last_event_seq: i64,
    /// For purposes that reach people: when the periodic reminder was last due (the consent date,
    /// then each reminder). `None` while not granted.
    pub notice_anchor_at: Option<NaiveDateTime>,
}

impl ConsentState {
    /// The lifecycle's view of this row.
    pub fn standing(&self) -> Standing {
        Standing {
            status: self.status,
            policy_version_id: self.policy_version_id.clone(),
            granted_at: self.granted_at,
            expires_at: self.expires_at,
            notice_anchor_at: self.notice_anchor_at,
        }
    }
}

/// The row as written.
#[derive(Insertable)]
#[diesel(table_name = consent_state, treat_none_as_default_value = false)]
struct StateRow<'a> {
    subject_id: &'a str,
    purpose_key: &'a str,
    status: &'a str,
    policy_version_id: &'a str,
    granted_at: Option<Stamp>,
    expires_at: Option<Stamp>,
    updated_at: Stamp,
    last_event_seq: i64,
    notice_anchor_at: Option<Stamp>,
}

/// What one event does to its state row.
#[derive(Debug, Clone)]
pub enum StateWrite {
    /// The first state of this (subject, purpose).
    Insert(Standing),
    /// A new state for a row that exists.
    Update(Standing),
    /// The event ends the row (erasure: the ledger keeps the history).
    Remove,
    /// The event has no row (a whole-person erasure event).
    Keep,
}

/// One ledger event and what it does to its state row.
pub struct Write<'a> {
    pub event: NewEvent<'a>,
    pub state: StateWrite,
}

/// Appends the events, in order, and writes the state rows they lead to, each pointing at its
/// event; then removes every state row of `forget` (erased people: the ledger keeps their
/// history). Returns the appended events.
pub fn record(
    conn: &mut DbConnection,
    head: &mut LedgerHead,
    writes: &[Write<'_>],
    forget: &[impl AsRef<str>],
) -> QueryResult<Vec<ConsentEvent>> {
    let events: Vec<NewEvent<'_>> = writes.iter().map(|w| w.event.clone()).collect();
    let appended = ledger::append(conn, head, &events)?;
    // The rows of people forgotten below are deleted at the end of this call: nothing is written
    // to them first.
    let forget: Vec<&str> = forget.iter().map(AsRef::as_ref).collect();
    let forgotten: std::collections::HashSet<&str> = forget.iter().copied().collect();
    // A row inserted earlier in this call is not in the table yet (inserts go in one statement
    // at the end): a later write to it changes the pending insert instead (found by its key).
    let mut inserts: Vec<Option<StateRow<'_>>> = Vec::new();
    let mut pending_at: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for (write, event) in writes.iter().zip(&appended) {
        if forgotten.contains(write.event.subject_id) {
            continue;
        }
        let key = (write.event.subject_id, write.event.purpose_key);
        let pending = pending_at.get(&key).copied();
        let (standing, first) = match &write.state {
            StateWrite::Insert(s) => (s, true),
            StateWrite::Update(s) => (s, pending.is_some()),
            StateWrite::Remove => {
                match pending {
                    Some(i) => {
                        inserts[i] = None;
                        pending_at.remove(&key);
                    }
                    None => {
                        let row = consent_state::table.find((write.event.subject_id, write.event.purpose_key));
                        diesel::delete(row).execute(conn)?;
                    }
                }
                continue;
            }
            StateWrite::Keep => continue,
        };
        let row = state_row(write, standing, event);
        match (first, pending) {
            (true, Some(i)) => inserts[i] = Some(row),
            (true, None) => {
                pending_at.insert(key, inserts.len());
                inserts.push(Some(row));
            }
            (false, _) => update(conn, &row)?,
        }
    }
    let inserts: Vec<StateRow<'_>> = inserts.into_iter().flatten().collect();
    crate::insert_rows!(conn, consent_state::table, &inserts)?;
    if !forget.is_empty() {
        diesel::delete(consent_state::table.filter(consent_state::subject_id.eq_any(forget))).execute(conn)?;
    }
    Ok(appended)
}

/// The state row a write leaves, as of its event.
fn state_row<'a>(write: &Write<'a>, standing: &'a Standing, event: &ConsentEvent) -> StateRow<'a> {
    StateRow {
        subject_id: write.event.subject_id,
        purpose_key: write.event.purpose_key,
        status: standing.status.as_str(),
        policy_version_id: &standing.policy_version_id,
        granted_at: standing.granted_at.map(Stamp),
        expires_at: standing.expires_at.map(Stamp),
        updated_at: Stamp(event.occurred_at),
        last_event_seq: event.seq,
        notice_anchor_at: standing.notice_anchor_at.map(Stamp),
    }
}

fn update(conn: &mut DbConnection, row: &StateRow<'_>) -> QueryResult<()> {
    diesel::update(consent_state::table.find((row.subject_id, row.purpose_key)))
        .set((
            consent_state::status.eq(row.status),
            consent_state::policy_version_id.eq(row.policy_version_id),
            consent_state::granted_at.eq(row.granted_at),
            consent_state::expires_at.eq(row.expires_at),
            consent_state::updated_at.eq(row.updated_at),
            consent_state::last_event_seq.eq(row.last_event_seq),
            consent_state::notice_anchor_at.eq(row.notice_anchor_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The state rows of several subjects at once.
pub fn for_subjects(conn: &mut DbConnection, subject_ids: &[impl AsRef<str>]) -> QueryResult<Vec<ConsentState>> {
    let subject_ids: Vec<&str> = subject_ids.iter().map(AsRef::as_ref).collect();
    consent_state::table
        .filter(consent_state::subject_id.eq_any(subject_ids))
        .select(ConsentState::as_select())
        .load(conn)
}

/// The live (not erased) subject with this blind index, and its state rows, in one query.
pub fn by_email_index(conn: &mut DbConnection, index: &[u8]) -> QueryResult<(Option<String>, Vec<ConsentState>)> {
    use super::schema::subjects;
    let rows: Vec<(String, Option<ConsentState>)> = subjects::table
        .left_join(consent_state::table.on(consent_state::subject_id.eq(subjects::id)))
        .filter(subjects::email_index.eq(index))
        .filter(subjects::erased_at.is_null())
        .select((subjects::id, Option::<ConsentState>::as_select()))
        .load(conn)?;
    let subject_id = rows.first().map(|(id, _)| id.clone());
    Ok((subject_id, rows.into_iter().filter_map(|(_, state)| state).collect()))
}

pub fn for_subject(conn: &mut DbConnection, subject_id: &str) -> QueryResult<Vec<ConsentState>> {
    consent_state::table
        .filter(consent_state::subject_id.eq(subject_id))
        .order(consent_state::purpose_key.asc())
        .select(ConsentState::as_select())
        .load(conn)
}

/// Live subjects none of whose consents is in force (left with nothing: erased by retention).
pub fn left_with_nothing(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<String>> {
    use super::schema::subjects;
    let in_force = [ConsentStatus::Granted.as_str(), ConsentStatus::Pending.as_str()];
    subjects::table
        .filter(subjects::erased_at.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            consent_state::table
                .filter(consent_state::subject_id.eq(subjects::id))
                .filter(consent_state::status.eq_any(in_force)),
        )))
        .order(subjects::id.asc())
        .limit(limit)
        .select(subjects::id)
        .load(conn)
}
