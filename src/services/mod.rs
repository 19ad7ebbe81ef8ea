//! Service functions: each owns one transaction and everything that must commit with it.

pub mod access;
pub mod account;
pub mod audit;
pub mod builder;
pub mod bulk_check;
pub mod bundle;
pub mod confirmations;
pub mod consent;
pub mod console;
pub mod csv_export;
pub mod deidentified;
pub mod doctor;
pub mod email_change;
pub mod erasure;
pub mod erasure_journal;
pub mod export;
pub mod external_ids;
pub mod feed;
pub mod gpc;
pub mod holds;
pub mod import;
pub mod keyring;
pub mod keys;
pub mod links;
pub mod lookup;
pub mod notice;
pub mod owners;
pub mod person_cache;
pub mod profile;
pub mod purposes;
pub mod receipts;
pub mod recorder;
pub mod remote_witness;
pub mod reseal;
pub mod restore;
pub mod result_notices;
pub mod rights;
pub mod rights_desk;
pub mod rotation;
pub mod second_factor;
pub mod snippets;
pub mod subject;
pub mod submit;
pub mod submitted_values;
pub mod team;
pub mod tokens;
pub mod transparency;
pub mod webhooks;
pub mod workspace;
pub mod workspace_export;

use crate::crypto::CryptoError;
use crate::db::CommitFailed;

/// What can go wrong below the web layer. None of these is the user's fault.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("database error")]
    Storage(#[from] diesel::result::Error),
    #[error(transparent)]
    Commit(#[from] CommitFailed),
    #[error("cryptography error")]
    Crypto(#[from] CryptoError),
    #[error("could not sign a token")]
    Signing(#[from] jsonwebtoken::errors::Error),
    #[error("could not compose a mail: {0}")]
    Mail(String),
    /// No connection could be had, or the blocking task was lost.
    #[error("the database is unavailable")]
    Unavailable,
}

impl From<crate::mail::OutboxError> for ServiceError {
    fn from(e: crate::mail::OutboxError) -> Self {
        use crate::mail::OutboxError as M;
        match e {
            M::Storage(e) => Self::Storage(e),
            M::Commit(e) => Self::Commit(e),
            M::Crypto(e) => Self::Crypto(e),
            M::Unavailable => Self::Unavailable,
        }
    }
}

impl From<subject::SubjectError> for ServiceError {
    fn from(e: subject::SubjectError) -> Self {
        use subject::SubjectError as S;
        match e {
            S::Storage(e) => Self::Storage(e),
            S::Crypto(e) => Self::Crypto(e),
            // Callers that can meet an erased or unknown subject map it themselves.
            S::NotFound | S::Erased => Self::Unavailable,
        }
    }
}
