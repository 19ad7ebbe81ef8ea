//! What each commit changed about people, on PostgreSQL (migration 36): the counterpart of
//! [`super::touched`], whose kinds of line it shares.
//!
//! Statement-level triggers with transition tables on every people table (`subjects`,
//! `consent_state`, `external_ids`, `hold_keys`, `held_values`; since migration 38 also
//! `field_values`, `consent_events`, `rights_requests`, `sessions`) tell, for each statement, the
//! subject ids and e-mail blind indexes it wrote:
//! - to every listener on [`super::changes::CHANNEL`], as `s<id>,e<hex>,…` (empty: anything),
//!   which [`heard`] reads: how another process's commit reaches this one's caches;
//! - on a connection that collects them (the writer's: [`prepare`] makes its temporary table and
//!   sets `assent.collect`), as lines of that table, which [`collect`] reads inside the batch's
//!   transaction, before the commit: how this process's own commits are told at once, before
//!   anyone is answered. The catalogue's and the API keys' triggers write "anything".
//!
//! Because the database writes the lines, no path can change someone without saying so.

use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::change_log::Touched;
use super::touched::{LINES_MAX, Line, Number, from_lines};

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// On a new connection of the writer: makes it collect what its statements touch. Answers the
/// connection's server process id (its notifications are its own commits, told already), or
/// `None` when the schema has no such triggers (an older one): every commit is then
/// "everything".
pub fn prepare(conn: &mut PgConnection) -> Option<i32> {
    let prepared = (|| -> QueryResult<Option<i32>> {
        let installed = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_proc WHERE proname = 'assent_person_changed' \
             AND pronamespace = current_schema()::regnamespace",
        )
        .get_result::<Number>(conn)?
        .n;
        if installed == 0 {
            return Ok(None);
        }
        conn.batch_execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS assent_touched (kind INTEGER NOT NULL, k BYTEA) \
             ON COMMIT DELETE ROWS; SET assent.collect = 'on';",
        )?;
        Ok(Some(diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Pid>(conn)?.pid))
    })();
    prepared.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot collect what commits change; every commit empties the caches");
        None
    })
}

/// Inside the batch's transaction, first: bulk work (an import's chunk) is "everything" anyway,
/// so its statements skip the lines.
pub fn skip(conn: &mut PgConnection) -> QueryResult<()> {
    conn.batch_execute("SET LOCAL assent.collect = 'off'")
}

/// Inside the batch's transaction, last: what the batch touched (the table empties itself at
/// the commit).
pub fn collect(conn: &mut PgConnection) -> QueryResult<Touched> {
    let count = diesel::sql_query("SELECT count(*) AS n FROM pg_temp.assent_touched").get_result::<Number>(conn)?.n;
    if count == 0 {
        return Ok(Touched::Nothing);
    }
    let lines: Vec<Line> = if count > LINES_MAX {
        Vec::new()
    } else {
        diesel::sql_query("SELECT DISTINCT kind, k FROM pg_temp.assent_touched").load(conn)?
    };
    Ok(from_lines(count, lines.into_iter().map(|l| (l.kind, l.k))))
}

/// What a notification's payload tells: the people named, or anything (empty, or not in the
/// triggers' form).
pub fn heard(payload: &str) -> Touched {
    if payload.is_empty() {
        return Touched::Everything;
    }
    let (mut subjects, mut emails) = (Vec::new(), Vec::new());
    for item in payload.split(',') {
        match item.split_at_checked(1) {
            Some(("s", id)) if !id.is_empty() => subjects.push(id.to_owned()),
            Some(("e", hex)) => match hex::decode(hex) {
                Ok(index) if !index.is_empty() => emails.push(index),
                _ => return Touched::Everything,
            },
            _ => return Touched::Everything,
        }
    }
    Touched::People { subjects, emails }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_names_people_or_anything() {
        assert_eq!(
            heard("sab-1,e0aff,s2"),
            Touched::People { subjects: vec!["ab-1".into(), "2".into()], emails: vec![vec![0x0a, 0xff]] }
        );
        for anything in ["", "x1", "s", "e", "ezz", "s1,,s2"] {
            assert_eq!(heard(anything), Touched::Everything, "{anything:?}");
        }
    }
}
