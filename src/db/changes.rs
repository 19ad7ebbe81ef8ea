//! Knowing whether the database may have changed since a moment: what lets a cache of reads be
//! exact rather than merely recent.
//!
//! [`Changes::stamp`] hands out a number; two equal stamps mean that no write was committed in
//! between, by this process or any other.
//!
//! - **SQLite**: the stamp is `PRAGMA data_version` on a connection of its own, which SQLite
//!   changes whenever any *other* connection commits: this process's writer, or another process
//!   on the same file (`assent apply`, `assent retention run`). Asking reads SQLite's
//!   shared-memory WAL index; there is no I/O.
//! - **PostgreSQL**: the stamp is a counter. This process's writer advances it after each commit,
//!   before anyone is told the write is done; a listener thread advances it on every
//!   `assent_changed` notification, which a trigger (migration 8) sends from each transaction that
//!   changes `subjects`, `consent_state` or `api_keys`, and another (migration 9) from each that
//!   changes the catalogue (purposes, forms and their versions), whoever commits it. A commit by another process is
//!   therefore seen once its notification arrives (the listener looks every
//!   [`LISTEN_POLL`]). While the listener is not connected there is no stamp, and callers read
//!   the database.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::{Db, DbConnection, DbError, DbUrl};

/// The PostgreSQL notification channel the change trigger sends on.
pub const CHANNEL: &str = "assent_changed";

/// The listener connection's `application_name` (as `pg_stat_activity` shows it).
pub const LISTENER_NAME: &str = "assent-listener";

/// How often the PostgreSQL listener collects notifications (a non-blocking read of its socket).
pub const LISTEN_POLL: Duration = Duration::from_millis(2);

/// How often the listener proves its connection alive with a round trip, so that a connection
/// lost without a word (a network failure) switches the cache off within this long.
const LISTEN_HEARTBEAT: Duration = Duration::from_secs(1);

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct Changes(Arc<Inner>);

enum Inner {
    Sqlite(Mutex<diesel::SqliteConnection>),
    Postgres {
        /// Shared with the writer, which advances it after each commit.
        generation: Arc<AtomicU64>,
        /// Whether the listener is connected and listening.
        listening: AtomicBool,
    },
}

impl Changes {
    /// Starts watching `db`: on SQLite opens the watching connection; on PostgreSQL starts the
    /// listener thread, which ends when the last clone of the returned value is dropped.
    pub fn watch(db: &Db) -> Result<Self, DbError> {
        match &db.url {
            DbUrl::Sqlite(_) => match db.url.connect()? {
                DbConnection::Sqlite(conn) => Ok(Self(Arc::new(Inner::Sqlite(Mutex::new(conn))))),
                DbConnection::Postgres(_) => unreachable!("an SQLite URL opens an SQLite connection"),
            },
            url => {
                let inner =
                    Arc::new(Inner::Postgres { generation: db.writer.generation(), listening: AtomicBool::new(false) });
                let (url, weak) = (url.clone(), Arc::downgrade(&inner));
                std::thread::Builder::new()
                    .name("assent-listener".into())
                    .spawn(move || listen(url, weak))
                    .map_err(DbError::Folder)?;
                Ok(Self(inner))
            }
        }
    }

    /// The current stamp, or `None` when changes cannot be followed right now (then nothing
    /// may be answered from a cache).
    pub fn stamp(&self) -> Option<u64> {
        match &*self.0 {
            Inner::Sqlite(conn) => {
                let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                data_version(&mut conn).ok()
            }
            Inner::Postgres { generation, listening } => {
                listening.load(Ordering::Acquire).then(|| generation.load(Ordering::Acquire))
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
        if let Inner::Postgres { generation, listening } = &*inner {
            if up {
                generation.fetch_add(1, Ordering::AcqRel);
            }
            listening.store(up, Ordering::Release);
        }
        true
    };
    if !step(true) {
        return Followed::Dropped;
    }
    let mut heartbeat = Instant::now();
    loop {
        std::thread::sleep(LISTEN_POLL);
        let Some(strong) = inner.upgrade() else { return Followed::Dropped };
        let Inner::Postgres { generation, .. } = &*strong else { return Followed::Dropped };
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
            generation.fetch_add(1, Ordering::AcqRel);
        }
        // Notifications missed while the connection was down are covered by the advance that
        // comes with the next `LISTEN`.
        if let Some(e) = lost {
            step(false);
            return Followed::Lost(e);
        }
    }
}
