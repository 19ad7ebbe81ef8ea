//! Service functions: each owns one transaction and everything that must commit with it.

pub mod builder;
pub mod console;
pub mod csv_export;
pub mod export;
pub mod keys;
pub mod links;
pub mod lookup;
pub mod owners;
pub mod purposes;
pub mod rights;
pub mod snippets;
pub mod submit;
pub mod workspace;

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
