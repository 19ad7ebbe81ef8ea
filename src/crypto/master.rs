//! Master keys, their ids, and the envelope of everything wrapped under one.
//!
//! A master key's id is the first 8 bytes (16 hex digits) of HKDF-SHA256 of the key under the
//! label `key-id`: it names the key without revealing it. Everything wrapped under a master key
//! (a subject's data key, a queued mail, a stored secret, a signing seed) is written as
//! `"AK1" ‖ key id (8 bytes) ‖ nonce ‖ ciphertext`. Material without that header was written
//! before ids existed: it is tried under the current key, then the previous one.
//!
//! Two master keys can be in use at once: the current one (`ASSENT_MASTER_KEY`, or
//! `$ASSENT_DATA_DIR/master.key`), under which everything new is written, and, during a rotation,
//! the previous one (`ASSENT_MASTER_KEY_PREVIOUS`, or `$ASSENT_DATA_DIR/master.key.previous`),
//! which only opens what is still under it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{KeyInit, OsRng, rand_core::RngCore};
use hkdf::Hkdf;
use sha2::Sha256;
use std::path::{Path, PathBuf};

use super::{CryptoError, MasterKeyError, open, seal};

const MAGIC: &[u8; 3] = b"AK1";
const HEADER_LEN: usize = MAGIC.len() + 8;

/// The id of a master key: 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 8]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// What a master key wraps; each has its own key, derived under its own label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapped {
    /// A subject's data key.
    DataKey,
    /// A queued mail.
    Outbox,
    /// A stored secret or signing seed.
    Secret,
}

/// One master key and what is derived from it.
pub struct MasterKey {
    id: KeyId,
    raw: [u8; 32],
    data_keys: XChaCha20Poly1305,
    outbox: XChaCha20Poly1305,
    secrets: XChaCha20Poly1305,
}

impl MasterKey {
    pub fn new(raw: [u8; 32]) -> Self {
        let derive = |label: &str| derive(&raw, label);
        let id: [u8; 32] = derive("key-id");
        let mut short = [0u8; 8];
        short.copy_from_slice(&id[..8]);
        Self {
            id: KeyId(short),
            raw,
            data_keys: XChaCha20Poly1305::new(&derive("data-key-wrapping").into()),
            outbox: XChaCha20Poly1305::new(&derive("outbox-sealing").into()),
            secrets: XChaCha20Poly1305::new(&derive("secret-wrapping").into()),
        }
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    /// HKDF-SHA256 of this key under `label` (salt `assent/v1`), as every key before rotation was.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        derive(&self.raw, label)
    }

    fn cipher(&self, kind: Wrapped) -> &XChaCha20Poly1305 {
        match kind {
            Wrapped::DataKey => &self.data_keys,
            Wrapped::Outbox => &self.outbox,
            Wrapped::Secret => &self.secrets,
        }
    }

    fn wrap(&self, kind: Wrapped, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let body = seal(self.cipher(kind), plaintext, aad)?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&body);
        Ok(out)
    }
}

fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    let hkdf = Hkdf::<Sha256>::new(Some(b"assent/v1"), master);
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    hkdf.expand(label.as_bytes(), &mut out).unwrap_or_default();
    out
}

/// The id in a wrapped blob's header; `None` for material written before ids.
pub fn key_id_of(wrapped: &[u8]) -> Option<KeyId> {
    let id = wrapped.strip_prefix(MAGIC.as_slice())?.get(..8)?;
    Some(KeyId(id.try_into().ok()?))
}

/// The current master key and, during a rotation, the previous one.
pub struct MasterKeys {
    current: MasterKey,
    previous: Option<MasterKey>,
}

impl MasterKeys {
    pub fn new(current: [u8; 32], previous: Option<[u8; 32]>) -> Self {
        let current = MasterKey::new(current);
        // The same key given twice is one key.
        let previous = previous.map(MasterKey::new).filter(|p| p.id != current.id);
        Self { current, previous }
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    pub fn previous(&self) -> Option<&MasterKey> {
        self.previous.as_ref()
    }

    /// The key in use before this rotation (the previous one if set, else the current one): the
    /// key every secret was derived from before secrets were stored.
    pub fn oldest(&self) -> &MasterKey {
        self.previous.as_ref().unwrap_or(&self.current)
    }

    /// Wraps under the current key.
    pub fn wrap(&self, kind: Wrapped, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.current.wrap(kind, plaintext, aad)
    }

    /// Opens under the key its header names; material without a header (or whose header was
    /// random bytes of a pre-id nonce) under the current key, then the previous one.
    pub fn unwrap(&self, kind: Wrapped, wrapped: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let keys = || std::iter::once(&self.current).chain(self.previous.as_ref());
        if let Some(id) = key_id_of(wrapped) {
            match keys().find(|k| k.id == id) {
                Some(key) => {
                    if let Ok(plain) = open(key.cipher(kind), &wrapped[HEADER_LEN..], aad) {
                        return Ok(plain);
                    }
                }
                None if keys().all(|k| open(k.cipher(kind), wrapped, aad).is_err()) => {
                    return Err(CryptoError::UnknownKey(id.to_string()));
                }
                None => {}
            }
        }
        keys().find_map(|k| open(k.cipher(kind), wrapped, aad).ok()).ok_or(CryptoError::Decrypt)
    }

    /// Whether `wrapped` is already under the current key (a rotation skips it).
    pub fn is_current(&self, wrapped: &[u8]) -> bool {
        key_id_of(wrapped) == Some(self.current.id)
    }

    /// Opens `wrapped` and wraps it again under the current key; `None` if it already is.
    pub fn rewrap(&self, kind: Wrapped, wrapped: &[u8], aad: &[u8]) -> Result<Option<Vec<u8>>, CryptoError> {
        if self.is_current(wrapped) {
            return Ok(None);
        }
        let plain = self.unwrap(kind, wrapped, aad)?;
        self.wrap(kind, &plain, aad).map(Some)
    }

    /// Reads the keys from the environment's values (`ASSENT_MASTER_KEY`,
    /// `ASSENT_MASTER_KEY_PREVIOUS`); failing the first, from `data_dir/master.key`, creating it
    /// (mode 0600) with a warning the first time; failing the second, from
    /// `data_dir/master.key.previous` if it exists.
    pub fn load(env_key: Option<&str>, env_previous: Option<&str>, data_dir: &Path) -> Result<Self, MasterKeyError> {
        let previous = match env_previous {
            Some(raw) => Some(decode_key(raw).ok_or(MasterKeyError::BadPreviousEnv)?),
            None => read_key_file(&previous_key_path(data_dir))?,
        };
        let current = match env_key {
            Some(raw) => decode_key(raw).ok_or(MasterKeyError::BadEnv)?,
            None => match read_key_file(&master_key_path(data_dir))? {
                Some(key) => key,
                None => create_development_key(data_dir)?,
            },
        };
        Ok(Self::new(current, previous))
    }
}

/// The development master key file.
pub fn master_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("master.key")
}

/// The development previous master key file (during a rotation).
pub fn previous_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("master.key.previous")
}

fn read_key_file(path: &Path) -> Result<Option<[u8; 32]>, MasterKeyError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(raw) => decode_key(raw.trim()).map(Some).ok_or(MasterKeyError::BadFile { path: shown }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(MasterKeyError::Io { path: shown, source }),
    }
}

fn create_development_key(data_dir: &Path) -> Result<[u8; 32], MasterKeyError> {
    let path = master_key_path(data_dir);
    let shown = path.display().to_string();
    let io = |source| MasterKeyError::Io { path: shown.clone(), source };
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(data_dir).map_err(io)?;
    }
    let key = write_new_key(&path).map_err(io)?;
    tracing::warn!(
        path = %shown,
        "ASSENT_MASTER_KEY is not set: generated a development master key. Set ASSENT_MASTER_KEY in \
         production and keep it apart from database backups; losing it makes all personal data unreadable."
    );
    Ok(key)
}

/// Development rotation: `master.key` becomes `master.key.previous` and a new `master.key` is
/// written. Refused while a previous key file exists (a rotation is not finished).
pub fn generate_development_key(data_dir: &Path) -> Result<(), MasterKeyError> {
    let (path, previous) = (master_key_path(data_dir), previous_key_path(data_dir));
    let io = |source| MasterKeyError::Io { path: previous.display().to_string(), source };
    if previous.exists() {
        return Err(MasterKeyError::RotationUnfinished { path: previous.display().to_string() });
    }
    if read_key_file(&path)?.is_none() {
        return Err(MasterKeyError::BadFile { path: path.display().to_string() });
    }
    std::fs::hard_link(&path, &previous).map_err(io)?;
    std::fs::remove_file(&path).map_err(io)?;
    write_new_key(&path).map_err(io)?;
    Ok(())
}

fn write_new_key(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    write_private(path, format!("{}\n", B64.encode(key)).as_bytes())?;
    Ok(key)
}

pub(super) fn decode_key(raw: &str) -> Option<[u8; 32]> {
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

    #[test]
    fn new_material_carries_the_current_id_and_old_material_opens_by_id_or_by_trial() {
        let old = MasterKeys::new([1; 32], None);
        let legacy = super::super::seal(old.current().cipher(Wrapped::DataKey), b"k", b"s").unwrap();
        let tagged = old.wrap(Wrapped::DataKey, b"k", b"s").unwrap();
        assert_eq!(key_id_of(&tagged), Some(old.current().id()));
        assert_eq!(key_id_of(&legacy), None);
        let both = MasterKeys::new([2; 32], Some([1; 32]));
        assert_eq!(both.unwrap(Wrapped::DataKey, &legacy, b"s").unwrap(), b"k");
        assert_eq!(both.unwrap(Wrapped::DataKey, &tagged, b"s").unwrap(), b"k");
        let rewrapped = both.rewrap(Wrapped::DataKey, &tagged, b"s").unwrap().unwrap();
        assert!(both.is_current(&rewrapped));
        assert_eq!(both.rewrap(Wrapped::DataKey, &rewrapped, b"s").unwrap(), None);
        let only_new = MasterKeys::new([2; 32], None);
        assert_eq!(only_new.unwrap(Wrapped::DataKey, &rewrapped, b"s").unwrap(), b"k");
        assert!(matches!(only_new.unwrap(Wrapped::DataKey, &tagged, b"s"), Err(CryptoError::UnknownKey(_))));
        assert!(only_new.unwrap(Wrapped::DataKey, &legacy, b"s").is_err());
    }

    #[test]
    fn kinds_and_bindings_do_not_mix() {
        let keys = MasterKeys::new([1; 32], None);
        let sealed = keys.wrap(Wrapped::Secret, b"x", b"a").unwrap();
        assert!(keys.unwrap(Wrapped::DataKey, &sealed, b"a").is_err());
        assert!(keys.unwrap(Wrapped::Secret, &sealed, b"b").is_err());
    }

    #[test]
    fn ids_are_stable_distinct_and_a_repeated_key_is_one_key() {
        assert_eq!(MasterKey::new([1; 32]).id(), MasterKey::new([1; 32]).id());
        assert_ne!(MasterKey::new([1; 32]).id(), MasterKey::new([2; 32]).id());
        assert_eq!(MasterKey::new([1; 32]).id().to_string().len(), 16);
        assert!(MasterKeys::new([1; 32], Some([1; 32])).previous().is_none());
    }

    #[test]
    fn development_rotation_moves_the_key_aside_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = MasterKeys::load(None, None, dir.path()).unwrap();
        generate_development_key(dir.path()).unwrap();
        let second = MasterKeys::load(None, None, dir.path()).unwrap();
        assert_eq!(second.previous().map(MasterKey::id), Some(first.current().id()));
        assert_ne!(second.current().id(), first.current().id());
        assert!(matches!(generate_development_key(dir.path()), Err(MasterKeyError::RotationUnfinished { .. })));
        let env = MasterKeys::load(Some(&"ab".repeat(32)), Some(&"cd".repeat(32)), dir.path()).unwrap();
        assert_eq!(env.previous().map(MasterKey::id), Some(MasterKey::new([0xcd; 32]).id()));
        assert!(matches!(MasterKeys::load(None, Some("junk"), dir.path()), Err(MasterKeyError::BadPreviousEnv)));
    }
}
