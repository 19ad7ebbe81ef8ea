//! The consent ledger table: appending chained events and reading them back in order.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{consent_events, ledger_head};
use super::stamp::Stamp;
use super::{DbConnection, LedgerHead};
use crate::domain::ledger::{EventContent, LedgerFault, Verifier, chain_hash, ledger_time};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consent_events)]
pub struct ConsentEvent {
    pub seq: i64,
    pub id: String,
    pub subject_id: String,
    pub purpose_key: String,
    pub action: String,
    pub policy_version_id: String,
    pub policy_text_hash: String,
    pub method: String,
    pub source: String,
    pub evidence: String,
    pub occurred_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
    /// When the ledger learnt of an event recorded after it happened (an import); `None`: then.
    pub recorded_at: Option<NaiveDateTime>,
}

impl ConsentEvent {
    pub fn content(&self) -> EventContent<'_> {
        EventContent {
            seq: self.seq,
            id: &self.id,
            subject_id: &self.subject_id,
            purpose_key: &self.purpose_key,
            action: &self.action,
            policy_version_id: &self.policy_version_id,
            policy_text_hash: &self.policy_text_hash,
            method: &self.method,
            source: &self.source,
            evidence: &self.evidence,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
        }
    }
}

/// An event to append; the ledger assigns its sequence number and hashes.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub subject_id: &'a str,
    pub purpose_key: &'a str,
    pub action: &'a str,
    pub policy_version_id: &'a str,
    pub policy_text_hash: &'a str,
    pub method: &'a str,
    pub source: &'a str,
    pub evidence: &'a str,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: Option<NaiveDateTime>,
}

/// An event as inserted: its timestamps bound as [`Stamp`]s, its text owned (moved from and back
/// into the [`ConsentEvent`], never copied) so that its inserts are cached statements
/// ([`crate::insert_cached!`]).
#[derive(Insertable)]
#[diesel(table_name = consent_events, treat_none_as_default_value = false)]
struct EventRow {
    seq: i64,
    id: String,
    subject_id: String,
    purpose_key: String,
    action: String,
    policy_version_id: String,
    policy_text_hash: String,
    method: String,
    source: String,
    evidence: String,
    occurred_at: Stamp,
    prev_hash: String,
    hash: String,
    recorded_at: Option<Stamp>,
}

impl From<ConsentEvent> for EventRow {
    fn from(e: ConsentEvent) -> Self {
        Self {
            seq: e.seq,
            id: e.id,
            subject_id: e.subject_id,
            purpose_key: e.purpose_key,
            action: e.action,
            policy_version_id: e.policy_version_id,
            policy_text_hash: e.policy_text_hash,
            method: e.method,
            source: e.source,
            evidence: e.evidence,
            occurred_at: Stamp(e.occurred_at),
            prev_hash: e.prev_hash,
            hash: e.hash,
            recorded_at: e.recorded_at.map(Stamp),
        }
    }
}

impl From<EventRow> for ConsentEvent {
    fn from(e: EventRow) -> Self {
        Self {
            seq: e.seq,
            id: e.id,
            subject_id: e.subject_id,
            purpose_key: e.purpose_key,
            action: e.action,
            policy_version_id: e.policy_version_id,
            policy_text_hash: e.policy_text_hash,
            method: e.method,
            source: e.source,
            evidence: e.evidence,
            occurred_at: e.occurred_at.0,
            prev_hash: e.prev_hash,
            hash: e.hash,
            recorded_at: e.recorded_at.map(|t| t.0),
        }
    }
}

/// Turns events into chained rows after `head`, advancing it (no IO).
pub(super) fn chain(head: &mut LedgerHead, events: &[NewEvent<'_>]) -> Vec<ConsentEvent> {
    events
        .iter()
        .map(|e| {
            let mut row = ConsentEvent {
                seq: head.seq + 1,
                id: super::new_row_id(),
                subject_id: e.subject_id.to_owned(),
                purpose_key: e.purpose_key.to_owned(),
                action: e.action.to_owned(),
                policy_version_id: e.policy_version_id.to_owned(),
                policy_text_hash: e.policy_text_hash.to_owned(),
                method: e.method.to_owned(),
                source: e.source.to_owned(),
                evidence: e.evidence.to_owned(),
                occurred_at: ledger_time(e.occurred_at),
                prev_hash: head.hash.clone(),
                hash: String::new(),
                recorded_at: e.recorded_at.map(ledger_time),
            };
            row.hash = chain_hash(&row.prev_hash, &row.content());
            head.seq = row.seq;
            head.hash.clone_from(&row.hash);
            row
        })
        .collect()
}

/// Appends events in order, advancing `head` (which the writer persists at commit). Only
/// `db::consent::record` calls it: an event is never written without its state row.
pub(super) fn append(
    conn: &mut DbConnection,
    head: &mut LedgerHead,
    events: &[NewEvent<'_>],
) -> QueryResult<Vec<ConsentEvent>> {
    let rows: Vec<EventRow> = chain(head, events).into_iter().map(EventRow::from).collect();
    crate::insert_cached!(conn, consent_events::table, &rows)?;
    crate::metrics::consent_events(rows.iter().map(|r| r.action.as_str()));
    Ok(rows.into_iter().map(ConsentEvent::from).collect())
}

pub fn for_subject(conn: &mut DbConnection, subject_id: &str) -> QueryResult<Vec<ConsentEvent>> {
    consent_events::table
        .filter(consent_events::subject_id.eq(subject_id))
        .order(consent_events::seq.asc())
        .select(ConsentEvent::as_select())
        .load(conn)
}

/// Up to `limit` events after `seq`, in order (the event feed).
pub fn after(conn: &mut DbConnection, seq: i64, limit: i64) -> QueryResult<Vec<ConsentEvent>> {
    consent_events::table
        .filter(consent_events::seq.gt(seq))
        .order(consent_events::seq.asc())
        .limit(limit)
        .select(ConsentEvent::as_select())
        .load(conn)
}

/// The outcome of verifying the whole ledger.
#[derive(Debug)]
pub enum Verification {
    Intact { events: i64 },
    Broken(LedgerFault),
}

/// Events per page when walking the whole ledger.
const PAGE: i64 = 5_000;

/// Hands every event to `each` in `seq` order, a page at a time so memory stays flat on large
/// ledgers; stops early when `each` breaks, with its value.
pub fn each_event<B>(
    conn: &mut DbConnection,
    mut each: impl FnMut(&ConsentEvent) -> std::ops::ControlFlow<B>,
) -> QueryResult<Option<B>> {
    let mut after = 0i64;
    loop {
        let page: Vec<ConsentEvent> = consent_events::table
            .filter(consent_events::seq.gt(after))
            .order(consent_events::seq.asc())
            .limit(PAGE)
            .select(ConsentEvent::as_select())
            .load(conn)?;
        for event in &page {
            if let std::ops::ControlFlow::Break(b) = each(event) {
                return Ok(Some(b));
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.seq,
            _ => return Ok(None),
        }
    }
}

/// Re-computes every hash in `seq` order.
pub fn verify(conn: &mut DbConnection) -> QueryResult<Verification> {
    let mut verifier = Verifier::default();
    let broken = each_event(conn, |event| match verifier.check(&event.content(), &event.prev_hash, &event.hash) {
        Ok(()) => std::ops::ControlFlow::Continue(()),
        Err(fault) => std::ops::ControlFlow::Break(fault),
    })?;
    if let Some(fault) = broken {
        return Ok(Verification::Broken(fault));
    }
    let (seq, hash) =
        ledger_head::table.find(1i64).select((ledger_head::seq, ledger_head::hash)).first::<(i64, String)>(conn)?;
    Ok(match verifier.finish(seq, &hash) {
        Ok(()) => Verification::Intact { events: verifier.checked() },
        Err(fault) => Verification::Broken(fault),
    })
}

/// The sequence number of the last event appended (0 for an empty ledger).
pub fn head_seq(conn: &mut DbConnection) -> QueryResult<i64> {
    Ok(ledger_head::table.find(1i64).select(ledger_head::seq).first(conn).optional()?.unwrap_or(0))
}
