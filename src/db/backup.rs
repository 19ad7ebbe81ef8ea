//! Online backups of the SQLite database. (PostgreSQL is backed up with its own tools,
//! `pg_dump -Fc` and `pg_restore`: see the README.)

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
    diesel::sql_query("VACUUM INTO ?").bind::<diesel::sql_types::Text, _>(target_text).execute(&mut conn)?;
    Ok(())
}
