//! The consent ledger as a transparency log: signing tree heads, keeping a witness of them
//! outside the database, proving consistency, and verifying the whole against both.
//!
//! A head is signed at most once a minute while events arrive (and at shutdown), stored in
//! `tree_heads`, and appended to the witness file (`data/witness.jsonl`, one JSON head a line,
//! synced to disk). Someone who can rewrite the database but not the witness cannot make an edited,
//! reordered or shortened history verify: every stored head's root must be the root of the
//! ledger's first `size` events, and every witnessed head must still be stored unchanged.
//! A restore of a backup is recorded in the witness by a signed restore record
//! (`domain::restore`), which sets aside the heads of the history the restore discarded.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::crypto::{Keyring, tree_heads};
use crate::db::DbConnection;
use crate::db::tree_heads as stored;
use crate::domain::ledger::ledger_time;
use crate::domain::merkle::{Hash, LedgerTree, TreeEdge};
use crate::domain::restore::{Claim, RestoreFault, RestoreRecord, WitnessEntry, Witnessed};
use crate::domain::tree_head::{AccessHead, TreeFault, TreeHead, check_heads};

/// How often a new head is signed while events arrive.
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// The witness file in a data folder.
pub fn witness_path(data_dir: &Path) -> PathBuf {
    data_dir.join("witness.jsonl")
}

/// The ledger's tree as it is now.
pub fn tree(conn: &mut DbConnection) -> diesel::QueryResult<LedgerTree> {
    Ok(LedgerTree::from_leaves(stored::leaves_after(conn, 0)?))
}

/// Signs heads from the ledger's tree edge ([`TreeEdge`]), kept between signings: each reads
/// only the events appended since the last (the server's minute job keeps one), instead of
/// every event's leaf and a whole tree built under the lock that keeps appends out.
#[derive(Default)]
pub struct HeadSigner {
    edge: TreeEdge,
    /// The last event the edge holds: its seq and leaf.
    last: Option<(i64, Hash)>,
}

impl HeadSigner {
    /// Brings the edge to the ledger's end. When the last event it holds is no longer there as it
    /// was (a restored database), it starts again from the first event.
    fn catch_up(&mut self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        if let Some((seq, leaf)) = self.last
            && stored::leaf_at(conn, seq)? != Some(leaf)
        {
            *self = Self::default();
        }
        let (edge, last) = (&mut self.edge, &mut self.last);
        stored::each_leaf_after(conn, last.map_or(0, |(seq, _)| seq), |seq, leaf| {
            edge.push(&leaf);
            *last = Some((seq, leaf));
        })
    }

    /// Signs and stores a head over every event now in the ledger, unless the newest head
    /// already covers them all, in a transaction of its own; then the witness. Most of the
    /// reading is done before the lock (committed events are a prefix: appends take the same
    /// lock), and only what was appended meanwhile under it.
    pub fn sign_and_witness(
        &mut self,
        conn: &mut DbConnection,
        keyring: &Keyring,
        data_dir: &Path,
    ) -> anyhow::Result<Option<TreeHead>> {
        use diesel::Connection;
        self.catch_up(conn)?;
        let signed = conn.transaction(|c| {
            crate::db::catalog::lock_for_publishing(c)?;
            self.catch_up(c)?;
            sign_over(c, keyring, self.edge.size(), &self.edge.root())
        });
        let Some(head) = signed? else { return Ok(None) };
        witness(&witness_path(data_dir), &head)?;
        Ok(Some(head))
    }
}

/// A head over every event now in the ledger, as [`HeadSigner::sign_and_witness`] from nothing:
/// what `assent ledger sign`, backups and restores do.
pub fn sign_and_witness(
    conn: &mut DbConnection,
    keyring: &Keyring,
    data_dir: &Path,
) -> anyhow::Result<Option<TreeHead>> {
    HeadSigner::default().sign_and_witness(conn, keyring, data_dir)
}

/// A v2 head over the ledger's first `size` events (whose root is `root`), signed and stored
/// when the ledger or the access records grew since the newest head. Run it under the lock.
fn sign_over(
    conn: &mut DbConnection,
    keyring: &Keyring,
    size: u64,
    root: &Hash,
) -> diesel::QueryResult<Option<TreeHead>> {
    let latest = stored::latest(conn)?;
    let access = crate::services::access::head_for_signing(conn)?;
    let grew = latest.as_ref().is_none_or(|h| {
        let (events, records) = h.order_key();
        events < size || records < access.size
    });
    if (size == 0 && access.size == 0) || !grew {
        return Ok(None);
    }
    let head = signed(keyring, size, root, access);
    stored::insert(conn, &head)?;
    Ok(Some(head))
}

fn signed(keyring: &Keyring, size: u64, root: &Hash, access: AccessHead) -> TreeHead {
    let signer = keyring.tree_heads();
    let root = hex::encode(root);
    let signed_at = ledger_time(Utc::now().naive_utc());
    let signature = signer.sign(&TreeHead::message_v2(size, &root, &access, signed_at));
    TreeHead { size, root, signed_at, key_id: signer.key_id().to_owned(), signature, access: Some(access) }
}

/// Appends a head to the witness (after its transaction committed: the witness never holds a
/// head the database did not).
pub fn witness(path: &Path, head: &TreeHead) -> std::io::Result<()> {
    witness_line(path, head)
}

/// Appends a restore record to the witness (`{"restore": …}`).
pub fn witness_restore(path: &Path, record: &RestoreRecord) -> std::io::Result<()> {
    witness_line(path, &WitnessEntry::Restore { restore: record.clone() })
}

fn witness_line(path: &Path, entry: &impl serde::Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(&line)?;
    file.sync_data()
}

/// Every head the witness holds (none when it has no file yet), restore records left out.
pub fn witnessed(path: &Path) -> std::io::Result<Vec<TreeHead>> {
    let entries = witness_entries(path)?;
    Ok(entries
        .into_iter()
        .filter_map(|e| match e {
            WitnessEntry::Head(head) => Some(head),
            WitnessEntry::Restore { .. } => None,
        })
        .collect())
}

/// Every line of the witness, heads and restore records, in order.
pub fn witness_entries(path: &Path) -> std::io::Result<Vec<WitnessEntry>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if !line.trim().is_empty() {
            entries.push(serde_json::from_str(&line).map_err(std::io::Error::other)?);
        }
    }
    Ok(entries)
}

/// A restore record over a ledger of `size` events with this root, signed now.
pub fn signed_restore(keyring: &Keyring, size: u64, root: &Hash, set_aside: Vec<Claim>) -> RestoreRecord {
    let signer = keyring.tree_heads();
    let root = hex::encode(root);
    let restored_at = ledger_time(Utc::now().naive_utc());
    let signature = signer.sign(&RestoreRecord::message(size, &root, restored_at, &set_aside));
    RestoreRecord { size, root, restored_at, set_aside, key_id: signer.key_id().to_owned(), signature }
}

/// Whether a trusted tree-head key (the one the record names) signed this restore record.
pub fn genuine_restore(keyring: &Keyring, record: &RestoreRecord) -> bool {
    keyring
        .tree_head_key(&record.key_id)
        .is_some_and(|key| tree_heads::verify(key, &record.signed_message(), &record.signature))
}

/// What a tree check found. (`witnessed` counts the witnessed heads in force: those of histories
/// a restore discarded are set aside, see [`restores`].)
#[derive(Debug)]
pub enum TreeCheck {
    Holds { heads: usize, witnessed: usize },
    Broken(TreeFault),
    RestoreBroken(RestoreFault),
}

/// The witness with its restore records applied (signatures not checked: [`verify`] does).
pub fn restores(witness: &Path) -> anyhow::Result<Witnessed> {
    Ok(Witnessed::fold(&witness_entries(witness)?, |_| true)?)
}

/// Checks the ledger's tree against every stored head and every witnessed one.
///
/// Read in the order things are written, so that a server signing a head meanwhile cannot make
/// a sound ledger look broken: the witness first (a head is witnessed only after its commit),
/// then the stored heads, then the events (a head covers events already appended).
pub fn verify(conn: &mut DbConnection, keyring: &Keyring, witness: &Path) -> anyhow::Result<TreeCheck> {
    let witnessed = witness_entries(witness)?;
    let heads = stored::all(conn)?;
    let tree = tree(conn)?;
    let seen = match Witnessed::fold(&witnessed, |r| genuine_restore(keyring, r)) {
        Ok(seen) => seen,
        Err(fault) => return Ok(TreeCheck::RestoreBroken(fault)),
    };
    // Each head under the trusted key it names (`Keyring::tree_head_key`): heads signed before a
    // signing rotation keep verifying, and a key planted in the database is not trusted.
    let genuine = |h: &TreeHead| {
        keyring.tree_head_key(&h.key_id).is_some_and(|key| tree_heads::verify(key, &h.signed_message(), &h.signature))
    };
    let access = crate::services::access::check_heads(conn, &heads)?;
    let checked = check_heads(&tree, &heads, &seen.heads, genuine).and_then(|n| access.map(|()| n));
    Ok(match checked {
        Ok(n) => match seen.check_restores(&tree) {
            Ok(()) => TreeCheck::Holds { heads: n, witnessed: seen.heads.len() },
            Err(fault) => TreeCheck::RestoreBroken(fault),
        },
        Err(fault) => TreeCheck::Broken(fault),
    })
}

/// A consistency proof between the ledger's first `from` and first `to` events, with both roots.
pub struct Consistency {
    pub from_root: Hash,
    pub to_root: Hash,
    pub proof: Vec<Hash>,
}

pub fn consistency(conn: &mut DbConnection, from: u64, to: u64) -> diesel::QueryResult<Option<Consistency>> {
    let tree = tree(conn)?;
    let (Some(old), Some(new)) = (tree.prefix(from), tree.prefix(to)) else { return Ok(None) };
    let Some(proof) = (from <= to).then(|| new.consistency(from)).flatten() else { return Ok(None) };
    Ok(Some(Consistency { from_root: old.root(), to_root: new.root(), proof }))
}

/// One event of a receipt, with its audit path in the head's tree.
pub struct ProvenEvent {
    pub seq: i64,
    pub leaf_index: u64,
    pub hash: Hash,
    pub proof: Vec<Hash>,
}

/// A receipt's events proven against a signed head; `signed_now` when the head had to be signed
/// for them (the caller witnesses it after commit).
pub struct ReceiptProof {
    pub head: TreeHead,
    pub signed_now: bool,
    pub events: Vec<ProvenEvent>,
}

/// Inclusion proofs of the events a receipt names (those recorded with `receipt_id` as their
/// source), against the latest signed head, signed first if it does not cover them yet. Run it
/// inside a transaction (the writer's). `None`: no event has that source.
pub fn receipt_proof(
    conn: &mut DbConnection,
    keyring: &Keyring,
    receipt_id: &str,
) -> diesel::QueryResult<Option<ReceiptProof>> {
    let events = stored::events_of_source(conn, receipt_id)?;
    if events.is_empty() {
        return Ok(None);
    }
    crate::db::catalog::lock_for_publishing(conn)?;
    let whole = tree(conn)?;
    prove(conn, keyring, &whole, events)
}

/// The inclusion proof of the one event whose chain hash (its leaf) is `hash` (RFC 9162's
/// get-proof-by-hash), as [`receipt_proof`]. A hash reveals nothing of the event it names, and
/// only someone holding it (its receipt) can ask.
pub fn proof_by_hash(
    conn: &mut DbConnection,
    keyring: &Keyring,
    hash: &Hash,
) -> diesel::QueryResult<Option<ReceiptProof>> {
    crate::db::catalog::lock_for_publishing(conn)?;
    let whole = tree(conn)?;
    let Some(index) = whole.position(hash) else { return Ok(None) };
    let seq = i64::try_from(index).map_or(i64::MAX, |i| i + 1);
    prove(conn, keyring, &whole, vec![(seq, hex::encode(hash))])
}

/// Proves `events` (seq, chain hash) against the latest head, signing one first if it does not
/// cover them yet.
fn prove(
    conn: &mut DbConnection,
    keyring: &Keyring,
    whole: &LedgerTree,
    events: Vec<(i64, String)>,
) -> diesel::QueryResult<Option<ReceiptProof>> {
    let Some(last) = events.iter().map(|(seq, _)| *seq).max() else { return Ok(None) };
    let (head, signed_now) = match stored::latest(conn)? {
        Some(head) if i64::try_from(head.size).unwrap_or(i64::MAX) >= last => (head, false),
        _ => match sign_over(conn, keyring, whole.size(), &whole.root())? {
            Some(head) => (head, true),
            None => return Ok(None),
        },
    };
    let Some(tree) = whole.prefix(head.size) else { return Ok(None) };
    let proven = events
        .into_iter()
        .filter_map(|(seq, hash)| {
            let leaf_index = u64::try_from(seq - 1).ok()?;
            let proof = tree.inclusion(leaf_index)?;
            Some(ProvenEvent {
                seq,
                leaf_index,
                hash: tree.leaf(leaf_index).filter(|l| hex::encode(l) == hash)?,
                proof,
            })
        })
        .collect();
    Ok(Some(ReceiptProof { head, signed_now, events: proven }))
}
