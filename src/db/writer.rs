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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;

use super::schema::ledger_head;
use super::{DbConnection, DbError, DbUrl};

/// The most pieces of work committed together.
pub const MAX_BATCH: usize = 256;

/// The tip of the ledger as seen inside the current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerHead {
    pub seq: i64,
    pub hash: String,
}

/// What a piece of work gets: the connection (inside its savepoint) and the ledger head.
pub struct WriteTx<'a> {
    pub conn: &'a mut DbConnection,
    pub head: &'a mut LedgerHead,
}

impl WriteTx<'_> {
    /// Runs `work` inside its own savepoint: if it fails, its rows and its ledger events are
    /// undone and the rest of the group commit goes on.
    pub fn savepoint<T, E>(&mut self, work: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        let WriteTx { conn, head } = self;
        let before = head.clone();
        let result = conn.transaction(|conn| work(&mut WriteTx { conn, head }));
        if result.is_err() {
            **head = before;
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
    fn run(&mut self, tx: &mut WriteTx<'_>);
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
    fn run(&mut self, tx: &mut WriteTx<'_>) {
        let Some(work) = self.work.take() else { return };
        self.result = Some(tx.savepoint(work));
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
}

impl Writer {
    pub fn start(url: DbUrl) -> Result<Self, DbError> {
        let mut conn = url.connect()?;
        let alive = Arc::new(());
        if url.is_sqlite() {
            // Checkpointing (copying the WAL into the database) happens on its own thread, so
            // the writer only appends to the WAL and fsyncs it.
            // The writer's page cache holds a whole batch's dirty pages (128 MiB at most): when
            // they do not fit, SQLite spills them to the WAL mid-transaction and writes many
            // pages twice, which at a million people made erasure I/O-bound.
            conn.batch_execute("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -131072;")?;
            let checkpointer = url.connect()?;
            let weak = Arc::downgrade(&alive);
            std::thread::Builder::new()
                .name("assent-checkpoint".into())
                .spawn(move || checkpoint_loop(checkpointer, weak))
                .map_err(DbError::Folder)?;
        }
        let (queue, jobs) = mpsc::channel::<Box<dyn Job>>();
        let generation = Arc::new(AtomicU64::new(0));
        let advanced = generation.clone();
        std::thread::Builder::new()
            .name("assent-writer".into())
            .spawn(move || run(url, conn, jobs, &advanced))
            .map_err(DbError::Folder)?;
        Ok(Self { queue, _alive: alive, generation })
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
        self.submit(work)?.blocking_recv().map_err(|_| CommitFailed)?
    }
}

fn run(url: DbUrl, mut conn: DbConnection, jobs: mpsc::Receiver<Box<dyn Job>>, generation: &AtomicU64) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = commit_batch(&mut conn, &mut batch);
        match &committed {
            Ok(()) => {
                generation.fetch_add(1, Ordering::AcqRel);
            }
            Err(e) => tracing::error!(error = %e, jobs = batch.len(), "group commit failed"),
        }
        for job in batch.drain(..) {
            job.finish(committed.is_ok());
        }
        if committed.is_err() && conn.ping().is_err() {
            conn = reconnect(&url);
        }
    }
}

fn commit_batch(conn: &mut DbConnection, batch: &mut [Box<dyn Job>]) -> QueryResult<()> {
    conn.transaction(|conn| {
        // Taking the row lock first serialises ledger appends across processes (PostgreSQL).
        diesel::update(ledger_head::table.find(1i64)).set(ledger_head::seq.eq(ledger_head::seq)).execute(conn)?;
        let (seq, hash) =
            ledger_head::table.find(1i64).select((ledger_head::seq, ledger_head::hash)).first::<(i64, String)>(conn)?;
        let mut head = LedgerHead { seq, hash };
        let start = head.clone();
        for job in batch.iter_mut() {
            job.run(&mut WriteTx { conn, head: &mut head });
        }
        if head != start {
            diesel::update(ledger_head::table.find(1i64))
                .set((ledger_head::seq.eq(head.seq), ledger_head::hash.eq(&head.hash)))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Copies the WAL into the database every second without blocking the writer (PASSIVE), until
/// the last writer handle is gone.
fn checkpoint_loop(mut conn: DbConnection, alive: std::sync::Weak<()>) {
    while alive.strong_count() > 0 {
        std::thread::sleep(Duration::from_secs(1));
        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

fn reconnect(url: &DbUrl) -> DbConnection {
    let mut delay = Duration::from_millis(100);
    loop {
        match url.connect() {
            Ok(conn) => return conn,
            Err(e) => {
                tracing::error!(error = %e, "writer lost its database connection; retrying");
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
