//! The `assent` command line: serve, migrate, apply, key create, owner create, keys, backup,
//! restore, ledger verify/sign/export, access list.

mod deidentified_cmd;
mod doctor_cmd;
mod import_cmd;
mod key_cmd;
mod ledger_cmd;
mod owner_cmd;
mod restore;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;

use crate::config::{Settings, SettingsArgs};
use crate::db::DbUrl;
use crate::db::operations::Operation;
use crate::services::workspace::{self, WorkspaceFile};
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(
    name = "assent",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("ASSENT_COMMIT"), ")"),
    about = "Self-hosted, consent-first form backend"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, apply the workspace file, and serve HTTP.
    Serve,
    /// Bring the database schema up to date.
    Migrate,
    /// Apply a workspace file (forms and purposes as code); idempotent.
    Apply { file: PathBuf },
    /// Write the workspace in force (purposes, forms) as a file `apply` accepts unchanged; or
    /// with --deidentified, consent states for analysis under pseudonyms (CSV, PIPA art. 28-2).
    Export {
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// One row per person under a pseudonym of this export alone: consent states, the month
        /// first seen, choice and date fields by the month; no identifier, no free text.
        #[arg(long)]
        deidentified: bool,
        /// Suppress every combination of quasi-identifiers fewer than this many people share.
        #[arg(long, default_value_t = crate::domain::deidentify::DEFAULT_K, requires = "deidentified", value_parser = clap::value_parser!(usize))]
        k: usize,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: key_cmd::KeyCommand,
    },
    /// Rotate the master key or the signing keys; see where keys stand.
    Keys {
        #[command(subcommand)]
        command: crate::keys_cli::KeysCommand,
    },
    /// Manage site owners (console accounts).
    Owner {
        #[command(subcommand)]
        command: owner_cmd::OwnerCommand,
    },
    /// Check the consent ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Read the access records (who read or acted on whose personal data).
    Access {
        #[command(subcommand)]
        command: crate::access_cli::AccessCommand,
    },
    /// Write a consistent copy of the SQLite database to a new file, safe while `serve` runs
    /// (PostgreSQL: use pg_dump -Fc). The master key is not in it: back it up separately.
    Backup { file: PathBuf },
    /// Put an `assent backup` file back as the SQLite database (with no server running), or with
    /// --reconcile finish a restore made with pg_restore; then erase again everyone erased since
    /// the backup (the erasure journal) and record the restore in the witness.
    #[command(group(clap::ArgGroup::new("what").required(true).args(["backup", "reconcile"])))]
    Restore {
        /// The `assent backup` file (SQLite).
        backup: Option<PathBuf>,
        /// The database is already in place (PostgreSQL after pg_restore, or SQLite copied by hand).
        #[arg(long)]
        reconcile: bool,
    },
    /// Import people from a spreadsheet (CSV in UTF-8 or CP949, or XLSX) with their real
    /// consent dates, through the same rules as the form; `--dry-run` first.
    Import(import_cmd::ImportArgs),
    /// Check this instance's security set-up: each finding with its severity and its fix; exit
    /// status 1 on any failure (for cron and monitoring). `serve` runs it daily.
    Doctor(doctor_cmd::DoctorArgs),
    /// Expire consents past their retention period and erase what they no longer justify.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Run retention now (it also runs inside `serve` every `ASSENT_RETENTION_INTERVAL`).
    Run {
        /// Only report what would happen.
        #[arg(long)]
        dry_run: bool,
        /// Run as if it were this moment (RFC 3339), e.g. to rehearse a date in the future.
        #[arg(long, value_parser = parse_now)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// List, per purpose, what expires, lapses or is up for renewal.
    Report {
        /// Also count consents expiring within this period (e.g. 30d, 12m, 1y).
        #[arg(long, default_value = "30d", value_parser = parse_within)]
        within: crate::domain::Retention,
        #[arg(long, value_parser = parse_now)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
}

fn parse_within(raw: &str) -> Result<crate::domain::Retention, String> {
    crate::domain::Retention::parse(raw).map_err(|e| e.to_string())
}

fn parse_now(raw: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("expected an RFC 3339 time such as 2027-01-31T09:00:00Z: {e}"))
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Re-compute the hash chain and the Merkle tree, and check them against every signed tree
    /// head and the witness; exits non-zero naming the first problem.
    Verify,
    /// Sign a tree head over every event now in the ledger (the server does this every minute
    /// while events arrive, and at shutdown), and append it to the witness.
    Sign,
    /// Write an offline bundle for auditors (events without personal data, signed heads, the
    /// witness, public keys) into a new folder; check it with `tools/verify_bundle.py`.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a command; the `Ok` value is the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let settings = Settings::resolve(cli.settings);
    match cli.command {
        Command::Serve => serve(settings).await.map(|()| 0),
        Command::Migrate => {
            blocking(move || {
                DbUrl::parse(&settings.database_url)?.migrate()?;
                println!("database is up to date");
                Ok(0)
            })
            .await
        }
        Command::Apply { file } => blocking(move || apply(&settings, &file)).await,
        Command::Export { output, deidentified: true, k } => {
            blocking(move || deidentified_cmd::run(&settings, output.as_deref(), k)).await
        }
        Command::Export { output, .. } => blocking(move || export(&settings, output.as_deref())).await,
        Command::Key { command } => blocking(move || key_cmd::run(&settings, command)).await,
        Command::Keys { command } => blocking(move || crate::keys_cli::run(&settings, command)).await,
        Command::Owner { command } => blocking(move || owner_cmd::run(&settings, command)).await,
        Command::Backup { file } => blocking(move || backup(&settings, &file)).await,
        Command::Import(args) => blocking(move || import_cmd::run(&settings, args)).await,
        Command::Doctor(args) => blocking(move || doctor_cmd::run(&settings, &args)).await,
        Command::Access { command } => blocking(move || crate::access_cli::run(&settings, command)).await,
        Command::Restore { backup, .. } => blocking(move || restore::run(&settings, backup.as_deref())).await,
        Command::Ledger { command: LedgerCommand::Verify } => blocking(move || ledger_cmd::verify(&settings)).await,
        Command::Ledger { command: LedgerCommand::Sign } => ledger_cmd::sign_head(settings).await,
        Command::Ledger { command: LedgerCommand::Export { out } } => {
            blocking(move || ledger_cmd::export_bundle(&settings, &out)).await
        }
        Command::Retention { command: RetentionCommand::Run { dry_run, now } } => {
            let now = now.unwrap_or_else(chrono::Utc::now);
            if dry_run {
                blocking(move || retention_report(&settings, now, crate::domain::Retention::parse("30d")?)).await
            } else {
                blocking(move || retention(&settings, now)).await
            }
        }
        Command::Retention { command: RetentionCommand::Report { within, now } } => {
            blocking(move || retention_report(&settings, now.unwrap_or_else(chrono::Utc::now), within)).await
        }
    }
}

async fn blocking(f: impl FnOnce() -> anyhow::Result<i32> + Send + 'static) -> anyhow::Result<i32> {
    tokio::task::spawn_blocking(f).await.context("command task failed")?
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let base = settings.base_url.clone();
    let app = Application::build(settings).await?;
    let forms: Vec<String> = app.state().catalog.current().forms.keys().cloned().collect();
    let pool = app.state().db.pool.clone();
    let has_owner = tokio::task::spawn_blocking(move || pool.get().ok().map(|mut c| crate::db::owners::any(&mut c)))
        .await
        .ok()
        .flatten();
    let mut lines = vec![format!("Assent is listening on {base} (port {})", app.port())];
    lines.extend(forms.iter().map(|form| format!("  form: {base}/f/{form}")));
    lines.push(match has_owner {
        Some(Ok(true)) => format!("Console: {base}/admin"),
        _ => format!("Console: {base}/admin (no owner yet: `assent owner create --email you@example.com`)"),
    });
    // The demo workspace's signup form is the one to try first (last, so it is easy to spot).
    if let Some(demo) = forms.iter().find(|f| f.as_str() == "newsletter").or(forms.first()) {
        lines.push(format!("Open the demo form: {base}/f/{demo}"));
    }
    // Not `println!`: with stdout closed (`assent serve | head`) it would panic and stop the server.
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    drop(out);
    app.run_until_stopped().await.context("server failed")
}

fn connect(settings: &Settings) -> anyhow::Result<crate::db::DbConnection> {
    let url = DbUrl::parse(&settings.database_url)?;
    url.migrate()?;
    Ok(url.connect()?)
}

fn apply(settings: &Settings, file: &std::path::Path) -> anyhow::Result<i32> {
    let workspace = WorkspaceFile::read(file)?;
    for advice in workspace.advice() {
        eprintln!("warning: {advice}");
    }
    let report = workspace::apply(&mut connect(settings)?, &workspace)?;
    if report.is_empty() {
        println!("{}: already applied, nothing changed", file.display());
    }
    for (purpose, version) in &report.policy_versions {
        println!("purpose {purpose}: published policy version {version}");
    }
    for (form, version) in &report.form_versions {
        println!("form {form}: published version {version}");
    }
    Ok(0)
}

fn export(settings: &Settings, output: Option<&std::path::Path>) -> anyhow::Result<i32> {
    let catalog = crate::db::catalog::Catalog::load(&mut connect(settings)?)?;
    let text = WorkspaceFile::from_catalog(&catalog).to_toml().context("cannot write the workspace as TOML")?;
    match output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

fn backup(settings: &Settings, file: &std::path::Path) -> anyhow::Result<i32> {
    let url = DbUrl::parse(&settings.database_url)?;
    crate::db::backup::sqlite_into(&url, file)?;
    let now = chrono::Utc::now().naive_utc();
    crate::db::operations::record(&mut url.connect()?, Operation::Backup, true, "", now)?;
    println!("backed up to {}; restore it with the server stopped (see the README)", file.display());
    Ok(0)
}

fn retention_report(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    within: crate::domain::Retention,
) -> anyhow::Result<i32> {
    let mut conn = connect(settings)?;
    let catalog = crate::db::catalog::Catalog::load(&mut conn)?;
    let span = within.expires_at(now) - now;
    let lines = crate::jobs::retention::dry_run(&mut conn, &catalog, now, span)?;
    println!("retention report as of {now} (nothing is changed)");
    println!(
        "{:<20} {:>12} {:>12} {:>16} {:>14}",
        "purpose",
        "expire now",
        "lapse now",
        "renewal window",
        format!("expire <{within}")
    );
    for l in &lines {
        println!(
            "{:<20} {:>12} {:>12} {:>16} {:>14}",
            l.purpose, l.expire_now, l.lapse_now, l.renewal_window_now, l.expire_within
        );
    }
    let since = (now - span).naive_utc();
    let done = crate::jobs::retention::recent_outcomes(&mut conn, since)?;
    let done: Vec<String> = done.iter().map(|(action, n)| format!("{n} {action}")).collect();
    println!("ledger events in the past {within}: {}", done.join(", "));
    Ok(0)
}

fn retention(settings: &Settings, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<i32> {
    let db = settings.open_db(2)?;
    let Some(_lock) = crate::db::JobLock::try_acquire(&db.url, "retention")? else {
        eprintln!("another process is running retention now; nothing done");
        return Ok(3);
    };
    let mut conn = db.pool.get()?;
    let keyring = std::sync::Arc::new(crate::keys_cli::keyring(settings, &mut conn)?);
    crate::services::reseal::legacy_ciphertexts(&mut conn, &keyring)?;
    let catalog = std::sync::Arc::new(crate::db::catalog::Catalog::load(&mut conn)?);
    drop(conn);
    let job = settings.retention_job(db, keyring, catalog);
    let started = std::time::Instant::now();
    let report = job.run(now, |r| {
        eprint!(
            "\r{:>6.1}s  renewal mails {} · notices {} · expired {} · lapsed {} · values erased {} · people erased {}",
            started.elapsed().as_secs_f64(),
            r.renewal_mails,
            r.notices,
            r.expired,
            r.lapsed_pending,
            r.values_erased,
            r.subjects_erased
        );
    })?;
    eprintln!();
    // Access records are pruned by the real clock, whatever `--now` rehearses.
    let pruned = crate::services::access::prune(&job.db.writer, settings.access_retention, chrono::Utc::now())?;
    println!("access records pruned (older than {}): {pruned}", settings.access_retention);
    println!(
        "retention as of {now}: {} renewal mails, {} notices, {} expired, {} unconfirmed lapsed, {} values erased, {} people erased",
        report.renewal_mails,
        report.notices,
        report.expired,
        report.lapsed_pending,
        report.values_erased,
        report.subjects_erased
    );
    Ok(0)
}
