//! DKIM signing (RFC 6376) of every message Assent composes, with the operator's own key, for a
//! relay that does not sign for them: the large mailbox providers' bulk-sender rules ask for a
//! DKIM signature aligned with the From domain, and RFC 8058 for one that covers the
//! `List-Unsubscribe` headers. lettre signs; this only reads the key and names the headers.

use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey,
};
use lettre::message::header::HeaderName;
use std::sync::Arc;

/// The headers signed: the ones a reader sees and acts on. One absent from a message (no
/// `List-Unsubscribe` on a transactional mail) is still named, so that none can be added later.
/// Not `Content-Type`: lettre 0.11 hashes a multipart one other than it writes it (dkimpy then
/// refuses the signature); the body hash covers the parts anyway.
const SIGNED: [&str; 9] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Language",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// A private key as read (and checked) at start-up: RSA in PKCS#1 PEM (`openssl genrsa
/// -traditional 2048`), or an Ed25519 seed in base64 (RFC 8463).
#[derive(Clone)]
pub struct DkimKey {
    text: String,
    algorithm: DkimSigningAlgorithm,
}

impl DkimKey {
    /// Reads the key file at `path` (`ASSENT_DKIM_KEY_FILE`); refuses anything else than the
    /// two forms above, saying which it expected.
    pub fn from_file(path: &str) -> Result<DkimKey, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let text = text.trim().to_owned();
        let algorithm = if text.contains("BEGIN RSA PRIVATE KEY") {
            DkimSigningAlgorithm::Rsa
        } else if text.starts_with("-----BEGIN") {
            return Err(format!(
                "{path} is not an RSA key in PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`): \
                 write one with `openssl genrsa -traditional -out dkim.pem 2048`"
            ));
        } else {
            DkimSigningAlgorithm::Ed25519
        };
        DkimSigningKey::new(&text, algorithm)
            .map_err(|_| format!("{path} holds neither an RSA key (PKCS#1 PEM) nor an Ed25519 seed (base64)"))?;
        Ok(DkimKey { text, algorithm })
    }
}

/// The signer every composed message goes through when a key is configured.
#[derive(Clone)]
pub struct Dkim(Arc<DkimConfig>);

impl Dkim {
    /// Signs as `domain` (the From address's, unless `ASSENT_DKIM_DOMAIN` says otherwise) under
    /// `selector` (the DNS record `<selector>._domainkey.<domain>`).
    pub fn new(selector: &str, domain: &str, key: &DkimKey) -> Option<Dkim> {
        let signing = DkimSigningKey::new(&key.text, key.algorithm).ok()?;
        let headers = SIGNED.iter().map(|h| HeaderName::new_from_ascii_str(h)).collect();
        let relaxed =
            DkimCanonicalization { header: DkimCanonicalizationType::Relaxed, body: DkimCanonicalizationType::Relaxed };
        Some(Dkim(Arc::new(DkimConfig::new(selector.to_owned(), domain.to_owned(), signing, headers, relaxed))))
    }

    pub fn sign(&self, message: &mut lettre::Message) {
        message.sign(&self.0);
    }
}

impl std::fmt::Debug for Dkim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dkim(configured)")
    }
}
