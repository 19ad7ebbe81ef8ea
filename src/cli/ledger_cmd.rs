//! `assent ledger verify`, `sign` and `export`: the consent ledger's chain, its signed tree
//! heads and witness, and the offline bundle for auditors.

use anyhow::Context;

use super::connect;
use crate::config::Settings;
use crate::db::DbConnection;
use crate::db::ledger::{self, Verification};
use crate::db::operations::{self, Operation};
use crate::services::remote_witness::RemoteWitness;
use crate::services::transparency::{self, TreeCheck};

/// Verifies the chains and the signed heads, and records the outcome for `assent doctor`.
pub(super) fn verify(settings: &Settings) -> anyhow::Result<i32> {
    let mut conn = connect(settings)?;
    let status = verify_all(settings, &mut conn)?;
    let now = chrono::Utc::now().naive_utc();
    operations::record(&mut conn, Operation::LedgerVerify, status == 0, "", now)?;
    Ok(status)
}

fn verify_all(settings: &Settings, conn: &mut DbConnection) -> anyhow::Result<i32> {
    match ledger::verify(conn)? {
        Verification::Intact { events } => println!("ledger intact: {events} events verified"),
        Verification::Broken(fault) => {
            eprintln!("ledger BROKEN: {fault}");
            return Ok(1);
        }
    }
    if !crate::access_cli::verify_chain(conn)? {
        return Ok(1);
    }
    let keyring = crate::keys_cli::keyring(settings, conn)?;
    let witness = transparency::witness_path(&settings.data_dir);
    match transparency::verify(conn, &keyring, &witness)? {
        TreeCheck::Holds { heads, witnessed } => {
            println!("tree intact: {heads} signed heads verified, {witnessed} witnessed ({})", witness.display());
            super::restore::print_restores(&witness)?;
            Ok(0)
        }
        TreeCheck::Broken(fault) => {
            eprintln!("ledger BROKEN: {fault}");
            Ok(1)
        }
        TreeCheck::RestoreBroken(fault) => {
            eprintln!("ledger BROKEN: {fault}");
            Ok(1)
        }
    }
}

pub(super) async fn sign_head(settings: Settings) -> anyhow::Result<i32> {
    let witness = settings.witness_url.as_deref().map(RemoteWitness::new).transpose()?;
    let task = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut conn = connect(&settings)?;
        let keyring = crate::keys_cli::keyring(&settings, &mut conn)?;
        match transparency::sign_and_witness(&mut conn, &keyring, &settings.data_dir)? {
            Some(head) => println!("signed tree head: {} events, root {}", head.size, head.root),
            None => println!("the newest signed head already covers every event"),
        }
        let latest = crate::db::tree_heads::latest(&mut conn)?;
        let public_key = match &latest {
            Some(head) => crate::services::keyring::tree_head_key(&mut conn, &keyring, &head.key_id)?,
            None => None,
        };
        Ok((latest, public_key.unwrap_or_default()))
    });
    let (latest, public_key) = task.await.context("command task failed")??;
    if let (Some(witness), Some(head)) = (witness, latest) {
        witness.deliver(&head, &public_key).await?;
        println!("delivered the head of size {} to the remote witness", head.size);
    }
    Ok(0)
}

pub(super) fn export_bundle(settings: &Settings, out: &std::path::Path) -> anyhow::Result<i32> {
    let mut conn = connect(settings)?;
    let keyring = crate::keys_cli::keyring(settings, &mut conn)?;
    let done = crate::services::bundle::export(&mut conn, &keyring, &settings.data_dir, &settings.base_url, out)?;
    let witness = if done.witnessed { "with the witness" } else { "no witness file found" };
    println!(
        "ledger bundle written to {}: {} events, {} signed heads, {witness}; check it with tools/verify_bundle.py",
        done.dir.display(),
        done.events,
        done.heads
    );
    Ok(0)
}
