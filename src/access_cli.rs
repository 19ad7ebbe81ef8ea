//! `assent access list` (the access records, filtered, as JSON lines) and the access chain's
//! part of `assent ledger verify`.

use clap::Subcommand;

use crate::config::Settings;
use crate::db::access::{self, AccessFilter, AccessVerification};
use crate::db::{DbConnection, DbUrl};
use crate::domain::access::AccessAction;

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Print access records (who read or acted on whose data), newest first, one JSON object a
    /// line: filter by person, by console account or API key, by action.
    List {
        /// Only records naming this person (subject id).
        #[arg(long)]
        subject: Option<String>,
        /// Only records by this console account or API key (its id).
        #[arg(long)]
        actor: Option<String>,
        /// Only this action (consent_check, view_person, export_person, …).
        #[arg(long, value_parser = parse_action)]
        action: Option<String>,
        /// At most this many records.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
}

fn parse_action(raw: &str) -> Result<String, String> {
    AccessAction::parse(raw).map(|a| a.as_str().to_owned()).ok_or_else(|| {
        let known: Vec<&str> = AccessAction::ALL.iter().map(|a| a.as_str()).collect();
        format!("unknown action {raw}: one of {}", known.join(", "))
    })
}

fn connect(settings: &Settings) -> anyhow::Result<DbConnection> {
    let url = DbUrl::parse(&settings.database_url)?;
    url.migrate()?;
    Ok(url.connect()?)
}

/// Runs an `assent access` command; the `Ok` value is the exit code.
pub fn run(settings: &Settings, command: AccessCommand) -> anyhow::Result<i32> {
    let AccessCommand::List { subject, actor, action, limit } = command;
    let mut conn = connect(settings)?;
    let mut filter = AccessFilter { subject_id: subject, actor_id: actor, action, ..AccessFilter::default() };
    let mut left = limit.max(0);
    let mut out = std::io::stdout().lock();
    while left > 0 {
        let page = access::page(&mut conn, &filter, left.min(1000))?;
        for record in &page {
            serde_json::to_writer(&mut out, record)?;
            std::io::Write::write_all(&mut out, b"\n")?;
        }
        left -= page.len() as i64;
        match page.last() {
            Some(last) if page.len() == 1000 => filter.before = Some(last.seq),
            _ => break,
        }
    }
    Ok(0)
}

/// Re-computes the access records' chain; prints what it found. `false`: broken.
pub fn verify_chain(conn: &mut DbConnection) -> anyhow::Result<bool> {
    let oldest = crate::services::access::oldest_prunable(chrono::Utc::now());
    match access::verify(conn, oldest)? {
        AccessVerification::Intact { records, pruned } => {
            println!("access records intact: {records} verified ({pruned} pruned past retention before them)");
            Ok(true)
        }
        AccessVerification::Broken(fault) => {
            eprintln!("access records BROKEN: {fault}");
            Ok(false)
        }
    }
}
