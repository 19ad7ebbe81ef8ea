//! The offline ledger bundle (`assent ledger export --out DIR`): what an auditor needs to check
//! the ledger's history and any receipt without access to the server or its database, and
//! without any personal data.
//!
//! - `events.jsonl`: every event in `seq` order, without the fields that are personal data
//!   (`subject_id`, `source`, `evidence`): what the person agreed to or withdrew, when, under
//!   which policy version and wording, and the event's chain link (`prev_hash`, `hash`). The
//!   chain hashes are the Merkle tree's leaves.
//! - `heads.jsonl`: every signed tree head stored; `witness.jsonl`: the witness's copy.
//! - `keys.json`: the public keys: tree-head keys (by key id) and the receipt JWKS.
//! - `manifest.json`: the format, when and by whom it was made, counts, and each file's SHA-256.
//!
//! `tools/verify_bundle.py` checks a bundle (and receipts with their proofs) with Python's
//! standard library and `cryptography` alone.

use serde::Serialize;
use std::path::{Path, PathBuf};

use crate::crypto::{Keyring, sha256_hex};
use crate::db::DbConnection;
use crate::db::ledger::ConsentEvent;
use crate::db::tree_heads as stored;

/// The bundle format written now.
pub const FORMAT: &str = "assent-ledger-bundle/1";

/// One event as the bundle holds it: everything but personal data.
#[derive(Serialize)]
struct BundleEvent<'a> {
    seq: i64,
    id: &'a str,
    purpose: &'a str,
    action: &'a str,
    policy_version_id: &'a str,
    policy_text_hash: &'a str,
    method: &'a str,
    occurred_at: String,
    prev_hash: &'a str,
    hash: &'a str,
}

impl<'a> From<&'a ConsentEvent> for BundleEvent<'a> {
    fn from(e: &'a ConsentEvent) -> Self {
        Self {
            seq: e.seq,
            id: &e.id,
            purpose: &e.purpose_key,
            action: &e.action,
            policy_version_id: &e.policy_version_id,
            policy_text_hash: &e.policy_text_hash,
            method: &e.method,
            occurred_at: crate::domain::time_text::iso_micros(e.occurred_at),
            prev_hash: &e.prev_hash,
            hash: &e.hash,
        }
    }
}

/// What was written.
#[derive(Debug)]
pub struct Exported {
    pub dir: PathBuf,
    pub events: u64,
    pub heads: usize,
    pub witnessed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{0} exists and is not empty: export into a new or empty folder")]
    NotEmpty(String),
    #[error("could not write the bundle: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not read the ledger: {0}")]
    Storage(#[from] diesel::result::Error),
    #[error("could not encode the bundle: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Writes the bundle into `dir` (created; it must be new or empty). Signs a head first when the
/// newest does not cover every event, so the bundle's whole history is committed to.
pub fn export(
    conn: &mut DbConnection,
    keyring: &Keyring,
    data_dir: &Path,
    issuer: &str,
    dir: &Path,
) -> Result<Exported, BundleError> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(BundleError::NotEmpty(dir.display().to_string()));
    }
    std::fs::create_dir_all(dir)?;
    super::transparency::sign_and_witness(conn, keyring, data_dir).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut files = serde_json::Map::new();
    let events = write_events(conn, &dir.join("events.jsonl"))?;
    files.insert("events.jsonl".into(), digest(&dir.join("events.jsonl"))?.into());
    let heads = stored::all(conn)?;
    write_lines(&dir.join("heads.jsonl"), heads.iter())?;
    files.insert("heads.jsonl".into(), digest(&dir.join("heads.jsonl"))?.into());
    let witness = super::transparency::witness_path(data_dir);
    let witnessed = witness.exists();
    if witnessed {
        std::fs::copy(&witness, dir.join("witness.jsonl"))?;
        files.insert("witness.jsonl".into(), digest(&dir.join("witness.jsonl"))?.into());
    }
    let tree_head_keys: Vec<serde_json::Value> = keyring
        .signing_keys()
        .iter()
        .filter(|k| k.purpose == crate::crypto::SigningPurpose::TreeHeads)
        .map(|k| serde_json::json!({ "key_id": k.key_id, "public_key": k.public_key }))
        .collect();
    let keys = serde_json::json!({ "tree_head_keys": tree_head_keys, "jwks": keyring.jwks() });
    std::fs::write(dir.join("keys.json"), serde_json::to_vec_pretty(&keys)?)?;
    files.insert("keys.json".into(), digest(&dir.join("keys.json"))?.into());
    let manifest = serde_json::json!({
        "format": FORMAT,
        "issuer": issuer,
        "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "events": events,
        "heads": heads.len(),
        "withheld": ["subject_id", "source", "evidence"],
        "files": files,
    });
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(Exported { dir: dir.to_owned(), events, heads: heads.len(), witnessed })
}

fn write_events(conn: &mut DbConnection, path: &Path) -> Result<u64, BundleError> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut count = 0u64;
    let failed = crate::db::ledger::each_event(conn, |event| {
        let written = serde_json::to_writer(&mut out, &BundleEvent::from(event))
            .map_err(BundleError::from)
            .and_then(|()| Ok(out.write_all(b"\n")?));
        count += 1;
        match written {
            Ok(()) => std::ops::ControlFlow::Continue(()),
            Err(e) => std::ops::ControlFlow::Break(e),
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(count)
}

fn write_lines<T: Serialize>(path: &Path, items: impl Iterator<Item = T>) -> Result<(), BundleError> {
    let mut text = Vec::new();
    for item in items {
        serde_json::to_writer(&mut text, &item)?;
        text.push(b'\n');
    }
    Ok(std::fs::write(path, text)?)
}

fn digest(path: &Path) -> std::io::Result<String> {
    Ok(sha256_hex(&std::fs::read(path)?))
}
