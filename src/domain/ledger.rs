//! The consent ledger's hash chain: each event's hash covers its content and its predecessor's hash,
//! so editing, deleting or reordering any event breaks every hash after it.

use chrono::{NaiveDateTime, SubsecRound};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Everything about an event that its hash covers. Field order is the canonical order.
#[derive(Debug, Clone, Serialize)]
pub struct EventContent<'a> {
    pub seq: i64,
    pub id: &'a str,
    pub subject_id: &'a str,
    pub purpose_key: &'a str,
    pub action: &'a str,
    pub policy_version_id: &'a str,
    pub policy_text_hash: &'a str,
    pub method: &'a str,
    pub source: &'a str,
    pub evidence: &'a str,
    /// UTC, in microseconds: both databases store exactly this precision.
    pub occurred_at: NaiveDateTime,
    /// When the ledger learnt of it, if not when it happened (an import of an earlier consent).
    /// `None` hashes exactly as events did before the column existed.
    pub recorded_at: Option<NaiveDateTime>,
}

/// Timestamps are cut to microseconds before they are stored or hashed, so that what is read back
/// hashes to what was written on SQLite and PostgreSQL alike.
pub fn ledger_time(t: NaiveDateTime) -> NaiveDateTime {
    t.trunc_subsecs(6)
}

/// `hex(SHA-256(prev_hash ‖ "\n" ‖ canonical JSON of the event))`: a JSON array of the fields in
/// order, with `recorded_at` as a twelfth element only when the event has one.
pub fn chain_hash(prev_hash: &str, event: &EventContent<'_>) -> String {
    let time = super::time_text::iso_micros;
    let fields = (
        event.seq,
        event.id,
        event.subject_id,
        event.purpose_key,
        event.action,
        event.policy_version_id,
        event.policy_text_hash,
        event.method,
        event.source,
        event.evidence,
        time(event.occurred_at),
    );
    let canonical = match event.recorded_at {
        None => serde_json::to_vec(&fields),
        Some(at) => {
            let (a, b, c, d, e, f, g, h, i, j, k) = fields;
            serde_json::to_vec(&(a, b, c, d, e, f, g, h, i, j, k, time(at)))
        }
    }
    .unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

/// Why a ledger failed verification, naming the first bad event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerFault {
    #[error("event #{seq}: sequence gap, expected #{expected} (an event was deleted or reordered)")]
    Gap { seq: i64, expected: i64 },
    #[error("event #{seq}: prev_hash does not match the hash of the event before it")]
    BrokenLink { seq: i64 },
    #[error("event #{seq}: content does not match its hash (the event was edited)")]
    Tampered { seq: i64 },
    #[error("the ledger ends at #{last} but its head records #{head} (events were removed from the end)")]
    Truncated { last: i64, head: i64 },
}

/// Walks events in `seq` order, checking each against the one before it. Feed it events with
/// [`Verifier::check`]; finish with [`Verifier::finish`] against the recorded head.
#[derive(Debug)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS_HASH.to_owned() }
    }
}

impl Verifier {
    pub fn check(&mut self, event: &EventContent<'_>, prev_hash: &str, hash: &str) -> Result<(), LedgerFault> {
        let seq = event.seq;
        if seq != self.expected_seq {
            return Err(LedgerFault::Gap { seq, expected: self.expected_seq });
        }
        if prev_hash != self.prev_hash {
            return Err(LedgerFault::BrokenLink { seq });
        }
        if chain_hash(prev_hash, event) != hash {
            return Err(LedgerFault::Tampered { seq });
        }
        self.expected_seq += 1;
        hash.clone_into(&mut self.prev_hash);
        Ok(())
    }

    /// How many events were checked.
    pub fn checked(&self) -> i64 {
        self.expected_seq - 1
    }

    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), LedgerFault> {
        if head_seq != self.checked() || head_hash != self.prev_hash {
            return Err(LedgerFault::Truncated { last: self.checked(), head: head_seq });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn event(seq: i64, action: &'static str) -> EventContent<'static> {
        EventContent {
            seq,
            id: "e",
            subject_id: "s",
            purpose_key: "marketing_sms",
            action,
            policy_version_id: "pv",
            policy_text_hash: "th",
            method: "form",
            source: "sub",
            evidence: "{}",
            occurred_at: DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap().naive_utc(),
            recorded_at: None,
        }
    }

    #[test]
    fn a_recorded_time_is_covered_only_when_there_is_one() {
        let plain = event(1, "granted");
        let before = chain_hash(GENESIS_HASH, &plain);
        assert_eq!(before.len(), 64);
        let later = DateTime::from_timestamp(1_800_000_000, 0).unwrap().naive_utc();
        let imported = EventContent { recorded_at: Some(later), ..plain.clone() };
        let with_time = chain_hash(GENESIS_HASH, &imported);
        assert_ne!(with_time, before, "recorded_at is covered");
        let edited = EventContent { recorded_at: Some(later + chrono::Duration::seconds(1)), ..plain };
        assert_ne!(chain_hash(GENESIS_HASH, &edited), with_time, "editing it breaks the hash");
    }

    fn chain(events: &[EventContent<'static>]) -> Vec<(String, String)> {
        let mut prev = GENESIS_HASH.to_owned();
        events
            .iter()
            .map(|e| {
                let hash = chain_hash(&prev, e);
                let link = (prev.clone(), hash.clone());
                prev = hash;
                link
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = [event(1, "granted"), event(2, "withdrawn")];
        let links = chain(&events);
        let mut v = Verifier::default();
        for (e, (prev, hash)) in events.iter().zip(&links) {
            v.check(e, prev, hash).unwrap();
        }
        v.finish(2, &links[1].1).unwrap();
    }

    #[test]
    fn an_edited_event_is_named() {
        let events = [event(1, "granted"), event(2, "withdrawn")];
        let links = chain(&events);
        let mut v = Verifier::default();
        v.check(&events[0], &links[0].0, &links[0].1).unwrap();
        let forged = event(2, "granted");
        assert_eq!(v.check(&forged, &links[1].0, &links[1].1), Err(LedgerFault::Tampered { seq: 2 }));
    }

    #[test]
    fn a_deleted_event_is_a_gap() {
        let events = [event(1, "granted"), event(2, "withdrawn"), event(3, "granted")];
        let links = chain(&events);
        let mut v = Verifier::default();
        v.check(&events[0], &links[0].0, &links[0].1).unwrap();
        assert_eq!(v.check(&events[2], &links[2].0, &links[2].1), Err(LedgerFault::Gap { seq: 3, expected: 2 }));
    }

    #[test]
    fn a_truncated_tail_is_caught_by_the_head() {
        let events = [event(1, "granted"), event(2, "withdrawn")];
        let links = chain(&events);
        let mut v = Verifier::default();
        v.check(&events[0], &links[0].0, &links[0].1).unwrap();
        assert_eq!(v.finish(2, &links[1].1), Err(LedgerFault::Truncated { last: 1, head: 2 }));
    }

    #[test]
    fn time_is_cut_to_microseconds() {
        let t = DateTime::from_timestamp(1, 123_456_789).unwrap().naive_utc();
        assert_eq!(ledger_time(t).and_utc().timestamp_subsec_nanos(), 123_456_000);
    }
}
