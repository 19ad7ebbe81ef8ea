//! The single writer: one thread, one connection, group commit.
//!
//! Every change Assent makes appends to the hash-chained ledger, whose head must be read and
//! advanced one event at a time. Rather than have many connections queue on that one row (and,
//! on SQLite, on the one write lock), writes are sent here: the thread takes whatever work is
//! queued (up to [`MAX_BATCH`](super::write_loop::MAX_BATCH)), runs each piece inside its own
//! savepoint within one transaction, and commits once. One fsync then covers a whole group,
//! which is what makes durable commits (`synchronous=FULL`) fast. A piece of work that fails
//! rolls back only its own savepoint; nobody is told "done" before the commit that made it
//! durable.
//!
//! With several processes on one PostgreSQL, each has its own writer; the `UPDATE` that opens
//! every batch locks the ledger head row, so the chain stays linear across processes too.

use diesel::connection::SimpleConnection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

use super::change_log::ChangeLog;
use super::wal::{WAL_MAX_FRAMES, checkpoint_loop};
use super::write_loop::{ErasureHook, Job, WriteTx, run};
use super::{DbError, DbUrl};
use crate::domain::rights::Deadline;

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
struct Pending<F, T, E> {
    work: Option<F>,
    /// Bulk work (see [`Writer::queue_bulk`]).
    bulk: bool,
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

    fn bulk(&self) -> bool {
        self.bulk
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
    /// Told what each commit touched, before its work is answered (see [`super::changes`]).
    log: Arc<ChangeLog>,
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
            // The writer's page cache holds a whole batch's dirty pages (80 MiB at most): when
            // they do not fit, SQLite spills them to the WAL mid-transaction and writes many
            // pages twice, which at a million people made erasure I/O-bound. The largest batch
            // measured, an import's chunk at a million people, dirties some 17 000 pages (68 MiB);
            // 128 MiB bought nothing over 96 but memory, and 80 measured as 96 did (an import of a
            // million rows 101-105 s either way, retention alike) with 15-20 MiB less at the
            // import's peak, which issue 16 bounds at 300 MiB.
            // A WAL grown past the limit is cut back to it when SQLite starts it over: 256 MiB,
            // so that a large commit (an import's chunk writes tens of MiB) does not regrow the
            // file every time (the kernel zeroes and allocates new blocks: a tenth of an import).
            conn.batch_execute(&format!(
                "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -81920; PRAGMA journal_size_limit = {};",
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
        let log = Arc::new(ChangeLog::default());
        // On SQLite this thread follows other processes' commits itself (see `touched`).
        log.following.store(url.is_sqlite(), Ordering::Release);
        let told = log.clone();
        let running = Arc::new(AtomicBool::new(true));
        let guard = Running(running.clone());
        std::thread::Builder::new()
            .name("assent-writer".into())
            .spawn(move || {
                let _running = guard;
                run(url, conn, jobs, &told, &catch_up, rights_deadline, on_erased.as_ref());
            })
            .map_err(DbError::Folder)?;
        Ok(Self { queue, _alive: alive, log, running })
    }

    /// Whether the writer thread is running (false only if it ended, e.g. by a panic).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// The record this writer tells what each commit touched.
    pub fn change_log(&self) -> Arc<ChangeLog> {
        self.log.clone()
    }

    /// Queues `work` for the next group commit; the receiver answers once it is durable (or failed).
    fn submit<F, T, E>(&self, work: F, bulk: bool) -> Result<oneshot::Receiver<Result<T, E>>, CommitFailed>
    where
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + From<CommitFailed> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Box::new(Pending { work: Some(work), bulk, result: None, reply })).map_err(|_| CommitFailed)?;
        Ok(answer)
    }

    /// Runs `work` in the next group commit and waits until it is durable (or failed).
    pub async fn write<F, T, E>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + From<CommitFailed> + Send + 'static,
    {
        self.submit(work, false)?.await.map_err(|_| CommitFailed)?
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
        Ok(Queued(self.submit(work, false)?))
    }

    /// Queues bulk work: work that writes more people than per-person marks are worth (an
    /// import's chunk, a retention batch). A batch of nothing but bulk work runs without the
    /// SQLite change triggers (every row they see costs a line and a statement journal: a fifth
    /// of an import's time) and counts as touching everything, which is as exact.
    pub fn queue_bulk<F, T, E>(&self, work: F) -> Result<Queued<T, E>, CommitFailed>
    where
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + From<CommitFailed> + Send + 'static,
    {
        Ok(Queued(self.submit(work, true)?))
    }

    /// Blocking form of [`Writer::queue_bulk`].
    pub fn write_bulk_blocking<F, T, E>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + From<CommitFailed> + Send + 'static,
    {
        self.queue_bulk(work)?.wait()
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
