//! Site owners (staff accounts of the console) and their sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{owner_sessions, owners};

/// An owner account as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = owners)]
pub struct OwnerRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub failed_logins: i64,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
    /// Invited by e-mail and not yet through the link to set a password.
    pub invited: bool,
    /// When its second factor was set up (`None`: it has none).
    pub totp_confirmed_at: Option<NaiveDateTime>,
}

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Active,
    /// Invited and not yet through the link to set a password.
    Invited,
    Disabled,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Invited => "invited",
            Self::Disabled => "disabled",
        }
    }
}

impl OwnerRow {
    pub fn state(&self) -> AccountState {
        match (self.disabled_at, self.invited) {
            (Some(_), _) => AccountState::Disabled,
            (None, true) => AccountState::Invited,
            (None, false) => AccountState::Active,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = owners)]
pub struct NewOwner<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub failed_logins: i64,
    pub created_at: NaiveDateTime,
    pub invited: bool,
}

pub fn insert(conn: &mut DbConnection, owner: &NewOwner<'_>) -> QueryResult<()> {
    diesel::insert_into(owners::table).values(owner).execute(conn).map(|_| ())
}

/// Whether anyone can sign in to the console yet.
pub fn any(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(owners::table.filter(owners::disabled_at.is_null()))).get_result(conn)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<OwnerRow>> {
    owners::table.filter(owners::email.eq(email)).select(OwnerRow::as_select()).first(conn).optional()
}

/// Every console account that is not disabled: (id, e-mail), oldest first.
pub fn active(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    owners::table
        .filter(owners::disabled_at.is_null())
        .order(owners::created_at.asc())
        .select((owners::id, owners::email))
        .load(conn)
}

/// The console accounts in `role` that are not disabled.
pub fn active_with_role(conn: &mut DbConnection, role: &str) -> QueryResult<Vec<OwnerRow>> {
    owners::table
        .filter(owners::role.eq(role))
        .filter(owners::disabled_at.is_null())
        .order(owners::created_at.asc())
        .select(OwnerRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<OwnerRow>> {
    owners::table.find(id).select(OwnerRow::as_select()).first(conn).optional()
}

/// A console session as stored (the cookie itself is never stored, only its SHA-256).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = owner_sessions)]
pub struct OwnerSession {
    pub id_hash: String,
    pub owner_id: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    /// What the browser said it was (shortened), for the account's list of its sessions.
    pub device: String,
    /// The IP's keyed pseudonym (never the address).
    pub ip_pseudonym: String,
    /// `domain::second_factor::Stage`, as stored.
    pub stage: String,
}

pub fn insert_session(conn: &mut DbConnection, session: &OwnerSession) -> QueryResult<()> {
    diesel::insert_into(owner_sessions::table).values(session).execute(conn).map(|_| ())
}

/// The session with this cookie hash and the owner it belongs to.
pub fn find_session(conn: &mut DbConnection, id_hash: &str) -> QueryResult<Option<(OwnerSession, OwnerRow)>> {
    owner_sessions::table
        .inner_join(owners::table.on(owners::id.eq(owner_sessions::owner_id)))
        .filter(owner_sessions::id_hash.eq(id_hash))
        .select((OwnerSession::as_select(), OwnerRow::as_select()))
        .first(conn)
        .optional()
}

pub fn touch_session(conn: &mut DbConnection, id_hash: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(owner_sessions::table.find(id_hash))
        .set(owner_sessions::last_seen_at.eq(at))
        .execute(conn)
        .map(|_| ())
}

pub fn end_session(conn: &mut DbConnection, id_hash: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(owner_sessions::table.find(id_hash).filter(owner_sessions::ended_at.is_null()))
        .set(owner_sessions::ended_at.eq(Some(at)))
        .execute(conn)
        .map(|_| ())
}
