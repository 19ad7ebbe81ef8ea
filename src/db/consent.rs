//! The current consent state per (subject, purpose), kept in step with the ledger.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::consent_state;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consent_state)]
pub struct ConsentState {
    pub subject_id: String,
    pub purpose_key: String,
    pub status: String,
    pub policy_version_id: String,
    pub granted_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub last_event_seq: i64,
    /// For purposes that reach people: when the periodic reminder was last due (the consent date,
    /// then each reminder). `None` while not granted.
    pub notice_anchor_at: Option<NaiveDateTime>,
}

/// Writes the new state of one purpose (update, or insert the first time). Only the writer
/// calls this, so the update-then-insert cannot race.
pub fn put(conn: &mut DbConnection, state: &ConsentState) -> QueryResult<()> {
    let updated = diesel::update(consent_state::table.find((&state.subject_id, &state.purpose_key)))
        .set((
            consent_state::status.eq(&state.status),
            consent_state::policy_version_id.eq(&state.policy_version_id),
            consent_state::granted_at.eq(state.granted_at),
            consent_state::expires_at.eq(state.expires_at),
            consent_state::updated_at.eq(state.updated_at),
            consent_state::last_event_seq.eq(state.last_event_seq),
            consent_state::notice_anchor_at.eq(state.notice_anchor_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(consent_state::table).values(state).execute(conn)?;
    }
    Ok(())
}

/// Inserts the first states of new subjects.
pub fn insert_all(conn: &mut DbConnection, states: &[ConsentState]) -> QueryResult<()> {
    crate::insert_rows!(conn, consent_state::table, states)
}

/// Removes the state rows of these subjects (on erasure; the ledger keeps the history).
pub fn delete_for_many(conn: &mut DbConnection, subject_ids: &[String]) -> QueryResult<()> {
    diesel::delete(consent_state::table.filter(consent_state::subject_id.eq_any(subject_ids))).execute(conn).map(|_| ())
}

/// The state rows of several subjects at once.
pub fn for_subjects(conn: &mut DbConnection, subject_ids: &[String]) -> QueryResult<Vec<ConsentState>> {
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
