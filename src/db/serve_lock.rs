//! Who may use a database right now: every `serve` holds a shared lock on it for as long as it
//! runs, and `assent restore` takes the same lock exclusively, so it never replaces or
//! reconciles a database under a running server (nor does a server start mid-restore).
//!
//! SQLite: an OS file lock (`flock`) on `PATH.lock` beside the database file, released by the
//! kernel when the process dies. PostgreSQL: a session advisory lock (shared for servers,
//! exclusive for a restore) on a connection kept open for the purpose, released if the process
//! dies; it covers servers on every machine that shares the database.

use diesel::prelude::*;
use std::path::PathBuf;

use super::{DbError, DbUrl};

/// Held while it lives.
pub struct ServeLock {
    /// Never read: holding the file (or the session) is the lock.
    _file: Option<std::fs::File>,
    _session: Option<diesel::PgConnection>,
}

diesel::define_sql_function!(fn pg_try_advisory_lock_shared(key: diesel::sql_types::BigInt) -> diesel::sql_types::Bool);
diesel::define_sql_function!(fn pg_try_advisory_lock(key: diesel::sql_types::BigInt) -> diesel::sql_types::Bool);

/// The advisory lock's key: the first 60 bits of SHA-256 of `assent-serve`.
fn key() -> i64 {
    let digest = crate::crypto::sha256_hex(b"assent-serve");
    i64::from_str_radix(&digest[..15], 16).unwrap_or(0x0a55_e47e)
}

/// The lock file of an SQLite database.
pub fn lock_path(sqlite_path: &str) -> PathBuf {
    PathBuf::from(format!("{sqlite_path}.lock"))
}

impl ServeLock {
    /// For `serve`: `None` while a restore holds the database.
    pub fn shared(url: &DbUrl) -> Result<Option<Self>, DbError> {
        Self::take(url, false)
    }

    /// For `assent restore`: `None` while any server (or another restore) holds it.
    pub fn exclusive(url: &DbUrl) -> Result<Option<Self>, DbError> {
        Self::take(url, true)
    }

    fn take(url: &DbUrl, exclusive: bool) -> Result<Option<Self>, DbError> {
        match url {
            DbUrl::Sqlite(path) => {
                let lock = lock_path(path);
                if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock)?;
                let taken = if exclusive { file.try_lock() } else { file.try_lock_shared() };
                match taken {
                    Ok(()) => Ok(Some(Self { _file: Some(file), _session: None })),
                    Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                    Err(std::fs::TryLockError::Error(e)) => Err(DbError::Folder(e)),
                }
            }
            DbUrl::Postgres(pg) => {
                let mut conn = diesel::PgConnection::establish(pg)?;
                let held: bool = if exclusive {
                    diesel::select(pg_try_advisory_lock(key())).get_result(&mut conn)?
                } else {
                    diesel::select(pg_try_advisory_lock_shared(key())).get_result(&mut conn)?
                };
                Ok(held.then_some(Self { _file: None, _session: Some(conn) }))
            }
        }
    }
}
