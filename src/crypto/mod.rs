//! Keys and ciphers: envelope encryption of personal data, blind indexes, and signed receipts.
//!
//! One 32-byte master key (env `ASSENT_MASTER_KEY`, or `$ASSENT_DATA_DIR/master.key` in
//! development) is the root. HKDF-SHA256 derives from it, each under its own label: the key that
//! wraps every subject's data key, the HMAC key of the e-mail blind index, the HMAC key that
//! pseudonymises IP addresses, and the Ed25519 seed that signs consent receipts. Each subject's
//! values are encrypted under that subject's own random data key (XChaCha20-Poly1305), so
//! destroying the wrapped key erases every copy of them, backups included.

mod links;
mod receipts;
mod sealing;
pub mod tree_heads;

pub use links::{LinkClaims, LinkError, LinkKind, LinkSigner};
pub use receipts::{ReceiptSigner, ReceiptVerifyError};
pub use sealing::{Bound, open_evidence, seal_evidence};
pub use tree_heads::TreeSigner;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::Path;

use crate::domain::Email;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("ciphertext could not be decrypted (wrong key, or the data was altered)")]
    Decrypt,
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("encryption failed")]
    Encrypt,
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("ASSENT_MASTER_KEY must be 32 bytes, base64- or hex-encoded")]
    BadEnv,
    #[error("{path} must hold a 32-byte base64 key")]
    BadFile { path: String },
    #[error("could not read or create the master key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// All keys derived from the master key. Cheap to share behind an `Arc`.
pub struct Keyring {
    wrapping: XChaCha20Poly1305,
    outbox: XChaCha20Poly1305,
    links: LinkSigner,
    email_index_key: [u8; 32],
    ip_key: [u8; 32],
    shown_key: [u8; 32],
    receipts: ReceiptSigner,
    tree_heads: TreeSigner,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(<secret>)")
    }
}

impl Keyring {
    pub fn from_master(master: &[u8; 32]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(b"assent/v1"), master);
        let derive = |label: &str| {
            let mut out = [0u8; 32];
            // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
            hkdf.expand(label.as_bytes(), &mut out).unwrap_or_default();
            out
        };
        Self {
            wrapping: XChaCha20Poly1305::new(&derive("data-key-wrapping").into()),
            outbox: XChaCha20Poly1305::new(&derive("outbox-sealing").into()),
            links: LinkSigner::new(&derive("link-tokens-hs256")),
            email_index_key: derive("email-blind-index"),
            ip_key: derive("ip-pseudonym"),
            shown_key: derive("shown-wording"),
            receipts: ReceiptSigner::from_seed(&derive("receipt-signing-ed25519")),
            tree_heads: TreeSigner::from_seed(&derive("tree-head-signing-ed25519")),
        }
    }

    /// Reads the master key from `ASSENT_MASTER_KEY`; failing that, from `data_dir/master.key`,
    /// creating it (mode 0600) with a warning the first time.
    pub fn load(env_key: Option<&str>, data_dir: &Path) -> Result<Self, MasterKeyError> {
        if let Some(raw) = env_key {
            return decode_key(raw).map(|k| Self::from_master(&k)).ok_or(MasterKeyError::BadEnv);
        }
        let path = data_dir.join("master.key");
        let shown = path.display().to_string();
        let io = |source| MasterKeyError::Io { path: shown.clone(), source };
        if path.exists() {
            let raw = std::fs::read_to_string(&path).map_err(io)?;
            return decode_key(raw.trim())
                .map(|k| Self::from_master(&k))
                .ok_or_else(|| MasterKeyError::BadFile { path: shown.clone() });
        }
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        write_private(&path, format!("{}\n", B64.encode(key)).as_bytes()).map_err(io)?;
        tracing::warn!(
            path = %shown,
            "ASSENT_MASTER_KEY is not set: generated a development master key. Set ASSENT_MASTER_KEY in \
             production and keep it apart from database backups; losing it makes all personal data unreadable."
        );
        Ok(Self::from_master(&key))
    }

    /// The blind index of an address: equal addresses give equal indexes, and the index reveals
    /// nothing without the key.
    pub fn email_index(&self, email: &Email) -> Vec<u8> {
        hmac(&self.email_index_key, email.as_str().as_bytes()).to_vec()
    }

    /// A stable pseudonym for an IP address, kept as consent evidence.
    pub fn ip_pseudonym(&self, ip: &str) -> String {
        hex::encode(&hmac(&self.ip_key, ip.as_bytes())[..16])
    }

    /// What a form displayed, signed so that it can travel in the form and come back unchanged.
    pub fn sign_shown(&self, shown: &crate::domain::wording::Shown) -> String {
        let text = shown.encode();
        format!("{}.{}", B64URL.encode(&text), hex::encode(hmac(&self.shown_key, text.as_bytes())))
    }

    /// The wording a form says it displayed, if its signature holds (checked in constant time).
    pub fn open_shown(&self, token: &str) -> Option<crate::domain::wording::Shown> {
        let (text, tag) = token.split_once('.')?;
        let text = String::from_utf8(B64URL.decode(text).ok()?).ok()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.shown_key).ok()?;
        mac.update(text.as_bytes());
        mac.verify_slice(&hex::decode(tag).ok()?).ok()?;
        crate::domain::wording::Shown::decode(&text)
    }

    /// A fresh data key for a new subject, and its form wrapped under the master key.
    pub fn new_data_key(&self, subject_id: &str) -> Result<(DataKey, Vec<u8>), CryptoError> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let wrapped = seal(&self.wrapping, &key, subject_id.as_bytes())?;
        Ok((DataKey(XChaCha20Poly1305::new(&key)), wrapped))
    }

    pub fn unwrap_data_key(&self, wrapped: &[u8], subject_id: &str) -> Result<DataKey, CryptoError> {
        let key = open(&self.wrapping, wrapped, subject_id.as_bytes())?;
        let key: [u8; 32] = key.try_into().map_err(|_| CryptoError::Malformed)?;
        Ok(DataKey(XChaCha20Poly1305::new(&key.into())))
    }

    pub fn receipts(&self) -> &ReceiptSigner {
        &self.receipts
    }

    /// Signs the consent ledger's tree heads.
    pub fn tree_heads(&self) -> &TreeSigner {
        &self.tree_heads
    }

    /// Signs and checks the tokens in e-mailed links.
    pub fn links(&self) -> &LinkSigner {
        &self.links
    }

    /// Seals a queued mail: it must stay deliverable after its subject's key is destroyed (the
    /// erasure confirmation), so it is not under the subject key.
    pub fn seal_outbox(&self, message: &[u8], id: &str) -> Result<Vec<u8>, CryptoError> {
        seal(&self.outbox, message, id.as_bytes())
    }

    pub fn open_outbox(&self, sealed: &[u8], id: &str) -> Result<Vec<u8>, CryptoError> {
        open(&self.outbox, sealed, id.as_bytes())
    }
}

/// One subject's data key. Each ciphertext is bound (as associated data) to what it is, so a
/// value cannot be moved to another subject or field unnoticed.
pub struct DataKey(XChaCha20Poly1305);

impl DataKey {
    fn encrypt(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, CryptoError> {
        seal(&self.0, plaintext, context.as_bytes())
    }

    fn decrypt(&self, ciphertext: &[u8], context: &str) -> Result<Vec<u8>, CryptoError> {
        open(&self.0, ciphertext, context.as_bytes())
    }
}

/// SHA-256 in hex: for API keys (high-entropy secrets, so a fast hash is the right tool) and
/// policy texts.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    OsRng.fill_bytes(&mut out);
    out
}

fn hmac(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn seal(cipher: &XChaCha20Poly1305, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = cipher.encrypt(&nonce, Payload { msg: plaintext, aad }).map_err(|_| CryptoError::Encrypt)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn open(cipher: &XChaCha20Poly1305, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN {
        return Err(CryptoError::Malformed);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad }).map_err(|_| CryptoError::Decrypt)
}

fn decode_key(raw: &str) -> Option<[u8; 32]> {
    let raw = raw.trim();
    let bytes = if raw.len() == 64 { hex::decode(raw).ok()? } else { B64.decode(raw).ok()? };
    bytes.try_into().ok()
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::from_master(&[7u8; 32])
    }

    #[test]
    fn values_round_trip_under_a_subject_key() {
        let ring = keyring();
        let (key, wrapped) = ring.new_data_key("subject-1").unwrap();
        let sealed = key.encrypt("010-1234-5678".as_bytes(), "phone").unwrap();
        let again = ring.unwrap_data_key(&wrapped, "subject-1").unwrap();
        assert_eq!(again.decrypt(&sealed, "phone").unwrap(), b"010-1234-5678");
    }

    #[test]
    fn a_key_or_value_moved_elsewhere_does_not_open() {
        let ring = keyring();
        let (key, wrapped) = ring.new_data_key("subject-1").unwrap();
        assert!(ring.unwrap_data_key(&wrapped, "subject-2").is_err());
        let sealed = key.encrypt(b"x", "phone").unwrap();
        assert!(key.decrypt(&sealed, "name").is_err());
        assert!(key.decrypt(&sealed[..10], "phone").is_err());
    }

    #[test]
    fn another_master_key_cannot_unwrap() {
        let (_, wrapped) = keyring().new_data_key("s").unwrap();
        assert!(Keyring::from_master(&[8u8; 32]).unwrap_data_key(&wrapped, "s").is_err());
    }

    #[test]
    fn blind_index_is_deterministic_and_keyed() {
        let email = Email::parse("a@b.example").unwrap();
        assert_eq!(keyring().email_index(&email), keyring().email_index(&email));
        assert_ne!(keyring().email_index(&email), Keyring::from_master(&[8u8; 32]).email_index(&email));
    }

    #[test]
    fn master_key_file_is_created_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let first = Keyring::load(None, dir.path()).unwrap();
        let second = Keyring::load(None, dir.path()).unwrap();
        let email = Email::parse("a@b.example").unwrap();
        assert_eq!(first.email_index(&email), second.email_index(&email));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn env_key_accepts_hex_and_base64_and_refuses_junk() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Keyring::load(Some(&"ab".repeat(32)), dir.path()).is_ok());
        assert!(Keyring::load(Some(&B64.encode([1u8; 32])), dir.path()).is_ok());
        assert!(matches!(Keyring::load(Some("short"), dir.path()), Err(MasterKeyError::BadEnv)));
    }
}
