//! Retention: nothing is kept past its purpose's period, with no human in the loop.
//!
//! A run has four phases, all as of one `now`:
//! 1. **Renewal**: each granted consent inside its purpose's renewal window gets one mail per
//!    (subject, purpose, expiry) offering Extend or Don't extend (the outbox's de-duplication
//!    key makes "once" hold across runs, crashes and processes).
//! 2. **Marketing reminders**: consents that reach people (e-mail, SMS, push) get the periodic
//!    reminder Korean law requires (정보통신망법 art. 50(8)), recorded in the ledger as
//!    `notified`.
//! 3. **Expiry**: consents past `expires_at` (unconfirmed double opt-in ones included) get an
//!    `expired` event; values no remaining purpose justifies are erased; a person left with no
//!    granted or pending purpose is erased entirely.
//! 4. **Left with nothing**: anyone still on record with no consent in force (whatever ended it)
//!    is erased: nobody is kept without a purpose.
//!
//! Every consent change goes through the consent door (`services::consent`); this module only
//! decides which consents to look at.
//!
//! Each batch is one transaction that re-checks what it acts on, so memory stays flat, a killed
//! run loses at most the batch in flight, and running again finishes the job without doing
//! anything twice.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::QueryResult;
use serde::Serialize;
use std::sync::Arc;

use super::reminders::{ask_renewal, send_notice};
use crate::crypto::Keyring;
use crate::db::catalog::Catalog;
use crate::db::consent::{self, ConsentState};
use crate::db::retention::{self as queries, Cursor};
use crate::db::{Db, DbConnection, WriteTx};
use crate::domain::lifecycle::{due_to_end, ending_transition, renewal_window_days};
use crate::domain::{Channel, ConsentAction, ConsentStatus, Method, Retention, SubjectId};
use crate::mail::MailContext;
use crate::services::audit::{Actor, audit_action};
use crate::services::consent::{Change, Door, Forget, States};
use crate::services::erasure::{self, By};
use crate::services::rights::RightsError;

/// What a run needs.
pub struct RetentionJob {
    pub db: Db,
    pub keyring: Arc<Keyring>,
    pub catalog: Arc<Catalog>,
    pub mail: MailContext,
    /// How often marketing consents are re-confirmed by notice (default 2 years).
    pub notice_interval: Retention,
    /// Consents handled per transaction.
    pub batch: i64,
}

/// What a run did (or, dry, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub renewal_mails: usize,
    pub notices: usize,
    pub expired: usize,
    pub lapsed_pending: usize,
    pub values_erased: usize,
    pub subjects_erased: usize,
    /// New values typed for someone on record that were never confirmed, dropped.
    #[serde(default)]
    pub unconfirmed_values_dropped: usize,
    /// Staff reminded of a rights request assigned to them that falls due soon.
    #[serde(default)]
    pub rights_reminders: usize,
    /// Values held under a statutory obligation destroyed because it ended.
    #[serde(default)]
    pub held_values_destroyed: usize,
}

impl RetentionReport {
    fn add(&mut self, other: &RetentionReport) {
        self.renewal_mails += other.renewal_mails;
        self.notices += other.notices;
        self.expired += other.expired;
        self.lapsed_pending += other.lapsed_pending;
        self.values_erased += other.values_erased;
        self.subjects_erased += other.subjects_erased;
        self.unconfirmed_values_dropped += other.unconfirmed_values_dropped;
        self.rights_reminders += other.rights_reminders;
        self.held_values_destroyed += other.held_values_destroyed;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Renewal,
    Notice,
    Expiry,
    LeftWithNothing,
}

const JOB: Actor = Actor::Job("retention");

impl RetentionJob {
    /// Runs every phase as of `now`; `progress` sees the running totals after each batch.
    pub fn run(
        &self,
        now: DateTime<Utc>,
        mut progress: impl FnMut(&RetentionReport),
    ) -> Result<RetentionReport, RightsError> {
        let outcome = self.run_phases(now, &mut progress);
        // Recorded at the wall clock's time (a rehearsal's `now` may be in the future), for
        // `assent doctor`; a failure to record does not hide the run's own outcome. A success is
        // waited for (the writer just worked); a failure is only queued: the writer may be what
        // failed (a lost database), and waiting on it would hang the caller.
        let (ok, at) = (outcome.is_ok(), Utc::now().naive_utc());
        let queued = self.db.writer.queue(move |tx| {
            let op = crate::db::operations::Operation::Retention;
            Ok::<_, RightsError>(crate::db::operations::record(tx.conn, op, ok, "", at)?)
        });
        let recorded = match queued {
            Ok(queued) if ok => queued.wait(),
            Ok(_) => Ok(()),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "could not record the retention run");
        }
        outcome
    }

    fn run_phases(
        &self,
        now: DateTime<Utc>,
        progress: &mut impl FnMut(&RetentionReport),
    ) -> Result<RetentionReport, RightsError> {
        let mut report = RetentionReport::default();
        let at = now.naive_utc();
        for phase in [Phase::Renewal, Phase::Notice, Phase::Expiry, Phase::LeftWithNothing] {
            self.phase(phase, at, &mut report, progress)?;
        }
        report.unconfirmed_values_dropped += self.db.writer.write_blocking(move |tx| {
            crate::services::email_change::forget_unconfirmed(tx.conn, at)?;
            Ok::<_, RightsError>(crate::db::pending::delete_expired(tx.conn, at)?)
        })?;
        report.held_values_destroyed += self.db.writer.write_blocking(move |tx| {
            let (destroyed, people) = crate::db::holds::release(tx.conn, at)?;
            for person in &people {
                // Audited per person, without anything personal: the obligation ended.
                audit_action(tx.conn, &JOB, "held_data.destroyed", Some(person), "statutory retention ended")?;
            }
            Ok::<_, RightsError>(destroyed)
        })?;
        let (keyring, mail) = (self.keyring.clone(), self.mail.clone());
        // Staff have no language of their own on record: the workspace's.
        let locale = self.catalog.default_locale();
        report.rights_reminders += self.db.writer.write_blocking(move |tx| {
            crate::services::rights_desk::remind(tx, &keyring, &mail, locale, at).map_err(RightsError::Service)
        })?;
        progress(&report);
        Ok(report)
    }

    /// One page of consents this phase may act on. Renewal and expiry page with a keyset cursor
    /// through expiry order: a consent ended but kept (its person keeps others) stays in that
    /// order, and is passed over once per run, not once per page. Reminders drain: each consent
    /// they act on leaves the query's set (its reminder anchor moves on), so they read the first
    /// page of what is due, through an index.
    fn next_page(
        &self,
        conn: &mut DbConnection,
        phase: Phase,
        now: NaiveDateTime,
        cursor: &Cursor,
    ) -> QueryResult<Vec<ConsentState>> {
        match phase {
            Phase::Renewal => {
                let max_window = self.catalog.purposes.values().map(|p| p.renewal_window_days).max().unwrap_or(0);
                let upto = now + Duration::days(max_window);
                queries::by_expiry(conn, &[ConsentStatus::Granted], upto, Some(now), cursor, self.batch)
            }
            Phase::Notice => {
                let reaching: Vec<&str> = self
                    .catalog
                    .purposes
                    .values()
                    .filter(|p| p.channel != Channel::None)
                    .map(|p| p.key.as_str())
                    .collect();
                let anchored_by = self.notice_interval.before(now.and_utc()).naive_utc();
                queries::reminders_due(conn, &reaching, anchored_by, now, self.batch)
            }
            Phase::Expiry => {
                let in_force = [ConsentStatus::Granted, ConsentStatus::Pending];
                queries::by_expiry(conn, &in_force, now, None, cursor, self.batch)
            }
            Phase::LeftWithNothing => Ok(Vec::new()),
        }
    }

    /// Whether a scanned consent may need this phase's work (the writer re-checks).
    fn needs_work(&self, phase: Phase, state: &ConsentState, now: NaiveDateTime) -> bool {
        let Some(purpose) = self.catalog.purpose(&state.purpose_key) else { return false };
        match phase {
            Phase::Renewal => state.expires_at.is_some_and(|e| {
                Retention::renewal_due(e.and_utc(), renewal_window_days(purpose.renewal_window_days), now.and_utc())
            }),
            // The query already selected consents whose reminder is due.
            Phase::Notice => purpose.channel != Channel::None && state.expires_at.is_some_and(|e| e > now),
            Phase::Expiry | Phase::LeftWithNothing => true,
        }
    }

    fn phase(
        &self,
        phase: Phase,
        now: NaiveDateTime,
        report: &mut RetentionReport,
        progress: &mut impl FnMut(&RetentionReport),
    ) -> Result<(), RightsError> {
        if phase == Phase::LeftWithNothing {
            return self.erase_left_with_nothing(now, report, progress);
        }
        let mut cursor: Cursor = None;
        loop {
            let batch = {
                let mut conn = self.db.pool.get().map_err(|_| crate::db::CommitFailed)?;
                self.next_page(&mut conn, phase, now, &cursor)?
            };
            let Some(last) = batch.last() else { return Ok(()) };
            let full = batch.len() as i64 == self.batch;
            if phase != Phase::Notice {
                cursor = queries::cursor_of(last);
            }
            // Decide in memory what needs the writer at all; most scanned consents do not.
            let candidates: Vec<ConsentState> = batch.into_iter().filter(|s| self.needs_work(phase, s, now)).collect();
            let step =
                if candidates.is_empty() { RetentionReport::default() } else { self.work(phase, candidates, now)? };
            report.add(&step);
            progress(report);
            let progressed = step != RetentionReport::default();
            // A draining phase that made no progress would read the same page again: stop.
            let more = match phase {
                Phase::Notice => progressed,
                _ => cursor.is_some(),
            };
            if !full || !more {
                return Ok(());
            }
        }
    }

    /// One batch of a phase's work, in one writer transaction.
    fn work(
        &self,
        phase: Phase,
        candidates: Vec<ConsentState>,
        now: NaiveDateTime,
    ) -> Result<RetentionReport, RightsError> {
        let (keyring, catalog, mail, interval) =
            (self.keyring.clone(), self.catalog.clone(), self.mail.clone(), self.notice_interval);
        self.db.writer.write_bulk_blocking(move |tx| {
            let door = Door { catalog: &catalog, notice_interval: interval };
            let mut step = RetentionReport::default();
            match phase {
                Phase::Renewal => {
                    for state in &candidates {
                        step.renewal_mails += ask_renewal(tx, &keyring, &door, &mail, state, now)?;
                    }
                }
                Phase::Notice => {
                    for state in &candidates {
                        step.notices += send_notice(tx, &keyring, &door, &mail, state, now)?;
                    }
                }
                Phase::Expiry => step = expire_due(tx, &door, &candidates, now)?,
                Phase::LeftWithNothing => {}
            }
            Ok::<_, RightsError>(step)
        })
    }

    /// Phase 4: people on record with no consent in force are erased, a batch at a time.
    fn erase_left_with_nothing(
        &self,
        now: NaiveDateTime,
        report: &mut RetentionReport,
        progress: &mut impl FnMut(&RetentionReport),
    ) -> Result<(), RightsError> {
        loop {
            let ids = {
                let mut conn = self.db.pool.get().map_err(|_| crate::db::CommitFailed)?;
                consent::left_with_nothing(&mut conn, self.batch)?.into_iter().map(SubjectId::from).collect::<Vec<_>>()
            };
            if ids.is_empty() {
                return Ok(());
            }
            let full = ids.len() as i64 == self.batch;
            let catalog = self.catalog.clone();
            let step = self.db.writer.write_bulk_blocking(move |tx| {
                let door = Door::new(&catalog);
                let mut states = States::load(tx.conn, &ids)?;
                let by = By::new(&JOB, Method::RetentionJob);
                let settled = erasure::settle(tx, &door, &mut states, &ids, by, now)?;
                Ok::<_, RightsError>(RetentionReport {
                    values_erased: settled.values_of_erased,
                    subjects_erased: settled.subjects.len(),
                    ..RetentionReport::default()
                })
            })?;
            report.add(&step);
            progress(report);
            if !full || step.subjects_erased == 0 {
                return Ok(());
            }
        }
    }
}

/// Phase 3: ends every due consent of the people in this batch (each re-checked inside the
/// transaction: still in force and due), so that a person whose consents all end is erased in
/// one step; then erases the values they alone justified, and the people left with nothing.
/// A few statements per batch, not per person.
pub fn expire_due(
    tx: &mut WriteTx<'_>,
    door: &Door<'_>,
    candidates: &[ConsentState],
    now: NaiveDateTime,
) -> Result<RetentionReport, RightsError> {
    let mut subject_ids: Vec<SubjectId> = candidates.iter().map(|s| s.subject_id.clone()).collect();
    subject_ids.sort();
    subject_ids.dedup();
    let mut states = States::load(tx.conn, &subject_ids)?;
    let due: Vec<(SubjectId, String, ConsentStatus)> = subject_ids
        .iter()
        .flat_map(|id| states.of(id).iter())
        .filter(|s| due_to_end(&s.standing(), now))
        .map(|s| (s.subject_id.clone(), s.purpose_key.clone(), s.status))
        .collect();
    let mut report = RetentionReport::default();
    if due.is_empty() {
        return Ok(report);
    }
    let changes: Vec<Change<'_>> = due
        .iter()
        .map(|(subject_id, purpose_key, status)| Change {
            subject_id,
            purpose_key,
            transition: ending_transition(*status),
            method: Method::RetentionJob,
            source: "retention",
            evidence: "{}",
            shown_in: None,
            occurred_at: None,
            wording: None,
        })
        .collect();
    // Whoever these changes leave with nothing is erased by `settle` below, in this transaction.
    let applied = door.apply_forgetting(tx, &mut states, &changes, Forget::LeftWithNothing, now)?;
    for (result, (_, _, status)) in applied.iter().zip(&due) {
        if result.is_ok() {
            if *status == ConsentStatus::Pending {
                report.lapsed_pending += 1;
            } else {
                report.expired += 1;
            }
        }
    }
    let settled = erasure::settle(tx, door, &mut states, &subject_ids, By::new(&JOB, Method::RetentionJob), now)?;
    report.values_erased += settled.values.len() + settled.values_of_erased;
    report.subjects_erased += settled.subjects.len();
    Ok(report)
}

/// What a run at `now` would do, without changing anything (counts).
pub fn dry_run(
    conn: &mut DbConnection,
    catalog: &Catalog,
    now: DateTime<Utc>,
    within: Duration,
) -> QueryResult<Vec<ReportLine>> {
    let at = now.naive_utc();
    let (granted, pending) = (ConsentStatus::Granted, ConsentStatus::Pending);
    let mut lines = Vec::new();
    for purpose in catalog.purposes.values() {
        let key = purpose.key.as_str();
        let window = at + Duration::days(purpose.renewal_window_days);
        lines.push(ReportLine {
            purpose: key.to_owned(),
            expire_now: queries::count_expiring(conn, key, granted, None, at)?,
            lapse_now: queries::count_expiring(conn, key, pending, None, at)?,
            renewal_window_now: queries::count_expiring(conn, key, granted, Some(at), window)?,
            expire_within: queries::count_expiring(conn, key, granted, Some(at), at + within)?,
        });
    }
    Ok(lines)
}

/// One purpose's line in `assent retention report`.
#[derive(Debug, Clone, Serialize)]
pub struct ReportLine {
    pub purpose: String,
    pub expire_now: i64,
    pub lapse_now: i64,
    pub renewal_window_now: i64,
    pub expire_within: i64,
}

/// What retention did recently, from the ledger: (action, count) for `renewed`, `expired`,
/// `notified` and `erased` events since `since`.
pub fn recent_outcomes(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<Vec<(String, i64)>> {
    let actions = [ConsentAction::Renewed, ConsentAction::Expired, ConsentAction::Notified, ConsentAction::Erased];
    queries::events_since(conn, &actions, since)
}
