//! Restores as the witness records them. Restoring a backup makes the ledger shorter than heads
//! the witness saw, and any event written after that (the erasures replayed from the journal,
//! new consents) makes a history that differs from the one those heads signed. `assent restore`
//! therefore appends a signed restore record to the witness: the size and root of the ledger it
//! restored, and every claim witnessed before (a head, or an earlier record) that this ledger
//! does not agree with, which the restore set aside. Reading the witness in order, a record
//! removes exactly the claims it lists; every claim still in force afterwards must agree with
//! the ledger as before. A database rewritten without such a record, or a record that was not
//! signed with the tree-head key, still fails verification.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::merkle::LedgerTree;
use super::tree_head::{TreeHead, roots_at};

/// What a head or a restore record says about the ledger: its first `size` events have `root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub size: u64,
    /// The RFC 6962 root, hex.
    pub root: String,
}

/// A signed restore record, one line of the witness (`{"restore": {…}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRecord {
    /// The restored ledger's size and root, before anything was appended to it.
    pub size: u64,
    pub root: String,
    /// UTC, to the microsecond.
    pub restored_at: NaiveDateTime,
    /// The claims witnessed before this record, still in force, that the restored ledger does not
    /// agree with: they belong to the history the restore discarded.
    pub set_aside: Vec<Claim>,
    pub key_id: String,
    /// Ed25519 over [`RestoreRecord::message`], base64, with the tree-head key.
    pub signature: String,
}

impl RestoreRecord {
    /// The bytes signed: `assent-restore/v1`, the size, the root (hex), the time (RFC 3339,
    /// microseconds), then one line `size root` per claim set aside.
    pub fn message(size: u64, root: &str, restored_at: NaiveDateTime, set_aside: &[Claim]) -> Vec<u8> {
        let mut text = format!("assent-restore/v1\n{size}\n{root}\n{}\n", super::time_text::iso_micros(restored_at));
        for claim in set_aside {
            text.push_str(&format!("{} {}\n", claim.size, claim.root));
        }
        text.into_bytes()
    }

    pub fn signed_message(&self) -> Vec<u8> {
        Self::message(self.size, &self.root, self.restored_at, &self.set_aside)
    }
}

/// One line of the witness file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WitnessEntry {
    Restore { restore: RestoreRecord },
    Head(TreeHead),
}

/// Why the witness's restore records do not hold (the first problem found).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreFault {
    #[error("restore record of size {size}: its signature does not verify (the record was forged)")]
    BadSignature { size: u64 },
    #[error(
        "restore record of size {size}: it sets aside a head of size {claim} that the witness did not hold before it (the witness was edited)"
    )]
    UnknownClaim { size: u64, claim: u64 },
    #[error(
        "restore record of size {size}: the ledger holds only {events} events (events were removed after the restore)"
    )]
    Shortened { size: u64, events: u64 },
    #[error(
        "restore record of size {size}: the ledger's first {size} events have another root (history was rewritten after the restore)"
    )]
    Rewritten { size: u64 },
}

/// The witness read in order with its restore records applied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Witnessed {
    /// Heads still in force: checked against the ledger and the stored heads as before.
    pub heads: Vec<TreeHead>,
    /// Restore records still in force: each must agree with the ledger.
    pub restores: Vec<RestoreRecord>,
    /// How many claims the records set aside.
    pub set_aside: usize,
    /// How many restore records the witness holds.
    pub restores_seen: usize,
}

impl Witnessed {
    /// Reads the entries in order: a head is in force until a record sets it aside; each record
    /// must be genuine and may set aside only claims then in force.
    pub fn fold(entries: &[WitnessEntry], genuine: impl Fn(&RestoreRecord) -> bool) -> Result<Self, RestoreFault> {
        let mut seen = Self::default();
        for entry in entries {
            match entry {
                WitnessEntry::Head(head) => seen.heads.push(head.clone()),
                WitnessEntry::Restore { restore } => {
                    if !genuine(restore) {
                        return Err(RestoreFault::BadSignature { size: restore.size });
                    }
                    for claim in &restore.set_aside {
                        let before = seen.heads.len() + seen.restores.len();
                        seen.heads.retain(|h| h.size != claim.size || h.root != claim.root);
                        seen.restores.retain(|r| r.size != claim.size || r.root != claim.root);
                        let removed = before - seen.heads.len() - seen.restores.len();
                        if removed == 0 {
                            return Err(RestoreFault::UnknownClaim { size: restore.size, claim: claim.size });
                        }
                        seen.set_aside += removed;
                    }
                    seen.restores.push(restore.clone());
                    seen.restores_seen += 1;
                }
            }
        }
        Ok(seen)
    }

    /// The claims in force that this ledger does not agree with (longer than it, or with another
    /// root than its first `size` events): what a restore to this ledger sets aside.
    pub fn disagreeing(&self, tree: &LedgerTree) -> Vec<Claim> {
        let claims = self.claims();
        let roots = roots_at(tree, claims.iter().map(|c| c.size));
        let mut out: Vec<Claim> = Vec::new();
        for claim in claims {
            let agrees = roots.get(&claim.size).is_some_and(|r| hex::encode(r) == claim.root);
            if !agrees && !out.contains(&claim) {
                out.push(claim);
            }
        }
        out
    }

    /// Every restore record in force agrees with the ledger.
    pub fn check_restores(&self, tree: &LedgerTree) -> Result<(), RestoreFault> {
        let roots = roots_at(tree, self.restores.iter().map(|r| r.size));
        for record in &self.restores {
            let Some(root) = roots.get(&record.size) else {
                return Err(RestoreFault::Shortened { size: record.size, events: tree.size() });
            };
            if hex::encode(root) != record.root {
                return Err(RestoreFault::Rewritten { size: record.size });
            }
        }
        Ok(())
    }

    fn claims(&self) -> Vec<Claim> {
        let heads = self.heads.iter().map(|h| Claim { size: h.size, root: h.root.clone() });
        heads.chain(self.restores.iter().map(|r| Claim { size: r.size, root: r.root.clone() })).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn leaf(i: u64) -> [u8; 32] {
        sha2::Sha256::digest(i.to_be_bytes()).into()
    }

    fn head(tree: &LedgerTree, size: u64) -> WitnessEntry {
        WitnessEntry::Head(TreeHead {
            size,
            root: hex::encode(tree.prefix(size).expect("prefix").root()),
            signed_at: NaiveDateTime::default(),
            key_id: "k".into(),
            signature: "s".into(),
            access: None,
        })
    }

    fn restore(tree: &LedgerTree, set_aside: Vec<Claim>) -> WitnessEntry {
        let root = hex::encode(tree.root());
        WitnessEntry::Restore {
            restore: RestoreRecord {
                size: tree.size(),
                root,
                restored_at: NaiveDateTime::default(),
                set_aside,
                key_id: "k".into(),
                signature: "genuine".into(),
            },
        }
    }

    fn genuine(r: &RestoreRecord) -> bool {
        r.signature == "genuine"
    }

    #[test]
    fn a_restore_sets_aside_exactly_the_heads_of_the_discarded_history() {
        let old = LedgerTree::from_leaves((0..10).map(leaf));
        let mut witness = vec![head(&old, 4), head(&old, 7), head(&old, 10)];
        // Restored to the first 6 events, then two new ones (replayed erasures).
        let restored = LedgerTree::from_leaves((0..6).map(leaf));
        let before = Witnessed::fold(&witness, genuine).unwrap();
        let set_aside = before.disagreeing(&restored);
        assert_eq!(set_aside.iter().map(|c| c.size).collect::<Vec<_>>(), [7, 10]);
        witness.push(restore(&restored, set_aside));
        let now = LedgerTree::from_leaves((0..6).map(leaf).chain([leaf(100), leaf(101)]));
        witness.push(head(&now, 8));
        let seen = Witnessed::fold(&witness, genuine).unwrap();
        assert_eq!(seen.heads.iter().map(|h| h.size).collect::<Vec<_>>(), [4, 8]);
        assert_eq!((seen.set_aside, seen.restores_seen), (2, 1));
        assert!(seen.disagreeing(&now).is_empty());
        assert_eq!(seen.check_restores(&now), Ok(()));
    }

    #[test]
    fn records_that_were_forged_edited_or_outlived_by_a_rewrite_fail() {
        let old = LedgerTree::from_leaves((0..10).map(leaf));
        let restored = LedgerTree::from_leaves((0..6).map(leaf));
        let witness = vec![head(&old, 10)];
        let set_aside = Witnessed::fold(&witness, genuine).unwrap().disagreeing(&restored);
        let mut forged = witness.clone();
        let WitnessEntry::Restore { restore: mut record } = restore(&restored, set_aside.clone()) else {
            unreachable!()
        };
        record.signature = "made up".into();
        forged.push(WitnessEntry::Restore { restore: record });
        assert_eq!(Witnessed::fold(&forged, genuine), Err(RestoreFault::BadSignature { size: 6 }));
        // A record naming a head the witness never held before it.
        let unknown = vec![restore(&restored, vec![Claim { size: 9, root: "00".into() }])];
        assert_eq!(Witnessed::fold(&unknown, genuine), Err(RestoreFault::UnknownClaim { size: 6, claim: 9 }));
        // After the restore, the database is cut shorter or rewritten: the record no longer holds.
        let recorded = Witnessed::fold(&[witness[0].clone(), restore(&restored, set_aside)], genuine).unwrap();
        let shorter = LedgerTree::from_leaves((0..5).map(leaf));
        assert_eq!(recorded.check_restores(&shorter), Err(RestoreFault::Shortened { size: 6, events: 5 }));
        let rewritten = LedgerTree::from_leaves((0..6).map(|i| if i == 2 { leaf(99) } else { leaf(i) }));
        assert_eq!(recorded.check_restores(&rewritten), Err(RestoreFault::Rewritten { size: 6 }));
    }

    #[test]
    fn a_later_restore_to_an_older_backup_sets_aside_the_earlier_record_too() {
        let first = LedgerTree::from_leaves((0..6).map(leaf));
        let mut witness = vec![head(&first, 6), restore(&first, Vec::new())];
        let older = LedgerTree::from_leaves((0..3).map(leaf));
        let set_aside = Witnessed::fold(&witness, genuine).unwrap().disagreeing(&older);
        assert_eq!(set_aside.len(), 1, "the head and the first record make one claim: {set_aside:?}");
        witness.push(restore(&older, set_aside));
        let seen = Witnessed::fold(&witness, genuine).unwrap();
        assert_eq!((seen.heads.len(), seen.restores.len(), seen.set_aside), (0, 1, 2));
        assert_eq!(seen.check_restores(&older), Ok(()));
    }

    #[test]
    fn witness_lines_of_either_kind_read_back() {
        let tree = LedgerTree::from_leaves((0..2).map(leaf));
        for entry in [head(&tree, 2), restore(&tree, vec![Claim { size: 3, root: "ab".into() }])] {
            let line = serde_json::to_string(&entry).unwrap();
            assert_eq!(serde_json::from_str::<WitnessEntry>(&line).unwrap(), entry, "{line}");
        }
    }
}
