//! The queries retention runs on: consents by expiry, reminders due, and counts for reports.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::consent::ConsentState;
use super::schema::{consent_events, consent_state};
use crate::domain::{ConsentAction, ConsentStatus};

/// Keyset position: (expires_at, subject, purpose).
pub type Cursor = Option<(NaiveDateTime, String, String)>;

/// Consents in one of `statuses` expiring in (`from`, `upto`], after `after`, in expiry order.
pub fn by_expiry(
    conn: &mut DbConnection,
    statuses: &[ConsentStatus],
    upto: NaiveDateTime,
    from: Option<NaiveDateTime>,
    after: &Cursor,
    limit: i64,
) -> QueryResult<Vec<ConsentState>> {
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    let mut query = consent_state::table
        .filter(consent_state::status.eq_any(statuses))
        .filter(consent_state::expires_at.le(upto))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(consent_state::expires_at.gt(from));
    }
    if let Some((t, s, p)) = after {
        let (t, s, p) = (*t, s.clone(), p.clone());
        // The first term bounds the index range; the rest is the keyset comparison.
        query = query.filter(consent_state::expires_at.ge(t)).filter(
            consent_state::expires_at.gt(t).or(consent_state::expires_at.eq(t).and(
                consent_state::subject_id
                    .gt(s.clone())
                    .or(consent_state::subject_id.eq(s).and(consent_state::purpose_key.gt(p))),
            )),
        );
    }
    query
        .order((consent_state::expires_at.asc(), consent_state::subject_id.asc(), consent_state::purpose_key.asc()))
        .limit(limit)
        .select(ConsentState::as_select())
        .load(conn)
}

/// The cursor after this row.
pub fn cursor_of(state: &ConsentState) -> Cursor {
    state.expires_at.map(|t| (t, state.subject_id.to_string(), state.purpose_key.clone()))
}

/// Granted consents of these purposes whose reminder anchor is at or before `anchored_by` and
/// that have not expired at `now`, oldest anchor first.
pub fn reminders_due(
    conn: &mut DbConnection,
    purposes: &[&str],
    anchored_by: NaiveDateTime,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<ConsentState>> {
    consent_state::table
        .filter(consent_state::status.eq(ConsentStatus::Granted.as_str()))
        .filter(consent_state::purpose_key.eq_any(purposes))
        .filter(consent_state::notice_anchor_at.le(anchored_by))
        .filter(consent_state::expires_at.gt(now))
        .order(consent_state::notice_anchor_at.asc())
        .limit(limit)
        .select(ConsentState::as_select())
        .load(conn)
}

/// How many consents of one purpose in `status` expire in (`from`, `upto`].
pub fn count_expiring(
    conn: &mut DbConnection,
    purpose: &str,
    status: ConsentStatus,
    from: Option<NaiveDateTime>,
    upto: NaiveDateTime,
) -> QueryResult<i64> {
    let mut q = consent_state::table
        .filter(consent_state::purpose_key.eq(purpose))
        .filter(consent_state::status.eq(status.as_str()))
        .filter(consent_state::expires_at.le(upto))
        .into_boxed();
    if let Some(from) = from {
        q = q.filter(consent_state::expires_at.gt(from));
    }
    q.count().get_result(conn)
}

/// (action, count) of ledger events with these actions since `since`.
pub fn events_since(
    conn: &mut DbConnection,
    actions: &[ConsentAction],
    since: NaiveDateTime,
) -> QueryResult<Vec<(String, i64)>> {
    actions
        .iter()
        .map(|action| {
            let n = consent_events::table
                .filter(consent_events::action.eq(action.as_str()))
                .filter(consent_events::occurred_at.ge(since))
                .count()
                .get_result(conn)?;
            Ok((action.as_str().to_owned(), n))
        })
        .collect()
}
