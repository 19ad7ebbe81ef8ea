//! Keys and ciphers: envelope encryption of personal data, blind indexes, and signed receipts.
//!
//! One 32-byte master key (env `ASSENT_MASTER_KEY`, or `$ASSENT_DATA_DIR/master.key` in
//! development) is the root; during a rotation a previous one opens what is still under it
//! (`master`). Each subject's values are encrypted under that subject's own random data key
//! (XChaCha20-Poly1305), wrapped under the master key, so destroying the wrapped key erases every
//! copy of them, backups included. Queued mail is wrapped under the master key too, and link tokens
//! are signed with a key derived from it; all three carry the master key's id.
//!
//! What must not change when the master key does lives in the database wrapped under it
//! (`key_secrets`): the HMAC keys of the e-mail blind index, of IP pseudonyms and of the shown
//! wording (first initialised from today's HKDF derivation, so existing indexes keep matching), and
//! the link keys of earlier master keys (links in sent mails stay valid). The receipt and tree-head
//! signing keys are stored the same way (`signing`) and rotate on their own.

mod links;
pub mod master;
mod receipts;
mod sealing;
pub mod signing;
pub mod tree_heads;

pub use links::{LinkClaims, LinkError, LinkKind, LinkSigner};
pub use master::{KeyId, MasterKey, MasterKeys, Wrapped};
pub use receipts::{ReceiptSigner, ReceiptVerifyError, jwks_of};
pub use sealing::{Bound, open_evidence, seal_evidence};
pub use signing::{SigningPurpose, StoredSigningKey, TrustedKey};
pub use tree_heads::TreeSigner;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
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
    #[error("wrapped under master key {0}, which is neither ASSENT_MASTER_KEY nor ASSENT_MASTER_KEY_PREVIOUS")]
    UnknownKey(String),
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("ASSENT_MASTER_KEY must be 32 bytes, base64- or hex-encoded")]
    BadEnv,
    #[error("ASSENT_MASTER_KEY_PREVIOUS must be 32 bytes, base64- or hex-encoded")]
    BadPreviousEnv,
    #[error("{path} must hold a 32-byte base64 key")]
    BadFile { path: String },
    #[error("could not read or create the master key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(
        "{path} exists: a rotation is not finished (run `assent keys rotate` until it says the previous key can go)"
    )]
    RotationUnfinished { path: String },
}

/// The stored secrets that stay the same across master key rotations.
pub const STABLE_SECRETS: [&str; 3] = ["email-blind-index", "ip-pseudonym", "shown-wording"];

/// Stored link keys of earlier master keys are named this prefix and the key's id.
pub const RETIRED_LINK_KEY: &str = "link-tokens-hs256/";

/// The HMAC keys that must not change with the master key.
pub struct StableSecrets {
    pub email_index: [u8; 32],
    pub ip: [u8; 32],
    pub shown: [u8; 32],
}

impl StableSecrets {
    /// What the master key in use before rotation derived (the first value of each).
    pub fn derived(masters: &MasterKeys) -> Self {
        let old = masters.oldest();
        Self {
            email_index: old.derive(STABLE_SECRETS[0]),
            ip: old.derive(STABLE_SECRETS[1]),
            shown: old.derive(STABLE_SECRETS[2]),
        }
    }

    /// Each secret by its stored name.
    pub fn named(&self) -> [(&'static str, &[u8; 32]); 3] {
        [(STABLE_SECRETS[0], &self.email_index), (STABLE_SECRETS[1], &self.ip), (STABLE_SECRETS[2], &self.shown)]
    }
}

fn secret_aad(name: &str) -> Vec<u8> {
    format!("assent/secret\0{name}").into_bytes()
}

/// A stored secret wrapped under the current master key, bound to its name.
pub fn wrap_secret(masters: &MasterKeys, name: &str, secret: &[u8; 32]) -> Result<Vec<u8>, CryptoError> {
    masters.wrap(Wrapped::Secret, secret, &secret_aad(name))
}

pub fn unwrap_secret(masters: &MasterKeys, name: &str, wrapped: &[u8]) -> Result<[u8; 32], CryptoError> {
    masters.unwrap(Wrapped::Secret, wrapped, &secret_aad(name))?.try_into().map_err(|_| CryptoError::Malformed)
}

/// A stored secret wrapped again under the current key; `None` if it already is.
pub fn rewrap_secret(masters: &MasterKeys, name: &str, wrapped: &[u8]) -> Result<Option<Vec<u8>>, CryptoError> {
    masters.rewrap(Wrapped::Secret, wrapped, &secret_aad(name))
}

/// The link key a master key derives, by that key's id.
pub fn link_key_of(master: &MasterKey) -> (String, [u8; 32]) {
    (master.id().to_string(), master.derive("link-tokens-hs256"))
}

/// Every key in use. Cheap to share behind an `Arc`.
pub struct Keyring {
    masters: MasterKeys,
    links: LinkSigner,
    email_index_key: MacKey,
    ip_key: MacKey,
    shown_key: MacKey,
    receipts: ReceiptSigner,
    tree_heads: TreeSigner,
    /// Every trusted signing key, the active one of each purpose first.
    signing_keys: Vec<StoredSigningKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(<secret>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("no trusted {0} signing key")]
pub struct NoSigningKey(pub &'static str);

impl Keyring {
    /// Everything derived from one master key, as before keys were stored (tests, tools).
    pub fn from_master(master: &[u8; 32]) -> Self {
        Self::derived(MasterKeys::new(*master, None))
    }

    /// Everything derived from the master keys alone: what `services::keyring::load` starts from
    /// on a database that stores no keys yet.
    pub fn derived(masters: MasterKeys) -> Self {
        let secrets = StableSecrets::derived(&masters);
        let keys: Vec<TrustedKey> = SigningPurpose::ALL
            .into_iter()
            .filter_map(|p| signing::initial_signing_key(&masters, p).ok())
            .filter_map(|k| signing::trust(&masters, k).ok())
            .collect();
        // Both initial keys open under the master that wrapped them a moment ago.
        Self::assemble(masters, &secrets, Vec::new(), keys).unwrap_or_else(|_| unreachable!())
    }

    /// The keyring from stored secrets and trusted signing keys (active of each purpose first).
    pub fn assemble(
        masters: MasterKeys,
        secrets: &StableSecrets,
        retired_links: Vec<(String, [u8; 32])>,
        signing_keys: Vec<TrustedKey>,
    ) -> Result<Self, NoSigningKey> {
        let first = |p: SigningPurpose| signing_keys.iter().find(|k| k.stored.purpose == p).map(|k| k.seed);
        let receipts = ReceiptSigner::from_seed(&first(SigningPurpose::Receipts).ok_or(NoSigningKey("receipt"))?);
        let tree_heads = TreeSigner::from_seed(&first(SigningPurpose::TreeHeads).ok_or(NoSigningKey("tree-head"))?);
        let (kid, key) = link_key_of(masters.current());
        let mut links = LinkSigner::new(&kid, &key);
        for (kid, key) in masters.previous().map(link_key_of).into_iter().chain(retired_links) {
            links = links.accepting(&kid, &key);
        }
        Ok(Self {
            links,
            email_index_key: MacKey::new(&secrets.email_index),
            ip_key: MacKey::new(&secrets.ip),
            shown_key: MacKey::new(&secrets.shown),
            receipts,
            tree_heads,
            signing_keys: signing_keys.into_iter().map(|k| k.stored).collect(),
            masters,
        })
    }

    /// Reads the master key (`master::MasterKeys::load`) and derives every key from it, without the
    /// database (tests and tools; the server loads through `services::keyring::load`).
    pub fn load(env_key: Option<&str>, data_dir: &Path) -> Result<Self, MasterKeyError> {
        Ok(Self::derived(MasterKeys::load(env_key, None, data_dir)?))
    }

    pub fn masters(&self) -> &MasterKeys {
        &self.masters
    }

    /// Every trusted signing key, the active one of each purpose first.
    pub fn signing_keys(&self) -> &[StoredSigningKey] {
        &self.signing_keys
    }

    /// The public key (base64) of a trusted tree-head key, by id.
    pub fn tree_head_key(&self, key_id: &str) -> Option<&str> {
        self.signing_keys
            .iter()
            .find(|k| k.purpose == SigningPurpose::TreeHeads && k.key_id == key_id)
            .map(|k| k.public_key.as_str())
    }

    /// The JSON Web Key Set of every trusted receipt key.
    pub fn jwks(&self) -> serde_json::Value {
        jwks_of(self.signing_keys.iter().filter(|k| k.purpose == SigningPurpose::Receipts))
    }

    /// The blind index of an address: equal addresses give equal indexes, and the index reveals
    /// nothing without the key.
    pub fn email_index(&self, email: &Email) -> Vec<u8> {
        self.email_index_key.tag(email.as_str().as_bytes()).to_vec()
    }

    /// The blind index of an external id: an HMAC under the address index's (stable) key, of a
    /// message no address can be (it starts with a tag and a NUL), so the two never collide.
    pub fn external_index(&self, external_id: &str) -> Vec<u8> {
        self.email_index_key
            .tag([b"assent/external-id\0".as_slice(), external_id.as_bytes()].concat().as_slice())
            .to_vec()
    }

    /// A stable pseudonym for an IP address, kept as consent evidence.
    pub fn ip_pseudonym(&self, ip: &str) -> String {
        hex::encode(&self.ip_key.tag(ip.as_bytes())[..16])
    }

    /// What a form displayed, signed so that it can travel in the form and come back unchanged.
    pub fn sign_shown(&self, shown: &crate::domain::wording::Shown) -> String {
        let text = shown.encode();
        format!("{}.{}", B64URL.encode(&text), hex::encode(self.shown_key.tag(text.as_bytes())))
    }

    /// The wording a form says it displayed, if its signature holds (checked in constant time).
    pub fn open_shown(&self, token: &str) -> Option<crate::domain::wording::Shown> {
        let (text, tag) = token.split_once('.')?;
        let text = String::from_utf8(B64URL.decode(text).ok()?).ok()?;
        self.shown_key.verify(text.as_bytes(), &hex::decode(tag).ok()?).then_some(())?;
        crate::domain::wording::Shown::decode(&text)
    }

    /// A fresh data key for a new subject, and its form wrapped under the master key.
    pub fn new_data_key(&self, subject_id: &str) -> Result<(DataKey, Vec<u8>), CryptoError> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let wrapped = self.masters.wrap(Wrapped::DataKey, &key, subject_id.as_bytes())?;
        Ok((DataKey(XChaCha20Poly1305::new(&key)), wrapped))
    }

    pub fn unwrap_data_key(&self, wrapped: &[u8], subject_id: &str) -> Result<DataKey, CryptoError> {
        let key = self.masters.unwrap(Wrapped::DataKey, wrapped, subject_id.as_bytes())?;
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
        self.masters.wrap(Wrapped::Outbox, message, id.as_bytes())
    }

    pub fn open_outbox(&self, sealed: &[u8], id: &str) -> Result<Vec<u8>, CryptoError> {
        self.masters.unwrap(Wrapped::Outbox, sealed, id.as_bytes())
    }

    /// Seals a sheet checked in the console while it waits (a day at most) to be imported: like
    /// queued mail it belongs to no subject yet. Bound to its import, under its own label, so
    /// it can be neither moved nor taken for a mail.
    pub fn seal_upload(&self, sheet: &[u8], import_id: &str) -> Result<Vec<u8>, CryptoError> {
        self.masters.wrap(Wrapped::Outbox, sheet, format!("import-upload:{import_id}").as_bytes())
    }

    pub fn open_upload(&self, sealed: &[u8], import_id: &str) -> Result<Vec<u8>, CryptoError> {
        self.masters.unwrap(Wrapped::Outbox, sealed, format!("import-upload:{import_id}").as_bytes())
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

/// An HMAC-SHA-256 key with its padded key blocks hashed once: a tag then costs the message's
/// blocks and the two finishing ones, not two more besides (the blind index and the IP pseudonym
/// are computed on every consent check).
struct MacKey(Hmac<Sha256>);

impl MacKey {
    fn new(key: &[u8; 32]) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        Self(<Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!()))
    }

    fn tag(&self, data: &[u8]) -> [u8; 32] {
        self.0.clone().chain_update(data).finalize().into_bytes().into()
    }

    /// Whether `tag` is `data`'s, compared in constant time.
    fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        self.0.clone().chain_update(data).verify_slice(tag).is_ok()
    }
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

/// Pseudonyms for one de-identified export: HMAC-SHA256 of a subject id under a key drawn for
/// this export alone and never stored, so two exports' pseudonyms cannot be joined, nor traced
/// back to a subject id, a blind index or an address.
pub struct Pseudonyms(MacKey);

impl Pseudonyms {
    pub fn for_one_export() -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self(MacKey::new(&key))
    }

    /// 128 bits of the HMAC, in hex.
    pub fn of(&self, subject_id: &str) -> String {
        hex::encode(&self.0.tag(subject_id.as_bytes())[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD as B64;

    #[test]
    fn a_prepared_mac_key_tags_as_a_fresh_hmac_each_time() {
        let key = [7u8; 32];
        let fresh = |data: &[u8]| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
            mac.update(data);
            <[u8; 32]>::from(mac.finalize().into_bytes())
        };
        let prepared = MacKey::new(&key);
        let long = [b'x'; 200];
        for data in [b"minji@example.com".as_slice(), b"", &long, b"minji@example.com"] {
            assert_eq!(prepared.tag(data), fresh(data));
            assert!(prepared.verify(data, &fresh(data)));
        }
        assert!(!prepared.verify(b"a", &fresh(b"b")));
    }

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
