//! Creating and checking API keys.

use chrono::Utc;
use diesel::QueryResult;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::crypto::{random_bytes, sha256_hex};
use crate::db::DbConnection;
use crate::db::api_keys::{self, NewApiKey};

const PREFIX: &str = "assent_";

/// A new key: its id, and the secret shown exactly once.
pub struct CreatedKey {
    pub id: String,
    pub secret: String,
}

pub fn create(conn: &mut DbConnection, name: &str) -> QueryResult<CreatedKey> {
    use base64::Engine as _;
    let secret = format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()));
    let id = uuid::Uuid::new_v4().to_string();
    api_keys::insert(
        conn,
        &NewApiKey {
            id: &id,
            name,
            prefix: &secret[..PREFIX.len() + 6],
            key_hash: &sha256_hex(secret.as_bytes()),
            created_at: Utc::now().naive_utc(),
        },
    )?;
    Ok(CreatedKey { id, secret })
}

/// The id of the live key matching `presented`, if any.
pub fn authenticate(conn: &mut DbConnection, presented: &str) -> QueryResult<Option<String>> {
    match stored_hash(presented) {
        Some(hash) => api_keys::find_live(conn, &hash),
        None => Ok(None),
    }
}

/// The hash a presented key is stored under, or `None` if it cannot be a key at all.
fn stored_hash(presented: &str) -> Option<String> {
    (presented.starts_with(PREFIX) && presented.len() <= 128).then(|| sha256_hex(presented.as_bytes()))
}

/// How long a key found live is trusted without asking the database again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// Keys recently found live (by hash), so that hot read paths such as the consent check do not
/// query for the key on every request. A key revoked through this process is forgotten at once;
/// one revoked elsewhere (the CLI, another server on the same PostgreSQL) stops working within
/// [`KEY_CACHE_TTL`]. Unknown and revoked keys are never cached: each attempt asks the database.
#[derive(Default)]
pub struct KeyCache {
    live: RwLock<HashMap<String, (String, Instant)>>,
}

/// Keys remembered at most; past it the cache starts again (a workspace has a handful of keys).
const KEY_CACHE_MAX: usize = 1024;

impl KeyCache {
    /// [`authenticate`], answered from the cache while the entry is fresh.
    pub fn authenticate(&self, conn: &mut DbConnection, presented: &str) -> QueryResult<Option<String>> {
        let Some(hash) = stored_hash(presented) else { return Ok(None) };
        if let Some(id) = self.fresh(&hash) {
            return Ok(Some(id));
        }
        let found = api_keys::find_live(conn, &hash)?;
        let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
        match &found {
            Some(id) => {
                if live.len() >= KEY_CACHE_MAX {
                    live.clear();
                }
                live.insert(hash, (id.clone(), Instant::now()));
            }
            None => {
                live.remove(&hash);
            }
        }
        Ok(found)
    }

    /// The key's id if it was found live less than [`KEY_CACHE_TTL`] ago, without asking the
    /// database.
    pub fn cached(&self, presented: &str) -> Option<String> {
        self.fresh(&stored_hash(presented)?)
    }

    fn fresh(&self, hash: &str) -> Option<String> {
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        live.get(hash).filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL).map(|(id, _)| id.clone())
    }

    /// Forgets every key (after a revocation).
    pub fn forget_all(&self) {
        self.live.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
