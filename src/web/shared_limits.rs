//! Rate limits shared by every Assent server on one PostgreSQL database: each limit is also
//! counted in the database (`rate_windows`, fixed windows of a minute or an hour, one statement
//! per count), so N servers allow what one does. The servers' own in-memory limiters
//! (`limits::RateLimits`) answer first, so a flood from one client is turned away before it
//! reaches the database. Counted under a keyed hash of what is counted, never an address.
//! Not used on SQLite, where one server holds the database.

use std::sync::Arc;

use super::error::AppError;
use crate::crypto::Keyring;
use crate::db::{Pool, rate_windows};

/// One count: what is counted (as `limit:key`), how many a window allows, the window's length.
pub struct Count {
    pub key: String,
    pub allowed: i64,
    pub window_seconds: i64,
}

impl Count {
    pub fn per_minute(key: String, allowed: u32) -> Self {
        Self { key, allowed: i64::from(allowed), window_seconds: 60 }
    }

    pub fn per_hour(key: String, allowed: u32) -> Self {
        Self { key, allowed: i64::from(allowed), window_seconds: 3600 }
    }
}

/// The database's counters.
pub struct Shared {
    pool: Pool,
    keyring: Arc<Keyring>,
}

impl Shared {
    pub fn new(pool: Pool, keyring: Arc<Keyring>) -> Self {
        Self { pool, keyring }
    }

    /// Counts each of `counts` once; `false` if any is past what its window allows.
    pub async fn allows(&self, counts: Vec<Count>) -> Result<bool, AppError> {
        let now = chrono::Utc::now().timestamp();
        let keyed: Vec<(String, i64, i64)> = counts
            .into_iter()
            .map(|c| (self.keyring.ip_pseudonym(&format!("rate:{}", c.key)), c.allowed, now - now % c.window_seconds))
            .collect();
        let pool = self.pool.clone();
        actix_web::web::block(move || -> Result<bool, AppError> {
            let mut conn = pool.get()?;
            let mut within = true;
            for (key, allowed, window_start) in keyed {
                within &= rate_windows::hit(&mut conn, &key, window_start)?.is_none_or(|hits| hits <= allowed);
            }
            Ok(within)
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))?
    }

    /// Forgets windows more than two hours old.
    pub async fn forget_old(&self) -> Result<(), AppError> {
        let pool = self.pool.clone();
        let before = chrono::Utc::now().timestamp() - 7200;
        actix_web::web::block(move || -> Result<(), AppError> {
            rate_windows::forget_before(&mut *pool.get()?, before)?;
            Ok(())
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))?
    }
}
