//! Creating and checking API keys.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::QueryResult;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::crypto::{random_bytes, sha256_hex};
use crate::db::DbConnection;
use crate::db::api_keys::{self, NewApiKey};
use crate::db::changes::Changes;
use crate::domain::scopes::Scopes;

const PREFIX: &str = "assent_";

/// A new key: its id, and the secret shown exactly once.
pub struct CreatedKey {
    pub id: String,
    pub secret: String,
}

/// A new key that may do what `scopes` allow; it stops working at `expires_at` if one is given
/// (else when revoked). `created_by`: the console account making it (its keys end when it is
/// disabled).
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    expires_at: Option<NaiveDateTime>,
    scopes: Scopes,
    created_by: Option<&str>,
) -> QueryResult<CreatedKey> {
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
            expires_at,
            scopes: &scopes.to_text(),
            created_by,
        },
    )?;
    Ok(CreatedKey { id, secret })
}

/// The hash a presented key is stored under, or `None` if it cannot be a key at all.
fn stored_hash(presented: &str) -> Option<String> {
    (presented.starts_with(PREFIX) && presented.len() <= 128).then(|| sha256_hex(presented.as_bytes()))
}

/// How long a key found live is trusted without asking the database again, once the database
/// has changed since (see [`KeyCache`]).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// Keys recently found live (by hash), so that hot read paths such as the consent check do not
/// query for the key on every request. An entry is trusted while the database's change stamp
/// ([`crate::db::changes::Changes`]) is the one it was found under, since then no revocation
/// can have been committed; once anything has been committed, for [`KEY_CACHE_TTL`] after it was
/// found. A key revoked through this process is forgotten at once; one revoked elsewhere (the CLI,
/// another server on the same database) moves the stamp, and stops working at the latest
/// [`KEY_CACHE_TTL`] after it was last found live. Unknown and revoked keys are never cached, and
/// neither is a key found by a look-up during which anything was committed or a key forgotten:
/// the look-up may have read it just before its revocation.
#[derive(Default)]
pub struct KeyCache {
    live: RwLock<HashMap<String, Live>>,
    /// Advanced by [`KeyCache::forget_all`]: a look-up that began before cannot cache its answer.
    forgotten: std::sync::atomic::AtomicU64,
    /// The day each key was last recorded as used by this process.
    used: std::sync::Mutex<HashMap<String, NaiveDate>>,
}

/// A live key: its id and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveKey {
    pub id: String,
    pub scopes: Scopes,
}

struct Live {
    key: LiveKey,
    found_at: Instant,
    stamp: Option<u64>,
    expires_at: Option<NaiveDateTime>,
}

/// Keys remembered at most; past it the cache starts again (a workspace has a handful of keys).
const KEY_CACHE_MAX: usize = 1024;

impl KeyCache {
    /// The live key matching `presented`, if any; answered from the cache while the entry can be
    /// trusted. `stamp` is the change stamp taken before this call, if any; `changes` says
    /// whether anything was committed while the database was asked.
    pub fn authenticate(
        &self,
        conn: &mut DbConnection,
        presented: &str,
        stamp: Option<u64>,
        changes: &Changes,
    ) -> QueryResult<Option<LiveKey>> {
        use std::sync::atomic::Ordering;
        let Some(hash) = stored_hash(presented) else { return Ok(None) };
        if let Some(key) = self.trusted(&hash, stamp) {
            return Ok(Some(key));
        }
        let forgotten = self.forgotten.load(Ordering::Acquire);
        let found = api_keys::find_live(conn, &hash, Utc::now().naive_utc())?
            .map(|(id, expires_at, scopes)| (LiveKey { id, scopes: Scopes::from_stored(&scopes) }, expires_at));
        let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
        // Taken under the lock `forget_all` also takes: a revocation either came before this
        // check (and the answer is not kept) or clears the entry after it.
        let still = self.forgotten.load(Ordering::Acquire) == forgotten && changes.stamp() == stamp;
        match &found {
            Some((key, expires_at)) if still => {
                if live.len() >= KEY_CACHE_MAX {
                    live.clear();
                }
                let entry = Live { key: key.clone(), found_at: Instant::now(), stamp, expires_at: *expires_at };
                live.insert(hash, entry);
            }
            Some(_) => {}
            None => {
                live.remove(&hash);
            }
        }
        Ok(found.map(|(key, _)| key))
    }

    /// The key if the cache can vouch for it without asking the database.
    pub fn cached(&self, presented: &str, stamp: Option<u64>) -> Option<LiveKey> {
        self.trusted(&stored_hash(presented)?, stamp)
    }

    fn trusted(&self, hash: &str, stamp: Option<u64>) -> Option<LiveKey> {
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        let entry = live.get(hash)?;
        let unchanged = stamp.is_some() && entry.stamp == stamp;
        let expired = entry.expires_at.is_some_and(|at| at <= Utc::now().naive_utc());
        (!expired && (unchanged || entry.found_at.elapsed() < KEY_CACHE_TTL)).then(|| entry.key.clone())
    }

    /// Whether this is the key's first use today in this process (its use is then recorded).
    pub fn first_use_today(&self, id: &str, today: NaiveDate) -> bool {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if used.get(id) == Some(&today) {
            return false;
        }
        used.insert(id.to_owned(), today);
        true
    }

    /// Forgets every key (after a revocation).
    pub fn forget_all(&self) {
        let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
        self.forgotten.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        live.clear();
    }
}
