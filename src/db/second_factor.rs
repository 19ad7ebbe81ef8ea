//! A console account's second factor (its sealed TOTP secret, recovery codes), the stage of each
//! session, and the delays after failed sign-ins (migration 34).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use super::DbConnection;
use super::schema::{owner_recovery_codes, owner_sessions, owners, sign_in_delays};

/// An account's second factor as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = owners)]
pub struct SecondFactorRow {
    /// The TOTP secret, sealed under the master key (set at enrolment, before it is confirmed).
    pub totp_sealed: Option<Vec<u8>>,
    /// When a code from it was first typed: from then on it is asked for at every sign-in.
    pub totp_confirmed_at: Option<NaiveDateTime>,
    /// The last time step a code was accepted for.
    pub totp_last_step: i64,
}

pub fn find(conn: &mut DbConnection, owner_id: &str) -> QueryResult<Option<SecondFactorRow>> {
    owners::table.find(owner_id).select(SecondFactorRow::as_select()).first(conn).optional()
}

/// Stores a new (unconfirmed) secret, replacing any earlier one.
pub fn set_pending(conn: &mut DbConnection, owner_id: &str, sealed: &[u8]) -> QueryResult<()> {
    diesel::update(owners::table.find(owner_id))
        .set((
            owners::totp_sealed.eq(Some(sealed)),
            owners::totp_confirmed_at.eq(None::<NaiveDateTime>),
            owners::totp_last_step.eq(0i64),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn confirm(conn: &mut DbConnection, owner_id: &str, at: NaiveDateTime, step: i64) -> QueryResult<()> {
    diesel::update(owners::table.find(owner_id))
        .set((owners::totp_confirmed_at.eq(Some(at)), owners::totp_last_step.eq(step)))
        .execute(conn)
        .map(|_| ())
}

/// Records that a code for `step` was used, if no later one was; says whether this call did.
pub fn use_step(conn: &mut DbConnection, owner_id: &str, step: i64) -> QueryResult<bool> {
    let n = diesel::update(owners::table.find(owner_id).filter(owners::totp_last_step.lt(step)))
        .set(owners::totp_last_step.eq(step))
        .execute(conn)?;
    Ok(n == 1)
}

/// Removes the second factor and its recovery codes.
pub fn remove(conn: &mut DbConnection, owner_id: &str) -> QueryResult<()> {
    diesel::update(owners::table.find(owner_id))
        .set((
            owners::totp_sealed.eq(None::<Vec<u8>>),
            owners::totp_confirmed_at.eq(None::<NaiveDateTime>),
            owners::totp_last_step.eq(0i64),
        ))
        .execute(conn)?;
    diesel::delete(owner_recovery_codes::table.filter(owner_recovery_codes::owner_id.eq(owner_id))).execute(conn)?;
    Ok(())
}

/// Every sealed secret: (owner id, sealed), for re-wrapping under a new master key.
pub fn sealed(conn: &mut DbConnection) -> QueryResult<Vec<(String, Vec<u8>)>> {
    owners::table
        .filter(owners::totp_sealed.is_not_null())
        .select((owners::id, owners::totp_sealed.assume_not_null()))
        .load(conn)
}

/// Replaces a sealed secret if it is still `old`; says how many rows changed.
pub fn swap_sealed(conn: &mut DbConnection, owner_id: &str, old: &[u8], new: &[u8]) -> QueryResult<usize> {
    diesel::update(owners::table.find(owner_id).filter(owners::totp_sealed.eq(old)))
        .set(owners::totp_sealed.eq(Some(new)))
        .execute(conn)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = owner_recovery_codes)]
struct NewRecoveryCode<'a> {
    code_hash: &'a str,
    owner_id: &'a str,
    created_at: NaiveDateTime,
}

/// Replaces the account's recovery codes with these (SHA-256 of each).
pub fn replace_codes(conn: &mut DbConnection, owner_id: &str, hashes: &[String], at: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(owner_recovery_codes::table.filter(owner_recovery_codes::owner_id.eq(owner_id))).execute(conn)?;
    let rows: Vec<_> = hashes.iter().map(|h| NewRecoveryCode { code_hash: h, owner_id, created_at: at }).collect();
    crate::insert_rows!(conn, owner_recovery_codes::table, &rows)
}

/// Uses the account's unused recovery code with this hash; says whether this call did.
pub fn use_code(conn: &mut DbConnection, owner_id: &str, hash: &str, at: NaiveDateTime) -> QueryResult<bool> {
    use owner_recovery_codes::dsl as c;
    let n = diesel::update(
        c::owner_recovery_codes.find(hash).filter(c::owner_id.eq(owner_id)).filter(c::used_at.is_null()),
    )
    .set(c::used_at.eq(Some(at)))
    .execute(conn)?;
    Ok(n == 1)
}

/// How many of the account's recovery codes are still unused.
pub fn codes_left(conn: &mut DbConnection, owner_id: &str) -> QueryResult<i64> {
    use owner_recovery_codes::dsl as c;
    c::owner_recovery_codes.filter(c::owner_id.eq(owner_id)).filter(c::used_at.is_null()).count().get_result(conn)
}

/// Moves a session on to `stage`.
pub fn set_stage(conn: &mut DbConnection, id_hash: &str, stage: &str) -> QueryResult<()> {
    diesel::update(owner_sessions::table.find(id_hash)).set(owner_sessions::stage.eq(stage)).execute(conn).map(|_| ())
}

/// The latest `not_before` among these delay keys, if any is set.
pub fn not_before(conn: &mut DbConnection, keys: &[&str]) -> QueryResult<Option<NaiveDateTime>> {
    use diesel::dsl::max;
    sign_in_delays::table
        .filter(sign_in_delays::key_hash.eq_any(keys))
        .select(max(sign_in_delays::not_before))
        .first(conn)
}

/// Counts one more failure against `key` (a run older than `forget_before` starts afresh) and
/// returns the count. Every server on the database counts in the same row.
pub fn count_failure(
    conn: &mut DbConnection,
    key: &str,
    now: NaiveDateTime,
    forget_before: NaiveDateTime,
) -> QueryResult<i64> {
    use sign_in_delays::dsl as d;
    diesel::delete(d::sign_in_delays.filter(d::updated_at.lt(forget_before))).execute(conn)?;
    for _ in 0..2 {
        let updated = diesel::update(d::sign_in_delays.find(key))
            .set((d::failures.eq(d::failures + 1), d::updated_at.eq(now)))
            .execute(conn)?;
        if updated == 1 {
            return d::sign_in_delays.find(key).select(d::failures).first(conn);
        }
        // Inside a savepoint: another server may insert the same key first.
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(d::sign_in_delays)
                .values((d::key_hash.eq(key), d::failures.eq(1i64), d::not_before.eq(now), d::updated_at.eq(now)))
                .execute(conn)
        });
        match inserted {
            Ok(_) => return Ok(1),
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::NotFound)
}

pub fn set_not_before(conn: &mut DbConnection, key: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sign_in_delays::table.find(key)).set(sign_in_delays::not_before.eq(at)).execute(conn).map(|_| ())
}

/// Forgets a run of failures (the account signed in).
pub fn forget(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    diesel::delete(sign_in_delays::table.find(key)).execute(conn).map(|_| ())
}
