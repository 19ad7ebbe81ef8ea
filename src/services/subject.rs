//! A person whose data still exists, with their data key: the starting point of every read or
//! change of their personal data.

use crate::crypto::{Bound, CryptoError, DataKey, Keyring};
use crate::db::DbConnection;
use crate::db::subjects::{self, Subject};

/// Why a subject's data cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    #[error("no such subject")]
    NotFound,
    #[error("the subject's data has been erased")]
    Erased,
    #[error("database error")]
    Storage(#[from] diesel::result::Error),
    #[error("cryptography error")]
    Crypto(#[from] CryptoError),
}

/// A subject whose data still exists, with its key.
pub struct Live {
    pub subject: Subject,
    pub key: DataKey,
}

impl Live {
    /// The person's address, decrypted.
    pub fn email(&self) -> Result<String, SubjectError> {
        let sealed = self.subject.email_ciphertext.as_deref().ok_or(SubjectError::Erased)?;
        Ok(self.key.open_text(sealed, email_bound(&self.subject))?)
    }
}

/// How a subject's address is sealed.
pub fn email_bound(subject: &Subject) -> Bound<'_> {
    Bound::Email { subject: &subject.id, index: &subject.email_index }
}

pub fn live_subject(conn: &mut DbConnection, keyring: &Keyring, id: &str) -> Result<Live, SubjectError> {
    let subject = subjects::find(conn, id)?.ok_or(SubjectError::NotFound)?;
    let wrapped = subject.wrapped_key.clone().ok_or(SubjectError::Erased)?;
    let key = keyring.unwrap_data_key(&wrapped, &subject.id)?;
    Ok(Live { subject, key })
}
