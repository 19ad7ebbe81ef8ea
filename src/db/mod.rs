//! Storage: one diesel code base for SQLite (the embedded default) and PostgreSQL.
//!
//! Reads go through an r2d2 pool; every write goes through the [`Writer`], one thread that owns one
//! connection and commits queued work in groups (see `writer.rs` for why).

pub mod access;
pub mod api_keys;
pub mod backup;
pub mod builder;
pub mod catalog;
pub mod change_log;
pub mod changes;
pub mod consent;
pub mod console;
pub mod external_ids;
pub mod holds;
pub mod imports;
pub mod key_store;
pub mod ledger;
pub mod operations;
pub mod outbox;
pub mod owners;
pub mod pending;
pub mod policies;
pub mod rate_windows;
pub mod retention;
pub mod rights;
pub mod schema;
pub mod second_factor;
pub mod serve_lock;
pub mod sessions;
pub mod stamp;
pub mod subjects;
pub mod team;
mod touched;
mod touched_pg;
pub mod tree_heads;
mod wal;
pub mod webhooks;
mod write_loop;
mod writer;

pub use serve_lock::ServeLock;
pub use write_loop::{Erasure, ErasureHook, LedgerHead, WriteTx};
pub use writer::{CommitFailed, Queued, Writer};

/// A new row id: a UUIDv7, time-ordered, so rows written together sit together in every index
/// keyed by id (random v4 ids scatter each insert, and later each delete, over the whole B-tree,
/// which made erasing a million people rewrite most of the file in every batch). Ids reveal when
/// the row was made, which its `created_at` says anyway. Never for secrets or tokens.
pub fn new_row_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::path::Path;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; each query is written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

/// Initialises OpenSSL (which libpq uses for TLS) before the first PostgreSQL connection, without
/// the exit-time cleanup handler: OpenSSL 3 otherwise frees its global state in `atexit` while
/// pool and writer threads still hold TLS connections, and the process can crash (SIGSEGV in
/// `OPENSSL_cleanup`) on its way out. Idempotent and cheap; the first initialisation decides.
pub fn postgres_client_init() {
    openssl_sys::init();
}

/// The URL with `gssencmode=disable` unless it says otherwise: libpq otherwise probes Kerberos for
/// GSSAPI encryption on every connect, and the Kerberos library's global mutexes are torn down at
/// process exit while a background thread may still be reconnecting (an assertion aborts the
/// process). A deployment that wants GSSAPI encryption names `gssencmode` in its URL.
fn without_gss_probe(raw: &str) -> String {
    if raw.contains("gssencmode=") {
        raw.to_owned()
    } else if raw.contains('?') {
        format!("{raw}&gssencmode=disable")
    } else {
        format!("{raw}?gssencmode=disable")
    }
}

/// Where the database is, decided by the URL's scheme and never by trial and error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(String),
    Postgres(String),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (use sqlite://PATH or postgres://…)")]
    BadUrl,
    #[error("could not connect to the database: {0}")]
    Connect(#[from] ConnectionError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("could not run migrations: {0}")]
    Migrate(String),
    #[error("could not create the connection pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("could not create the database folder: {0}")]
    Folder(#[from] std::io::Error),
}

impl DbUrl {
    pub fn parse(raw: &str) -> Result<Self, DbError> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            postgres_client_init();
            return Ok(Self::Postgres(without_gss_probe(raw)));
        }
        let path = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:")).ok_or(DbError::BadUrl)?;
        if path.is_empty() {
            return Err(DbError::BadUrl);
        }
        Ok(Self::Sqlite(path.to_owned()))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// Opens one connection, with SQLite's durability and concurrency settings applied.
    pub fn connect(&self) -> Result<DbConnection, DbError> {
        match self {
            Self::Postgres(url) => Ok(DbConnection::Postgres(diesel::PgConnection::establish(url)?)),
            Self::Sqlite(path) => {
                if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                    private_folder(parent)?;
                }
                let new = path != ":memory:" && !Path::new(path).exists();
                let mut conn = diesel::SqliteConnection::establish(path)?;
                // A database this creates is Assent's user's alone (SQLite makes it 0644 less
                // the umask; its WAL and shared-memory files take the database's mode).
                if new {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
                }
                // WAL lets readers run beside the one writer; FULL makes every commit durable
                // across power loss; busy_timeout covers a second process (e.g. `assent apply`);
                // secure_delete zeroes what a delete or update frees, so erased bytes do not linger.
                // temp_store = MEMORY keeps statement and savepoint journals (each submission of a
                // group is a savepoint) and the writer's change lines in memory: on file they
                // spilled past 64 KiB into a temporary file, a pwrite per page (a fifth of the
                // writer's time under signups); they hold copies of pages already in the cache and
                // are dropped at each commit, and nothing there needs to survive a crash.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; \
                     PRAGMA busy_timeout = 10000; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;",
                )?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    /// Runs the pending migrations up to and including the one whose version starts with
    /// `last` (e.g. `2026-12-01-000011`): a database as an older release left it, for upgrade
    /// tests.
    #[doc(hidden)]
    pub fn migrate_through(&self, last: &str) -> Result<(), DbError> {
        fn run<C: MigrationHarness<B>, B: diesel::backend::Backend>(
            conn: &mut C,
            source: EmbeddedMigrations,
            last: &str,
        ) -> diesel::migration::Result<()> {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let last = digits(last);
            for migration in conn.pending_migrations(source)? {
                let version = digits(&migration.name().version().to_string());
                if version[..last.len().min(version.len())] > *last.as_str() {
                    break;
                }
                conn.run_migration(&migration)?;
            }
            Ok(())
        }
        let result = match self.connect()? {
            DbConnection::Sqlite(mut c) => run(&mut c, SQLITE_MIGRATIONS, last),
            DbConnection::Postgres(mut c) => run(&mut c, POSTGRES_MIGRATIONS, last),
        };
        result.map_err(|e| DbError::Migrate(e.to_string()))
    }

    /// Brings the schema up to date.
    pub fn migrate(&self) -> Result<(), DbError> {
        let result = match self.connect()? {
            DbConnection::Sqlite(mut c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
            DbConnection::Postgres(mut c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        };
        result.map_err(|e| DbError::Migrate(e.to_string()))
    }
}

/// How many migrations this binary has that the database has not run (0: it is up to date).
pub fn pending_migrations(conn: &mut DbConnection) -> Result<usize, DbError> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|m| m.len()),
        DbConnection::Postgres(c) => c.pending_migrations(POSTGRES_MIGRATIONS).map(|m| m.len()),
    };
    pending.map_err(|e| DbError::Migrate(e.to_string()))
}

/// Creates a folder (and its parents) private to this user; one that exists is left as it is
/// (`assent doctor` reports one others can read).
pub fn private_folder(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)
}

/// The r2d2 manager: connects by scheme (see [`DbUrl`]).
#[derive(Debug)]
pub struct Manager(DbUrl);

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.ping().map_err(DbError::Query)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// The database as the application sees it: a read pool and the single writer.
#[derive(Clone)]
pub struct Db {
    pub pool: Pool,
    pub writer: Writer,
    pub url: DbUrl,
}

impl Db {
    /// Migrates, then opens the pool and starts the writer thread (rights requests it records
    /// fall due under `rights_deadline`). Erasures are told to no one: processes that may erase
    /// people use [`Db::open_with`] and the erasure journal (`Settings::erasure_hook`).
    pub fn open(url: DbUrl, pool_size: u32, rights_deadline: crate::domain::rights::Deadline) -> Result<Self, DbError> {
        Self::open_with(url, pool_size, rights_deadline, None)
    }

    /// [`Db::open`], with a hook the writer calls after each commit that erased people.
    pub fn open_with(
        url: DbUrl,
        pool_size: u32,
        rights_deadline: crate::domain::rights::Deadline,
        on_erased: Option<ErasureHook>,
    ) -> Result<Self, DbError> {
        url.migrate()?;
        // A PostgreSQL connection is tested (`SELECT 1`) before each use, so one broken by a
        // server restart is replaced instead of failing a request; an SQLite connection is a file
        // handle in this process that cannot break that way, and testing it would only cost.
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(std::time::Duration::from_secs(10))
            .test_on_check_out(!url.is_sqlite())
            .build(Manager(url.clone()))?;
        let writer = Writer::start(url.clone(), rights_deadline, on_erased)?;
        Ok(Self { pool, writer, url })
    }
}

/// Inserts a slice of `Insertable` rows into `table`, up to [`ROWS_PER_STATEMENT`] rows a
/// statement (one row: a cached statement). On PostgreSQL round trips dominate. On SQLite one
/// cached statement stepped per row was cheaper until the people tables carried the writer's change
/// triggers: a statement on a table with a trigger opens a statement journal (a savepoint) of its
/// own, and closing one per row was a third of the writer's time under signups; one statement for
/// the rows of a call closes one. Evaluates to a `QueryResult<()>`.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        let inserted: diesel::QueryResult<()> = (|| {
            match $conn {
                $crate::db::DbConnection::Sqlite(c) => match &rows[..] {
                    [row] => {
                        diesel::insert_into($table).values(row).execute(c)?;
                    }
                    rows => {
                        for chunk in rows.chunks($crate::db::ROWS_PER_STATEMENT) {
                            diesel::insert_into($table).values(chunk).execute(c)?;
                        }
                    }
                },
                $crate::db::DbConnection::Postgres(c) => {
                    for chunk in rows.chunks($crate::db::ROWS_PER_STATEMENT) {
                        diesel::insert_into($table).values(chunk).execute(c)?;
                    }
                }
            }
            Ok(())
        })();
        inserted
    }};
}

/// Rows a multi-row insert carries on PostgreSQL: with at most 13 columns a row this stays well
/// under its 65 535 bound parameters.
pub const ROWS_PER_STATEMENT: usize = 1000;

/// [`insert_rows!`] for row types that borrow nothing, with statements the connection keeps
/// prepared: the rows go in runs of 256, 64, 16 and 4 (largest first, at most three of each
/// smaller size), then one at a time, so every statement's text is one of five. diesel prepares a
/// slice's multi-row insert afresh on every call (its text depends on the count; parsing the
/// ledger's was 7 % of retention's writer), and caches an array's, whose query id is the row
/// type's values, only when those borrow nothing. 256 rows of at most 14 columns stay well under
/// SQLite's 32 766 and PostgreSQL's 65 535 bound parameters. Evaluates to a `QueryResult<()>`.
#[macro_export]
macro_rules! insert_cached {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        let inserted: diesel::QueryResult<()> = (|| {
            match $conn {
                $crate::db::DbConnection::Sqlite(c) => $crate::insert_cached!(@runs c, $table, &rows[..]),
                $crate::db::DbConnection::Postgres(c) => $crate::insert_cached!(@runs c, $table, &rows[..]),
            }
            Ok(())
        })();
        inserted
    }};
    (@runs $c:expr, $table:expr, $rows:expr) => {{
        let mut rest = $rows;
        $crate::insert_cached!(@sizes $c, $table, rest, 256, 64, 16, 4);
        for row in rest {
            diesel::insert_into($table).values(row).execute($c)?;
        }
    }};
    (@sizes $c:expr, $table:expr, $rest:ident, $($n:literal),*) => {
        $(
            while $rest.len() >= $n {
                let (run, tail) = $rest.split_at($n);
                let run: &[_; $n] = run.try_into().expect("split at the run's size");
                diesel::insert_into($table).values(run).execute($c)?;
                $rest = tail;
            }
        )*
    };
}

/// Held while a background job runs, so that with several processes on one PostgreSQL only one
/// runs it. A session advisory lock: it is released if the process dies, so a killed run never
/// blocks the next. On SQLite the file's write lock already serialises processes.
pub struct JobLock {
    /// Never read: keeping the session open is what holds the lock.
    _session: Option<diesel::PgConnection>,
}

diesel::define_sql_function!(fn pg_try_advisory_lock(key: diesel::sql_types::BigInt) -> diesel::sql_types::Bool);

impl JobLock {
    /// `None` if another process holds the lock for `job`.
    pub fn try_acquire(url: &DbUrl, job: &str) -> Result<Option<Self>, DbError> {
        let DbUrl::Postgres(pg) = url else { return Ok(Some(Self { _session: None })) };
        let mut conn = diesel::PgConnection::establish(pg)?;
        let key =
            i64::from_be_bytes(crate::crypto::sha256_hex(job.as_bytes()).as_bytes()[..8].try_into().unwrap_or([0; 8]));
        let held: bool = diesel::select(pg_try_advisory_lock(key)).get_result(&mut conn)?;
        Ok(held.then_some(Self { _session: Some(conn) }))
    }
}

#[cfg(test)]
mod tests {
    use super::DbUrl;

    #[test]
    fn postgres_urls_skip_the_kerberos_probe_unless_they_ask_for_it() {
        let url = |raw: &str| match DbUrl::parse(raw).unwrap() {
            DbUrl::Postgres(u) => u,
            DbUrl::Sqlite(_) => unreachable!(),
        };
        assert_eq!(url("postgres://u@h/db"), "postgres://u@h/db?gssencmode=disable");
        assert_eq!(url("postgres://u@h/db?sslmode=require"), "postgres://u@h/db?sslmode=require&gssencmode=disable");
        assert_eq!(url("postgres://u@h/db?gssencmode=require"), "postgres://u@h/db?gssencmode=require");
    }

    /// `.cargo/config.toml` compiles the bundled SQLite without global mutexes; a build without
    /// it would still work, only slower, so this says so.
    #[test]
    fn sqlite_is_compiled_as_cargo_config_asks() {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Opt {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("SELECT compile_options FROM pragma_compile_options")
            .load::<Opt>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(options.iter().any(|o| o == "THREADSAFE=2"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
    }
}
