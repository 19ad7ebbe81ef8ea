//! Creating and checking API keys.

use chrono::Utc;
use diesel::QueryResult;

use crate::crypto::{random_bytes, sha256_hex};
use crate::db::DbConnection;
use crate::db::api_keys::{self, NewApiKey};

const PREFIX: &str = "assent_";

/// A new key: its id, and the secret shown exactly once.
pub struct CreatedKey {
    pub id: String,
    pub secret: String,
}

pub fn create(conn: &mut DbConnection, name: &str) -> QueryResult<CreatedKey> {
    use base64::Engine as _;
    let secret = format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()));
    let id = uuid::Uuid::new_v4().to_string();
    api_keys::insert(
        conn,
        &NewApiKey {
            id: &id,
            name,
            prefix: &secret[..PREFIX.len() + 6],
            key_hash: &sha256_hex(secret.as_bytes()),
            created_at: Utc::now().naive_utc(),
        },
    )?;
    Ok(CreatedKey { id, secret })
}

/// The id of the live key matching `presented`, if any.
pub fn authenticate(conn: &mut DbConnection, presented: &str) -> QueryResult<Option<String>> {
    if !presented.starts_with(PREFIX) || presented.len() > 128 {
        return Ok(None);
    }
    api_keys::find_live(conn, &sha256_hex(presented.as_bytes()))
}
