//! `assent import`: people from a spreadsheet, with their real consent dates.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Settings;
use crate::domain::import::{Mapping, Zone};
use crate::services::audit::Actor;
use crate::services::import::read::Encoding;
use crate::services::import::{self, Options, Outcome, Report, RowReport, Totals};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The form the people are imported into (its key): its fields and purposes are what a
    /// row may hold, by the form's own rules.
    #[arg(long)]
    form: String,
    /// A CSV (UTF-8 or CP949) or XLSX file; the first row is the header.
    file: PathBuf,
    /// Decide and report every row; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// A TOML file mapping other headers to field keys, purpose keys, `consented_at`,
    /// `<purpose>_at`, `withdrawn_at`, `source`, `external_id` or `ignore` (`[columns]`), and
    /// values every row has (`[constants]`).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// The CSV's encoding (`utf-8` or `cp949`); detected when absent.
    #[arg(long, value_parser = Encoding::parse)]
    encoding: Option<Encoding>,
    /// The workbook's sheet (the first when absent).
    #[arg(long)]
    sheet: Option<String>,
    /// The policy version (its number) the people agreed to; the current one when absent.
    #[arg(long)]
    wording_version: Option<i64>,
    /// The time zone dates without one are in.
    #[arg(long, default_value = "Asia/Seoul", value_parser = Zone::parse)]
    time_zone: Zone,
    /// Write the file as one unit: nothing at all if any row is refused.
    #[arg(long)]
    all_or_nothing: bool,
    /// Print the report as JSON instead of a line per row.
    #[arg(long)]
    json: bool,
}

/// Exit codes: 0 every row imported (or unchanged), 1 some rows refused, 2 the file cannot be
/// imported (its headers), nothing done.
pub fn run(settings: &Settings, args: ImportArgs) -> anyhow::Result<i32> {
    let mapping = match &args.mapping {
        Some(path) => {
            Mapping::parse(&std::fs::read_to_string(path)?).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Mapping::default(),
    };
    let options = Options {
        id: None,
        form: args.form.clone(),
        source: import::Source::File(args.file.clone()),
        dry_run: args.dry_run,
        mapping,
        encoding: args.encoding,
        sheet: args.sheet.clone(),
        wording_version: args.wording_version,
        zone: args.time_zone,
        all_or_nothing: args.all_or_nothing,
    };
    let db = settings.open_db(2)?;
    let mut conn = db.pool.get()?;
    let keyring = Arc::new(crate::keys_cli::keyring(settings, &mut conn)?);
    let catalog = Arc::new(crate::db::catalog::Catalog::load(&mut conn)?);
    drop(conn);
    if catalog.form(&args.form).is_none() {
        anyhow::bail!("there is no form {:?} (apply your workspace first: `assent apply assent.toml`)", args.form);
    }
    let started = Instant::now();
    let mut out = std::io::stdout().lock();
    let report = import::run(&db, keyring, catalog, &options, Actor::Job("cli-import"), |totals, rows| {
        if !args.json {
            for row in rows.iter().filter(|r| args.dry_run || r.outcome == Outcome::Refused || !r.kept.is_empty()) {
                let _ = writeln!(out, "{}", row_line(row, args.dry_run));
            }
        }
        eprint!("\r{}", progress(totals, started));
    })?;
    eprintln!();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        for line in summary(&report) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(if !report.header_problems.is_empty() {
        2
    } else if report.totals.refused > 0 {
        1
    } else {
        0
    })
}

fn progress(totals: &Totals, started: Instant) -> String {
    let seconds = started.elapsed().as_secs_f64().max(0.001);
    let rate = totals.rows as f64 / seconds;
    let left = totals.expected.saturating_sub(totals.rows);
    let eta = if rate > 0.0 { format!("{:.0}s", left as f64 / rate) } else { "?".into() };
    format!("{} of ~{} rows · {rate:.0} rows/s · ETA {eta}   ", totals.rows, totals.expected)
}

fn row_line(row: &RowReport, dry_run: bool) -> String {
    let what = match (row.outcome, dry_run) {
        (Outcome::Created, true) => "would create",
        (Outcome::Updated, true) => "would update",
        (Outcome::Created, false) => "created",
        (Outcome::Updated, false) => "updated",
        (Outcome::Unchanged, _) => "unchanged",
        (Outcome::Refused, _) => "refused",
    };
    let mut line = format!("line {}: {what}", row.line);
    if !row.problems.is_empty() {
        let problems: Vec<String> = row.problems.iter().map(|p| format!("{}: {}", p.column, p.code.as_str())).collect();
        line.push_str(&format!(" ({})", problems.join(", ")));
    }
    if !row.kept.is_empty() {
        line.push_str(&format!(" (kept the person's later choice: {})", row.kept.join(", ")));
    }
    line
}

fn summary(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    for p in &report.header_problems {
        let code = serde_json::to_value(p.code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        lines.push(format!("cannot import: {} ({code})", if p.column.is_empty() { "-" } else { &p.column }));
    }
    if !report.ignored_columns.is_empty() {
        lines.push(format!("columns not read: {}", report.ignored_columns.join(", ")));
    }
    let t = &report.totals;
    let verb = if report.dry_run {
        "dry run"
    } else if report.written {
        "imported"
    } else {
        "nothing written"
    };
    lines.push(format!(
        "{verb} ({}, {}): {} rows · {} created · {} updated · {} unchanged · {} refused · {} ledger events · {} expired at once",
        report.id, report.read_as, t.rows, t.created, t.updated, t.unchanged, t.refused, t.events, t.expired
    ));
    lines.push(format!("file sha256 {}", report.file_sha256));
    lines
}
