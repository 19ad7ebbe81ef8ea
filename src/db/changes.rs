//! Knowing whether the database may have changed since a moment: what lets a cache of reads be
//! exact rather than merely recent.
//!
//! [`Changes::stamp`] hands out a number (the generation); two equal stamps mean that nothing
//! that could change a cached answer was committed in between, as far as this process can know.
//! [`Changes::person_stamp`] is finer, for entries about one person: it stays good across
//! commits that touched only other people (see [`super::change_log`]). Asking costs an atomic
//! load (and a read lock for the person stamp), so it costs nothing on the hot path:
//!
//! - This process's writer tells what each commit touched, after the commit and before anyone
//!   is told the write is done, so a change made through this server is seen at once:
//!   - **SQLite**: the database tells it, through triggers of the writer's own connection
//!     (`db::touched`): the people a commit wrote, or "everything" for any table a cache reads
//!     that is not about one person (the catalogue, API keys).
//!   - **PostgreSQL**: the database tells it too, through statement triggers that collect the
//!     people each statement wrote in the writer connection's temporary table
//!     (`db::touched_pg`, migration 36).
//! - Other processes' commits advance the generation:
//!   - **SQLite**: the writer thread reads `PRAGMA data_version` on its own connection every
//!     [`LISTEN_POLL`] while idle, and inside each batch once it holds the write lock; SQLite
//!     changes it whenever *another* connection commits (`assent apply`, `assent retention
//!     run` on the same file), never for the connection's own commits. There is no I/O.
//!   - **PostgreSQL**: a thread listens on [`CHANNEL`], on which triggers notify, whoever
//!     commits: the people each statement wrote to `subjects`, `consent_state`, `external_ids`,
//!     `hold_keys` or `held_values` (migration 36: their subject ids and blind indexes, which
//!     mark only those people), and "anything" for `api_keys` (migration 8) and the catalogue
//!     (migration 9). It collects notifications every [`LISTEN_POLL`], passing over the ones
//!     this process's own writer sent (told already).
//!
//! So another process's commit is seen within a few milliseconds. While it cannot be followed
//! (the listener's connection was lost, `data_version` cannot be read) there is no stamp, and
//! callers read the database.

use diesel::connection::SimpleConnection;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::change_log::{ChangeLog, PersonStamp};
use super::{Db, DbConnection, DbError, DbUrl};

/// The PostgreSQL notification channel the change trigger sends on.
pub const CHANNEL: &str = "assent_changed";

/// The listener connection's `application_name` (as `pg_stat_activity` shows it).
pub const LISTENER_NAME: &str = "assent-listener";

/// How often other processes' commits are looked for: the SQLite writer reads `data_version`
/// while idle, the PostgreSQL listener collects notifications (a non-blocking read of its socket).
pub const LISTEN_POLL: Duration = Duration::from_millis(2);

/// How often the listener proves its connection alive with a round trip, so that a connection
/// lost without a word (a network failure) switches the cache off within this long.
const LISTEN_HEARTBEAT: Duration = Duration::from_secs(1);

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct Changes(Arc<ChangeLog>);

impl Changes {
    /// Follows `db`'s changes: on PostgreSQL starts the listener thread, which ends once the
    /// last clone of the returned value and the writer are gone. On SQLite the writer follows
    /// them itself.
    pub fn watch(db: &Db) -> Result<Self, DbError> {
        let log = db.writer.change_log();
        if !db.url.is_sqlite() {
            let (url, weak) = (db.url.clone(), Arc::downgrade(&log));
            std::thread::Builder::new()
                .name("assent-listener".into())
                .spawn(move || listen(url, weak))
                .map_err(DbError::Folder)?;
        }
        Ok(Self(log))
    }

    /// Whether other processes' commits are followed now (on PostgreSQL: its listener is
    /// connected).
    pub fn following(&self) -> bool {
        self.0.following.load(Ordering::Acquire)
    }

    /// The current stamp, or `None` when changes cannot be followed right now (then nothing
    /// may be answered from a cache).
    pub fn stamp(&self) -> Option<u64> {
        self.following().then(|| self.0.generation())
    }

    /// The current stamp for an entry about one person (see [`Changes::unchanged`]).
    pub fn person_stamp(&self) -> Option<PersonStamp> {
        self.following().then(|| self.0.person_stamp())
    }

    /// Whether what was read about the person with this address (and this subject, if one was
    /// found) under `stamp` is still what the database holds.
    pub fn unchanged(&self, stamp: PersonStamp, email: &[u8], subject: Option<&str>) -> bool {
        self.following() && self.0.unchanged(stamp, Some(email), subject)
    }

    /// Whether what was read about this subject (by its id alone) under `stamp` is still what
    /// the database holds.
    pub fn subject_unchanged(&self, stamp: PersonStamp, subject: &str) -> bool {
        self.following() && self.0.unchanged(stamp, None, Some(subject))
    }
}

#[cfg(test)]
impl Changes {
    /// A record followed as a writer follows it, for the tests of what reads it.
    pub fn followed() -> Self {
        let log = Arc::new(ChangeLog::default());
        log.following.store(true, Ordering::Release);
        Self(log)
    }

    pub fn log(&self) -> &ChangeLog {
        &self.0
    }
}

/// The PostgreSQL listener: connects, listens, and advances the generation on each notification;
/// reconnects (with back-off) when the connection is lost, switching the stamp off meanwhile.
fn listen(url: DbUrl, inner: Weak<ChangeLog>) {
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

fn follow(conn: &mut diesel::PgConnection, inner: &Weak<ChangeLog>) -> Followed {
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
        let own = strong.writer_backend.load(Ordering::Acquire);
        let mut lost = None;
        for notification in conn.notifications_iter() {
            match notification {
                // This process's writer told its own commits before answering anyone.
                Ok(n) if own != 0 && n.process_id == own => {}
                Ok(n) => strong.committed(super::touched_pg::heard(&n.payload)),
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
        // Notifications missed while the connection was down are covered by the advance that
        // comes with the next `LISTEN`.
        if let Some(e) = lost {
            step(false);
            return Followed::Lost(e);
        }
    }
}
