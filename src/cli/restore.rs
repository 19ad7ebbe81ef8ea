//! `assent restore BACKUP` and `assent restore --reconcile`: put a backup back (or take one that
//! `pg_restore` put back), then erase again everyone the erasure journal holds, record the
//! restore in the witness and sign a head. Refused while a server runs on the database.

use anyhow::Context;
use std::path::Path;

use crate::config::Settings;
use crate::crypto::Keyring;
use crate::db::{DbUrl, ServeLock};
use crate::services::restore;

/// Runs a restore: `backup` (SQLite) is put in place first; without it, the database in place
/// is reconciled. Prints what it did.
pub fn run(settings: &Settings, backup: Option<&Path>) -> anyhow::Result<i32> {
    let url = DbUrl::parse(&settings.database_url)?;
    if backup.is_some() && !url.is_sqlite() {
        anyhow::bail!(crate::db::backup::BackupError::RestoreNotSqlite);
    }
    let Some(_lock) = ServeLock::exclusive(&url).context("cannot lock the database")? else {
        anyhow::bail!("a server is running on this database: stop every `assent serve` first; nothing was changed");
    };
    // The key first: without it nothing can be signed, and nothing should be replaced.
    let keyring = Keyring::load(settings.master_key.as_deref(), &settings.data_dir)?;
    if let Some(file) = backup {
        crate::db::backup::sqlite_restore(&url, file)?;
        println!("restored {} as the database (the old database and its write-ahead log are gone)", file.display());
    }
    let db = settings.open_db(2).context("cannot open the restored database")?;
    let done = restore::reconcile(&db, &keyring, &settings.erasure_journal(), &settings.data_dir)?;
    let record = &done.recorded.record;
    println!(
        "witness: restore recorded at {} events; {} witnessed heads of the discarded history set aside, {} heads stored again",
        record.size,
        record.set_aside.len(),
        done.recorded.adopted
    );
    let replayed = &done.replayed;
    println!(
        "erasure journal ({}): {} people, {} of them erased again, {} erasures added from the database",
        settings.erasure_journal.display(),
        replayed.journaled,
        replayed.erased_again,
        replayed.caught_up
    );
    if !replayed.damaged_lines.is_empty() {
        eprintln!("warning: erasure journal lines {:?} could not be read and were skipped", replayed.damaged_lines);
    }
    match &done.head {
        Some(head) => println!("signed tree head: {} events, root {}", head.size, head.root),
        None => println!("the newest signed head already covers every event"),
    }
    println!("done: `assent serve` may start; `assent ledger verify` checks the result");
    Ok(0)
}

/// Adds the witness's restores to `assent ledger verify`'s report.
pub fn print_restores(witness: &Path) -> anyhow::Result<()> {
    let seen = crate::services::transparency::restores(witness)?;
    if seen.restores_seen > 0 {
        println!(
            "restores: {} recorded in the witness; {} witnessed heads of discarded histories set aside",
            seen.restores_seen, seen.set_aside
        );
    }
    Ok(())
}
