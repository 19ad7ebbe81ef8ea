//! Reads about one person, kept between requests while nothing about that person has changed:
//! the preference center's sessions (by the cookie's hash) and its page's data (by subject).
//!
//! An entry is exact by the same marks as the consent cache's ([`crate::db::changes`]): the
//! database itself tells which people each commit wrote (`db::touched`, `db::touched_pg`), on
//! every table the page reads (the person, values, consent states and ledger events, external
//! id, rights requests, holds, sessions), so a page read before a change is never shown after
//! it: this process's commits are told before anyone is answered, other processes' within
//! milliseconds of being seen. Nothing is kept while those changes cannot be followed.
//!
//! The page's data is decrypted personal data: entries live at most [`PersonCache::new`]'s
//! `ttl` and are swept every few seconds once changed ([`PersonCache::sweep`]), so an erased
//! person's data does not stay in memory after the erasure.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::db::change_log::PersonStamp;
use crate::db::changes::Changes;

/// Entries kept by key; see the module documentation.
pub struct PersonCache<V> {
    changes: Changes,
    ttl: Duration,
    max: usize,
    entries: RwLock<HashMap<String, Entry<V>>>,
}

struct Entry<V> {
    stamp: PersonStamp,
    read_at: Instant,
    subject: String,
    value: Arc<V>,
}

impl<V> PersonCache<V> {
    /// Entries live at most `ttl`; past `max` of them the changed and old ones go, and if that
    /// is not enough, all.
    pub fn new(changes: Changes, ttl: Duration, max: usize) -> Self {
        Self { changes, ttl, max, entries: RwLock::default() }
    }

    /// The moment a read starts: taken before it, given to [`PersonCache::put`] after it.
    pub fn stamp(&self) -> Option<PersonStamp> {
        self.changes.person_stamp()
    }

    /// The value kept under `key`, if nothing about its person has been committed since it
    /// was read.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        self.exact(entry, Instant::now()).then(|| entry.value.clone())
    }

    /// Keeps `value`, read about `subject` under `stamp` (nothing is kept without one).
    pub fn put(&self, key: String, stamp: Option<PersonStamp>, subject: &str, value: Arc<V>) {
        let Some(stamp) = stamp else { return };
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.max {
            let now = Instant::now();
            entries.retain(|_, e| self.exact(e, now));
            if entries.len() >= self.max {
                entries.clear();
            }
        }
        entries.insert(key, Entry { stamp, read_at: Instant::now(), subject: subject.to_owned(), value });
    }

    /// Drops every entry that is no longer exact or has lived its time.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, e| self.exact(e, now));
    }

    fn exact(&self, entry: &Entry<V>, now: Instant) -> bool {
        now.duration_since(entry.read_at) < self.ttl && self.changes.subject_unchanged(entry.stamp, &entry.subject)
    }
}

#[cfg(test)]
impl<V> PersonCache<V> {
    /// How many entries are kept (exact or not).
    fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::change_log::Touched;

    fn commit_about(changes: &Changes, subject: &str) {
        changes.log().committed(Touched::People { subjects: vec![subject.to_owned()], emails: vec![] });
    }

    #[test]
    fn an_entry_stays_until_its_person_changes() {
        let changes = Changes::followed();
        let cache = PersonCache::new(changes.clone(), Duration::from_secs(60), 10);
        cache.put("k1".into(), cache.stamp(), "s1", Arc::new(1));
        commit_about(&changes, "s2");
        assert_eq!(cache.get("k1").as_deref(), Some(&1), "someone else's commit leaves it");
        commit_about(&changes, "s1");
        assert_eq!(cache.get("k1"), None, "a commit about its person ends it");
        cache.sweep();
        assert!(cache.is_empty(), "and the sweep drops it");
    }

    #[test]
    fn a_read_begun_before_a_change_is_not_trusted_after_it() {
        let changes = Changes::followed();
        let cache = PersonCache::new(changes.clone(), Duration::from_secs(60), 10);
        let stamp = cache.stamp();
        commit_about(&changes, "s1");
        cache.put("k1".into(), stamp, "s1", Arc::new(1));
        assert_eq!(cache.get("k1"), None);
        changes.log().advance();
        cache.put("k2".into(), cache.stamp(), "s2", Arc::new(2));
        assert_eq!(cache.get("k2").as_deref(), Some(&2), "read after everything moved: exact");
        changes.log().advance();
        assert_eq!(cache.get("k2"), None, "anything at all: nothing trusted");
    }

    #[test]
    fn entries_live_their_time_and_the_bound_holds() {
        let changes = Changes::followed();
        let cache = PersonCache::new(changes.clone(), Duration::ZERO, 10);
        cache.put("k1".into(), cache.stamp(), "s1", Arc::new(1));
        assert_eq!(cache.get("k1"), None, "past its time");
        let cache = PersonCache::new(changes.clone(), Duration::from_secs(60), 2);
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            cache.put(key.into(), cache.stamp(), key, Arc::new(i));
        }
        assert_eq!(cache.len(), 1, "full of exact entries: started again");
        assert_eq!(cache.get("c").as_deref(), Some(&2));
        let unfollowed = PersonCache::new(changes, Duration::from_secs(60), 2);
        unfollowed.put("k".into(), None, "s", Arc::new(0));
        assert!(unfollowed.is_empty(), "no stamp, nothing kept");
    }
}
