//! Loading the keyring: the master keys from the environment, everything else from the database
//! (`key_secrets`, `signing_keys`), each stored key first initialised from what the master key
//! in use before rotation derived, so that indexes, pseudonyms, signed wordings, receipts and tree
//! heads made before keys were stored keep matching and verifying.
//!
//! The inserts run one statement at a time (no transaction): two processes starting at once may
//! both try, the second insert is ignored, and both read back the row that won.

use chrono::Utc;

use crate::crypto::{
    self, CryptoError, Keyring, MasterKeys, RETIRED_LINK_KEY, STABLE_SECRETS, SigningPurpose, StableSecrets,
    StoredSigningKey, TrustedKey, signing,
};
use crate::db::DbConnection;
use crate::db::key_store::{self, SigningKeyRow};

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("database error reading the stored keys")]
    Storage(#[from] diesel::result::Error),
    #[error("a stored key cannot be opened: {0}")]
    Crypto(#[from] CryptoError),
    #[error(
        "no {0} signing key in the database opens under the master key (a key may have been planted, or the master key is wrong)"
    )]
    NoTrustedKey(&'static str),
}

/// The keyring for this database and these master keys.
pub fn load(conn: &mut DbConnection, masters: MasterKeys) -> Result<Keyring, KeyringError> {
    let secrets = stable_secrets(conn, &masters)?;
    let retired_links = retired_link_keys(conn, &masters)?;
    let keys = signing_keys(conn, &masters)?;
    Keyring::assemble(masters, &secrets, retired_links, keys).map_err(|e| KeyringError::NoTrustedKey(e.0))
}

fn stable_secrets(conn: &mut DbConnection, masters: &MasterKeys) -> Result<StableSecrets, KeyringError> {
    let mut stored = key_store::secrets(conn)?;
    if STABLE_SECRETS.iter().any(|name| stored.iter().all(|(n, _)| n != name)) {
        let now = Utc::now().naive_utc();
        for (name, secret) in StableSecrets::derived(masters).named() {
            if stored.iter().all(|(n, _)| n != name) {
                key_store::insert_secret(conn, name, &crypto::wrap_secret(masters, name, secret)?, now)?;
            }
        }
        stored = key_store::secrets(conn)?;
    }
    let open = |name: &str| -> Result<[u8; 32], KeyringError> {
        let (_, wrapped) = stored.iter().find(|(n, _)| n == name).ok_or(CryptoError::Malformed)?;
        Ok(crypto::unwrap_secret(masters, name, wrapped)?)
    };
    Ok(StableSecrets {
        email_index: open(STABLE_SECRETS[0])?,
        ip: open(STABLE_SECRETS[1])?,
        shown: open(STABLE_SECRETS[2])?,
    })
}

fn retired_link_keys(conn: &mut DbConnection, masters: &MasterKeys) -> Result<Vec<(String, [u8; 32])>, KeyringError> {
    let mut keys = Vec::new();
    for (name, wrapped) in key_store::secrets(conn)? {
        if let Some(kid) = name.strip_prefix(RETIRED_LINK_KEY) {
            keys.push((kid.to_owned(), crypto::unwrap_secret(masters, &name, &wrapped)?));
        }
    }
    Ok(keys)
}

/// A row as the crypto module sees it (`None`: a purpose this build does not know).
pub fn stored_key(row: &SigningKeyRow) -> Option<StoredSigningKey> {
    Some(StoredSigningKey {
        key_id: row.key_id.clone(),
        purpose: SigningPurpose::parse(&row.purpose)?,
        public_key: row.public_key.clone(),
        wrapped_seed: row.wrapped_seed.clone(),
    })
}

/// Every stored signing key with whether it is trusted, the active ones first, then newest first.
pub fn checked_keys(
    conn: &mut DbConnection,
    masters: &MasterKeys,
) -> diesel::QueryResult<Vec<(SigningKeyRow, Option<TrustedKey>)>> {
    let mut rows = key_store::signing_keys(conn)?;
    rows.sort_by_key(|r| r.retired_at.is_some());
    Ok(rows
        .into_iter()
        .map(|row| {
            let trusted = stored_key(&row).and_then(|k| signing::trust(masters, k).ok());
            (row, trusted)
        })
        .collect())
}

fn signing_keys(conn: &mut DbConnection, masters: &MasterKeys) -> Result<Vec<TrustedKey>, KeyringError> {
    let mut checked = checked_keys(conn, masters)?;
    let missing: Vec<SigningPurpose> =
        SigningPurpose::ALL.into_iter().filter(|p| checked.iter().all(|(row, _)| row.purpose != p.as_str())).collect();
    if !missing.is_empty() {
        let now = Utc::now().naive_utc();
        for purpose in missing {
            key_store::insert_signing_key(conn, &row_of(signing::initial_signing_key(masters, purpose)?, now))?;
        }
        checked = checked_keys(conn, masters)?;
    }
    for (row, _) in checked.iter().filter(|(_, t)| t.is_none()) {
        tracing::warn!(key_id = %row.key_id, "signing key refused (its seed does not open under the master key, or does not match): not used to sign or verify");
    }
    Ok(checked.into_iter().filter_map(|(_, t)| t).collect())
}

/// The row that stores a new key.
pub fn row_of(key: StoredSigningKey, now: chrono::NaiveDateTime) -> SigningKeyRow {
    SigningKeyRow {
        key_id: key.key_id,
        purpose: key.purpose.as_str().to_owned(),
        public_key: key.public_key,
        wrapped_seed: key.wrapped_seed,
        created_at: now,
        retired_at: None,
    }
}

/// The JSON Web Key Set of every trusted receipt key in the database (so a key another process
/// created is published at once).
pub fn jwks(conn: &mut DbConnection, keyring: &Keyring) -> diesel::QueryResult<serde_json::Value> {
    let keys: Vec<StoredSigningKey> = checked_keys(conn, keyring.masters())?
        .into_iter()
        .filter_map(|(_, t)| t.map(|t| t.stored))
        .filter(|k| k.purpose == SigningPurpose::Receipts)
        .collect();
    Ok(crypto::jwks_of(&keys))
}

/// The public key (base64) of the trusted tree-head key `key_id`, from the keyring or, for a key
/// created since it was loaded, the database.
pub fn tree_head_key(conn: &mut DbConnection, keyring: &Keyring, key_id: &str) -> diesel::QueryResult<Option<String>> {
    if let Some(key) = keyring.tree_head_key(key_id) {
        return Ok(Some(key.to_owned()));
    }
    Ok(checked_keys(conn, keyring.masters())?
        .into_iter()
        .filter_map(|(_, t)| t.map(|t| t.stored))
        .find(|k| k.purpose == SigningPurpose::TreeHeads && k.key_id == key_id)
        .map(|k| k.public_key))
}
