//! Retention: nothing is kept past its purpose's period. Consents that reach `expires_at`
//! (including double opt-in consents never confirmed) get an `expired` event; the values no
//! purpose still justifies are erased; a person left with no granted or pending purpose is
//! erased entirely. No human in the loop.
//!
//! Work is done in batches, each one transaction, so memory stays flat and a killed run loses at
//! most the batch in flight, which the next run does again (a due consent stays due until it
//! is expired).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::sync::Arc;

use crate::crypto::Keyring;
use crate::db::catalog::Catalog;
use crate::db::consent::{self, ConsentState};
use crate::db::ledger::{self, NewEvent};
use crate::db::schema::consent_state;
use crate::db::{Db, DbConnection, WriteTx};
use crate::domain::{ConsentAction, ConsentStatus, Method};
use crate::services::rights::{self, Actor, RightsError};

const BATCH: i64 = 500;

/// What a run did (or, dry, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub expired: usize,
    pub lapsed_pending: usize,
    pub values_erased: usize,
    pub subjects_erased: usize,
}

/// Consents due at `now`, oldest first.
fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<ConsentState>> {
    consent_state::table
        .filter(consent_state::status.eq_any([ConsentStatus::Granted.as_str(), ConsentStatus::Pending.as_str()]))
        .filter(consent_state::expires_at.le(now))
        .order((consent_state::expires_at.asc(), consent_state::subject_id.asc(), consent_state::purpose_key.asc()))
        .limit(limit)
        .select(ConsentState::as_select())
        .load(conn)
}

/// Counts what a run at `now` would expire, without changing anything.
pub fn dry_run(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<RetentionReport> {
    let now = now.naive_utc();
    let count = |conn: &mut DbConnection, status: ConsentStatus| -> QueryResult<i64> {
        consent_state::table
            .filter(consent_state::status.eq(status.as_str()))
            .filter(consent_state::expires_at.le(now))
            .count()
            .get_result(conn)
    };
    let expired = count(conn, ConsentStatus::Granted)? as usize;
    let lapsed_pending = count(conn, ConsentStatus::Pending)? as usize;
    Ok(RetentionReport { expired, lapsed_pending, ..Default::default() })
}

/// Runs retention as of `now`; `progress` is called after each batch with the running totals.
pub fn run(
    db: &Db,
    keyring: &Arc<Keyring>,
    catalog: &Arc<Catalog>,
    now: DateTime<Utc>,
    mut progress: impl FnMut(&RetentionReport),
) -> Result<RetentionReport, RightsError> {
    let mut report = RetentionReport::default();
    let at = now.naive_utc();
    loop {
        let batch = {
            let mut conn = db.pool.get().map_err(|_| crate::db::CommitFailed)?;
            // (A pool that cannot give a connection is treated like a failed commit: retry later.)
            due(&mut conn, at, BATCH)?
        };
        if batch.is_empty() {
            return Ok(report);
        }
        let (keyring, catalog) = (keyring.clone(), catalog.clone());
        let step = db.writer.write_blocking(move |tx| expire_batch(tx, &keyring, &catalog, &batch, at))?;
        report.expired += step.expired;
        report.lapsed_pending += step.lapsed_pending;
        report.values_erased += step.values_erased;
        report.subjects_erased += step.subjects_erased;
        progress(&report);
    }
}

fn expire_batch(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    batch: &[ConsentState],
    now: NaiveDateTime,
) -> Result<RetentionReport, RightsError> {
    let mut report = RetentionReport::default();
    let mut touched: Vec<&str> = Vec::new();
    for state in batch {
        // Re-read inside the transaction: another process (or an earlier run) may have done it.
        let current = consent::for_subject(tx.conn, &state.subject_id)?
            .into_iter()
            .find(|s| s.purpose_key == state.purpose_key)
            .filter(|s| {
                matches!(ConsentStatus::parse(&s.status), ConsentStatus::Granted | ConsentStatus::Pending)
                    && s.expires_at.is_some_and(|e| e <= now)
            });
        let Some(current) = current else { continue };
        let was_pending = ConsentStatus::parse(&current.status) == ConsentStatus::Pending;
        let hash = catalog.purpose(&current.purpose_key).map(|p| p.policy.text_hash.clone()).unwrap_or_default();
        let appended = ledger::append(
            tx.conn,
            tx.head,
            &[NewEvent {
                subject_id: &current.subject_id,
                purpose_key: &current.purpose_key,
                action: ConsentAction::Expired.as_str(),
                policy_version_id: &current.policy_version_id,
                policy_text_hash: &hash,
                method: Method::RetentionJob.as_str(),
                source: "retention",
                evidence: "{}",
                occurred_at: now,
            }],
        )?;
        consent::put(
            tx.conn,
            &ConsentState {
                status: ConsentStatus::Expired.as_str().to_owned(),
                expires_at: None,
                updated_at: now,
                last_event_seq: appended.first().map_or(current.last_event_seq, |e| e.seq),
                ..current.clone()
            },
        )?;
        if was_pending {
            report.lapsed_pending += 1;
        } else {
            report.expired += 1;
        }
        if !touched.contains(&state.subject_id.as_str()) {
            touched.push(&state.subject_id);
        }
    }
    for subject in touched {
        report.values_erased += rights::erase_unneeded(tx.conn, subject)?.len();
        let held = consent::for_subject(tx.conn, subject)?
            .iter()
            .any(|s| matches!(ConsentStatus::parse(&s.status), ConsentStatus::Granted | ConsentStatus::Pending));
        if !held {
            match rights::erase(tx, keyring, subject, &Actor::Job("retention"), Method::RetentionJob, None) {
                Ok(()) => report.subjects_erased += 1,
                Err(RightsError::Erased | RightsError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(report)
}
