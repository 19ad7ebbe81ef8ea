//! Signed tree heads: what the server commits to about the consent ledger at a moment (how many
//! events, and the Merkle root over them), and the rules a history must meet against the heads
//! stored beside it and those a witness kept outside the database.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::merkle::{Hash, LedgerTree};

/// A signed tree head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    pub size: u64,
    /// The RFC 6962 root, hex.
    pub root: String,
    /// UTC, to the microsecond.
    pub signed_at: NaiveDateTime,
    pub key_id: String,
    /// Ed25519 over [`TreeHead::signed_message`], base64.
    pub signature: String,
    /// The access records' chain at signing (v2 heads); `None` for v1 heads, signed before the
    /// access records existed, which keep verifying as v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessHead>,
}

/// What a v2 head commits to about the access records: how many (the last record's seq) and
/// the chain hash of the last one ([`super::access::GENESIS_HASH`] when there are none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessHead {
    pub size: u64,
    pub hash: String,
}

impl TreeHead {
    /// The bytes signed for a v2 head: `assent-tree-head/v2`, the ledger's size and root, the
    /// access records' size and chain head hash, and the time, each on its own line.
    pub fn message_v2(size: u64, root: &str, access: &AccessHead, signed_at: NaiveDateTime) -> Vec<u8> {
        format!(
            "assent-tree-head/v2\n{size}\n{root}\n{}\n{}\n{}\n",
            access.size,
            access.hash,
            super::time_text::iso_micros(signed_at)
        )
        .into_bytes()
    }

    /// The head's version: 2 when it commits to the access records.
    pub fn version(&self) -> u8 {
        if self.access.is_some() { 2 } else { 1 }
    }

    /// The bytes signed: `assent-tree-head/v1`, the size, the root (hex) and the time
    /// (RFC 3339, microseconds), each on its own line.
    pub fn message(size: u64, root: &str, signed_at: NaiveDateTime) -> Vec<u8> {
        format!("assent-tree-head/v1\n{size}\n{root}\n{}\n", super::time_text::iso_micros(signed_at)).into_bytes()
    }

    /// What the signature covers: the v1 or v2 message, by the head's version.
    pub fn signed_message(&self) -> Vec<u8> {
        match &self.access {
            None => Self::message(self.size, &self.root, self.signed_at),
            Some(access) => Self::message_v2(self.size, &self.root, access, self.signed_at),
        }
    }

    /// The head's place in the order heads are signed in: both logs only grow.
    pub fn order_key(&self) -> (u64, u64) {
        (self.size, self.access.as_ref().map_or(0, |a| a.size))
    }
}

/// Why the ledger does not match its signed heads or its witness (the first problem found).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeFault {
    #[error("signed head of size {size}: its signature does not verify (the head was replaced or forged)")]
    BadSignature { size: u64 },
    #[error("signed head of size {size}: the ledger holds only {events} events (events were removed)")]
    Shortened { size: u64, events: u64 },
    #[error("signed head of size {size}: the ledger's first {size} events have another root (history was rewritten)")]
    Rewritten { size: u64 },
    #[error("the witness saw a head of size {size} that the database does not hold as it was signed")]
    WitnessDisagrees { size: u64 },
    #[error(
        "signed head of size {size}: it covers {access} access records but only {records} are held (access records were removed)"
    )]
    AccessShortened { size: u64, access: u64, records: u64 },
    #[error(
        "signed head of size {size}: access record #{access} does not have the hash the head signed (access records were rewritten)"
    )]
    AccessRewritten { size: u64, access: u64 },
    #[error(
        "signed head of size {size}: access records after #{access} were written after it, less than two years ago, yet they were pruned"
    )]
    AccessPrunedEarly { size: u64, access: u64 },
}

/// Checks every head (the stored ones and the witness's) against the tree of the ledger as it
/// is now: each signature holds (`verify(head)`), no head is longer than the ledger, each
/// root is the root of that many events, and every witnessed head is stored unchanged. Returns
/// how many distinct heads were checked.
pub fn check_heads(
    tree: &LedgerTree,
    stored: &[TreeHead],
    witnessed: &[TreeHead],
    verify: impl Fn(&TreeHead) -> bool,
) -> Result<usize, TreeFault> {
    let by_key: BTreeMap<(u64, u64), &TreeHead> = stored.iter().map(|h| (h.order_key(), h)).collect();
    for head in witnessed {
        if by_key.get(&head.order_key()).is_none_or(|s| *s != head) {
            return Err(TreeFault::WitnessDisagrees { size: head.size });
        }
    }
    let roots = roots_at(tree, by_key.values().map(|h| h.size));
    for head in by_key.values() {
        if !verify(head) {
            return Err(TreeFault::BadSignature { size: head.size });
        }
        let Some(root) = roots.get(&head.size) else {
            return Err(TreeFault::Shortened { size: head.size, events: tree.size() });
        };
        if hex::encode(root) != head.root {
            return Err(TreeFault::Rewritten { size: head.size });
        }
    }
    Ok(by_key.len())
}

/// Checks every v2 head against the access records as they are now: no head covers more
/// records than are held (`last`: the last record's seq), and the record at each head's size has
/// the hash the head signed. `hash_at(seq)` is the stored hash of record `seq` (the anchor's for
/// the last pruned one, `None` for records pruned before it: the chain from the anchor on is
/// what the records' own verification checks).
pub fn check_access_heads(
    heads: &[TreeHead],
    last: u64,
    hash_at: impl Fn(u64) -> Option<String>,
) -> Result<(), TreeFault> {
    for head in heads {
        let Some(access) = &head.access else { continue };
        if access.size > last {
            return Err(TreeFault::AccessShortened { size: head.size, access: access.size, records: last });
        }
        let held = if access.size == 0 { Some(super::access::GENESIS_HASH.to_owned()) } else { hash_at(access.size) };
        if held.is_some_and(|h| h != access.hash) {
            return Err(TreeFault::AccessRewritten { size: head.size, access: access.size });
        }
    }
    Ok(())
}

/// The root of the tree's first `size` leaves for each size asked (one pass).
pub(crate) fn roots_at(tree: &LedgerTree, sizes: impl IntoIterator<Item = u64>) -> BTreeMap<u64, Hash> {
    let mut wanted: Vec<u64> = sizes.into_iter().filter(|s| *s <= tree.size()).collect();
    wanted.sort_unstable();
    let mut roots = BTreeMap::new();
    let mut growing = LedgerTree::default();
    for size in wanted {
        while growing.size() < size {
            let Some(leaf) = tree.leaf(growing.size()) else { break };
            growing.push(leaf);
        }
        roots.insert(size, growing.root());
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn leaf(i: u64) -> Hash {
        sha2::Sha256::digest(i.to_be_bytes()).into()
    }

    fn head(tree: &LedgerTree, size: u64) -> TreeHead {
        TreeHead {
            size,
            root: hex::encode(tree.prefix(size).expect("prefix").root()),
            signed_at: NaiveDateTime::default(),
            key_id: "k".into(),
            signature: format!("sig-{size}"),
            access: None,
        }
    }

    fn genuine(h: &TreeHead) -> bool {
        h.signature == format!("sig-{}", h.size)
    }

    #[test]
    fn an_intact_history_meets_its_heads_and_its_witness() {
        let tree = LedgerTree::from_leaves((0..10).map(leaf));
        let heads = [head(&tree, 3), head(&tree, 7), head(&tree, 10)];
        assert_eq!(check_heads(&tree, &heads, &heads[..2], genuine), Ok(3));
    }

    #[test]
    fn each_rewrite_of_the_history_is_caught() {
        let tree = LedgerTree::from_leaves((0..10).map(leaf));
        let heads = vec![head(&tree, 3), head(&tree, 7), head(&tree, 10)];
        // An event edited (every hash recomputed): the root at every later head differs.
        let edited = LedgerTree::from_leaves((0..10).map(|i| if i == 5 { leaf(99) } else { leaf(i) }));
        assert_eq!(check_heads(&edited, &heads, &[], genuine), Err(TreeFault::Rewritten { size: 7 }));
        // The last events deleted, and the newest heads with them: the witness still has one.
        let shortened = LedgerTree::from_leaves((0..6).map(leaf));
        assert_eq!(check_heads(&shortened, &heads[..1], &heads, genuine), Err(TreeFault::WitnessDisagrees { size: 7 }));
        assert_eq!(check_heads(&shortened, &heads, &[], genuine), Err(TreeFault::Shortened { size: 7, events: 6 }));
        // Two events swapped.
        let swapped = LedgerTree::from_leaves((0..10).map(|i| leaf([0, 2, 1].get(i as usize).copied().unwrap_or(i))));
        assert_eq!(check_heads(&swapped, &heads, &[], genuine), Err(TreeFault::Rewritten { size: 3 }));
        // A head replaced by one the key did not sign.
        let mut forged = heads.clone();
        forged[1] = head(&edited, 7);
        forged[1].signature = "made up".into();
        assert_eq!(check_heads(&edited, &forged, &[], genuine), Err(TreeFault::BadSignature { size: 7 }));
    }

    #[test]
    fn v2_heads_sign_the_access_records_and_are_checked_against_them() {
        let tree = LedgerTree::from_leaves((0..3).map(leaf));
        let mut v2 = head(&tree, 3);
        v2.access = Some(AccessHead { size: 2, hash: "h2".into() });
        assert_eq!(v2.version(), 2);
        let message = String::from_utf8(v2.signed_message()).unwrap();
        assert!(message.starts_with("assent-tree-head/v2\n3\n") && message.contains("\n2\nh2\n"), "{message}");
        let v1 = head(&tree, 3);
        assert!(String::from_utf8(v1.signed_message()).unwrap().starts_with("assent-tree-head/v1\n"));
        let heads = [v1, v2];
        let held = |seq: u64| (seq == 2).then(|| "h2".to_owned());
        assert_eq!(check_access_heads(&heads, 2, held), Ok(()));
        assert_eq!(
            check_access_heads(&heads, 1, held),
            Err(TreeFault::AccessShortened { size: 3, access: 2, records: 1 })
        );
        let rewritten = |_: u64| Some("other".to_owned());
        assert_eq!(check_access_heads(&heads, 2, rewritten), Err(TreeFault::AccessRewritten { size: 3, access: 2 }));
        // Pruned before the anchor: what the chain from the anchor on checks.
        assert_eq!(check_access_heads(&heads, 2, |_| None), Ok(()));
    }
}
