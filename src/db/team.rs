//! The console's team: every account, role changes, disabling, and the single-use links that let
//! an invited (or locked-out) account set its password. Only a link's SHA-256 is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::owners::OwnerRow;
use super::schema::{owner_sessions, owner_tokens, owners};

/// Every account, oldest first.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<OwnerRow>> {
    owners::table.order(owners::created_at.asc()).select(OwnerRow::as_select()).load(conn)
}

/// Enabled accounts with the owner role.
pub fn enabled_owners(conn: &mut DbConnection) -> QueryResult<i64> {
    owners::table.filter(owners::role.eq("owner")).filter(owners::disabled_at.is_null()).count().get_result(conn)
}

pub fn set_role(conn: &mut DbConnection, id: &str, role: &str) -> QueryResult<usize> {
    diesel::update(owners::table.find(id)).set(owners::role.eq(role)).execute(conn)
}

/// Disables (`Some`) or enables (`None`) an account.
pub fn set_disabled(conn: &mut DbConnection, id: &str, at: Option<NaiveDateTime>) -> QueryResult<usize> {
    diesel::update(owners::table.find(id)).set(owners::disabled_at.eq(at)).execute(conn)
}

/// Ends every open session of the account.
pub fn end_sessions_of(conn: &mut DbConnection, owner_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(owner_sessions::table.filter(owner_sessions::owner_id.eq(owner_id)))
        .filter(owner_sessions::ended_at.is_null())
        .set(owner_sessions::ended_at.eq(Some(at)))
        .execute(conn)
}

/// A new password (its argon2 hash), which also clears the invitation and any lock.
pub fn set_password(conn: &mut DbConnection, id: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(owners::table.find(id))
        .set((
            owners::password_hash.eq(hash),
            owners::invited.eq(false),
            owners::failed_logins.eq(0),
            owners::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = owner_tokens)]
pub struct OwnerToken {
    pub id_hash: String,
    pub owner_id: String,
    /// `invite` or `reset`.
    pub purpose: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert_token(conn: &mut DbConnection, token: &OwnerToken) -> QueryResult<()> {
    diesel::insert_into(owner_tokens::table).values(token).execute(conn).map(|_| ())
}

pub fn find_token(conn: &mut DbConnection, id_hash: &str) -> QueryResult<Option<OwnerToken>> {
    owner_tokens::table.find(id_hash).select(OwnerToken::as_select()).first(conn).optional()
}

/// Marks the link used; says whether this call did (a link is used once).
pub fn use_token(conn: &mut DbConnection, id_hash: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(owner_tokens::table.find(id_hash).filter(owner_tokens::used_at.is_null()))
        .set(owner_tokens::used_at.eq(Some(at)))
        .execute(conn)?;
    Ok(n == 1)
}

/// The account's open sessions (not ended), most recently used first.
pub fn sessions_of(conn: &mut DbConnection, owner_id: &str) -> QueryResult<Vec<super::owners::OwnerSession>> {
    owner_sessions::table
        .filter(owner_sessions::owner_id.eq(owner_id))
        .filter(owner_sessions::ended_at.is_null())
        .order(owner_sessions::last_seen_at.desc())
        .select(super::owners::OwnerSession::as_select())
        .load(conn)
}

/// Ends the account's open sessions except `keep` (by cookie hash); `only`, when given, ends just
/// that one. Returns how many ended.
pub fn end_sessions_but(
    conn: &mut DbConnection,
    owner_id: &str,
    keep: &str,
    only: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let mut query = diesel::update(owner_sessions::table)
        .filter(owner_sessions::owner_id.eq(owner_id))
        .filter(owner_sessions::ended_at.is_null())
        .filter(owner_sessions::id_hash.ne(keep))
        .into_boxed();
    if let Some(only) = only {
        query = query.filter(owner_sessions::id_hash.eq(only));
    }
    query.set(owner_sessions::ended_at.eq(Some(at))).execute(conn)
}
