//! Knowing whether the database may have changed since a moment: what lets a cache of reads be
//! exact rather than merely recent.
//!
//! [`Changes::stamp`] hands out a number; two equal stamps mean that no write was committed in
//! between by this process's writer, nor (as far as the watcher has looked) by anyone else. The
//! stamp is a counter, read with one atomic load, so asking costs nothing on the hot path:
//!
//! - This process's writer advances it after each commit, before anyone is told the write is
//!   done: a change made through this server is seen at once.
//! - A watcher thread advances it when another process commits:
//!   - **SQLite**: it reads `PRAGMA data_version` on a connection of its own every
//!     [`LISTEN_POLL`]; SQLite changes it whenever any *other* connection commits (this
//!     process's writer, or `assent apply`, `assent retention run` on the same file). Asking
//!     reads SQLite's shared-memory WAL index; there is no I/O.
//!   - **PostgreSQL**: it listens on [`CHANNEL`], which a trigger (migration 8) notifies from
//!     each transaction that changes `subjects`, `consent_state` or `api_keys`, another
//!     (migration 9) from each that changes the catalogue, and another (migration 20) from each
//!     that changes `external_ids`, whoever commits it; it collects notifications every
//!     [`LISTEN_POLL`].
//!
//! So another process's commit is seen within a few milliseconds. While the watcher cannot
//! follow (its connection was lost) there is no stamp, and callers read the database.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{Db, DbConnection, DbError, DbUrl};

/// The PostgreSQL notification channel the change trigger sends on.
pub const CHANNEL: &str = "assent_changed";

/// The listener connection's `application_name` (as `pg_stat_activity` shows it).
pub const LISTENER_NAME: &str = "assent-listener";

/// How often the watcher looks: the SQLite one reads `data_version`, the PostgreSQL listener
/// collects notifications (a non-blocking read of its socket).
pub const LISTEN_POLL: Duration = Duration::from_millis(2);

/// How often the listener proves its connection alive with a round trip, so that a connection
/// lost without a word (a network failure) switches the cache off within this long.
const LISTEN_HEARTBEAT: Duration = Duration::from_secs(1);

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct Changes(Arc<Inner>);

struct Inner {
    /// Shared with the writer, which advances it after each commit.
    generation: Arc<AtomicU64>,
    /// Whether the watcher is following other processes' commits.
    following: AtomicBool,
}

impl Inner {
    /// Another commit was seen (or may have been missed): nothing stamped before is trusted.
    fn advance(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

impl Changes {
    /// Starts watching `db`: starts the watcher thread, which ends when the last clone of the
    /// returned value is dropped. On SQLite the watching connection is opened here (so a file
    /// that cannot be opened fails now) and the stamp is on from the start.
    pub fn watch(db: &Db) -> Result<Self, DbError> {
        let inner = Arc::new(Inner { generation: db.writer.generation(), following: AtomicBool::new(false) });
        let weak = Arc::downgrade(&inner);
        let spawned = match &db.url {
            DbUrl::Sqlite(_) => {
                let DbConnection::Sqlite(mut conn) = db.url.connect()? else {
                    unreachable!("an SQLite URL opens an SQLite connection")
                };
                let seen = data_version(&mut conn)?;
                inner.following.store(true, Ordering::Release);
                std::thread::Builder::new().name("assent-changes".into()).spawn(move || poll_sqlite(conn, seen, weak))
            }
            url => {
                let url = url.clone();
                std::thread::Builder::new().name("assent-listener".into()).spawn(move || listen(url, weak))
            }
        };
        spawned.map_err(DbError::Folder)?;
        Ok(Self(inner))
    }

    /// Whether the watcher follows other processes' commits now (on PostgreSQL: its listener is
    /// connected).
    pub fn following(&self) -> bool {
        self.0.following.load(Ordering::Acquire)
    }

    /// The current stamp, or `None` when changes cannot be followed right now (then nothing
    /// may be answered from a cache).
    pub fn stamp(&self) -> Option<u64> {
        self.following().then(|| self.0.generation.load(Ordering::Acquire))
    }
}

/// The SQLite watcher: advances the generation whenever `data_version` moved. A failed read
/// switches the stamp off until one succeeds again (which advances it: a commit may have been
/// missed meanwhile).
fn poll_sqlite(mut conn: diesel::SqliteConnection, mut seen: u64, inner: Weak<Inner>) {
    loop {
        std::thread::sleep(LISTEN_POLL);
        let Some(inner) = inner.upgrade() else { return };
        match data_version(&mut conn) {
            Ok(now) => {
                let was_following = inner.following.load(Ordering::Acquire);
                if now != seen || !was_following {
                    seen = now;
                    inner.advance();
                }
                if !was_following {
                    inner.following.store(true, Ordering::Release);
                }
            }
            Err(e) => {
                if inner.following.swap(false, Ordering::AcqRel) {
                    tracing::warn!(error = %e, "cannot read the database's change counter; the consent cache is off");
                }
            }
        }
    }
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

fn data_version(conn: &mut diesel::SqliteConnection) -> QueryResult<u64> {
    let row: DataVersion = diesel::sql_query("PRAGMA data_version").get_result(conn)?;
    Ok(row.data_version as u64)
}

/// The PostgreSQL listener: connects, listens, and advances the generation on each notification;
/// reconnects (with back-off) when the connection is lost, switching the stamp off meanwhile.
fn listen(url: DbUrl, inner: Weak<Inner>) {
    let mut delay = Duration::from_millis(100);
    loop {
        match listening_connection(&url) {
            Ok(mut conn) => {
                delay = Duration::from_millis(100);
                match follow(&mut conn, &inner) {
                    Followed::Dropped => return,
                    Followed::Lost(e) => {
                        tracing::warn!(error = %e, "lost the change listener's connection; reconnecting")
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot start the change listener; retrying"),
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(5));
        if inner.strong_count() == 0 {
            return;
        }
    }
}

fn listening_connection(url: &DbUrl) -> Result<diesel::PgConnection, DbError> {
    match url.connect()? {
        DbConnection::Postgres(mut conn) => {
            conn.batch_execute(&format!("SET application_name = '{LISTENER_NAME}'; LISTEN {CHANNEL};"))?;
            Ok(conn)
        }
        DbConnection::Sqlite(_) => unreachable!("the listener runs on PostgreSQL only"),
    }
}

enum Followed {
    /// Nobody holds the [`Changes`] any more.
    Dropped,
    Lost(diesel::result::Error),
}

fn follow(conn: &mut diesel::PgConnection, inner: &Weak<Inner>) -> Followed {
    // Everything committed before `LISTEN` took effect is unknown to this generation's readers:
    // advance it before turning the stamp on, so nothing cached earlier is trusted.
    let step = |up: bool| {
        let Some(inner) = inner.upgrade() else { return false };
        if up {
            inner.advance();
        }
        inner.following.store(up, Ordering::Release);
        true
    };
    if !step(true) {
        return Followed::Dropped;
    }
    let mut heartbeat = Instant::now();
    loop {
        std::thread::sleep(LISTEN_POLL);
        let Some(strong) = inner.upgrade() else { return Followed::Dropped };
        let mut heard = false;
        let mut lost = None;
        for notification in conn.notifications_iter() {
            match notification {
                Ok(_) => heard = true,
                Err(e) => {
                    lost = Some(e);
                    break;
                }
            }
        }
        if lost.is_none() && heartbeat.elapsed() >= LISTEN_HEARTBEAT {
            heartbeat = Instant::now();
            lost = conn.batch_execute("SELECT 1").err();
        }
        if heard {
            strong.advance();
        }
        // Notifications missed while the connection was down are covered by the advance that
        // comes with the next `LISTEN`.
        if let Some(e) = lost {
            step(false);
            return Followed::Lost(e);
        }
    }
}
