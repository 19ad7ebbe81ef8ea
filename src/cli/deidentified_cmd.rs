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
    let parameters = serde_json::json!({
        "quasi_identifiers": summary.quasi_identifiers,
        "attributes": summary.attributes,
        "output": output.map(|p| p.display().to_string()),
    })
    .to_string();
    let s = summary.clone();
    db.writer.write_blocking(move |tx| {
        let (k, rows, suppressed) = (s.k as i64, s.rows as i64, s.suppressed as i64);
        crate::db::imports::record_deidentified_export(tx.conn, &s.id, "cli", k, rows, suppressed, &parameters, s.at)
            .map_err(crate::services::ServiceError::from)
    })?;
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
