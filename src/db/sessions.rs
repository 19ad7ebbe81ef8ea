//! Single-use link tokens and preference-center sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{link_tokens, sessions};

#[derive(Debug, Insertable)]
#[diesel(table_name = link_tokens)]
pub struct NewLinkToken<'a> {
    pub id: &'a str,
    pub subject_id: &'a str,
    pub kind: &'a str,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = link_tokens)]
pub struct LinkToken {
    pub id: String,
    pub subject_id: String,
    pub kind: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert_token(conn: &mut DbConnection, token: &NewLinkToken<'_>) -> QueryResult<()> {
    insert_tokens(conn, std::slice::from_ref(token))
}

pub fn insert_tokens(conn: &mut DbConnection, tokens: &[NewLinkToken<'_>]) -> QueryResult<()> {
    crate::insert_rows!(conn, link_tokens::table, tokens)
}

pub fn find_token(conn: &mut DbConnection, id: &str) -> QueryResult<Option<LinkToken>> {
    link_tokens::table.find(id).select(LinkToken::as_select()).first(conn).optional()
}

/// Marks a token used if it is still unused; says whether this call used it.
pub fn use_token(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(link_tokens::table.find(id).filter(link_tokens::used_at.is_null()))
        .set(link_tokens::used_at.eq(Some(at)))
        .execute(conn)?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id_hash: String,
    pub subject_id: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

pub fn insert_session(conn: &mut DbConnection, session: &Session) -> QueryResult<()> {
    diesel::insert_into(sessions::table).values(session).execute(conn).map(|_| ())
}

pub fn find_session(conn: &mut DbConnection, id_hash: &str) -> QueryResult<Option<Session>> {
    sessions::table.find(id_hash).select(Session::as_select()).first(conn).optional()
}

pub fn touch_session(conn: &mut DbConnection, id_hash: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id_hash)).set(sessions::last_seen_at.eq(at)).execute(conn).map(|_| ())
}

pub fn end_session(conn: &mut DbConnection, id_hash: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id_hash).filter(sessions::ended_at.is_null()))
        .set(sessions::ended_at.eq(Some(at)))
        .execute(conn)
        .map(|_| ())
}

/// Removes every session and link token of these subjects (on erasure).
pub fn forget_many(conn: &mut DbConnection, subject_ids: &[impl AsRef<str>]) -> QueryResult<()> {
    let subject_ids: Vec<&str> = subject_ids.iter().map(AsRef::as_ref).collect();
    diesel::delete(sessions::table.filter(sessions::subject_id.eq_any(subject_ids.clone()))).execute(conn)?;
    diesel::delete(link_tokens::table.filter(link_tokens::subject_id.eq_any(subject_ids))).execute(conn)?;
    Ok(())
}
