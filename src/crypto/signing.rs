//! Signing keys that live in the database, wrapped under the master key.
//!
//! A signing key is a random Ed25519 seed (the first of each purpose is the seed today's master
//! key derived, so receipts and heads signed before keys were stored keep verifying), stored with
//! its id (first 16 hex digits of SHA-256 of the public key) and public key, the seed wrapped
//! under the master key and bound to its purpose and id. A stored key is **trusted** only if its
//! seed opens under a master key and yields the stored public key and id: someone who can write to
//! the database but has no master key cannot plant a key of their own.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;

use super::master::{MasterKeys, Wrapped};
use super::{CryptoError, random_bytes, sha256_hex};

/// What a signing key signs. Receipts and tree heads each have their own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningPurpose {
    Receipts,
    TreeHeads,
}

impl SigningPurpose {
    pub const ALL: [Self; 2] = [Self::Receipts, Self::TreeHeads];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipts => "receipts",
            Self::TreeHeads => "tree_heads",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// The HKDF label of the seed the master key derived before signing keys were stored.
    fn legacy_label(self) -> &'static str {
        match self {
            Self::Receipts => "receipt-signing-ed25519",
            Self::TreeHeads => "tree-head-signing-ed25519",
        }
    }
}

/// A signing key as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    pub key_id: String,
    pub purpose: SigningPurpose,
    /// Raw 32-byte Ed25519 public key, base64.
    pub public_key: String,
    pub wrapped_seed: Vec<u8>,
}

/// A stored key whose seed opened and matched.
pub struct TrustedKey {
    pub stored: StoredSigningKey,
    pub(super) seed: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRefused {
    #[error("signing key {0}: its seed does not open under the master key")]
    DoesNotOpen(String),
    #[error("signing key {0}: its seed does not give its public key or id")]
    Mismatch(String),
}

fn aad(purpose: SigningPurpose, key_id: &str) -> Vec<u8> {
    format!("assent/signing-key\0{}\0{key_id}", purpose.as_str()).into_bytes()
}

/// The id and base64 public key of a seed.
pub fn identity(seed: &[u8; 32]) -> (String, String) {
    let public = SigningKey::from_bytes(seed).verifying_key().to_bytes();
    (sha256_hex(&public)[..16].to_owned(), B64.encode(public))
}

fn stored(masters: &MasterKeys, purpose: SigningPurpose, seed: &[u8; 32]) -> Result<StoredSigningKey, CryptoError> {
    let (key_id, public_key) = identity(seed);
    let wrapped_seed = masters.wrap(Wrapped::Secret, seed, &aad(purpose, &key_id))?;
    Ok(StoredSigningKey { key_id, purpose, public_key, wrapped_seed })
}

/// A new random signing key, wrapped under the current master key.
pub fn new_signing_key(masters: &MasterKeys, purpose: SigningPurpose) -> Result<StoredSigningKey, CryptoError> {
    stored(masters, purpose, &random_bytes::<32>())
}

/// The key the master key in use before rotation derived (what signed until keys were stored).
pub fn initial_signing_key(masters: &MasterKeys, purpose: SigningPurpose) -> Result<StoredSigningKey, CryptoError> {
    stored(masters, purpose, &masters.oldest().derive(purpose.legacy_label()))
}

/// Checks a stored key: its seed must open under a master key and give its public key and id.
pub fn trust(masters: &MasterKeys, key: StoredSigningKey) -> Result<TrustedKey, KeyRefused> {
    let opened = masters
        .unwrap(Wrapped::Secret, &key.wrapped_seed, &aad(key.purpose, &key.key_id))
        .ok()
        .and_then(|s| <[u8; 32]>::try_from(s).ok())
        .ok_or_else(|| KeyRefused::DoesNotOpen(key.key_id.clone()))?;
    if identity(&opened) != (key.key_id.clone(), key.public_key.clone()) {
        return Err(KeyRefused::Mismatch(key.key_id));
    }
    Ok(TrustedKey { stored: key, seed: opened })
}

/// The seed wrapped again under the current master key; `None` if it already is.
pub fn rewrap_seed(masters: &MasterKeys, key: &StoredSigningKey) -> Result<Option<Vec<u8>>, CryptoError> {
    masters.rewrap(Wrapped::Secret, &key.wrapped_seed, &aad(key.purpose, &key.key_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_key_is_trusted_only_if_its_seed_opens_and_matches() {
        let masters = MasterKeys::new([1; 32], None);
        let key = new_signing_key(&masters, SigningPurpose::Receipts).unwrap();
        assert!(trust(&masters, key.clone()).is_ok());
        // A planted key: a real key pair, but its seed was not wrapped under the master key.
        let planted_seed = [9u8; 32];
        let (key_id, public_key) = identity(&planted_seed);
        let other = MasterKeys::new([2; 32], None);
        let wrapped_seed = other.wrap(Wrapped::Secret, &planted_seed, &aad(SigningPurpose::Receipts, &key_id)).unwrap();
        let planted = StoredSigningKey { key_id, purpose: SigningPurpose::Receipts, public_key, wrapped_seed };
        assert!(matches!(trust(&masters, planted), Err(KeyRefused::DoesNotOpen(_))));
        // A genuine seed claimed for another public key, or another purpose.
        let swapped = StoredSigningKey { public_key: identity(&[3; 32]).1, ..key.clone() };
        assert!(matches!(trust(&masters, swapped), Err(KeyRefused::Mismatch(_))));
        let moved = StoredSigningKey { purpose: SigningPurpose::TreeHeads, ..key };
        assert!(trust(&masters, moved).is_err());
    }

    #[test]
    fn the_initial_key_is_the_one_the_master_derived_and_survives_a_rewrap() {
        let old = MasterKeys::new([1; 32], None);
        let initial = initial_signing_key(&old, SigningPurpose::TreeHeads).unwrap();
        let derived = super::super::TreeSigner::from_seed(&old.current().derive("tree-head-signing-ed25519"));
        assert_eq!(initial.key_id, derived.key_id());
        let rotating = MasterKeys::new([2; 32], Some([1; 32]));
        let rewrapped =
            StoredSigningKey { wrapped_seed: rewrap_seed(&rotating, &initial).unwrap().unwrap(), ..initial };
        assert!(trust(&MasterKeys::new([2; 32], None), rewrapped).is_ok());
    }
}
