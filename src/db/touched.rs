//! Which people a commit of the SQLite writer touched, told by the database itself.
//!
//! The writer's connection carries `TEMP` triggers (its own: no other connection sees them or
//! pays for them) on every table, written when the schema is first seen and again whenever it
//! changed. Each row a statement writes leaves a line in `temp.assent_touched`, inside the
//! same transaction (a savepoint rolled back takes its lines with it):
//! - the people tables ([`PEOPLE`]): the subject id, and the e-mail blind index where the table
//!   has one, of the old and the new row;
//! - tables no cache reads ([`UNREAD`]: submissions, the outbox, access records, the audit
//!   log): nothing;
//! - any other table (the catalogue, API keys, and any table added later): "everything".
//!
//! Before the commit the writer reads the lines and empties the table. Because the database
//! writes the lines, no path can change someone without saying so.
//!
//! The same connection also sees other processes' commits: SQLite changes `PRAGMA
//! data_version` for this connection whenever another one commits, and never for its own.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Integer, Nullable, Text};

use super::change_log::{ChangeLog, Touched};

/// The tables about one person, with the columns naming them: (table, subject id column,
/// e-mail blind index column).
/// The consent check reads the first five; the preference center's page
/// reads them all (`services::person_cache`).
const PEOPLE: &[(&str, &str, Option<&str>)] = &[
    ("subjects", "id", Some("email_index")),
    ("consent_state", "subject_id", None),
    ("external_ids", "subject_id", None),
    ("hold_keys", "subject_id", Some("email_index")),
    ("held_values", "subject_id", None),
    ("field_values", "subject_id", None),
    ("consent_events", "subject_id", None),
    ("rights_requests", "subject_id", None),
    ("sessions", "subject_id", None),
];

/// Tables no cache reads: writing them changes no answer a cache holds. (`submissions`: the
/// page reads a value's form version from its submission, a row never updated, and removed only
/// with its values, which tell.)
const UNREAD: &[&str] = &[
    "ledger_head",
    "submissions",
    "outbox",
    "outbox_messages",
    "webhook_deliveries",
    "access_records",
    "access_head",
    "audit_log",
    "tree_heads",
    "link_tokens",
    "pending_values",
    "sign_in_delays",
    "owner_sessions",
    "owner_tokens",
    "imports",
    "import_sheets",
    "import_uploads",
    "operations",
    // Where the result notices' follower is in the ledger: moved by a pass after every few
    // consents given or withdrawn (many a second under signups), it must not empty the caches.
    "result_notice_cursor",
    // PostgreSQL's shared rate-limit counters (SQLite counts in memory).
    "rate_windows",
];

/// More lines than this in one commit (an import's chunk) are taken as "everything": cheaper
/// than marking each person, and as exact.
pub(super) const LINES_MAX: i64 = 4096;

const KIND_SUBJECT: i32 = 0;
const KIND_EMAIL: i32 = 1;
const KIND_ANY: i32 = 2;

/// The writer's side: what it installed, and the last `data_version` it saw.
#[derive(Default)]
pub struct Tracker {
    /// The `schema_version` the triggers were written for.
    installed: Option<i64>,
    data_version: Option<i64>,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
pub(super) struct Number {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[derive(QueryableByName)]
pub(super) struct Line {
    #[diesel(sql_type = Integer)]
    pub kind: i32,
    #[diesel(sql_type = Nullable<Binary>)]
    pub k: Option<Vec<u8>>,
}

fn pragma(conn: &mut SqliteConnection, name: &str) -> QueryResult<i64> {
    Ok(diesel::sql_query(format!("SELECT {name} AS n FROM pragma_{name}")).get_result::<Number>(conn)?.n)
}

impl Tracker {
    /// Outside any transaction, before a batch: (re)writes the triggers if the schema is not
    /// the one they were written for. A failure leaves them uninstalled (every commit is then
    /// "everything").
    pub fn prepare(&mut self, conn: &mut SqliteConnection) {
        let schema = pragma(conn, "schema_version").ok();
        if schema.is_some() && schema == self.installed {
            return;
        }
        self.installed = None;
        match install(conn) {
            Ok(()) => self.installed = schema,
            Err(e) => tracing::warn!(error = %e, "cannot install the change triggers; every commit empties the caches"),
        }
    }

    /// Outside any transaction, before a batch of bulk work: removes the triggers, so that the
    /// batch counts as everything ([`Tracker::begin`] answers false) and the next batch of other
    /// work writes them again. A failure leaves them in place (still exact).
    pub fn suspend(&mut self, conn: &mut SqliteConnection) {
        if self.installed.is_none() {
            return;
        }
        match uninstall(conn) {
            Ok(()) => self.installed = None,
            Err(e) => tracing::warn!(error = %e, "cannot remove the change triggers for bulk work"),
        }
    }

    /// Inside the batch's transaction, once it holds the write lock: other processes' commits
    /// since the last look advance the generation now. Answers whether the triggers are in
    /// place for the schema as it is.
    pub fn begin(&mut self, conn: &mut SqliteConnection, log: &ChangeLog) -> QueryResult<bool> {
        self.look(conn, log)?;
        let schema = pragma(conn, "schema_version")?;
        Ok(self.installed == Some(schema))
    }

    /// Reads `data_version`: if another connection committed since the last look, advances the
    /// generation. The writer calls it while idle, every few milliseconds.
    pub fn look(&mut self, conn: &mut SqliteConnection, log: &ChangeLog) -> QueryResult<()> {
        let now = pragma(conn, "data_version")?;
        if self.data_version != Some(now) {
            self.data_version = Some(now);
            log.advance();
        }
        Ok(())
    }

    /// Forgets the connection (the writer connects again): everything is looked at afresh.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Inside the batch's transaction, last: what the batch touched, and the table emptied.
pub fn collect(conn: &mut SqliteConnection, tracked: bool) -> QueryResult<Touched> {
    if !tracked {
        return Ok(Touched::Everything);
    }
    let count = diesel::sql_query("SELECT count(*) AS n FROM temp.assent_touched").get_result::<Number>(conn)?.n;
    if count == 0 {
        return Ok(Touched::Nothing);
    }
    let lines: Vec<Line> = if count > LINES_MAX {
        Vec::new()
    } else {
        diesel::sql_query("SELECT DISTINCT kind, CAST(k AS BLOB) AS k FROM temp.assent_touched").load(conn)?
    };
    conn.batch_execute("DELETE FROM temp.assent_touched")?;
    Ok(from_lines(count, lines.into_iter().map(|l| (l.kind, l.k))))
}

/// What a commit's lines (kind, key) tell; `count` of them in all, each listed only when no more
/// than [`LINES_MAX`]. Shared with PostgreSQL's writer (`touched_pg`), whose triggers write the
/// same kinds.
pub(super) fn from_lines(count: i64, lines: impl Iterator<Item = (i32, Option<Vec<u8>>)>) -> Touched {
    if count > LINES_MAX {
        return Touched::Everything;
    }
    let (mut subjects, mut emails) = (Vec::new(), Vec::new());
    for line in lines {
        match line {
            (KIND_SUBJECT, Some(k)) => match String::from_utf8(k) {
                Ok(id) => subjects.push(id),
                Err(_) => return Touched::Everything,
            },
            (KIND_EMAIL, Some(k)) => emails.push(k),
            // "Anything", or a person's row without its key (it cannot be, with NOT NULL
            // columns): be safe.
            _ => return Touched::Everything,
        }
    }
    Touched::People { subjects, emails }
}

/// Drops the triggers written before and writes them for every table there is now.
fn install(conn: &mut SqliteConnection) -> QueryResult<()> {
    let tables: Vec<Name> =
        diesel::sql_query("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .load(conn)?;
    let mut sql = String::from("CREATE TEMP TABLE IF NOT EXISTS assent_touched (kind INTEGER NOT NULL, k BLOB);\n");
    sql.push_str(&drop_triggers(conn)?);
    for Name { name } in tables.iter().filter(|t| !UNREAD.contains(&t.name.as_str())) {
        sql.push_str(&triggers_for(name));
    }
    conn.transaction(|conn| conn.batch_execute(&sql))
}

/// Drops every trigger written before.
fn uninstall(conn: &mut SqliteConnection) -> QueryResult<()> {
    let sql = drop_triggers(conn)?;
    conn.transaction(|conn| conn.batch_execute(&sql))
}

/// The statements dropping the triggers there are.
fn drop_triggers(conn: &mut SqliteConnection) -> QueryResult<String> {
    let old: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_temp_master WHERE type = 'trigger' AND name LIKE 'assent_touched_%'",
    )
    .load(conn)?;
    Ok(old.iter().map(|Name { name }| format!("DROP TRIGGER IF EXISTS temp.\"{name}\";\n")).collect())
}

/// The three triggers (insert, update, delete) of one table.
fn triggers_for(table: &str) -> String {
    let person = PEOPLE.iter().find(|(t, _, _)| *t == table);
    let lines = |rows: &[&str]| -> String {
        let values: Vec<String> = match person {
            Some((_, subject, email)) => rows
                .iter()
                .flat_map(|row| {
                    let mut v = vec![format!("({KIND_SUBJECT}, {row}.\"{subject}\")")];
                    v.extend(email.map(|e| format!("({KIND_EMAIL}, {row}.\"{e}\")")));
                    v
                })
                .collect(),
            None => vec![format!("({KIND_ANY}, NULL)")],
        };
        values.join(", ")
    };
    let mut sql = String::new();
    for (event, rows) in [("INSERT", &["NEW"][..]), ("UPDATE", &["OLD", "NEW"][..]), ("DELETE", &["OLD"][..])] {
        sql.push_str(&format!(
            "CREATE TEMP TRIGGER \"assent_touched_{table}_{}\" AFTER {event} ON main.\"{table}\" BEGIN \
             INSERT INTO assent_touched (kind, k) VALUES {}; END;\n",
            event.to_lowercase(),
            lines(rows)
        ));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> SqliteConnection {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE subjects (id TEXT PRIMARY KEY, email_index BLOB NOT NULL UNIQUE);
             CREATE TABLE consent_state (subject_id TEXT, purpose_key TEXT);
             CREATE TABLE consent_events (seq INTEGER PRIMARY KEY, subject_id TEXT);
             CREATE TABLE submissions (id TEXT PRIMARY KEY, subject_id TEXT);
             CREATE TABLE api_keys (id TEXT PRIMARY KEY);",
        )
        .unwrap();
        conn
    }

    fn commit(conn: &mut SqliteConnection, sql: &str) -> Touched {
        conn.transaction(|conn| {
            conn.batch_execute(sql)?;
            collect(conn, true)
        })
        .unwrap()
    }

    #[test]
    fn the_database_says_who_a_commit_touched() {
        let (mut conn, mut tracker) = (conn(), Tracker::default());
        tracker.prepare(&mut conn);
        let touched = commit(
            &mut conn,
            "INSERT INTO subjects VALUES ('s1', x'00ff'); INSERT INTO consent_state VALUES ('s1', 'm');
             INSERT INTO consent_events (subject_id) VALUES ('s1');",
        );
        assert_eq!(touched, Touched::People { subjects: vec!["s1".into()], emails: vec![vec![0, 255]] });
        let ledger = commit(&mut conn, "INSERT INTO consent_events (subject_id) VALUES ('s2');");
        assert_eq!(
            ledger,
            Touched::People { subjects: vec!["s2".into()], emails: vec![] },
            "the page shows the ledger"
        );
        assert_eq!(commit(&mut conn, "INSERT INTO submissions VALUES ('x', 's1');"), Touched::Nothing);
        let moved = commit(&mut conn, "UPDATE subjects SET email_index = x'01' WHERE id = 's1';");
        let Touched::People { subjects, mut emails } = moved else { panic!("{moved:?}") };
        emails.sort();
        assert_eq!(
            (subjects, emails),
            (vec!["s1".to_owned()], vec![vec![0, 255], vec![1]]),
            "the old address and the new"
        );
        assert_eq!(commit(&mut conn, "INSERT INTO api_keys VALUES ('k');"), Touched::Everything);
    }

    #[test]
    fn a_rolled_back_savepoint_takes_its_lines_and_a_new_table_is_everything() {
        let (mut conn, mut tracker) = (conn(), Tracker::default());
        tracker.prepare(&mut conn);
        let touched = conn
            .transaction(|conn| {
                let _ = conn.transaction(|conn| {
                    conn.batch_execute("INSERT INTO subjects VALUES ('s1', x'01')")?;
                    Err::<(), _>(diesel::result::Error::RollbackTransaction)
                });
                conn.batch_execute("INSERT INTO subjects VALUES ('s2', x'02')")?;
                collect(conn, true)
            })
            .unwrap();
        assert_eq!(touched, Touched::People { subjects: vec!["s2".into()], emails: vec![vec![2]] });
        conn.batch_execute("CREATE TABLE later (x TEXT)").unwrap();
        let log = ChangeLog::default();
        let tracked = conn.transaction(|conn| tracker.begin(conn, &log)).unwrap();
        assert!(!tracked, "the schema moved since the triggers were written");
        tracker.prepare(&mut conn);
        assert_eq!(commit(&mut conn, "INSERT INTO later VALUES ('x')"), Touched::Everything);
    }

    #[test]
    fn bulk_work_runs_without_triggers_and_counts_as_everything_until_they_are_written_again() {
        let (mut conn, mut tracker, log) = (conn(), Tracker::default(), ChangeLog::default());
        tracker.prepare(&mut conn);
        tracker.suspend(&mut conn);
        let triggers = || "SELECT count(*) AS n FROM sqlite_temp_master WHERE type = 'trigger'";
        assert_eq!(diesel::sql_query(triggers()).get_result::<Number>(&mut conn).unwrap().n, 0);
        let tracked = conn.transaction(|conn| tracker.begin(conn, &log)).unwrap();
        assert!(!tracked, "a batch of bulk work is everything");
        let touched = conn
            .transaction(|conn| {
                conn.batch_execute("INSERT INTO subjects VALUES ('s1', x'01')")?;
                collect(conn, tracked)
            })
            .unwrap();
        assert_eq!(touched, Touched::Everything);
        tracker.prepare(&mut conn);
        assert!(diesel::sql_query(triggers()).get_result::<Number>(&mut conn).unwrap().n > 0);
        let tracked = conn.transaction(|conn| tracker.begin(conn, &log)).unwrap();
        assert!(tracked, "the next batch of other work is told per person again");
        let touched = commit(&mut conn, "INSERT INTO subjects VALUES ('s2', x'02')");
        assert_eq!(touched, Touched::People { subjects: vec!["s2".into()], emails: vec![vec![2]] });
    }

    #[test]
    fn every_table_named_is_one_the_migrations_make() {
        use diesel_migrations::MigrationHarness;
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.run_pending_migrations(super::super::SQLITE_MIGRATIONS).unwrap();
        let tables: Vec<String> =
            diesel::sql_query("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .load::<Name>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
        let named = UNREAD.iter().copied().chain(PEOPLE.iter().map(|(table, _, _)| *table));
        let missing: Vec<&str> = named.filter(|t| !tables.iter().any(|name| name == t)).collect();
        assert!(missing.is_empty(), "named but not made (renamed?): {missing:?}");
        let mut tracker = Tracker::default();
        tracker.prepare(&mut conn);
        assert!(tracker.installed.is_some());
        let cursors =
            diesel::sql_query("SELECT count(*) AS n FROM result_notice_cursor").get_result::<Number>(&mut conn);
        assert_eq!(cursors.unwrap().n, 1, "the cursor's row is there to move");
        let moved = commit(
            &mut conn,
            "UPDATE result_notice_cursor SET seq = seq + 1;
             INSERT INTO tree_heads (size, root, signed_at, key_id, signature, access_size)
             VALUES (1, 'r', '2026-12-07 00:00:00', 'k', 's', 0);",
        );
        assert_eq!(moved, Touched::Nothing, "the result notices' cursor and tree heads are read by no cache");
    }
}
