//! API keys for server-to-server calls. Only a SHA-256 of each key is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::api_keys;

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    /// The key's scopes, as [`crate::domain::scopes::Scopes::to_text`] writes them.
    pub scopes: &'a str,
    /// The console account that made the key (`None`: the CLI); disabling it revokes the key.
    pub created_by: Option<&'a str>,
}

pub fn insert(conn: &mut DbConnection, key: &NewApiKey<'_>) -> QueryResult<()> {
    diesel::insert_into(api_keys::table).values(key).execute(conn).map(|_| ())
}

/// The live (not revoked, not expired at `now`) key with this hash: its id, expiry and scopes.
pub fn find_live(
    conn: &mut DbConnection,
    key_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(String, Option<NaiveDateTime>, String)>> {
    api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(now)))
        .select((api_keys::id, api_keys::expires_at, api_keys::scopes))
        .first(conn)
        .optional()
}

/// A key as the console lists it (never its hash).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub scopes: String,
}

/// Records that the key was used at `now` (callers do it at most daily per key).
pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(api_keys::table.find(id)).set(api_keys::last_used_at.eq(now)).execute(conn).map(|_| ())
}

/// Every key, newest first.
pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ApiKeyRow>> {
    api_keys::table.order(api_keys::created_at.desc()).select(ApiKeyRow::as_select()).load(conn)
}

/// Revokes every live key the account made; says how many.
pub fn revoke_made_by(conn: &mut DbConnection, owner_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(api_keys::table.filter(api_keys::created_by.eq(owner_id)).filter(api_keys::revoked_at.is_null()))
        .set(api_keys::revoked_at.eq(Some(at)))
        .execute(conn)
}

/// Revokes a live key; says whether this call revoked it.
pub fn revoke(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(api_keys::table.find(id).filter(api_keys::revoked_at.is_null()))
        .set(api_keys::revoked_at.eq(Some(at)))
        .execute(conn)?;
    Ok(n == 1)
}
