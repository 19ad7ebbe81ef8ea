//! What each ciphertext under a subject's data key is bound to (its associated data), and the
//! sealing of consent evidence.
//!
//! Every kind of ciphertext has its own tag, so no field key can be mistaken for the evidence or
//! the address; a field value is bound to its own row id, so a stored ciphertext cannot be
//! swapped for an older one of the same field (a rectified value gets a new row id); the address
//! is bound to its blind index, so it cannot be swapped for an earlier address without the index.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::{CryptoError, DataKey};
use crate::domain::Evidence;

/// What a ciphertext is.
#[derive(Debug, Clone, Copy)]
pub enum Bound<'a> {
    /// A subject's e-mail address, with its blind index.
    Email { subject: &'a str, index: &'a [u8] },
    /// One stored field value, by its row id.
    Value { subject: &'a str, value_id: &'a str, field: &'a str },
    /// The evidence of a consent event.
    Evidence { subject: &'a str },
    /// The integrator's id for the person (`external_ids`).
    External { subject: &'a str },
    /// A text of a rights request (`note`: what the requester wrote; `reason`: why staff
    /// extended or refused it), by the request's id.
    Request { subject: &'a str, request: &'a str, part: &'a str },
    /// How every ciphertext was bound before tags (`subject/field`): read only, to open old
    /// evidence (the ledger cannot be re-sealed) and to re-seal old values once.
    Legacy { subject: &'a str, field: &'a str },
}

impl Bound<'_> {
    fn associated_data(&self) -> String {
        // NUL cannot occur in ids or keys, so the parts cannot run into each other.
        match self {
            Self::Email { subject, index } => format!("assent/email\0{subject}\0{}", hex::encode(index)),
            Self::Value { subject, value_id, field } => format!("assent/value\0{subject}\0{value_id}\0{field}"),
            Self::Evidence { subject } => format!("assent/evidence\0{subject}"),
            Self::External { subject } => format!("assent/external-id\0{subject}"),
            Self::Request { subject, request, part } => format!("assent/rights-request\0{subject}\0{request}\0{part}"),
            Self::Legacy { subject, field } => format!("{subject}/{field}"),
        }
    }
}

impl DataKey {
    pub fn seal(&self, plaintext: &[u8], bound: Bound<'_>) -> Result<Vec<u8>, CryptoError> {
        self.encrypt(plaintext, &bound.associated_data())
    }

    pub fn open(&self, ciphertext: &[u8], bound: Bound<'_>) -> Result<Vec<u8>, CryptoError> {
        self.decrypt(ciphertext, &bound.associated_data())
    }

    /// Opens text (lossy UTF-8: it was sealed from a `String`).
    pub fn open_text(&self, ciphertext: &[u8], bound: Bound<'_>) -> Result<String, CryptoError> {
        Ok(String::from_utf8_lossy(&self.open(ciphertext, bound)?).into_owned())
    }
}

const SEALED_PREFIX: &str = "sealed:";

/// Evidence (user agent, IP pseudonym, origin) is personal data: it is sealed under the subject's
/// key, so erasing the subject makes it unreadable while the ledger's hash chain still verifies.
pub fn seal_evidence(key: &DataKey, subject_id: &str, evidence: &Evidence) -> Result<String, CryptoError> {
    let json = serde_json::to_vec(evidence).map_err(|_| CryptoError::Encrypt)?;
    let sealed = key.seal(&json, Bound::Evidence { subject: subject_id })?;
    Ok(format!("{SEALED_PREFIX}{}", B64.encode(sealed)))
}

/// Reads sealed evidence back (while the subject's key exists); plain JSON is returned as is.
pub fn open_evidence(key: Option<&DataKey>, subject_id: &str, stored: &str) -> Option<Evidence> {
    match stored.strip_prefix(SEALED_PREFIX) {
        None => serde_json::from_str(stored).ok(),
        Some(b64) => {
            let sealed = B64.decode(b64).ok()?;
            let key = key?;
            let json = key
                .open(&sealed, Bound::Evidence { subject: subject_id })
                .or_else(|_| key.open(&sealed, Bound::Legacy { subject: subject_id, field: "evidence" }))
                .ok()?;
            serde_json::from_slice(&json).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        let keyring = crate::crypto::Keyring::from_master(&[7u8; 32]);
        keyring.new_data_key("s1").map(|(k, _)| k).unwrap()
    }

    #[test]
    fn a_value_opens_only_as_the_row_it_was_sealed_for() {
        let key = key();
        let v1 = Bound::Value { subject: "s1", value_id: "row-1", field: "phone" };
        let sealed = key.seal(b"010-1234-5678", v1).unwrap();
        assert_eq!(key.open(&sealed, v1).unwrap(), b"010-1234-5678");
        let other_row = Bound::Value { subject: "s1", value_id: "row-2", field: "phone" };
        assert!(key.open(&sealed, other_row).is_err());
        let other_field = Bound::Value { subject: "s1", value_id: "row-1", field: "email" };
        assert!(key.open(&sealed, other_field).is_err());
    }

    #[test]
    fn no_field_key_collides_with_the_evidence_or_the_address() {
        let key = key();
        let evidence = key.seal(b"{}", Bound::Evidence { subject: "s1" }).unwrap();
        for field in ["evidence", "email", "s1/evidence"] {
            let as_value = Bound::Value { subject: "s1", value_id: "evidence", field };
            assert!(key.open(&evidence, as_value).is_err());
            assert!(key.open(&evidence, Bound::Legacy { subject: "s1", field }).is_err());
        }
        let email = key.seal(b"a@b.example", Bound::Email { subject: "s1", index: b"ix" }).unwrap();
        assert!(key.open(&email, Bound::Email { subject: "s1", index: b"other" }).is_err());
        assert!(key.open(&email, Bound::Value { subject: "s1", value_id: "ix", field: "email" }).is_err());
    }

    #[test]
    fn evidence_sealed_before_tags_still_opens() {
        let key = key();
        let json = serde_json::to_vec(&Evidence::default()).unwrap();
        let old = key.seal(&json, Bound::Legacy { subject: "s1", field: "evidence" }).unwrap();
        let stored = format!("{SEALED_PREFIX}{}", B64.encode(old));
        assert_eq!(open_evidence(Some(&key), "s1", &stored), Some(Evidence::default()));
        let new = seal_evidence(&key, "s1", &Evidence::default()).unwrap();
        assert_eq!(open_evidence(Some(&key), "s1", &new), Some(Evidence::default()));
        assert_eq!(open_evidence(None, "s1", &new), None);
    }
}
