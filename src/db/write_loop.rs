//! The writer thread: what a piece of work gets ([`WriteTx`]), and the loop that takes queued
//! work in batches, runs each batch in one transaction, tells the change log what it touched and
//! answers everyone once it committed (see [`super::writer`]).

use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use super::change_log::{ChangeLog, Touched};
use super::changes::LISTEN_POLL;
use super::schema::ledger_head;
use super::touched::{self, Tracker};
use super::touched_pg;
use super::wal::{checkpoint, scrub_wal};
use super::{DbConnection, DbUrl};
use crate::domain::rights::Deadline;

/// The most pieces of work committed together.
pub const MAX_BATCH: usize = 256;

/// The tip of the ledger as seen inside the current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerHead {
    pub seq: i64,
    pub hash: String,
}

/// What a piece of work gets: the connection (inside its savepoint), the ledger head, and the
/// deadline regime this server was configured with (`ASSENT_RIGHTS_DEADLINE`), so that every
/// rights request recorded here falls due under it.
pub struct WriteTx<'a> {
    pub conn: &'a mut DbConnection,
    pub head: &'a mut LedgerHead,
    pub rights_deadline: Deadline,
    /// The people this work erased: told to the [`ErasureHook`] once the commit is durable.
    pub erased: &'a mut Vec<Erasure>,
}

/// A person erased by a committed piece of work (an id and a time: nothing personal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub subject_id: String,
    pub at: chrono::NaiveDateTime,
}

/// Called by the writer thread after each commit that erased someone, before anyone is answered:
/// the erasure journal kept outside the database, and the file mailer's clean-up. Its failures
/// are its own to report (the commit stands).
pub type ErasureHook = Arc<dyn Fn(&[Erasure]) + Send + Sync>;

impl WriteTx<'_> {
    /// Runs `work` inside its own savepoint: if it fails, its rows and its ledger events are
    /// undone and the rest of the group commit goes on.
    pub fn savepoint<T, E>(&mut self, work: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        let WriteTx { conn, head, rights_deadline, erased } = self;
        let (before, erased_before) = (head.clone(), erased.len());
        let rights_deadline = *rights_deadline;
        let result = conn.transaction(|conn| work(&mut WriteTx { conn, head, rights_deadline, erased }));
        if result.is_err() {
            **head = before;
            erased.truncate(erased_before);
        }
        result
    }
}

pub(super) trait Job: Send {
    /// Runs the work; answers whether it failed. Alone in its batch it runs in the batch's own
    /// transaction (the batch is rolled back if it fails); beside others, in a savepoint of its
    /// own, so that its failure undoes it alone. (A savepoint makes SQLite journal every page the
    /// work first touches: for an import chunk of a thousand people, a twentieth of its time.)
    fn run(&mut self, tx: &mut WriteTx<'_>, alone: bool) -> bool;
    /// Bulk work ([`super::Writer::queue_bulk`]).
    fn bulk(&self) -> bool;
    fn finish(self: Box<Self>, committed: bool);
}

pub(super) fn run(
    url: DbUrl,
    conn: DbConnection,
    jobs: mpsc::Receiver<Box<dyn Job>>,
    log: &ChangeLog,
    catch_up: &AtomicBool,
    rights_deadline: Deadline,
    on_erased: Option<&ErasureHook>,
) {
    let tracker = url.is_sqlite().then(Tracker::default);
    let mut w = Writing { conn, tracker, scrub: false, idle: Instant::now() };
    w.collect_pg(log);
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    // On SQLite the thread wakes while idle to look for other processes' commits.
    let poll = url.is_sqlite().then_some(LISTEN_POLL);
    while let Some(first) = next_job(&jobs, poll) {
        let Some(first) = first else {
            w.idle(log);
            continue;
        };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // What it touched is told before anyone is answered.
        let committed = commit_batch(&mut w, &mut batch, rights_deadline, log).map(|(erased, touched)| {
            log.committed(touched);
            erased
        });
        match &committed {
            Ok(erased) => {
                if let Some(hook) = on_erased.filter(|_| !erased.is_empty()) {
                    hook(erased);
                }
                w.scrub |= url.is_sqlite() && !erased.is_empty();
            }
            // A job alone that failed by itself: rolled back, and answered with its own error.
            Err(diesel::result::Error::RollbackTransaction) => {}
            Err(e) => tracing::error!(error = %e, jobs = batch.len(), "group commit failed"),
        }
        for job in batch.drain(..) {
            job.finish(committed.is_ok());
        }
        if committed.is_err() && w.conn.ping().is_err() {
            match reconnect(&url, &jobs) {
                Some(fresh) => w.connected(fresh, log),
                None => return,
            }
        }
        w.between_batches(catch_up);
    }
}

/// The writer thread's own state between batches.
struct Writing {
    conn: DbConnection,
    /// SQLite only: what the triggers tell about each commit, and other processes' commits.
    tracker: Option<Tracker>,
    /// Set after a commit that erased people, on SQLite: see `scrub_wal`.
    scrub: bool,
    /// When the last batch ended (or the last scrub was tried).
    idle: Instant,
}

impl Writing {
    /// Nothing came for a moment: look for other processes' commits, and scrub the WAL once the
    /// writer has been idle for [`SCRUB_RETRY`] (never between two batches of a burst).
    fn idle(&mut self, log: &ChangeLog) {
        if let (Some(tracker), DbConnection::Sqlite(conn)) = (self.tracker.as_mut(), &mut self.conn) {
            match tracker.look(conn, log) {
                Ok(()) => {
                    if !log.following.swap(true, Ordering::AcqRel) {
                        log.advance();
                    }
                }
                Err(e) => {
                    if log.following.swap(false, Ordering::AcqRel) {
                        tracing::warn!(error = %e, "cannot read the database's change counter; the consent cache is off");
                    }
                }
            }
        }
        if self.scrub && self.idle.elapsed() >= SCRUB_RETRY {
            self.scrub = !scrub_wal(&mut self.conn);
            self.idle = Instant::now();
        }
    }

    /// Between two batches nothing is being appended: copying the few frames the checkpointer
    /// has not lets the next commit start the WAL over (see `checkpoint_loop`).
    fn between_batches(&mut self, catch_up: &AtomicBool) {
        if catch_up.swap(false, Ordering::AcqRel)
            && let Err(e) = checkpoint(&mut self.conn, "PASSIVE")
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
        self.idle = Instant::now();
    }

    /// A new connection: what was installed on the old one is gone, and commits may have been
    /// missed meanwhile.
    fn connected(&mut self, fresh: DbConnection, log: &ChangeLog) {
        self.conn = fresh;
        if let Some(tracker) = self.tracker.as_mut() {
            tracker.reset();
        }
        self.collect_pg(log);
        log.advance();
    }

    /// On PostgreSQL: makes the connection collect what each commit touches, and tells the
    /// listener which server process's notifications are this writer's own.
    fn collect_pg(&mut self, log: &ChangeLog) {
        if let DbConnection::Postgres(conn) = &mut self.conn {
            let pid = touched_pg::prepare(conn);
            log.writer_backend.store(pid.unwrap_or(0), Ordering::Release);
        }
    }
}

/// The next piece of work (`None` once every handle is gone); with `poll`, waits at most that
/// long (`Some(None)`: nothing came, the writer is idle).
fn next_job(jobs: &mpsc::Receiver<Box<dyn Job>>, poll: Option<Duration>) -> Option<Option<Box<dyn Job>>> {
    let Some(poll) = poll else {
        return jobs.recv().ok().map(Some);
    };
    match jobs.recv_timeout(poll) {
        Ok(job) => Some(Some(job)),
        Err(mpsc::RecvTimeoutError::Timeout) => Some(None),
        Err(mpsc::RecvTimeoutError::Disconnected) => None,
    }
}

/// How often the writer, while idle, tries again to truncate a WAL that held erased people.
const SCRUB_RETRY: Duration = Duration::from_millis(200);

/// Runs the batch in one transaction; answers the people it erased, and what it touched (as
/// the triggers tell: `touched` on SQLite, `touched_pg` on PostgreSQL; bulk work is
/// everything), once it committed.
fn commit_batch(
    w: &mut Writing,
    batch: &mut [Box<dyn Job>],
    rights_deadline: Deadline,
    log: &ChangeLog,
) -> QueryResult<(Vec<Erasure>, Touched)> {
    let (conn, mut tracker) = (&mut w.conn, w.tracker.as_mut());
    let bulk = batch.iter().all(|job| job.bulk());
    // PostgreSQL: the connection collects what its statements touch (`touched_pg`).
    let pg_collects = log.writer_backend.load(Ordering::Acquire) != 0;
    let (collects, skips) = (pg_collects && !bulk, pg_collects && bulk);
    if let (Some(tracker), DbConnection::Sqlite(c)) = (tracker.as_deref_mut(), &mut *conn) {
        if bulk {
            tracker.suspend(c);
        } else {
            tracker.prepare(c);
        }
    }
    conn.transaction(|conn| {
        // Taking the row lock first serialises ledger appends across processes (PostgreSQL).
        diesel::update(ledger_head::table.find(1i64)).set(ledger_head::seq.eq(ledger_head::seq)).execute(conn)?;
        if let (true, DbConnection::Postgres(c)) = (skips, &mut *conn) {
            touched_pg::skip(c)?;
        }
        // Holding the write lock now, on SQLite: another process's commit before it is seen here.
        let tracked = match (tracker, &mut *conn) {
            (Some(tracker), DbConnection::Sqlite(c)) => Some(tracker.begin(c, log).unwrap_or_else(|_| {
                log.advance();
                false
            })),
            _ => None,
        };
        let (seq, hash) =
            ledger_head::table.find(1i64).select((ledger_head::seq, ledger_head::hash)).first::<(i64, String)>(conn)?;
        let mut head = LedgerHead { seq, hash };
        let start = head.clone();
        let mut erased = Vec::new();
        let alone = batch.len() == 1;
        for job in batch.iter_mut() {
            let failed = job.run(&mut WriteTx { conn, head: &mut head, rights_deadline, erased: &mut erased }, alone);
            if failed && alone {
                // Its own failure, with no savepoint to undo it: undo the batch (it is all of it).
                return Err(diesel::result::Error::RollbackTransaction);
            }
        }
        if head != start {
            diesel::update(ledger_head::table.find(1i64))
                .set((ledger_head::seq.eq(head.seq), ledger_head::hash.eq(&head.hash)))
                .execute(conn)?;
        }
        let touched = match (tracked, &mut *conn) {
            (Some(tracked), DbConnection::Sqlite(c)) => touched::collect(c, tracked).unwrap_or(Touched::Everything),
            (_, DbConnection::Postgres(c)) if collects => touched_pg::collect(c)?,
            _ => Touched::Everything,
        };
        Ok((erased, touched))
    })
}

/// Connects again after the connection was lost. Nothing waits behind a connection that may not
/// come back: work that arrives meanwhile fails at once (its callers answer 503, or retry), and
/// once every handle is gone (the process is stopping) the writer stops trying (`None`).
fn reconnect(url: &DbUrl, jobs: &mpsc::Receiver<Box<dyn Job>>) -> Option<DbConnection> {
    let mut delay = Duration::from_millis(100);
    loop {
        match url.connect() {
            Ok(conn) => return Some(conn),
            Err(e) => {
                tracing::error!(error = %e, "writer lost its database connection; retrying");
                let until = std::time::Instant::now() + delay;
                loop {
                    let left = until.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match jobs.recv_timeout(left) {
                        Ok(job) => job.finish(false),
                        Err(mpsc::RecvTimeoutError::Timeout) => break,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                    }
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
