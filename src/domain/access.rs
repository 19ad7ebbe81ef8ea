//! Access records (개인정보의 안전성 확보조치 기준 art. 8): who (a console account or an API key)
//! read or acted on whose personal data, when, from where (an IP pseudonym) and how. Like the
//! consent ledger they are SHA-256 chained, so editing, deleting or reordering one breaks every
//! hash after it; the signed tree heads commit to the chain's length and head hash.

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

pub use super::ledger::GENESIS_HASH;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The value stored (the migration's `CHECK` lists exactly these).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)* }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($wire => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// What was done with the person's data.
    AccessAction {
        /// `GET /api/v1/consents?email=` (the subject it resolved to, or none for an unknown address).
        ConsentCheck = "consent_check",
        /// Everything held, read (`GET /api/v1/subjects/{id}`).
        ViewPerson = "view_person",
        /// Everything held, downloaded (`GET /api/v1/subjects/{id}/export`).
        ExportPerson = "export_person",
        /// A consent granted or withdrawn for the person (`POST /api/v1/subjects/{id}/consents`).
        ChangeConsent = "change_consent",
        /// The person erased (`DELETE /api/v1/subjects/{id}`).
        ErasePerson = "erase_person",
        /// A submission vouched for by an API key, answered with the person's id and states.
        VerifiedSubmission = "verified_submission",
        /// The person shown in the console's submissions list (one record per person shown).
        ListSubmissions = "list_submissions",
        /// The person found by their address in the console's submissions search.
        Search = "search",
        /// One of the person's submissions opened (values decrypted) in the console.
        ViewSubmission = "view_submission",
        /// The console's submissions CSV (one record per export; the person when filtered to one).
        CsvSubmissions = "csv_submissions",
        /// The console's consents CSV: everyone's current state (one record per export).
        CsvConsents = "csv_consents",
        /// A page of the event feed (`GET /api/v1/events`): one record per person it names.
        ReadEvents = "read_events",
        /// An external id attached to or removed from the person (`PUT`/`DELETE
        /// /api/v1/subjects/{id}/external-id`).
        SetExternalId = "set_external_id",
    }
}

wire_enum! {
    /// Who accessed.
    ActorKind {
        /// A console account (`owners.id`).
        Owner = "owner",
        /// An API key (`api_keys.id`).
        ApiKey = "api_key",
    }
}

/// Everything about an access record that its hash covers. Field order is the canonical order.
#[derive(Debug, Clone)]
pub struct AccessContent<'a> {
    pub seq: i64,
    /// UTC, in microseconds (see [`super::ledger::ledger_time`]).
    pub occurred_at: NaiveDateTime,
    pub actor_kind: &'a str,
    pub actor_id: &'a str,
    pub ip_pseudonym: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    pub action: &'a str,
    /// The route's template (`/api/v1/subjects/{id}`), never the path itself or a query.
    pub path: &'a str,
    /// How many identical accesses this record stands for (the same actor, IP pseudonym, person,
    /// action and route within one UTC second are written as one record); 1 for one.
    pub times: i64,
    /// When the last of them was (`None` for a single access).
    pub last_at: Option<NaiveDateTime>,
}

/// `hex(SHA-256(prev_hash ‖ "\n" ‖ canonical JSON of the record))`. A single access is an
/// `assent-access/v1` array (as before coalescing existed); a coalesced one is
/// `assent-access/v2`, the same array followed by `times` and `last_at`. Which form applies
/// follows from the content, so turning a coalesced record into a single one breaks its hash.
pub fn access_hash(prev_hash: &str, record: &AccessContent<'_>) -> String {
    use serde_json::json;
    let time = super::time_text::iso_micros;
    let single = record.times == 1 && record.last_at.is_none();
    let mut fields = vec![
        json!(if single { "assent-access/v1" } else { "assent-access/v2" }),
        json!(record.seq),
        json!(time(record.occurred_at)),
        json!(record.actor_kind),
        json!(record.actor_id),
        json!(record.ip_pseudonym),
        json!(record.subject_id),
        json!(record.action),
        json!(record.path),
    ];
    if !single {
        fields.extend([json!(record.times), json!(record.last_at.map(time))]);
    }
    let canonical = serde_json::to_vec(&fields).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

/// Why the access records failed verification, naming the first bad one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessFault {
    #[error("access record #{seq}: sequence gap, expected #{expected} (a record was deleted or reordered)")]
    Gap { seq: i64, expected: i64 },
    #[error("access record #{seq}: prev_hash does not match the hash of the record before it")]
    BrokenLink { seq: i64 },
    #[error("access record #{seq}: content does not match its hash (the record was edited)")]
    Tampered { seq: i64 },
    #[error("the access records end at #{last} but their head records #{head} (records were removed from the end)")]
    Truncated { last: i64, head: i64 },
    #[error(
        "access records up to #{seq} were pruned at {pruned_at}, before the minimum retention of two years had passed"
    )]
    PrunedTooEarly { seq: i64, pruned_at: NaiveDateTime },
}

/// Where the chain starts: at genesis, or after the last pruned record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The last pruned record's seq (0: nothing pruned).
    pub seq: i64,
    /// Its hash ([`GENESIS_HASH`] when nothing was pruned).
    pub hash: String,
    /// Its time (`None` when nothing was pruned).
    pub occurred_at: Option<NaiveDateTime>,
}

impl Default for Anchor {
    fn default() -> Self {
        Self { seq: 0, hash: GENESIS_HASH.to_owned(), occurred_at: None }
    }
}

/// Walks records in `seq` order from the anchor, checking each against the one before it.
#[derive(Debug)]
pub struct AccessVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl AccessVerifier {
    /// Starts after `anchor`; refuses an anchor whose last pruned record is younger than
    /// `oldest_prunable` (records must be kept at least the minimum retention).
    pub fn after(anchor: &Anchor, oldest_prunable: NaiveDateTime) -> Result<Self, AccessFault> {
        if let Some(at) = anchor.occurred_at
            && at > oldest_prunable
        {
            return Err(AccessFault::PrunedTooEarly { seq: anchor.seq, pruned_at: at });
        }
        Ok(Self { expected_seq: anchor.seq + 1, prev_hash: anchor.hash.clone() })
    }

    pub fn check(&mut self, record: &AccessContent<'_>, prev_hash: &str, hash: &str) -> Result<(), AccessFault> {
        let seq = record.seq;
        if seq != self.expected_seq {
            return Err(AccessFault::Gap { seq, expected: self.expected_seq });
        }
        if prev_hash != self.prev_hash {
            return Err(AccessFault::BrokenLink { seq });
        }
        if access_hash(prev_hash, record) != hash {
            return Err(AccessFault::Tampered { seq });
        }
        self.expected_seq += 1;
        hash.clone_into(&mut self.prev_hash);
        Ok(())
    }

    /// The seq of the last record checked (the anchor's when none was).
    pub fn last(&self) -> i64 {
        self.expected_seq - 1
    }

    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), AccessFault> {
        if head_seq != self.last() || head_hash != self.prev_hash {
            return Err(AccessFault::Truncated { last: self.last(), head: head_seq });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn at(secs: i64) -> NaiveDateTime {
        DateTime::from_timestamp(secs, 123_456_000).unwrap().naive_utc()
    }

    fn record(seq: i64, subject: Option<&'static str>) -> AccessContent<'static> {
        AccessContent {
            seq,
            occurred_at: at(1_700_000_000 + seq),
            actor_kind: "api_key",
            actor_id: "key-1",
            ip_pseudonym: Some("ip"),
            subject_id: subject,
            action: "consent_check",
            path: "/api/v1/consents",
            times: 1,
            last_at: None,
        }
    }

    fn chain(records: &[AccessContent<'static>], from: &str) -> Vec<(String, String)> {
        let mut prev = from.to_owned();
        records
            .iter()
            .map(|r| {
                let hash = access_hash(&prev, r);
                let link = (prev.clone(), hash.clone());
                prev = hash;
                link
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_each_change_is_named() {
        let records = [record(1, Some("s1")), record(2, None), record(3, Some("s2"))];
        let links = chain(&records, GENESIS_HASH);
        let mut v = AccessVerifier::after(&Anchor::default(), at(0)).unwrap();
        for (r, (prev, hash)) in records.iter().zip(&links) {
            v.check(r, prev, hash).unwrap();
        }
        v.finish(3, &links[2].1).unwrap();
        // Edited without recomputing: the hash no longer matches.
        let mut v = AccessVerifier::after(&Anchor::default(), at(0)).unwrap();
        assert_eq!(v.check(&record(1, Some("s9")), &links[0].0, &links[0].1), Err(AccessFault::Tampered { seq: 1 }));
        // A record deleted in the middle: a gap.
        let mut v = AccessVerifier::after(&Anchor::default(), at(0)).unwrap();
        v.check(&records[0], &links[0].0, &links[0].1).unwrap();
        assert_eq!(v.check(&records[2], &links[2].0, &links[2].1), Err(AccessFault::Gap { seq: 3, expected: 2 }));
        // The last one deleted: the head says so.
        let mut v = AccessVerifier::after(&Anchor::default(), at(0)).unwrap();
        v.check(&records[0], &links[0].0, &links[0].1).unwrap();
        v.check(&records[1], &links[1].0, &links[1].1).unwrap();
        assert_eq!(v.finish(3, &links[2].1), Err(AccessFault::Truncated { last: 2, head: 3 }));
    }

    #[test]
    fn a_pruned_chain_continues_from_its_anchor() {
        let records = [record(1, Some("s1")), record(2, None), record(3, Some("s2"))];
        let links = chain(&records, GENESIS_HASH);
        let anchor = Anchor { seq: 2, hash: links[1].1.clone(), occurred_at: Some(records[1].occurred_at) };
        let mut v = AccessVerifier::after(&anchor, at(2_000_000_000)).unwrap();
        v.check(&records[2], &links[2].0, &links[2].1).unwrap();
        v.finish(3, &links[2].1).unwrap();
        // An anchor moved past records younger than the minimum retention is refused.
        assert_eq!(
            AccessVerifier::after(&anchor, at(1_000_000_000)).unwrap_err(),
            AccessFault::PrunedTooEarly { seq: 2, pruned_at: records[1].occurred_at }
        );
    }

    #[test]
    fn a_single_access_keeps_the_v1_hash_and_a_coalesced_one_commits_to_its_count() {
        // The v1 form, byte for byte as records were hashed before coalescing existed.
        let one = record(1, Some("s1"));
        let v1 = r#"["assent-access/v1",1,"2023-11-14T22:13:21.123456Z","api_key","key-1","ip","s1","consent_check","/api/v1/consents"]"#;
        let mut expected = Sha256::new();
        expected.update(format!("{GENESIS_HASH}\n{v1}").as_bytes());
        assert_eq!(access_hash(GENESIS_HASH, &one), hex::encode(expected.finalize()));
        // A coalesced record: its count and last time are covered, and it cannot pass as single.
        let many = AccessContent { times: 40, last_at: Some(at(1_700_000_001)), ..one.clone() };
        let hash = access_hash(GENESIS_HASH, &many);
        let mut v = AccessVerifier::after(&Anchor::default(), at(0)).unwrap();
        v.check(&many, GENESIS_HASH, &hash).unwrap();
        for forged in [AccessContent { times: 1, last_at: None, ..many.clone() }, AccessContent { times: 39, ..many }] {
            let mut v = AccessVerifier::after(&Anchor::default(), at(0)).unwrap();
            assert_eq!(v.check(&forged, GENESIS_HASH, &hash), Err(AccessFault::Tampered { seq: 1 }));
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for a in AccessAction::ALL {
            assert_eq!(AccessAction::parse(a.as_str()), Some(*a));
        }
        for k in ActorKind::ALL {
            assert_eq!(ActorKind::parse(k.as_str()), Some(*k));
        }
    }
}
