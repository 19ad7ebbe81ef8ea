//! What follows putting a backup back (`assent restore BACKUP` on SQLite, or `pg_restore` then
//! `assent restore --reconcile`): the witness records the restore, everyone erased since the
//! backup was taken is erased again, and a head is signed over the ledger as it now is.
//!
//! The replay is also run by every `serve` start, so a database put back by hand loses no
//! erasure either; only the witness record needs the command.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use diesel::Connection;

use super::ServiceError;
use super::audit::Actor;
use super::consent::{Door, States};
use super::erasure::{self, By};
use super::erasure_journal::ErasureJournal;
use super::transparency;
use crate::crypto::Keyring;
use crate::db::catalog::Catalog;
use crate::db::tree_heads as stored;
use crate::db::{Db, DbConnection, Erasure, subjects};
use crate::domain::ledger::ledger_time;
use crate::domain::restore::{Claim, RestoreRecord, Witnessed};
use crate::domain::tree_head::TreeHead;
use crate::domain::{Method, SubjectId};

/// The audit log's actor for erasures replayed from the journal.
pub const REPLAY_ACTOR: &str = "erasure-journal";

/// People erased per writer transaction while replaying.
const REPLAY_BATCH: usize = 500;

/// What a replay of the erasure journal did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// People the journal holds.
    pub journaled: usize,
    /// People the journal holds who were live in the database, now erased again.
    pub erased_again: usize,
    /// Erasures the database holds that the journal lacked (a crash between the commit and the
    /// journal's write), now journaled.
    pub caught_up: usize,
    /// Journal lines that could not be read (a torn write), skipped.
    pub damaged_lines: Vec<usize>,
}

/// Erases again, through the same erasure path (`erased` events through the consent door, rows
/// and data keys gone), everyone the journal holds who is live in the database; then journals
/// every erasure the database records that the journal lacks.
pub fn replay_erasures(db: &Db, journal: &ErasureJournal) -> anyhow::Result<Replayed> {
    let journaled = journal.read()?;
    let mut conn = db.pool.get()?;
    let listed: Vec<&String> = journaled.subjects.iter().collect();
    let mut live: Vec<String> = Vec::new();
    for chunk in listed.chunks(1000) {
        live.extend(subjects::live_among(&mut conn, chunk)?);
    }
    live.sort();
    let catalog = Arc::new(Catalog::load(&mut conn)?);
    drop(conn);
    for chunk in live.chunks(REPLAY_BATCH) {
        let (ids, catalog): (Vec<SubjectId>, _) =
            (chunk.iter().cloned().map(SubjectId::from).collect(), catalog.clone());
        db.writer.write_blocking(move |tx| -> Result<(), ServiceError> {
            // Looked at again inside the write: someone erased meanwhile is not erased twice.
            let still: Vec<SubjectId> = subjects::live_among(tx.conn, &ids)?.into_iter().map(SubjectId::from).collect();
            let mut states = States::load(tx.conn, &still)?;
            let by = By::new(&Actor::Job(REPLAY_ACTOR), Method::Admin);
            let now = ledger_time(Utc::now().naive_utc());
            erasure::erase_people(tx, &Door::new(&catalog), &mut states, &still, by, now)
        })?;
    }
    let mut conn = db.pool.get()?;
    let missing: Vec<Erasure> = subjects::erased_all(&mut conn)?
        .into_iter()
        .filter(|(id, _)| !journaled.subjects.contains(id))
        .map(|(subject_id, at)| Erasure { subject_id, at })
        .collect();
    journal.append(&missing)?;
    Ok(Replayed {
        journaled: journaled.subjects.len(),
        erased_again: live.len(),
        caught_up: missing.len(),
        damaged_lines: journaled.damaged,
    })
}

/// A restore as the witness now records it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub record: RestoreRecord,
    /// Witnessed heads the restored ledger agrees with but the database lacked (signed after
    /// the backup was taken, over events it holds), stored again.
    pub adopted: usize,
}

/// Appends a signed restore record to the witness for the ledger as it is now: its size and
/// root, and every claim witnessed before and still in force that it does not agree with.
/// Heads it does agree with that the database lacks are stored first (so every head in force
/// stays stored, as verification requires). Run with no server on the database.
pub fn record_restore(conn: &mut DbConnection, keyring: &Keyring, witness: &Path) -> anyhow::Result<Recorded> {
    let entries = transparency::witness_entries(witness)?;
    let seen = Witnessed::fold(&entries, |r| transparency::genuine_restore(keyring, r))
        .map_err(|fault| anyhow::anyhow!("the witness does not hold together, so no restore was recorded: {fault}"))?;
    let (record, adopted) = conn.transaction(|c| -> anyhow::Result<(RestoreRecord, usize)> {
        crate::db::catalog::lock_for_publishing(c)?;
        let tree = transparency::tree(c)?;
        let mut set_aside = seen.disagreeing(&tree);
        // A head that agrees with the ledger but commits to access records the restore lost.
        for head in &seen.heads {
            let held = claim(head);
            let lost = crate::services::access::check_heads(c, std::slice::from_ref(head))?.is_err();
            if lost && !set_aside.contains(&held) {
                set_aside.push(held);
            }
        }
        let mut adopted = 0;
        for head in seen.heads.iter().filter(|h| !set_aside.contains(&claim(h))) {
            if stored::of_size(c, head.size)?.is_none() {
                stored::insert(c, head)?;
                adopted += 1;
            }
        }
        Ok((transparency::signed_restore(keyring, tree.size(), &tree.root(), set_aside), adopted))
    })?;
    transparency::witness_restore(witness, &record)?;
    Ok(Recorded { record, adopted })
}

fn claim(head: &TreeHead) -> Claim {
    Claim { size: head.size, root: head.root.clone() }
}

/// Everything a restore needs once the database is in place.
#[derive(Debug, Clone)]
pub struct Reconciled {
    pub recorded: Recorded,
    pub replayed: Replayed,
    /// The head signed over the ledger afterwards (`None` when the newest already covered it).
    pub head: Option<TreeHead>,
}

/// Records the restore in the witness, replays the erasure journal, and signs a head.
pub fn reconcile(db: &Db, keyring: &Keyring, journal: &ErasureJournal, data_dir: &Path) -> anyhow::Result<Reconciled> {
    let recorded = record_restore(&mut *db.pool.get()?, keyring, &transparency::witness_path(data_dir))?;
    let replayed = replay_erasures(db, journal)?;
    let head = transparency::sign_and_witness(&mut *db.pool.get()?, keyring, data_dir)?;
    Ok(Reconciled { recorded, replayed, head })
}
