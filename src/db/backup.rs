//! Online backups of the SQLite database, and putting one back. (PostgreSQL is backed up with
//! its own tools, `pg_dump -Fc` and `pg_restore`: see the README.)

use diesel::RunQueryDsl;
use std::path::{Path, PathBuf};

use super::{DbConnection, DbError, DbUrl};

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("assent backup copies SQLite databases; back PostgreSQL up with pg_dump -Fc (see the README)")]
    NotSqlite,
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} already exists; a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("the backup path must be valid UTF-8")]
    BadPath,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the backup failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("assent restore BACKUP puts back SQLite backups; after pg_restore, run assent restore --reconcile")]
    RestoreNotSqlite,
    #[error("there is no backup at {0}")]
    NoBackup(PathBuf),
    #[error("{path} is not an Assent backup ({why}); nothing was changed")]
    NotABackup { path: PathBuf, why: &'static str },
    #[error("cannot put the backup in place: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes a consistent copy of the SQLite database to `target` with `VACUUM INTO`, which reads
/// one snapshot (a read transaction), so it is safe while `assent serve` keeps writing. The
/// copy is compacted and holds every committed transaction up to the moment it started.
pub fn sqlite_into(url: &DbUrl, target: &Path) -> Result<(), BackupError> {
    let DbUrl::Sqlite(source) = url else { return Err(BackupError::NotSqlite) };
    if !Path::new(source).is_file() {
        return Err(BackupError::NoDatabase(PathBuf::from(source)));
    }
    // SQLite refuses an existing target too; asking first gives the clearer message.
    if target.exists() {
        return Err(BackupError::Exists(target.to_path_buf()));
    }
    let target_text = target.to_str().ok_or(BackupError::BadPath)?;
    let DbConnection::Sqlite(mut conn) = url.connect()? else { return Err(BackupError::NotSqlite) };
    // Made empty and private first (SQLite fills an empty file): the copy holds what the
    // database does, and must not be readable by other users even for a moment.
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(target)?;
    }
    diesel::sql_query("VACUUM INTO ?").bind::<diesel::sql_types::Text, _>(target_text).execute(&mut conn)?;
    Ok(())
}

/// The tables every Assent database has, whatever its version.
const ASSENT_TABLES: [&str; 4] = ["__diesel_schema_migrations", "subjects", "consent_events", "ledger_head"];

/// Replaces the SQLite database with `backup` (an `assent backup` file). The backup is checked
/// first on a copy beside the database (an SQLite file, intact, with Assent's tables); then the
/// old write-ahead log goes (it must never meet another database file) and the copy is renamed
/// into place, atomically. Run it only with no server on the database (`db::ServeLock`).
pub fn sqlite_restore(url: &DbUrl, backup: &Path) -> Result<(), BackupError> {
    let DbUrl::Sqlite(target) = url else { return Err(BackupError::RestoreNotSqlite) };
    if !backup.is_file() {
        return Err(BackupError::NoBackup(backup.to_path_buf()));
    }
    let not_a_backup = |why| BackupError::NotABackup { path: backup.to_path_buf(), why };
    let mut header = [0u8; 16];
    let read = std::fs::File::open(backup).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
    if read.is_err() || &header != b"SQLite format 3\0" {
        return Err(not_a_backup("not an SQLite database"));
    }
    let copy = PathBuf::from(format!("{target}.restoring"));
    std::fs::copy(backup, &copy)?;
    std::fs::File::open(&copy)?.sync_all()?;
    if let Err(why) = check_backup(&copy) {
        let _ = std::fs::remove_file(&copy);
        return Err(not_a_backup(why));
    }
    for stale in ["-wal", "-shm", "-journal"] {
        match std::fs::remove_file(format!("{target}{stale}")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    std::fs::rename(&copy, target)?;
    if let Some(dir) = Path::new(target).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Whether the file at `path` is an intact Assent database.
fn check_backup(path: &Path) -> Result<(), &'static str> {
    use diesel::Connection;
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let path = path.to_str().ok_or("its path is not UTF-8")?;
    let mut conn = diesel::SqliteConnection::establish(path).map_err(|_| "it cannot be opened")?;
    let check: Vec<Text> = diesel::sql_query("SELECT quick_check AS value FROM pragma_quick_check()")
        .load(&mut conn)
        .map_err(|_| "not an SQLite database")?;
    if check.first().is_none_or(|c| c.value != "ok") {
        return Err("the file is damaged");
    }
    let tables: Vec<Text> = diesel::sql_query("SELECT name AS value FROM sqlite_master WHERE type = 'table'")
        .load(&mut conn)
        .map_err(|_| "its tables cannot be read")?;
    if !ASSENT_TABLES.iter().all(|t| tables.iter().any(|n| n.value == *t)) {
        return Err("it lacks Assent's tables");
    }
    Ok(())
}
