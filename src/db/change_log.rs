//! What has changed since a moment, at two grains: anything at all (the generation), or one
//! person (the people this process's writer touched). See [`super::changes`] for who advances
//! what; this is the record they share.
//!
//! A commit that changed only people (their subject row, consent states, external id, held
//! values, values, ledger events, rights requests, sessions) and tables no cache reads
//! (submissions, the outbox, access records) moves only
//! those people's marks: a cache entry for someone else stays exact. That is this process's
//! writer's commits on both backends, and on PostgreSQL other processes' too (their
//! notifications name the people). Anything else (on SQLite another process's commit; the
//! catalogue, API keys, a schema change, a commit too large to list) advances the generation,
//! which distrusts every entry.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

/// People marked at most; past it the marks start again and the generation advances (an entry
/// read before cannot be told apart from one read before a mark that was dropped).
const MARKS_MAX: usize = 200_000;

/// The record behind [`super::changes::Changes`] and the writer.
#[derive(Default)]
pub struct ChangeLog {
    generation: AtomicU64,
    /// Whether other processes' commits are being followed (SQLite: the writer polls
    /// `data_version`; PostgreSQL: the listener is connected).
    pub(super) following: AtomicBool,
    /// PostgreSQL: the server process id of this process's writer connection when it collects
    /// what its commits touch (its notifications are then told already), else 0.
    pub(super) writer_backend: AtomicI32,
    people: RwLock<Marks>,
}

#[derive(Default)]
struct Marks {
    /// Advanced by every commit that touched people; each mark is the epoch of the last one.
    epoch: u64,
    subjects: HashMap<String, u64>,
    emails: HashMap<Vec<u8>, u64>,
}

/// What one commit of the writer may have changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub enum Touched {
    /// Only tables no cache reads.
    #[default]
    Nothing,
    /// These people (by subject id, by e-mail blind index), and tables no cache reads.
    People { subjects: Vec<String>, emails: Vec<Vec<u8>> },
    /// Anything (or it cannot be told what).
    Everything,
}

/// A moment, for an entry about one person: exact while [`ChangeLog::unchanged`] says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonStamp {
    generation: u64,
    epoch: u64,
}

impl ChangeLog {
    /// Nothing read before is trusted any more.
    pub fn advance(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Records a commit of this process's writer, after it is durable and before anyone is told.
    pub fn committed(&self, touched: Touched) {
        let (subjects, emails) = match touched {
            Touched::Nothing => return,
            Touched::Everything => return self.advance(),
            Touched::People { subjects, emails } => (subjects, emails),
        };
        let mut marks = self.people.write().unwrap_or_else(|e| e.into_inner());
        if marks.subjects.len() + marks.emails.len() + subjects.len() + emails.len() > MARKS_MAX {
            marks.subjects.clear();
            marks.emails.clear();
            self.advance();
            return;
        }
        marks.epoch += 1;
        let epoch = marks.epoch;
        marks.subjects.extend(subjects.into_iter().map(|s| (s, epoch)));
        marks.emails.extend(emails.into_iter().map(|e| (e, epoch)));
    }

    /// The moment now, for [`ChangeLog::unchanged`]: taken before reading.
    pub fn person_stamp(&self) -> PersonStamp {
        let generation = self.generation();
        let epoch = self.people.read().unwrap_or_else(|e| e.into_inner()).epoch;
        PersonStamp { generation, epoch }
    }

    /// Whether nothing that could change what was read about this person (by this address, if
    /// read by one, and this subject if one was found) has been committed since `stamp`.
    pub fn unchanged(&self, stamp: PersonStamp, email: Option<&[u8]>, subject: Option<&str>) -> bool {
        if stamp.generation != self.generation() {
            return false;
        }
        let marks = self.people.read().unwrap_or_else(|e| e.into_inner());
        let after = |mark: Option<&u64>| mark.is_some_and(|m| *m > stamp.epoch);
        !email.is_some_and(|e| after(marks.emails.get(e))) && !subject.is_some_and(|s| after(marks.subjects.get(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(subject: &str, email: &[u8]) -> Touched {
        Touched::People { subjects: vec![subject.to_owned()], emails: vec![email.to_vec()] }
    }

    #[test]
    fn a_commit_about_someone_else_leaves_an_entry_exact() {
        let log = ChangeLog::default();
        let stamp = log.person_stamp();
        log.committed(person("s2", b"e2"));
        log.committed(Touched::Nothing);
        assert!(log.unchanged(stamp, Some(b"e1"), Some("s1")));
        assert!(!log.unchanged(stamp, Some(b"e2"), None), "the address was written: a new person");
        assert!(!log.unchanged(stamp, Some(b"e9"), Some("s2")), "the subject was written");
        assert!(log.unchanged(log.person_stamp(), Some(b"e2"), Some("s2")), "read after the commit: exact");
        assert!(log.unchanged(stamp, None, Some("s1")), "read by subject alone: someone else's commit");
        assert!(!log.unchanged(stamp, None, Some("s2")), "read by subject alone: this one's");
    }

    #[test]
    fn anything_else_distrusts_every_entry() {
        let log = ChangeLog::default();
        let stamp = log.person_stamp();
        log.committed(Touched::Everything);
        assert!(!log.unchanged(stamp, Some(b"e1"), Some("s1")));
        let stamp = log.person_stamp();
        log.advance();
        assert!(!log.unchanged(stamp, Some(b"e1"), None));
    }

    #[test]
    fn too_many_marks_start_again_and_distrust_everything() {
        let log = ChangeLog::default();
        let stamp = log.person_stamp();
        let many = Touched::People { subjects: (0..MARKS_MAX).map(|i| i.to_string()).collect(), emails: vec![] };
        log.committed(many);
        assert!(log.unchanged(stamp, Some(b"e1"), Some("x")), "within the bound: marks");
        log.committed(person("s1", b"e1"));
        assert!(!log.unchanged(stamp, Some(b"e7"), Some("y")), "past it: the generation moved");
        assert!(log.people.read().unwrap().subjects.is_empty());
    }
}
