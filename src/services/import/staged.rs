//! The console's two steps: a sheet is checked (a dry run) and kept, sealed, until its owner
//! says go; then it is imported with exactly the options it was checked with, once.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde::Deserialize;

use super::read::{Encoding, Source};
use super::{ImportError, Options, Report, run};
use crate::crypto::Keyring;
use crate::db::catalog::Catalog;
use crate::db::imports;
use crate::db::{Db, DbConnection};
use crate::domain::import::{Mapping, Zone};
use crate::services::ServiceError;
use crate::services::audit::Actor;

/// How long a checked sheet waits for its go-ahead.
pub const KEPT_FOR: Duration = Duration::days(1);

/// Checks a sheet (a dry run, recorded as any) and, when it can be imported at all, keeps it
/// sealed under the report's id for [`import_checked`].
pub fn check(
    db: &Db,
    keyring: Arc<Keyring>,
    catalog: Arc<Catalog>,
    options: &Options,
    actor: Actor,
) -> Result<Report, ImportError> {
    let Source::Upload { bytes, .. } = &options.source else {
        return run(db, keyring, catalog, &Options { dry_run: true, ..options.clone() }, actor, |_, _| {});
    };
    let bytes = bytes.clone();
    let report = run(db, keyring.clone(), catalog, &Options { dry_run: true, ..options.clone() }, actor, |_, _| {})?;
    if report.header_problems.is_empty() {
        let sealed = keyring.seal_upload(&bytes, &report.id).map_err(ServiceError::from)?;
        let (id, now) = (report.id.clone(), Utc::now().naive_utc());
        db.writer.write_blocking(move |tx| {
            imports::purge_staged(tx.conn, now - KEPT_FOR)?;
            imports::stage(tx.conn, &id, &sealed, now).map_err(ServiceError::from)
        })?;
    }
    Ok(report)
}

/// A run that has shown no life for this long stopped with its process.
pub const SILENT_FOR: Duration = Duration::minutes(10);

/// Forgets every checked sheet, and every sheet being mapped, kept longer than a day (the server
/// does this with its other periodic pruning, so a sheet nobody imports does not outstay its day);
/// records as failed the runs whose process stopped mid-run. Answers how many sheets were
/// forgotten and how many runs failed.
pub fn forget_expired(writer: &crate::db::Writer) -> Result<(usize, usize), ServiceError> {
    let now = Utc::now().naive_utc();
    writer.write_blocking(move |tx| {
        let sheets = imports::purge_staged(tx.conn, now - KEPT_FOR)? + imports::purge_sheets(tx.conn, now - KEPT_FOR)?;
        Ok::<_, ServiceError>((sheets, imports::fail_stopped(tx.conn, now - SILENT_FOR, now)?))
    })
}

/// Whether the sheet checked as `checked` is still kept (and so can be imported).
pub fn is_kept(conn: &mut DbConnection, checked: &str) -> Result<bool, ServiceError> {
    let record = imports::find(conn, checked)?;
    Ok(record.is_some_and(|r| within_its_day(&r)) && imports::is_staged(conn, checked)?)
}

/// A check of less than a day ago (an older sheet is no longer to be imported, kept or not).
fn within_its_day(record: &imports::ImportRecord) -> bool {
    record.started_at >= Utc::now().naive_utc() - KEPT_FOR
}

/// The parameters a run was recorded with.
#[derive(Deserialize)]
struct Recorded {
    encoding: Option<String>,
    sheet: Option<String>,
    #[serde(default)]
    mapping: Mapping,
    wording_version: Option<i64>,
    time_zone_offset_seconds: i32,
    #[serde(default)]
    all_or_nothing: bool,
}

/// Claims the sheet checked as `checked` for its import and forgets it: the options to import
/// it with (under a new import id), exactly as it was checked; `None` when it is no longer
/// kept (imported already, or older than a day). Of two claims, one gets it.
pub fn claim(db: &Db, keyring: &Keyring, checked: &str) -> Result<Option<Options>, ImportError> {
    let mut conn = db.pool.get().map_err(|_| ServiceError::Unavailable)?;
    let Some(record) = imports::find(&mut conn, checked)?.filter(within_its_day) else { return Ok(None) };
    let Some(sealed) = imports::staged(&mut conn, checked)? else { return Ok(None) };
    drop(conn);
    let id = checked.to_owned();
    if !db.writer.write_blocking(move |tx| imports::unstage(tx.conn, &id).map_err(ServiceError::from))? {
        return Ok(None);
    }
    let bytes = keyring.open_upload(&sealed, checked).map_err(ServiceError::from)?;
    let recorded: Recorded = serde_json::from_str(&record.parameters).map_err(|_| ServiceError::Unavailable)?;
    Ok(Some(Options {
        id: Some(crate::db::new_row_id()),
        form: record.form_key,
        source: Source::Upload { xlsx: is_workbook(&record.file_name), name: record.file_name, bytes: bytes.into() },
        dry_run: false,
        mapping: recorded.mapping,
        encoding: recorded.encoding.as_deref().and_then(|e| Encoding::parse(e).ok()),
        sheet: recorded.sheet,
        wording_version: recorded.wording_version,
        zone: Zone::from_offset_seconds(recorded.time_zone_offset_seconds).unwrap_or_default(),
        all_or_nothing: recorded.all_or_nothing,
    }))
}

/// A name ending in `.xlsx` (the bytes are looked at too: see `read::open`).
pub fn is_workbook(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".xlsx") || lower.ends_with(".xlsm")
}
