//! Key rotation while serving.
//!
//! **Master key** (`rotate`): the operator makes the new key current and the old one previous
//! (`ASSENT_MASTER_KEY`, `ASSENT_MASTER_KEY_PREVIOUS`), restarts the servers, and runs
//! `assent keys rotate`. It re-wraps, under the current key, the stored secrets, signing seeds,
//! webhook secrets declared in the console and staff's second-factor secrets (one transaction), stores the previous key's link key (links in sent mail stay valid without
//! it), then every subject's data key and every queued mail, a page at a time, each page its own
//! transaction. What already carries the current key's id is skipped, so an interrupted run is
//! finished by the next one. Each row is rewritten compare-and-swap on its old bytes: a row a
//! server changed meanwhile (a subject erased, a mail sent) is left as the server left it. Passes
//! repeat until one finds nothing left (rows a server still on the old key wrote meanwhile).
//! Field values, addresses and consent evidence are under each subject's data key, which does not
//! change: re-wrapping the data key is what makes them open under the new master key. (Evidence is
//! hashed into the ledger chain and could not be re-sealed anyway.)
//!
//! **Signing keys** (`rotate_signing`): a new random key per purpose, wrapped under the current
//! master key; the old ones are retired (they keep verifying, never sign again).

use chrono::Utc;
use diesel::Connection;
use std::collections::BTreeMap;

use super::ServiceError;
use super::keyring::{checked_keys, row_of, stored_key};
use crate::crypto::{self, Keyring, RETIRED_LINK_KEY, SigningPurpose, StoredSigningKey, Wrapped, master, signing};
use crate::db::DbConnection;
use crate::db::key_store;

/// What a rotation has re-wrapped so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub secrets: usize,
    pub data_keys: usize,
    pub mails: usize,
    /// Whether nothing is left under an old key (false when stopped at `limit`).
    pub finished: bool,
}

/// How a rotation runs.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Rows per transaction.
    pub batch: i64,
    /// Stop after re-wrapping this many rows (a later run goes on).
    pub limit: Option<usize>,
}

/// The most passes over the tables before giving up on a server that keeps writing under an old key.
const MAX_PASSES: usize = 5;

/// Re-wraps everything under the current master key; `report` is called after every page.
pub fn rotate(
    conn: &mut DbConnection,
    keyring: &Keyring,
    pace: Pace,
    mut report: impl FnMut(&Progress),
) -> Result<Progress, ServiceError> {
    let mut progress = Progress { secrets: rewrap_stored_keys(conn, keyring)?, ..Progress::default() };
    report(&progress);
    for _ in 0..MAX_PASSES {
        let before = progress;
        let done = walk(conn, keyring, pace, Source::DataKeys, &mut progress, &mut report)?
            && walk(conn, keyring, pace, Source::HeldKeys, &mut progress, &mut report)?
            && walk(conn, keyring, pace, Source::Mail, &mut progress, &mut report)?;
        if !done {
            return Ok(progress);
        }
        if progress == before {
            progress.finished = true;
            break;
        }
    }
    Ok(progress)
}

/// The stored secrets and signing seeds, and the previous key's link key, in one transaction.
fn rewrap_stored_keys(conn: &mut DbConnection, keyring: &Keyring) -> Result<usize, ServiceError> {
    let masters = keyring.masters();
    if let Some(previous) = masters.previous() {
        let (kid, key) = crypto::link_key_of(previous);
        let name = format!("{RETIRED_LINK_KEY}{kid}");
        key_store::insert_secret(conn, &name, &crypto::wrap_secret(masters, &name, &key)?, Utc::now().naive_utc())?;
    }
    // Read first, then only compare-and-swap writes in the transaction (its first statement takes
    // SQLite's write lock, so a server committing meanwhile cannot make it fail).
    let mut secrets = Vec::new();
    for (name, wrapped) in key_store::secrets(conn)? {
        if let Some(new) = crypto::rewrap_secret(masters, &name, &wrapped)? {
            secrets.push((name, wrapped, new));
        }
    }
    let mut seeds = Vec::new();
    for (row, trusted) in checked_keys(conn, masters)? {
        if let Some(new) = trusted.map(|t| signing::rewrap_seed(masters, &t.stored)).transpose()?.flatten() {
            seeds.push((row.key_id, row.wrapped_seed, new));
        }
    }
    let mut webhook_secrets = Vec::new();
    for (name, previous, sealed) in crate::services::webhooks::sealed_secrets(conn)? {
        if let Some(new) = crate::services::webhooks::rewrap(keyring, &name, &sealed)? {
            webhook_secrets.push((name, previous, sealed, new));
        }
    }
    let totp_secrets = crate::services::second_factor::rewrapped(conn, keyring)?;
    conn.transaction(|conn| {
        let mut n = 0;
        for (owner_id, old, new) in &totp_secrets {
            n += crate::db::second_factor::swap_sealed(conn, owner_id, old, new)?;
        }
        for (name, old, new) in &secrets {
            n += key_store::swap_secret(conn, name, old, new)?;
        }
        for (name, previous, old, new) in &webhook_secrets {
            n += crate::db::webhooks::swap_sealed(conn, name, *previous, old, new)?;
        }
        for (key_id, old, new) in &seeds {
            n += key_store::swap_seed(conn, key_id, old, new)?;
        }
        Ok(n)
    })
}

/// What a pass re-wraps: the subjects' data keys, the copies kept while data is held under a
/// statutory obligation (the same keys, bound the same way), or queued mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    DataKeys,
    HeldKeys,
    Mail,
}

impl Source {
    fn page(self, conn: &mut DbConnection, after: &str, n: i64) -> diesel::QueryResult<Vec<(String, Vec<u8>)>> {
        match self {
            Self::DataKeys => key_store::wrapped_keys_after(conn, after, n),
            Self::HeldKeys => crate::db::holds::keys_after(conn, after, n),
            Self::Mail => key_store::messages_after(conn, after, n),
        }
    }

    fn swap(self, conn: &mut DbConnection, id: &str, old: &[u8], new: &[u8]) -> diesel::QueryResult<usize> {
        match self {
            Self::DataKeys => key_store::swap_wrapped_key(conn, id, old, new),
            Self::HeldKeys => crate::db::holds::swap_key(conn, id, old, new),
            Self::Mail => key_store::swap_message(conn, id, old, new),
        }
    }

    fn kind(self) -> Wrapped {
        if self == Self::Mail { Wrapped::Outbox } else { Wrapped::DataKey }
    }
}

/// One pass over one [`Source`]; `false` if it stopped at the limit.
fn walk(
    conn: &mut DbConnection,
    keyring: &Keyring,
    pace: Pace,
    source: Source,
    progress: &mut Progress,
    report: &mut impl FnMut(&Progress),
) -> Result<bool, ServiceError> {
    let masters = keyring.masters();
    let mut after = String::new();
    loop {
        let page = source.page(conn, &after, pace.batch)?;
        let Some((last, _)) = page.last() else { return Ok(true) };
        after = last.clone();
        let done = progress.data_keys + progress.mails;
        let room = pace.limit.map_or(usize::MAX, |l| l.saturating_sub(done));
        let stale: Vec<_> = page.into_iter().filter(|(_, w)| !masters.is_current(w)).take(room).collect();
        let rewrapped = conn.transaction(|conn| -> Result<usize, ServiceError> {
            let mut n = 0;
            for (id, wrapped) in &stale {
                let new = masters.rewrap(source.kind(), wrapped, id.as_bytes()).map_err(|e| {
                    tracing::error!(id = %id, error = %e, "cannot re-wrap");
                    e
                })?;
                let Some(new) = new else { continue };
                n += source.swap(conn, id, wrapped, &new)?;
            }
            Ok(n)
        })?;
        match source {
            Source::Mail => progress.mails += rewrapped,
            _ => progress.data_keys += rewrapped,
        }
        report(progress);
        if room == 0 || progress.data_keys + progress.mails >= pace.limit.unwrap_or(usize::MAX) {
            return Ok(false);
        }
    }
}

/// How much material is under which master key.
#[derive(Debug, Default)]
pub struct Census {
    /// By key id (`"none"`: written before ids), per kind.
    pub data_keys: BTreeMap<String, usize>,
    pub mails: BTreeMap<String, usize>,
    pub secrets: BTreeMap<String, usize>,
    /// Every signing key: the row, and whether it is trusted.
    pub signing: Vec<(key_store::SigningKeyRow, bool)>,
}

impl Census {
    /// Rows not under `current`.
    pub fn under_old_keys(&self, current: &str) -> usize {
        [&self.data_keys, &self.mails, &self.secrets]
            .iter()
            .flat_map(|m| m.iter())
            .filter(|(kid, _)| kid.as_str() != current)
            .map(|(_, n)| n)
            .sum()
    }
}

fn id_of(wrapped: &[u8]) -> String {
    master::key_id_of(wrapped).map_or_else(|| "none".to_owned(), |id| id.to_string())
}

/// Counts the material under each master key (a scan, a page at a time).
pub fn census(conn: &mut DbConnection, keyring: &Keyring, page: i64) -> Result<Census, ServiceError> {
    let mut census = Census::default();
    for source in [Source::DataKeys, Source::HeldKeys, Source::Mail] {
        let mut after = String::new();
        loop {
            let rows = source.page(conn, &after, page)?;
            let Some((last, _)) = rows.last() else { break };
            after = last.clone();
            let counts = if source == Source::Mail { &mut census.mails } else { &mut census.data_keys };
            for (_, wrapped) in &rows {
                *counts.entry(id_of(wrapped)).or_default() += 1;
            }
        }
    }
    let totp_secrets = crate::db::second_factor::sealed(conn)?.into_iter();
    for (_, wrapped) in key_store::secrets(conn)?.into_iter().chain(totp_secrets) {
        *census.secrets.entry(id_of(&wrapped)).or_default() += 1;
    }
    for (row, trusted) in checked_keys(conn, keyring.masters())? {
        *census.secrets.entry(id_of(&row.wrapped_seed)).or_default() += usize::from(trusted.is_some());
        census.signing.push((row, trusted.is_some()));
    }
    Ok(census)
}

/// A new active signing key for each purpose; the old ones are retired and keep verifying.
pub fn rotate_signing(conn: &mut DbConnection, keyring: &Keyring) -> Result<Vec<StoredSigningKey>, ServiceError> {
    let now = Utc::now().naive_utc();
    conn.transaction(|conn| {
        let mut created = Vec::new();
        for purpose in SigningPurpose::ALL {
            let key = signing::new_signing_key(keyring.masters(), purpose)?;
            key_store::insert_signing_key(conn, &row_of(key.clone(), now))?;
            key_store::retire_others(conn, purpose.as_str(), &key.key_id, now)?;
            created.push(key);
        }
        Ok(created)
    })
}

/// Whether a row is a signing key this build knows (for the status listing).
pub fn known_purpose(row: &key_store::SigningKeyRow) -> bool {
    stored_key(row).is_some()
}
