//! The single writer: one thread, one connection, group commit.
//!
//! Every change Assent makes appends to the hash-chained ledger, whose head must be read and
//! advanced one event at a time. Rather than have many connections queue on that one row (and,
//! on SQLite, on the one write lock), writes are sent here: the thread takes whatever work is
//! queued (up to [`MAX_BATCH`]), runs each piece inside its own savepoint within one transaction,
//! and commits once. One fsync then covers a whole group, which is what makes durable commits
//! (`synchronous=FULL`) fast. A piece of work that fails rolls back only its own savepoint;
//! nobody is told "done" before the commit that made it durable.
//!
//! With several processes on one PostgreSQL, each has its own writer; the `UPDATE` that opens
//! every batch locks the ledger head row, so the chain stays linear across processes too.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;

use super::schema::ledger_head;
use super::wal::{WAL_MAX_FRAMES, checkpoint, checkpoint_loop, scrub_wal};
use super::{DbConnection, DbError, DbUrl};
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

/// The batch this work was in could not be committed; nothing of it was saved.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the write could not be committed; nothing was saved")]
pub struct CommitFailed;

/// The answer to [`Writer::drain`]'s no-op, whichever way its batch went.
struct Drained;

impl From<diesel::result::Error> for Drained {
    fn from(_: diesel::result::Error) -> Self {
        Self
    }
}

impl From<CommitFailed> for Drained {
    fn from(_: CommitFailed) -> Self {
        Self
    }
}

trait Job: Send {
    /// Runs the work; answers whether it failed. Alone in its batch it runs in the batch's own
    /// transaction (the batch is rolled back if it fails); beside others, in a savepoint of its
    /// own, so that its failure undoes it alone. (A savepoint makes SQLite journal every page the
    /// work first touches: for an import chunk of a thousand people, a twentieth of its time.)
    fn run(&mut self, tx: &mut WriteTx<'_>, alone: bool) -> bool;
    fn finish(self: Box<Self>, committed: bool);
}

struct Pending<F, T, E> {
    work: Option<F>,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Pending<F, T, E>
where
    F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send,
    T: Send,
    E: From<diesel::result::Error> + From<CommitFailed> + Send,
{
    fn run(&mut self, tx: &mut WriteTx<'_>, alone: bool) -> bool {
        let Some(work) = self.work.take() else { return false };
        let result = if alone { work(tx) } else { tx.savepoint(work) };
        let failed = result.is_err();
        self.result = Some(result);
        failed
    }

    fn finish(self: Box<Self>, committed: bool) {
        let outcome = match self.result {
            // Work that failed by itself was rolled back alone: its own error is the answer.
            Some(Err(e)) => Err(e),
            Some(Ok(value)) if committed => Ok(value),
            _ => Err(CommitFailed.into()),
        };
        // The caller may have gone away (client disconnected); the work is done either way.
        let _ = self.reply.send(outcome);
    }
}

/// A handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
    /// Keeps the SQLite checkpointer running while any handle exists.
    _alive: Arc<()>,
    /// Advanced after each commit, before its work is answered (see [`super::changes`]).
    generation: Arc<AtomicU64>,
    /// Cleared when the writer thread ends (it never should while a handle exists).
    running: Arc<AtomicBool>,
}

/// Clears the flag it holds when dropped: when the thread that owns it ends, however it ends.
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Writer {
    pub fn start(url: DbUrl, rights_deadline: Deadline, on_erased: Option<ErasureHook>) -> Result<Self, DbError> {
        let mut conn = url.connect()?;
        let alive = Arc::new(());
        let catch_up = Arc::new(AtomicBool::new(false));
        if url.is_sqlite() {
            // Checkpointing (copying the WAL into the database) happens on its own thread, so
            // the writer mostly only appends to the WAL and fsyncs it (see `checkpoint_loop`).
            // The writer's page cache holds a whole batch's dirty pages (128 MiB at most): when
            // they do not fit, SQLite spills them to the WAL mid-transaction and writes many
            // pages twice, which at a million people made erasure I/O-bound.
            // A WAL grown past the limit is cut back to it when SQLite starts it over: 256 MiB,
            // so that a large commit (an import's chunk writes tens of MiB) does not regrow the
            // file every time (the kernel zeroes and allocates new blocks: a tenth of an import).
            conn.batch_execute(&format!(
                "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -131072; PRAGMA journal_size_limit = {};",
                WAL_MAX_FRAMES * 4096
            ))?;
            let checkpointer = url.connect()?;
            let (weak, wanted) = (Arc::downgrade(&alive), catch_up.clone());
            std::thread::Builder::new()
                .name("assent-checkpoint".into())
                .spawn(move || checkpoint_loop(checkpointer, weak, &wanted))
                .map_err(DbError::Folder)?;
        }
        let (queue, jobs) = mpsc::channel::<Box<dyn Job>>();
        let generation = Arc::new(AtomicU64::new(0));
        let advanced = generation.clone();
        let running = Arc::new(AtomicBool::new(true));
        let guard = Running(running.clone());
        std::thread::Builder::new()
            .name("assent-writer".into())
            .spawn(move || {
                let _running = guard;
                run(url, conn, jobs, &advanced, &catch_up, rights_deadline, on_erased.as_ref());
            })
            .map_err(DbError::Folder)?;
        Ok(Self { queue, _alive: alive, generation, running })
    }

    /// Whether the writer thread is running (false only if it ended, e.g. by a panic).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// The counter this writer advances after each commit.
    pub fn generation(&self) -> Arc<AtomicU64> {
        self.generation.clone()
    }

    /// Queues `work` for the next group commit; the receiver answers once it is durable (or failed).
    fn submit<F, T, E>(&self, work: F) -> Result<oneshot::Receiver<Result<T, E>>, CommitFailed>
    where
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + From<CommitFailed> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Box::new(Pending { work: Some(work), result: None, reply })).map_err(|_| CommitFailed)?;
        Ok(answer)
    }

    /// Runs `work` in the next group commit and waits until it is durable (or failed).
    pub async fn write<F, T, E>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + From<CommitFailed> + Send + 'static,
    {
        self.submit(work)?.await.map_err(|_| CommitFailed)?
    }

    /// Waits until every write queued before this call has been committed (or has failed):
    /// the queue is first in, first out, so a no-op queued now is answered after all of them.
    pub async fn drain(&self) {
        // The outcome carries nothing: being answered at all is the point.
        let _ = self.write(|_| Ok::<(), Drained>(())).await;
    }

    /// Blocking form of [`Writer::write`] for the CLI and background jobs.
    pub fn write_blocking<F, T, E>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + From<CommitFailed> + Send + 'static,
    {
        self.queue(work)?.wait()
    }

    /// Queues `work` without waiting for it, so that the caller can prepare the next piece
    /// meanwhile (an import decides its next chunk while this one is written).
    pub fn queue<F, T, E>(&self, work: F) -> Result<Queued<T, E>, CommitFailed>
    where
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + From<CommitFailed> + Send + 'static,
    {
        Ok(Queued(self.submit(work)?))
    }
}

/// Work queued by [`Writer::queue`].
pub struct Queued<T, E>(oneshot::Receiver<Result<T, E>>);

impl<T, E: From<CommitFailed>> Queued<T, E> {
    /// Blocks until the work is durable (or failed).
    pub fn wait(self) -> Result<T, E> {
        self.0.blocking_recv().map_err(|_| CommitFailed)?
    }
}

fn run(
    url: DbUrl,
    mut conn: DbConnection,
    jobs: mpsc::Receiver<Box<dyn Job>>,
    generation: &AtomicU64,
    catch_up: &AtomicBool,
    rights_deadline: Deadline,
    on_erased: Option<&ErasureHook>,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    // Set after a commit that erased people, on SQLite: see `scrub_wal`.
    let mut scrub = false;
    while let Some(first) = next_job(&jobs, scrub) {
        // Only once the writer has been idle for a moment: never between two batches of a burst.
        if first.is_none() {
            scrub = !scrub_wal(&mut conn);
        }
        if let Some(first) = first {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let committed = commit_batch(&mut conn, &mut batch, rights_deadline);
            match &committed {
                Ok(erased) => {
                    generation.fetch_add(1, Ordering::AcqRel);
                    if let Some(hook) = on_erased.filter(|_| !erased.is_empty()) {
                        hook(erased);
                    }
                    scrub |= url.is_sqlite() && !erased.is_empty();
                }
                // A job alone that failed by itself: rolled back, and answered with its own error.
                Err(diesel::result::Error::RollbackTransaction) => {}
                Err(e) => tracing::error!(error = %e, jobs = batch.len(), "group commit failed"),
            }
            for job in batch.drain(..) {
                job.finish(committed.is_ok());
            }
            if committed.is_err() && conn.ping().is_err() {
                match reconnect(&url, &jobs) {
                    Some(fresh) => conn = fresh,
                    None => return,
                }
            }
        }
        // Between two batches nothing is being appended: copying the few frames the checkpointer
        // has not lets the next commit start the WAL over (see `checkpoint_loop`).
        if catch_up.swap(false, Ordering::AcqRel)
            && let Err(e) = checkpoint(&mut conn, "PASSIVE")
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// The next piece of work (`None` once every handle is gone); while a scrub is pending, waits at
/// most [`SCRUB_RETRY`] (`Some(None)`: nothing came, the writer is idle).
fn next_job(jobs: &mpsc::Receiver<Box<dyn Job>>, scrub: bool) -> Option<Option<Box<dyn Job>>> {
    if !scrub {
        return jobs.recv().ok().map(Some);
    }
    match jobs.recv_timeout(SCRUB_RETRY) {
        Ok(job) => Some(Some(job)),
        Err(mpsc::RecvTimeoutError::Timeout) => Some(None),
        Err(mpsc::RecvTimeoutError::Disconnected) => None,
    }
}

/// How often the writer, while idle, tries again to truncate a WAL that held erased people.
const SCRUB_RETRY: Duration = Duration::from_millis(200);

/// Runs the batch in one transaction; answers the people it erased once it committed.
fn commit_batch(
    conn: &mut DbConnection,
    batch: &mut [Box<dyn Job>],
    rights_deadline: Deadline,
) -> QueryResult<Vec<Erasure>> {
    conn.transaction(|conn| {
        // Taking the row lock first serialises ledger appends across processes (PostgreSQL).
        diesel::update(ledger_head::table.find(1i64)).set(ledger_head::seq.eq(ledger_head::seq)).execute(conn)?;
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
        Ok(erased)
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
