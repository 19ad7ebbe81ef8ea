//! Importing people from a spreadsheet (issue 16): the customer lists Assent replaces, with the
//! date each person agreed. Every row goes through the same rules as the form it is imported
//! into (`domain::import`) and every consent through the consent door, at its original time,
//! with evidence naming the import, the file's SHA-256 and the line.
//!
//! A dry run decides every row exactly as the real run would (`plan::plan_chunk` reads only) and
//! writes nothing but its own record. The real run writes chunk by chunk, each row whole or not
//! at all (rows are checked completely before anything is written); `all_or_nothing` makes the
//! file one transaction, written only if no row is refused.

mod held;
mod plan;
pub mod read;
mod report;
pub mod sheets;
pub mod staged;
mod write;

pub use report::{Outcome, Report, RowReport, Totals};

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, Utc};

use self::plan::{Context, Parsed, Planned, Seen, Written};
pub use self::read::Source;
use self::read::{Encoding, ReadError, Row, Table};
use self::write::{Done, InFlight};
use super::ServiceError;
use super::audit::Actor;
use crate::crypto::Keyring;
use crate::db::catalog::{Catalog, PublishedForm};
use crate::db::imports::{self, ImportRecord};
use crate::db::{Db, DbConnection};
use crate::domain::import::{Column, Layout, Mapping, RowCode, RowProblem, RowRules, Zone};
use crate::domain::ledger::ledger_time;

/// Rows decided and written together. Larger chunks write fewer pages again (every commit
/// rewrites the index pages its rows landed on); this size keeps an import's peak memory
/// (two chunks: one being written, the next being decided) well under 300 MiB.
const CHUNK: usize = 5000;

/// Rows kept in the stored report beyond the totals (refused, updated, or keeping a newer choice).
const REPORTED_ROWS: usize = 10_000;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The import's id (drawn when `None`): the console draws it to point at the run's page
    /// before it ends.
    pub id: Option<String>,
    pub form: String,
    pub source: Source,
    pub dry_run: bool,
    pub mapping: Mapping,
    pub encoding: Option<Encoding>,
    pub sheet: Option<String>,
    /// The policy version (its number) every imported consent was given under; the current
    /// one when `None`.
    pub wording_version: Option<i64>,
    pub zone: Zone,
    pub all_or_nothing: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("there is no form {0:?}")]
    UnknownForm(String),
    #[error("purpose {purpose:?} has no policy version {version}")]
    UnknownWording { purpose: String, version: i64 },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Service(e.into())
    }
}

impl From<crate::db::CommitFailed> for ImportError {
    fn from(e: crate::db::CommitFailed) -> Self {
        Self::Service(e.into())
    }
}

/// Runs an import (or a dry run), calling `progress` after each chunk with the totals so far
/// and that chunk's rows.
pub fn run(
    db: &Db,
    keyring: Arc<Keyring>,
    catalog: Arc<Catalog>,
    options: &Options,
    actor: Actor,
    mut progress: impl FnMut(&Totals, &[RowReport]),
) -> Result<Report, ImportError> {
    let form = catalog.form(&options.form).cloned().ok_or_else(|| ImportError::UnknownForm(options.form.clone()))?;
    let (file_sha256, lines) = read::sha256_of(&options.source)?;
    let table = read::open(&options.source, options.encoding, options.sheet.as_deref())?;
    let mut conn = db.pool.get().map_err(|_| ServiceError::Unavailable)?;
    let wording = wording(&mut conn, &form, options.wording_version)?;
    let reimport = imports::completed_with(&mut conn, &file_sha256)?;
    drop(conn);
    let now = ledger_time(Utc::now().naive_utc());
    let required = |p: &crate::domain::PurposeKey| catalog.is_required(p);
    let layout = Layout::resolve(&table.headers, &options.mapping, &form.definition, required);
    let header_of = |column: &Column| layout.as_ref().ok().and_then(|l| l.header_for(column)).map(str::to_owned);
    let header_of_external = header_of(&Column::ExternalId);
    let header_of_email = email_field(&form).and_then(|key| header_of(&Column::Field(key)));
    let ctx = Arc::new(Context {
        keyring,
        catalog: catalog.clone(),
        form,
        wording,
        import_id: options.id.clone().unwrap_or_else(crate::db::new_row_id),
        file_sha256,
        dry_run: options.dry_run,
        reimport,
        now,
        actor,
        header_of_external: header_of_external.unwrap_or_else(|| "external_id".into()),
        header_of_email: header_of_email.unwrap_or_else(|| "email".into()),
    });
    let kind = (options.dry_run, options.all_or_nothing);
    let mut report = Report::empty(&ctx.import_id, &options.form, kind, &ctx.file_sha256, table.read_as, lines);
    start_record(db, &ctx, options)?;
    // Started: the record exists (the console waits for this to show the run's page).
    progress(&report.totals, &[]);
    let outcome = match layout {
        Err(problems) => {
            report.header_problems = problems;
            Ok(())
        }
        Ok(layout) => {
            report.ignored_columns.clone_from(&layout.ignored);
            import_rows(db, &ctx, &layout, table, options, &mut report, &mut progress)
        }
    };
    finish_record(db, &ctx, &report, outcome.is_ok())?;
    outcome.map(|()| report)
}

/// The form's required e-mail field: the person's identity in a sheet.
fn email_field(form: &PublishedForm) -> Option<crate::domain::FieldKey> {
    let field = form.definition.fields.iter().find(|f| f.kind == crate::domain::FieldType::Email && f.required)?;
    Some(field.key.clone())
}

/// The policy version ids of `version` for each of the form's purposes.
fn wording(
    conn: &mut DbConnection,
    form: &PublishedForm,
    version: Option<i64>,
) -> Result<HashMap<String, String>, ImportError> {
    let Some(version) = version else { return Ok(HashMap::new()) };
    let mut ids = HashMap::new();
    for purpose in &form.definition.purposes {
        let found = crate::db::policies::policy_version(conn, purpose.as_str(), version)?;
        let found = found.ok_or_else(|| ImportError::UnknownWording { purpose: purpose.to_string(), version })?;
        ids.insert(purpose.to_string(), found.id);
    }
    Ok(ids)
}

fn import_rows(
    db: &Db,
    ctx: &Arc<Context>,
    layout: &Layout,
    table: Table,
    options: &Options,
    report: &mut Report,
    progress: &mut impl FnMut(&Totals, &[RowReport]),
) -> Result<(), ImportError> {
    let latest = ctx.now + Duration::days(1);
    let catalog = ctx.catalog.clone();
    let required = move |p: &crate::domain::PurposeKey| catalog.is_required(p);
    let rules = RowRules {
        form: &ctx.form.definition,
        required: &required,
        zone: options.zone,
        serial_dates: table.serial_dates,
        latest,
    };
    let mut seen = Seen::for_rows(report.totals.expected);
    let mut rows = table.rows;
    // All or nothing: decide the whole file first; write it (in one transaction) only if no
    // row is refused.
    let whole = options.all_or_nothing && !options.dry_run;
    let mut held: Vec<Vec<Parsed>> = Vec::new();
    // The chunk being written while the next one is read and decided.
    let mut in_flight: Option<InFlight> = None;
    let mut reader = reader(db)?;
    loop {
        let chunk: Vec<Row> = rows.by_ref().take(CHUNK).collect::<Result<_, _>>()?;
        if chunk.is_empty() {
            break;
        }
        let parsed: Vec<Parsed> =
            chunk.into_iter().map(|(line, cells)| parse(ctx, layout, &rules, &mut seen, line, &cells)).collect();
        if whole {
            held.push(parsed);
        } else if ctx.dry_run {
            let planned = plan::plan_chunk(&mut reader, ctx, &parsed)?.planned;
            let expired = planned.iter().map(|p| p.expiring).sum();
            tally(report, (planned, Written { events: 0, expired }), progress);
        } else {
            let decided = plan::plan_chunk(&mut reader, ctx, &parsed)?;
            // Nothing is queued after a chunk that failed.
            if let Some(previous) = in_flight.take() {
                done(report, previous.wait(db, ctx)?, progress);
            }
            in_flight = Some(InFlight::queue(db, ctx, Arc::new(parsed), Some(decided), report.totals)?);
        }
    }
    if let Some(last) = in_flight {
        done(report, last.wait(db, ctx)?, progress);
    }
    if whole {
        write_whole(db, ctx, held, report, progress)?;
    }
    Ok(())
}

/// The connection an import decides its chunks on. Its look-ups are scattered (blind indexes),
/// so on SQLite a large page cache would only hold memory: this one keeps 8 MiB.
fn reader(db: &Db) -> Result<DbConnection, ImportError> {
    use diesel::connection::SimpleConnection;
    let mut conn = db.url.connect().map_err(|_| ServiceError::Unavailable)?;
    if db.url.is_sqlite() {
        conn.batch_execute("PRAGMA cache_size = -8192")?;
    }
    Ok(conn)
}

/// A chunk written: its rows into the report, the totals through it, and the caller told.
fn done(report: &mut Report, (rows, totals): Done, progress: &mut impl FnMut(&Totals, &[RowReport])) {
    report.written |= rows.iter().any(|r| r.outcome.writes());
    keep_notable(report, &rows);
    report.totals = totals;
    progress(&report.totals, &rows);
}

fn parse(ctx: &Context, layout: &Layout, rules: &RowRules<'_>, seen: &mut Seen, line: u64, cells: &[String]) -> Parsed {
    let row = layout.row(cells, rules);
    let index = match &row {
        Ok(r) => ctx.keyring.email_index(&r.accepted.email),
        // A refused row's address, if it has one, still counts as seen.
        Err(_) => Vec::new(),
    };
    let row = match row {
        Ok(r) => {
            let external = r.external_id.as_deref().map(|id| ctx.keyring.external_index(id));
            match seen.again(&index, external.as_deref()) {
                (true, _) => {
                    Err(vec![RowProblem { column: ctx.header_of_email.clone(), code: RowCode::DuplicatePerson }])
                }
                (false, true) => {
                    Err(vec![RowProblem { column: ctx.header_of_external.clone(), code: RowCode::ExternalIdTaken }])
                }
                (false, false) => Ok(r),
            }
        }
        Err(problems) => Err(problems),
    };
    Parsed { line, index, row }
}

fn write_whole(
    db: &Db,
    ctx: &Arc<Context>,
    held: Vec<Vec<Parsed>>,
    report: &mut Report,
    progress: &mut impl FnMut(&Totals, &[RowReport]),
) -> Result<(), ImportError> {
    let shared = ctx.clone();
    let (chunks, any_refused) = db.writer.write_bulk_blocking(move |tx| {
        let mut chunks = Vec::with_capacity(held.len());
        let mut any_refused = false;
        for parsed in held {
            let planned = plan::plan_chunk(tx.conn, &shared, &parsed)?.planned;
            any_refused |= planned.iter().any(|p| p.report.outcome == Outcome::Refused);
            chunks.push(planned);
        }
        if any_refused {
            // Nothing is written: the caller reports every row as decided.
            return Ok::<_, ServiceError>((
                chunks.into_iter().map(|c| (c, Written::default())).collect::<Vec<_>>(),
                true,
            ));
        }
        let mut done = Vec::with_capacity(chunks.len());
        for planned in chunks {
            let written = write::write_chunk(tx, &shared, &planned)?;
            done.push((planned, written));
        }
        Ok((done, false))
    })?;
    report.written = !any_refused && chunks.iter().any(|(c, _)| c.iter().any(|p| p.report.outcome.writes()));
    for chunk in chunks {
        tally(report, chunk, progress);
    }
    Ok(())
}

fn tally(
    report: &mut Report,
    (planned, written): (Vec<Planned>, Written),
    progress: &mut impl FnMut(&Totals, &[RowReport]),
) {
    let rows: Vec<RowReport> = planned.into_iter().map(|p| p.report).collect();
    rows.iter().for_each(|row| report.totals.add(row));
    keep_notable(report, &rows);
    report.totals.events += written.events;
    report.totals.expired += written.expired;
    progress(&report.totals, &rows);
}

/// Rows kept in the stored report: refused, updated, or keeping a newer choice.
fn keep_notable(report: &mut Report, rows: &[RowReport]) {
    for row in rows {
        let notable = row.outcome == Outcome::Refused || row.outcome == Outcome::Updated || !row.kept.is_empty();
        if notable && report.rows.len() < REPORTED_ROWS {
            report.rows.push(row.clone());
        }
    }
}

fn start_record(db: &Db, ctx: &Context, options: &Options) -> Result<(), ImportError> {
    let parameters = serde_json::json!({
        "encoding": options.encoding.map(Encoding::as_str),
        "sheet": options.sheet,
        "mapping": options.mapping,
        "wording_version": options.wording_version,
        "time_zone_offset_seconds": options.zone.offset().local_minus_utc(),
        "all_or_nothing": options.all_or_nothing,
    });
    let record = ImportRecord {
        id: ctx.import_id.clone(),
        form_key: options.form.clone(),
        file_name: options.source.name(),
        file_sha256: ctx.file_sha256.clone(),
        dry_run: options.dry_run,
        written: false,
        status: "running".into(),
        actor: actor_label(&ctx.actor),
        parameters: parameters.to_string(),
        totals: "{}".into(),
        report: "{}".into(),
        started_at: ctx.now,
        finished_at: None,
        ledger_seq: None,
        heartbeat_at: Some(ctx.now),
    };
    db.writer.write_blocking(move |tx| imports::insert(tx.conn, &record).map_err(ServiceError::from))?;
    Ok(())
}

fn finish_record(db: &Db, ctx: &Context, report: &Report, ok: bool) -> Result<(), ImportError> {
    let (id, totals) = (ctx.import_id.clone(), serde_json::to_string(&report.totals).unwrap_or_default());
    let body = serde_json::to_string(report).unwrap_or_default();
    let status = if ok { "done" } else { "failed" };
    let written = report.written;
    let at = ledger_time(Utc::now().naive_utc());
    db.writer.write_blocking(move |tx| {
        let ledger_seq = crate::db::ledger::head_seq(tx.conn)?;
        let finished = imports::Finished { status, written, totals: &totals, report: &body, at, ledger_seq };
        imports::finish(tx.conn, &id, &finished).map_err(ServiceError::from)
    })?;
    tracing::info!(import = %ctx.import_id, status, rows = report.totals.rows, refused = report.totals.refused, "import finished");
    Ok(())
}

fn actor_label(actor: &Actor) -> String {
    let (kind, id) = actor.parts();
    format!("{kind}:{id}")
}
