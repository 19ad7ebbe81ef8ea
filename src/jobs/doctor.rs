//! Inside `serve`, once a day: verify the ledger's hash chain, then run the security check
//! (`services::doctor`), record both (the console's dashboard shows the latest check) and export
//! the findings in `/metrics`. One process at a time per database.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::db::ledger::{self, Verification};
use crate::db::operations::{self, Operation};
use crate::db::{Db, JobLock};

const EVERY: Duration = Duration::from_secs(24 * 3600);

/// Runs at start and then daily, until the task is aborted.
pub async fn daily(db: Db, settings: Arc<Settings>) {
    let mut interval = tokio::time::interval(EVERY);
    loop {
        interval.tick().await;
        let (db, settings) = (db.clone(), settings.clone());
        match tokio::task::spawn_blocking(move || check(&db, &settings)).await {
            Ok(Ok(Some(findings))) => {
                crate::metrics::doctor_ran(&findings);
                if !findings.is_empty() {
                    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
                    tracing::warn!(?codes, "the security check has findings: run `assent doctor`");
                }
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "security check failed"),
            Err(e) => tracing::warn!(error = %e, "security check task failed"),
        }
    }
}

/// Verifies the ledger and examines the instance; `None` if another process is doing it.
fn check(db: &Db, settings: &Settings) -> anyhow::Result<Option<Vec<crate::domain::doctor::Finding>>> {
    let Some(_lock) = JobLock::try_acquire(&db.url, "doctor")? else { return Ok(None) };
    let mut conn = db.pool.get()?;
    let intact = matches!(ledger::verify(&mut conn)?, Verification::Intact { .. });
    let now = chrono::Utc::now().naive_utc();
    operations::record(&mut conn, Operation::LedgerVerify, intact, "", now)?;
    if !intact {
        tracing::error!("the consent ledger's hash chain is broken: run `assent ledger verify`");
    }
    Ok(Some(crate::services::doctor::examine_and_record(settings, &mut conn, now)?))
}
