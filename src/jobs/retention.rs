//! Retention: nothing is kept past its purpose's period, with no human in the loop.
//!
//! A run has three phases, all as of one `now`:
//! 1. **Renewal**: each granted consent inside its purpose's renewal window gets one mail per
//!    (subject, purpose, expiry) offering Extend or Don't extend (the outbox's de-duplication
//!    key makes "once" hold across runs, crashes and processes).
//! 2. **Marketing reminders**: consents that reach people (e-mail, SMS, push) get the periodic
//!    reminder Korean law requires (정보통신망법 art. 50(8)), recorded in the ledger as
//!    `notified`.
//! 3. **Expiry**: consents past `expires_at` (unconfirmed double opt-in ones included) get an
//!    `expired` event; values no remaining purpose justifies are erased; a person left with no
//!    granted or pending purpose is erased entirely.
//!
//! Each batch is one transaction that re-checks what it acts on, so memory stays flat, a killed
//! run loses at most the batch in flight, and running again finishes the job without doing
//! anything twice.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

use crate::crypto::{Keyring, LinkKind};
use crate::db::catalog::{Catalog, PublishedPurpose};
use crate::db::consent::{self, ConsentState};
use crate::db::ledger::{self, NewEvent};
use crate::db::schema::consent_state;
use crate::db::{Db, DbConnection, WriteTx, outbox, subjects};
use crate::domain::{Channel, ConsentAction, ConsentStatus, Locale, Method, Retention};
use crate::mail::{self, MailContext, messages};
use crate::services::ServiceError;
use crate::services::links;
use crate::services::rights::{self, Actor, RightsError, live_subject};
use crate::services::submit::value_context;

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
}

impl RetentionReport {
    fn add(&mut self, other: &RetentionReport) {
        self.renewal_mails += other.renewal_mails;
        self.notices += other.notices;
        self.expired += other.expired;
        self.lapsed_pending += other.lapsed_pending;
        self.values_erased += other.values_erased;
        self.subjects_erased += other.subjects_erased;
    }
}

/// Keyset position: (expires_at or granted_at, subject, purpose).
type Cursor = Option<(NaiveDateTime, String, String)>;

fn page(
    conn: &mut DbConnection,
    statuses: &[&str],
    by_grant: bool,
    upto: NaiveDateTime,
    from: Option<NaiveDateTime>,
    after: &Cursor,
    limit: i64,
) -> QueryResult<Vec<ConsentState>> {
    let mut query = consent_state::table.filter(consent_state::status.eq_any(statuses.to_vec())).into_boxed();
    if by_grant {
        query = query.filter(consent_state::granted_at.le(upto));
    } else {
        query = query.filter(consent_state::expires_at.le(upto));
        if let Some(from) = from {
            query = query.filter(consent_state::expires_at.gt(from));
        }
    }
    if let Some((t, s, p)) = after {
        let (t, s, p) = (*t, s.clone(), p.clone());
        query = if by_grant {
            query.filter(
                consent_state::granted_at.gt(t).or(consent_state::granted_at.eq(t).and(
                    consent_state::subject_id
                        .gt(s.clone())
                        .or(consent_state::subject_id.eq(s).and(consent_state::purpose_key.gt(p))),
                )),
            )
        } else {
            query.filter(
                consent_state::expires_at.gt(t).or(consent_state::expires_at.eq(t).and(
                    consent_state::subject_id
                        .gt(s.clone())
                        .or(consent_state::subject_id.eq(s).and(consent_state::purpose_key.gt(p))),
                )),
            )
        };
    }
    let query = if by_grant {
        query.order((
            consent_state::granted_at.asc(),
            consent_state::subject_id.asc(),
            consent_state::purpose_key.asc(),
        ))
    } else {
        query.order((
            consent_state::expires_at.asc(),
            consent_state::subject_id.asc(),
            consent_state::purpose_key.asc(),
        ))
    };
    query.limit(limit).select(ConsentState::as_select()).load(conn)
}

fn cursor_of(state: &ConsentState, by_grant: bool) -> Cursor {
    let t = if by_grant { state.granted_at } else { state.expires_at };
    t.map(|t| (t, state.subject_id.clone(), state.purpose_key.clone()))
}

impl RetentionJob {
    /// Runs all three phases as of `now`; `progress` sees the running totals after each batch.
    pub fn run(
        &self,
        now: DateTime<Utc>,
        mut progress: impl FnMut(&RetentionReport),
    ) -> Result<RetentionReport, RightsError> {
        let mut report = RetentionReport::default();
        let at = now.naive_utc();
        for phase in [Phase::Renewal, Phase::Notice, Phase::Expiry] {
            self.phase(phase, at, &mut report, &mut progress)?;
        }
        Ok(report)
    }

    /// One page of consents this phase may act on. Renewal pages with a cursor through the
    /// (small) renewal window; reminders and expiry drain: each consent they act on leaves the
    /// query's set (its reminder anchor moves on, or it is no longer granted), so they always
    /// read the first page of what is due, through an index.
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
                page(conn, &["granted"], false, now + Duration::days(max_window), Some(now), cursor, self.batch)
            }
            Phase::Notice => {
                let reaching: Vec<&str> = self
                    .catalog
                    .purposes
                    .values()
                    .filter(|p| p.channel != Channel::None)
                    .map(|p| p.key.as_str())
                    .collect();
                consent_state::table
                    .filter(consent_state::status.eq(ConsentStatus::Granted.as_str()))
                    .filter(consent_state::purpose_key.eq_any(reaching))
                    .filter(consent_state::notice_anchor_at.le(self.notice_interval.before(now.and_utc()).naive_utc()))
                    .filter(consent_state::expires_at.gt(now))
                    .order(consent_state::notice_anchor_at.asc())
                    .limit(self.batch)
                    .select(ConsentState::as_select())
                    .load(conn)
            }
            Phase::Expiry => page(conn, &["granted", "pending"], false, now, None, &None, self.batch),
        }
    }

    /// Whether a scanned consent may need this phase's work (the writer re-checks).
    fn needs_work(&self, phase: Phase, state: &ConsentState, now: NaiveDateTime) -> bool {
        let Some(purpose) = self.catalog.purpose(&state.purpose_key) else { return false };
        match phase {
            Phase::Renewal => state.expires_at.is_some_and(|e| {
                Retention::renewal_due(
                    e.and_utc(),
                    u32::try_from(purpose.renewal_window_days).unwrap_or(30),
                    now.and_utc(),
                )
            }),
            // The query already selected consents whose reminder is due.
            Phase::Notice => purpose.channel != Channel::None && state.expires_at.is_some_and(|e| e > now),
            Phase::Expiry => true,
        }
    }

    fn phase(
        &self,
        phase: Phase,
        now: NaiveDateTime,
        report: &mut RetentionReport,
        progress: &mut impl FnMut(&RetentionReport),
    ) -> Result<(), RightsError> {
        let mut cursor: Cursor = None;
        loop {
            let batch = {
                let mut conn = self.db.pool.get().map_err(|_| crate::db::CommitFailed)?;
                self.next_page(&mut conn, phase, now, &cursor)?
            };
            let Some(last) = batch.last() else { return Ok(()) };
            let full = batch.len() as i64 == self.batch;
            if phase == Phase::Renewal {
                cursor = cursor_of(last, false);
            }
            // Decide in memory what needs the writer at all; most scanned consents do not.
            let candidates: Vec<ConsentState> = batch.into_iter().filter(|s| self.needs_work(phase, s, now)).collect();
            let (keyring, catalog, mail) = (self.keyring.clone(), self.catalog.clone(), self.mail.clone());
            let step = if candidates.is_empty() {
                RetentionReport::default()
            } else {
                self.db.writer.write_blocking(move |tx| {
                    let mut step = RetentionReport::default();
                    match phase {
                        Phase::Renewal => {
                            for state in &candidates {
                                step.renewal_mails += ask_renewal(tx, &keyring, &catalog, &mail, state, now)?;
                            }
                        }
                        Phase::Notice => {
                            for state in &candidates {
                                step.notices += send_notice(tx, &keyring, &catalog, &mail, state, now)?;
                            }
                        }
                        Phase::Expiry => step = expire_many(tx, &catalog, &candidates, now, Method::RetentionJob)?,
                    }
                    Ok::<_, RightsError>(step)
                })?
            };
            report.add(&step);
            progress(report);
            let progressed = step != RetentionReport::default();
            // A draining phase that made no progress would read the same page again: stop.
            let more = match phase {
                Phase::Renewal => cursor.is_some(),
                Phase::Notice | Phase::Expiry => progressed,
            };
            if !full || !more {
                return Ok(());
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Renewal,
    Notice,
    Expiry,
}

/// The state as it is now, inside the transaction, if it still has `status`.
fn current(
    conn: &mut DbConnection,
    state: &ConsentState,
    statuses: &[ConsentStatus],
) -> QueryResult<Option<ConsentState>> {
    Ok(consent::for_subject(conn, &state.subject_id)?
        .into_iter()
        .find(|s| s.purpose_key == state.purpose_key)
        .filter(|s| statuses.contains(&ConsentStatus::parse(&s.status))))
}

/// Facts for a renewal or notice mail, and where to send it.
struct Recipient {
    email: String,
    locale: Locale,
    held: Vec<String>,
}

fn recipient(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    purpose: &PublishedPurpose,
    subject_id: &str,
) -> Result<Recipient, RightsError> {
    let live = live_subject(tx.conn, keyring, subject_id)?;
    let locale = Locale::from_tag(&live.subject.locale).unwrap_or_default();
    let sealed = live.subject.email_ciphertext.as_deref().ok_or(RightsError::Erased)?;
    let email = String::from_utf8_lossy(&live.key.decrypt(sealed, &value_context(subject_id, "email"))?).into_owned();
    let mut held: Vec<String> = subjects::values_of(tx.conn, subject_id)?
        .into_iter()
        .filter(|v| v.purposes.split(' ').any(|p| p == purpose.key.as_str()))
        .map(|v| v.field_key)
        .collect();
    held.dedup();
    Ok(Recipient { email, locale, held })
}

fn day(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Phase 1: one renewal mail per (subject, purpose, expiry) inside the window.
fn ask_renewal(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    ctx: &MailContext,
    state: &ConsentState,
    now: NaiveDateTime,
) -> Result<usize, RightsError> {
    let Some(purpose) = catalog.purpose(&state.purpose_key) else { return Ok(0) };
    let Some(state) = current(tx.conn, state, &[ConsentStatus::Granted])? else { return Ok(0) };
    let Some(expires) = state.expires_at else { return Ok(0) };
    let window = u32::try_from(purpose.renewal_window_days).unwrap_or(30);
    if !Retention::renewal_due(expires.and_utc(), window, now.and_utc()) {
        return Ok(0);
    }
    let dedupe = format!("renewal:{}:{}:{}", state.subject_id, state.purpose_key, expires.and_utc().timestamp());
    if outbox::exists(tx.conn, &dedupe)? {
        return Ok(0);
    }
    let to = recipient(tx, keyring, purpose, &state.subject_id)?;
    let ttl = expires - now;
    let purposes = vec![state.purpose_key.clone()];
    let extend = links::issue_link(tx.conn, keyring, &state.subject_id, LinkKind::Renew, ttl, purposes.clone(), now)?;
    let decline =
        links::issue_link(tx.conn, keyring, &state.subject_id, LinkKind::Decline, ttl, purposes.clone(), now)?;
    let lang = to.locale.as_str();
    let (title, text) = (purpose.policy.title(), purpose.policy.text());
    let facts = messages::ConsentFacts {
        purpose: title.get(to.locale),
        wording: text.get(to.locale),
        held: &to.held,
        since: &state.granted_at.map(day).unwrap_or_default(),
        until: &day(expires),
    };
    let content = messages::renewal(
        to.locale,
        &facts,
        &format!("{}/renewal?token={extend}&lang={lang}", ctx.base_url),
        &format!("{}/renewal?token={decline}&lang={lang}", ctx.base_url),
    );
    let unsubscribe = (purpose.channel != Channel::None)
        .then(|| links::unsubscribe_url(keyring, ctx, &state.subject_id, purposes, to.locale))
        .transpose()?;
    let composed = mail::compose(ctx, &to.email, &content, unsubscribe.as_deref())
        .map_err(|e| ServiceError::Mail(e.to_string()))?;
    mail::enqueue(tx.conn, keyring, "renewal", &dedupe, Some(&state.subject_id), &composed)?;
    Ok(1)
}

/// Phase 2: the periodic marketing-consent reminder, once per elapsed interval.
fn send_notice(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    ctx: &MailContext,
    state: &ConsentState,
    now: NaiveDateTime,
) -> Result<usize, RightsError> {
    let Some(purpose) = catalog.purpose(&state.purpose_key).filter(|p| p.channel != Channel::None) else {
        return Ok(0);
    };
    let Some(state) = current(tx.conn, state, &[ConsentStatus::Granted])? else { return Ok(0) };
    let (Some(granted), Some(anchor)) = (state.granted_at, state.notice_anchor_at) else { return Ok(0) };
    // A consent ending in this very run gets no "you still agree" reminder.
    if state.expires_at.is_some_and(|e| e <= now) {
        return Ok(0);
    }
    let dedupe = format!("notice:{}:{}:{}", state.subject_id, state.purpose_key, anchor.and_utc().timestamp());
    if outbox::exists(tx.conn, &dedupe)? {
        return Ok(0);
    }
    let to = recipient(tx, keyring, purpose, &state.subject_id)?;
    let withdraw = links::unsubscribe_url(keyring, ctx, &state.subject_id, vec![state.purpose_key.clone()], to.locale)?;
    let (title, text) = (purpose.policy.title(), purpose.policy.text());
    let facts = messages::ConsentFacts {
        purpose: title.get(to.locale),
        wording: text.get(to.locale),
        held: &to.held,
        since: &day(granted),
        until: &state.expires_at.map(day).unwrap_or_default(),
    };
    let sender = ctx.from.split('<').next().unwrap_or(&ctx.from).trim();
    let content = messages::marketing_notice(to.locale, sender, &facts, &withdraw);
    let composed =
        mail::compose(ctx, &to.email, &content, Some(&withdraw)).map_err(|e| ServiceError::Mail(e.to_string()))?;
    mail::enqueue(tx.conn, keyring, "marketing_notice", &dedupe, Some(&state.subject_id), &composed)?;
    let appended = ledger::append(
        tx.conn,
        tx.head,
        &[NewEvent {
            subject_id: &state.subject_id,
            purpose_key: &state.purpose_key,
            action: ConsentAction::Notified.as_str(),
            policy_version_id: &state.policy_version_id,
            policy_text_hash: &purpose.policy.text_hash,
            method: Method::RetentionJob.as_str(),
            source: "marketing_notice",
            evidence: "{}",
            occurred_at: now,
        }],
    )?;
    let seq = appended.first().map_or(state.last_event_seq, |e| e.seq);
    // The next reminder is due one interval from now.
    consent::put(
        tx.conn,
        &ConsentState { last_event_seq: seq, updated_at: now, notice_anchor_at: Some(now), ..state },
    )?;
    Ok(1)
}

/// "Don't extend": ends one consent now and erases what it alone justified.
pub fn expire(
    tx: &mut WriteTx<'_>,
    catalog: &Catalog,
    state: &ConsentState,
    now: NaiveDateTime,
    method: Method,
) -> Result<RetentionReport, RightsError> {
    expire_many(tx, catalog, std::slice::from_ref(state), now, method)
}

/// Phase 3: ends these consents (each re-checked: still granted or pending and, for the job,
/// due), erases the values they alone justified, and erases entirely the people left with no
/// granted or pending purpose. A few statements per batch, not per person.
pub fn expire_many(
    tx: &mut WriteTx<'_>,
    catalog: &Catalog,
    candidates: &[ConsentState],
    now: NaiveDateTime,
    method: Method,
) -> Result<RetentionReport, RightsError> {
    let mut report = RetentionReport::default();
    let mut subject_ids: Vec<String> = candidates.iter().map(|s| s.subject_id.clone()).collect();
    subject_ids.sort();
    subject_ids.dedup();
    let mut states = consent::for_subjects(tx.conn, &subject_ids)?;
    let held =
        |s: &ConsentState| matches!(ConsentStatus::parse(&s.status), ConsentStatus::Granted | ConsentStatus::Pending);
    // The job takes every due consent of the people in this batch at once, so that a person
    // whose consents all end is erased in one step; "Don't extend" ends only the one it names.
    let due: Vec<usize> = if method == Method::RetentionJob {
        (0..states.len()).filter(|&i| held(&states[i]) && states[i].expires_at.is_some_and(|e| e <= now)).collect()
    } else {
        candidates
            .iter()
            .filter_map(|c| {
                states.iter().position(|s| s.subject_id == c.subject_id && s.purpose_key == c.purpose_key && held(s))
            })
            .collect()
    };
    if due.is_empty() {
        return Ok(report);
    }
    let hashes: Vec<String> = due
        .iter()
        .map(|&i| catalog.purpose(&states[i].purpose_key).map(|p| p.policy.text_hash.clone()).unwrap_or_default())
        .collect();
    let events: Vec<NewEvent<'_>> = due
        .iter()
        .zip(&hashes)
        .map(|(&i, hash)| NewEvent {
            subject_id: &states[i].subject_id,
            purpose_key: &states[i].purpose_key,
            action: ConsentAction::Expired.as_str(),
            policy_version_id: &states[i].policy_version_id,
            policy_text_hash: hash,
            method: method.as_str(),
            source: "retention",
            evidence: "{}",
            occurred_at: now,
        })
        .collect();
    let appended = ledger::append(tx.conn, tx.head, &events)?;
    for (&i, event) in due.iter().zip(&appended) {
        if ConsentStatus::parse(&states[i].status) == ConsentStatus::Pending {
            report.lapsed_pending += 1;
        } else {
            report.expired += 1;
        }
        let state = &mut states[i];
        state.status = ConsentStatus::Expired.as_str().to_owned();
        state.expires_at = None;
        state.notice_anchor_at = None;
        state.updated_at = now;
        state.last_event_seq = event.seq;
    }
    // People left with nothing are erased whole; the others lose what no purpose justifies.
    // (Sets, not scans: a batch holds thousands of people.)
    let holding: HashSet<&str> = states.iter().filter(|s| held(s)).map(|s| s.subject_id.as_str()).collect();
    let (kept, gone): (Vec<String>, Vec<String>) =
        subject_ids.iter().cloned().partition(|id| holding.contains(id.as_str()));
    for &i in &due {
        if holding.contains(states[i].subject_id.as_str()) {
            consent::put(tx.conn, &states[i])?;
        }
    }
    report.values_erased += rights::erase_unneeded_many(tx.conn, &kept)?.len();
    if !gone.is_empty() {
        report.values_erased += subjects::value_purposes_of(tx.conn, &gone)?.len();
        let live = subjects::live_among(tx.conn, &gone)?;
        let live_set: HashSet<&str> = live.iter().map(String::as_str).collect();
        let theirs: Vec<ConsentState> =
            states.iter().filter(|s| live_set.contains(s.subject_id.as_str())).cloned().collect();
        rights::erase_many_with(tx, &live, &theirs, &Actor::Job("retention"), Method::RetentionJob, now)?;
        report.subjects_erased += live.len();
    }
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
    let mut lines = Vec::new();
    for purpose in catalog.purposes.values() {
        let key = purpose.key.as_str();
        let count = |conn: &mut DbConnection,
                     status: &str,
                     from: Option<NaiveDateTime>,
                     upto: NaiveDateTime|
         -> QueryResult<i64> {
            let mut q = consent_state::table
                .filter(consent_state::purpose_key.eq(key))
                .filter(consent_state::status.eq(status.to_owned()))
                .filter(consent_state::expires_at.le(upto))
                .into_boxed();
            if let Some(from) = from {
                q = q.filter(consent_state::expires_at.gt(from));
            }
            q.count().get_result(conn)
        };
        lines.push(ReportLine {
            purpose: key.to_owned(),
            expire_now: count(conn, "granted", None, at)?,
            lapse_now: count(conn, "pending", None, at)?,
            renewal_window_now: count(conn, "granted", Some(at), at + Duration::days(purpose.renewal_window_days))?,
            expire_within: count(conn, "granted", Some(at), at + within)?,
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
    use crate::db::schema::consent_events;
    ["renewed", "expired", "notified", "erased"]
        .into_iter()
        .map(|action| {
            let n = consent_events::table
                .filter(consent_events::action.eq(action))
                .filter(consent_events::occurred_at.ge(since))
                .count()
                .get_result(conn)?;
            Ok((action.to_owned(), n))
        })
        .collect()
}
