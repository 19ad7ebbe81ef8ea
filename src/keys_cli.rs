//! `assent keys`: master key and signing key rotation, and where the material stands.

use anyhow::Context;
use clap::Subcommand;

use crate::config::Settings;
use crate::crypto::{Keyring, master};
use crate::db::{DbConnection, DbUrl, JobLock};
use crate::services::rotation::{self, Pace, Progress};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-wrap every data key, stored key and queued mail under the current master key
    /// (ASSENT_MASTER_KEY), opening the old ones with ASSENT_MASTER_KEY_PREVIOUS. Safe while
    /// `serve` runs; resumable (what is already under the current key is skipped).
    Rotate {
        /// Rotate the receipt and tree-head signing keys instead (old keys keep verifying).
        #[arg(long)]
        signing: bool,
        /// Development only (no ASSENT_MASTER_KEY): first move master.key to master.key.previous
        /// and generate a new master.key.
        #[arg(long, conflicts_with = "signing")]
        new_key: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        batch: i64,
        /// Stop after re-wrapping this many rows (run again to go on).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Say which master key each kind of material is under, and list the signing keys.
    Status,
}

/// The keyring for this database (stored keys initialised on first use).
pub fn keyring(settings: &Settings, conn: &mut DbConnection) -> anyhow::Result<Keyring> {
    Ok(crate::services::keyring::load(conn, settings.master_keys()?)?)
}

fn connect(settings: &Settings) -> anyhow::Result<DbConnection> {
    let url = DbUrl::parse(&settings.database_url)?;
    url.migrate()?;
    Ok(url.connect()?)
}

pub fn run(settings: &Settings, command: KeysCommand) -> anyhow::Result<i32> {
    match command {
        KeysCommand::Status => status(settings),
        KeysCommand::Rotate { signing: true, .. } => rotate_signing(settings),
        KeysCommand::Rotate { new_key, batch, limit, .. } => {
            if new_key {
                if settings.master_key.is_some() {
                    anyhow::bail!(
                        "--new-key is for development (master.key); with ASSENT_MASTER_KEY set, set it to a new key, \
                         ASSENT_MASTER_KEY_PREVIOUS to the old one, restart the servers, then run `assent keys rotate`"
                    );
                }
                master::generate_development_key(&settings.data_dir)?;
                eprintln!(
                    "generated a new {}; the old key is now {}. Restart `serve` so that it writes under the new key.",
                    master::master_key_path(&settings.data_dir).display(),
                    master::previous_key_path(&settings.data_dir).display()
                );
            }
            rotate(settings, Pace { batch, limit })
        }
    }
}

fn rotate(settings: &Settings, pace: Pace) -> anyhow::Result<i32> {
    let url = DbUrl::parse(&settings.database_url)?;
    let Some(_lock) = JobLock::try_acquire(&url, "keys-rotate")? else {
        eprintln!("another process is rotating keys now; nothing done");
        return Ok(3);
    };
    let mut conn = connect(settings)?;
    let keyring = keyring(settings, &mut conn)?;
    let current = keyring.masters().current().id();
    let previous = keyring.masters().previous().map(|k| k.id());
    eprintln!(
        "re-wrapping under master key {current}{}",
        previous.map(|p| format!(" (opening old material with {p})")).unwrap_or_default()
    );
    let progress = rotation::rotate(&mut conn, &keyring, pace, |p: &Progress| {
        eprint!("\r  stored keys {} · data keys {} · queued mails {}", p.secrets, p.data_keys, p.mails);
    })
    .context("rotation stopped (run it again to go on)")?;
    eprintln!();
    let left = rotation::census(&mut conn, &keyring, 1000)?.under_old_keys(&current.to_string());
    let done = format!(
        "{} stored keys, {} data keys and {} queued mails re-wrapped",
        progress.secrets, progress.data_keys, progress.mails
    );
    if left > 0 {
        println!("{done}; {left} rows are still under an old key. Run `assent keys rotate` again to go on.");
        if progress.finished || pace.limit.is_none() {
            println!(
                "(A server still running with the old key as ASSENT_MASTER_KEY writes under it: restart it first.)"
            );
            return Ok(1);
        }
        return Ok(0);
    }
    println!("{done}: everything is under master key {current}.");
    match previous {
        Some(p) if settings.master_key_previous.is_some() => println!(
            "ASSENT_MASTER_KEY_PREVIOUS ({p}) can now be removed: restart every server without it \
             (they must all run with ASSENT_MASTER_KEY = key {current})."
        ),
        Some(p) => println!(
            "The previous key ({p}) is no longer needed: once every server runs with the new key, delete {}.",
            master::previous_key_path(&settings.data_dir).display()
        ),
        None => println!(
            "To rotate the master key: set ASSENT_MASTER_KEY to a new key and ASSENT_MASTER_KEY_PREVIOUS to \
             this one, restart the servers, then run `assent keys rotate` (development: `assent keys rotate --new-key`)."
        ),
    }
    Ok(0)
}

fn rotate_signing(settings: &Settings) -> anyhow::Result<i32> {
    let mut conn = connect(settings)?;
    let keyring = keyring(settings, &mut conn)?;
    for key in rotation::rotate_signing(&mut conn, &keyring)? {
        println!("new {} signing key {}", key.purpose.as_str(), key.key_id);
    }
    println!(
        "The old signing keys are retired: they keep verifying (JWKS lists them) and sign nothing new. \
         Restart the servers so that they sign with the new keys."
    );
    Ok(0)
}

fn status(settings: &Settings) -> anyhow::Result<i32> {
    let mut conn = connect(settings)?;
    let keyring = keyring(settings, &mut conn)?;
    let current = keyring.masters().current().id().to_string();
    let census = rotation::census(&mut conn, &keyring, 1000)?;
    println!("current master key: {current}");
    println!("previous master key: {}", keyring.masters().previous().map_or("none".into(), |k| k.id().to_string()));
    for (what, counts) in
        [("data keys", &census.data_keys), ("queued mails", &census.mails), ("stored keys", &census.secrets)]
    {
        let parts: Vec<String> = counts
            .iter()
            .map(|(kid, n)| format!("{n} under {kid}{}", if *kid == current { " (current)" } else { "" }))
            .collect();
        println!("{what}: {}", if parts.is_empty() { "none".into() } else { parts.join(", ") });
    }
    match census.under_old_keys(&current) {
        0 => println!("under an old key: 0 (nothing needs ASSENT_MASTER_KEY_PREVIOUS)"),
        n => println!("under an old key: {n} (run `assent keys rotate`)"),
    }
    println!("signing keys:");
    for (row, trusted) in &census.signing {
        let state = if row.retired_at.is_some() { "retired" } else { "active" };
        let trust = match (trusted, rotation::known_purpose(row)) {
            (true, _) => "trusted",
            (false, true) => "REFUSED: its seed does not open under the master key or does not match",
            (false, false) => "REFUSED: unknown purpose",
        };
        println!(
            "  {} {} {state} since {} {trust}",
            row.key_id,
            row.purpose,
            row.created_at.format("%Y-%m-%dT%H:%M:%SZ")
        );
    }
    Ok(0)
}
