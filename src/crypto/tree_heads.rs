//! The tree-head key: Ed25519, derived from the master key (which never lives in the database),
//! signing the consent ledger's tree heads.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

pub struct TreeSigner {
    signing: SigningKey,
    key_id: String,
}

impl TreeSigner {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let key_id = super::sha256_hex(&signing.verifying_key().to_bytes())[..16].to_owned();
        Self { signing, key_id }
    }

    /// The first 16 hex digits of SHA-256 of the public key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The raw 32-byte public key, base64.
    pub fn public_key(&self) -> String {
        B64.encode(self.signing.verifying_key().to_bytes())
    }

    /// The signature of `message`, base64.
    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.signing.sign(message).to_bytes())
    }
}

/// Whether `signature` (base64) is `public_key`'s (base64) over `message`.
pub fn verify(public_key: &str, message: &[u8], signature: &str) -> bool {
    let Some(key) = B64.decode(public_key).ok().and_then(|k| <[u8; 32]>::try_from(k).ok()) else { return false };
    let Some(sig) = B64.decode(signature).ok().and_then(|s| <[u8; 64]>::try_from(s).ok()) else { return false };
    VerifyingKey::from_bytes(&key).is_ok_and(|k| k.verify(message, &Signature::from_bytes(&sig)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_message_and_key_only() {
        let signer = TreeSigner::from_seed(&[7; 32]);
        let signature = signer.sign(b"head");
        assert!(verify(&signer.public_key(), b"head", &signature));
        assert!(!verify(&signer.public_key(), b"head!", &signature));
        assert!(!verify(&TreeSigner::from_seed(&[8; 32]).public_key(), b"head", &signature));
        assert!(!verify(&signer.public_key(), b"head", "not base64"));
    }
}
