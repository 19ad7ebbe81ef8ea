//! Access records, off the hot path: a request hands its record to [`AccessLog::record`] (it is
//! added to a queue under a mutex: no IO, and no thread woken), and the `assent-access` thread,
//! which sleeps until the oldest queued record is due, writes whatever has queued as **one**
//! piece of writer work at least every [`FLUSH_INTERVAL`], sooner when [`MAX_QUEUED`] records
//! wait, and at shutdown ([`AccessLog::flush`]). So the consent check never waits for a write, and
//! a crash loses at most the records of the last second, which were not yet committed.
//!
//! Identical accesses (the same actor, IP pseudonym, person, action and route) within the same
//! UTC second are written as **one** record that says how many there were (`times`) and when the
//! first and the last was. Every access stays accounted for, while a client checking the same
//! few people thousands of times a second writes a few hundred rows a second, not tens of
//! thousands.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use tokio::sync::oneshot;

use crate::db::access::{self as stored, NewAccess};
use crate::db::{CommitFailed, DbConnection, Writer};
use crate::domain::Retention;
use crate::domain::access::{AccessAction, ActorKind};
use crate::domain::tree_head::{AccessHead, TreeFault, TreeHead, check_access_heads};

/// The longest a record waits in memory before it is written.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Records written together at the most; more queued than this are written at once.
pub const MAX_QUEUED: usize = 20_000;

/// How long access records are kept at least (개인정보의 안전성 확보조치 기준 art. 8(1)): two
/// years, the default and the minimum of `ASSENT_ACCESS_RETENTION`.
pub const MIN_RETENTION: Retention = Retention::months(24);

/// Records pruned per piece of writer work.
const PRUNE_BATCH: i64 = 10_000;

/// Who accessed, as recorded.
#[derive(Debug, Clone)]
pub struct Accessor {
    pub kind: ActorKind,
    /// The console account's or the API key's id (never an address).
    pub id: String,
    pub ip_pseudonym: Option<String>,
}

/// A handle to the access-record thread; cheap to clone. When the last one is dropped the
/// thread writes what is left and ends.
#[derive(Clone)]
pub struct AccessLog(Arc<Handle>);

/// Closes the queue when the last [`AccessLog`] goes.
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.wake.notify_one();
    }
}

/// What requests and the thread share.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the thread: asked to flush, the queue is full, or closed.
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
struct Queue {
    batch: Batch,
    /// When the oldest queued record must be written.
    due: Option<Instant>,
    /// Callers of [`AccessLog::flush`] waiting for what was queued before them.
    flushes: Vec<oneshot::Sender<()>>,
    closed: bool,
}

impl Queue {
    /// Whether the thread must write now.
    fn ready(&self, now: Instant) -> bool {
        self.closed || !self.flushes.is_empty() || self.batch.len() >= MAX_QUEUED || self.due.is_some_and(|d| now >= d)
    }
}

impl AccessLog {
    pub fn start(writer: Writer) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        std::thread::Builder::new().name("assent-access".into()).spawn(move || run(&writer, &theirs))?;
        Ok(Self(Arc::new(Handle(shared))))
    }

    fn push(&self, records: impl IntoIterator<Item = NewAccess>) {
        let shared = &self.0.0;
        let mut queue = shared.lock();
        records.into_iter().for_each(|one| queue.batch.push(one));
        // The first record of a batch starts the thread's clock (it sleeps without one while the
        // queue is empty): one wake-up a batch, not one a record.
        let first = queue.due.is_none() && !queue.batch.is_empty();
        if first {
            queue.due = Some(Instant::now() + FLUSH_INTERVAL);
        }
        let full = queue.batch.len() >= MAX_QUEUED;
        drop(queue);
        if first || full {
            shared.wake.notify_one();
        }
    }

    /// Queues one record: `who` did `action` to `subject_id`'s data (`None`: nobody named, e.g.
    /// a consent check for an unknown address) through the route `path` (its template).
    pub fn record(&self, who: &Accessor, action: AccessAction, subject_id: Option<&str>, path: &str) {
        self.push([entry(who, action, subject_id, path, Utc::now().naive_utc())]);
    }

    /// Queues one record per person.
    pub fn record_each<'a>(
        &self,
        who: &Accessor,
        action: AccessAction,
        subject_ids: impl IntoIterator<Item = &'a str>,
        path: &str,
    ) {
        let at = Utc::now().naive_utc();
        self.push(subject_ids.into_iter().map(|s| entry(who, action, Some(s), path, at)));
    }

    /// Writes everything queued before this call and waits until it is committed (shutdown,
    /// tests).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        self.0.0.lock().flushes.push(done);
        self.0.0.wake.notify_one();
        let _ = wait.await;
    }
}

fn entry(who: &Accessor, action: AccessAction, subject_id: Option<&str>, path: &str, at: NaiveDateTime) -> NewAccess {
    NewAccess {
        occurred_at: at,
        actor_kind: who.kind.as_str(),
        actor_id: who.id.clone(),
        ip_pseudonym: who.ip_pseudonym.clone(),
        subject_id: subject_id.map(str::to_owned),
        action: action.as_str(),
        path: path.to_owned(),
        times: 1,
        last_at: None,
    }
}

/// What makes two accesses identical, down to the UTC second they happened in.
type Identity<'a> = (i64, &'static str, &'a str, Option<&'a str>, Option<&'a str>, &'static str, &'a str);

fn identity(one: &NewAccess) -> Identity<'_> {
    let NewAccess { occurred_at, actor_kind, actor_id, ip_pseudonym, subject_id, action, path, .. } = one;
    let second = occurred_at.and_utc().timestamp();
    (second, actor_kind, actor_id, ip_pseudonym.as_deref(), subject_id.as_deref(), action, path)
}

/// Records waiting to be written, identical accesses within one second folded into the first.
/// The table holds positions in `records`, found by their identity's hash and compared field by
/// field: folding an access (the common case under load) copies nothing, under the queue's lock.
#[derive(Default)]
struct Batch {
    records: Vec<NewAccess>,
    slots: hashbrown::HashTable<usize>,
    hasher: std::hash::RandomState,
}

impl Batch {
    fn push(&mut self, one: NewAccess) {
        use std::hash::BuildHasher;
        let (records, hasher) = (&mut self.records, &self.hasher);
        let hash = hasher.hash_one(identity(&one));
        match self.slots.find(hash, |&at| identity(&records[at]) == identity(&one)) {
            Some(&at) => {
                let first = &mut records[at];
                let last = one.last_at.unwrap_or(one.occurred_at);
                first.times += one.times;
                first.last_at = Some(first.last_at.unwrap_or(first.occurred_at).max(last));
            }
            None => {
                self.slots.insert_unique(hash, records.len(), |&at| hasher.hash_one(identity(&records[at])));
                records.push(one);
            }
        }
    }

    fn len(&self) -> usize {
        self.records.len()
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn take(&mut self) -> Vec<NewAccess> {
        self.slots.clear();
        std::mem::take(&mut self.records)
    }

    /// Puts `older` (a batch that could not be written) before what is queued.
    fn prepend(&mut self, older: Vec<NewAccess>) {
        let newer = self.take();
        older.into_iter().chain(newer).for_each(|one| self.push(one));
    }
}

/// Sleeps until the oldest queued record has waited [`FLUSH_INTERVAL`] (or enough are queued, or
/// a flush is asked for), then writes the queue in one piece of writer work. Ends when the last
/// handle is gone, after writing what is left.
fn run(writer: &Writer, shared: &Shared) {
    loop {
        let mut queue = shared.lock();
        while !queue.ready(Instant::now()) {
            queue = match queue.due {
                None => shared.wake.wait(queue).unwrap_or_else(|e| e.into_inner()),
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    shared.wake.wait_timeout(queue, left).unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
        let records = queue.batch.take();
        let flushes = std::mem::take(&mut queue.flushes);
        let closed = queue.closed;
        queue.due = None;
        drop(queue);
        if let Some(kept) = write(writer, records) {
            let mut queue = shared.lock();
            queue.batch.prepend(kept);
            queue.due = Some(Instant::now() + FLUSH_INTERVAL);
        }
        for done in flushes {
            let _ = done.send(());
        }
        if closed {
            return;
        }
    }
}

/// Writes the records; on failure gives back what to retry (up to a bound, past which the
/// oldest are dropped, loudly: memory must not grow without end while the database is down).
fn write(writer: &Writer, records: Vec<NewAccess>) -> Option<Vec<NewAccess>> {
    if records.is_empty() {
        return None;
    }
    let records = Arc::new(records);
    let shared = records.clone();
    let written = writer.write_blocking(move |tx| -> Result<(), Failed> { Ok(stored::append(tx.conn, &shared)?) });
    let e = written.err()?;
    let mut kept = Arc::try_unwrap(records).unwrap_or_else(|r| (*r).clone());
    let excess = kept.len().saturating_sub(10 * MAX_QUEUED);
    kept.drain(..excess);
    tracing::error!(error = %e, kept = kept.len(), dropped = excess, "could not write access records; retrying");
    Some(kept)
}

/// Why a batch of access records was not written.
#[derive(Debug, thiserror::Error)]
enum Failed {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Commit(#[from] CommitFailed),
}

/// Deletes the records older than `retention` (never less than [`MIN_RETENTION`]) at `now`, in
/// pieces of writer work of [`PRUNE_BATCH`]; the anchor keeps the chain verifiable. Returns how
/// many were deleted.
pub fn prune(writer: &Writer, retention: Retention, now: chrono::DateTime<Utc>) -> anyhow::Result<i64> {
    let before = retention.before(now).min(MIN_RETENTION.before(now)).naive_utc();
    let mut total = 0;
    loop {
        let deleted = writer
            .write_blocking(move |tx| -> Result<i64, Failed> { Ok(stored::prune(tx.conn, before, PRUNE_BATCH)?) })?;
        total += deleted;
        if deleted < PRUNE_BATCH {
            return Ok(total);
        }
    }
}

/// The oldest time a pruned record may have at `now` (verification's bound).
pub fn oldest_prunable(now: chrono::DateTime<Utc>) -> NaiveDateTime {
    MIN_RETENTION.before(now).naive_utc()
}

/// The access records' size and chain head hash, as a v2 tree head commits to them (read in the
/// signing transaction).
pub fn head_for_signing(conn: &mut DbConnection) -> diesel::QueryResult<AccessHead> {
    let tip = stored::head(conn)?;
    Ok(AccessHead { size: u64::try_from(tip.seq).unwrap_or_default(), hash: tip.hash })
}

/// How much older than the head that preceded it a record may be (it waited in the queue, or
/// for a writer that was retrying).
const QUEUE_SLACK: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Checks every v2 head against the access records held now (see [`check_access_heads`]), and
/// that pruning took nothing a recent head says came after it: records after a head's size were
/// written after it was signed, so a head signed less than the minimum retention ago whose size
/// is below the pruning anchor means records younger than that were deleted (an anchor moved
/// with a back-dated time).
pub fn check_heads(conn: &mut DbConnection, heads: &[TreeHead]) -> diesel::QueryResult<Result<(), TreeFault>> {
    let anchor = stored::head(conn)?.anchor;
    let bound = oldest_prunable(Utc::now()) + QUEUE_SLACK;
    for head in heads {
        let Some(access) = &head.access else { continue };
        if i64::try_from(access.size).unwrap_or(i64::MAX) < anchor.seq && head.signed_at > bound {
            return Ok(Err(TreeFault::AccessPrunedEarly { size: head.size, access: access.size }));
        }
    }
    let seqs: Vec<i64> =
        heads.iter().filter_map(|h| h.access.as_ref()).filter_map(|a| i64::try_from(a.size).ok()).collect();
    let (last, found) = stored::hashes_at(conn, &seqs)?;
    let found: std::collections::HashMap<u64, String> =
        found.into_iter().filter_map(|(seq, hash)| Some((u64::try_from(seq).ok()?, hash))).collect();
    Ok(check_access_heads(heads, u64::try_from(last).unwrap_or_default(), |seq| found.get(&seq).cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn check(subject: &str, secs: i64, micros: u32) -> NewAccess {
        let who = Accessor { kind: ActorKind::ApiKey, id: "key-1".into(), ip_pseudonym: Some("ip".into()) };
        let at = DateTime::from_timestamp(secs, micros * 1000).unwrap().naive_utc();
        entry(&who, AccessAction::ConsentCheck, Some(subject), "/api/v1/consents", at)
    }

    #[test]
    fn identical_accesses_within_a_second_are_one_record_with_a_count() {
        let mut batch = Batch::default();
        for one in [check("a", 10, 1), check("b", 10, 2), check("a", 10, 900_000), check("a", 11, 5), check("a", 10, 3)]
        {
            batch.push(one);
        }
        let records = batch.take();
        let summary: Vec<_> = records
            .iter()
            .map(|r| (r.subject_id.as_deref().unwrap(), r.occurred_at.and_utc().timestamp_micros(), r.times, r.last_at))
            .collect();
        let micros = |secs: i64, us: u32| DateTime::from_timestamp(secs, us * 1000).unwrap().naive_utc();
        assert_eq!(
            summary,
            [("a", 10_000_001, 3, Some(micros(10, 900_000))), ("b", 10_000_002, 1, None), ("a", 11_000_005, 1, None),]
        );
        // Another second, actor or action is another record; a taken batch starts afresh.
        assert!(batch.is_empty());
        batch.push(check("a", 10, 1));
        assert_eq!(batch.len(), 1);
    }

    #[test]
    fn folding_still_finds_each_record_after_the_table_grows() {
        let mut batch = Batch::default();
        let subjects: Vec<String> = (0..1000).map(|n| format!("s{n}")).collect();
        for round in 0..3 {
            subjects.iter().for_each(|s| batch.push(check(s, 20, round)));
        }
        let records = batch.take();
        assert_eq!(records.len(), 1000);
        assert!(records.iter().all(|r| r.times == 3), "every access folded into its first");
    }
}
