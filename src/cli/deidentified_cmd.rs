//! `assent export --deidentified`: consent states for analysis under pseudonyms (PIPA art. 28-2).

use anyhow::Context as _;
use std::io::Write as _;

use crate::config::Settings;

pub fn run(settings: &Settings, output: Option<&std::path::Path>, k: usize) -> anyhow::Result<i32> {
    anyhow::ensure!(k >= 2, "--k must be at least 2");
    let db = settings.open_db(2)?;
    let mut conn = db.pool.get()?;
    let keyring = crate::keys_cli::keyring(settings, &mut conn)?;
    let catalog = crate::db::catalog::Catalog::load(&mut conn)?;
    let (csv, summary) = crate::services::deidentified::export(&mut conn, &keyring, &catalog, k)?;
    drop(conn);
    match output {
        Some(path) => std::fs::write(path, &csv).with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(&csv)?,
    }
    let actor = crate::services::audit::Actor::Job("cli");
    crate::services::deidentified::record(&db.writer, &summary, &actor, output.map(|p| p.display().to_string()))?;
    eprintln!(
        "de-identified export {}: {} people, {} suppressed (k = {}), quasi-identifiers: {}",
        summary.id,
        summary.rows,
        summary.suppressed,
        summary.k,
        summary.quasi_identifiers.join(", ")
    );
    Ok(0)
}
