//! Rate-limit counters in the database, for servers that share one PostgreSQL (migration 35).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConnection;
use super::schema::rate_windows;

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = BigInt)]
    hits: i64,
}

/// Counts one hit against `key` in the window starting at `window_start` (a new window starts
/// the count afresh) and returns the window's count so far; one statement, so concurrent servers
/// never lose a hit. PostgreSQL only: `None` on SQLite, which counts in memory.
pub fn hit(conn: &mut DbConnection, key: &str, window_start: i64) -> QueryResult<Option<i64>> {
    let DbConnection::Postgres(pg) = conn else { return Ok(None) };
    let counted: Hits = diesel::sql_query(
        "INSERT INTO rate_windows (key_hash, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key_hash) DO UPDATE SET \
           hits = CASE WHEN rate_windows.window_start = EXCLUDED.window_start THEN rate_windows.hits + 1 ELSE 1 END, \
           window_start = EXCLUDED.window_start \
         RETURNING hits",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(window_start)
    .get_result(pg)?;
    Ok(Some(counted.hits))
}

/// Forgets windows that ended before `before` (Unix seconds).
pub fn forget_before(conn: &mut DbConnection, before: i64) -> QueryResult<usize> {
    diesel::delete(rate_windows::table.filter(rate_windows::window_start.lt(before))).execute(conn)
}
