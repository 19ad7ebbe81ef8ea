//! The record of each import and dry run (parameters, totals and the report: line numbers,
//! outcomes and problem codes, never a value from the file), and of each de-identified export.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{import_sheets, import_uploads, imports};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports)]
pub struct ImportRecord {
    pub id: String,
    pub form_key: String,
    pub file_name: String,
    pub file_sha256: String,
    pub dry_run: bool,
    pub written: bool,
    pub status: String,
    pub actor: String,
    pub parameters: String,
    pub totals: String,
    pub report: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub ledger_seq: Option<i64>,
    /// When the run last showed life (each chunk), while it runs.
    pub heartbeat_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, record: &ImportRecord) -> QueryResult<()> {
    diesel::insert_into(imports::table).values(record).execute(conn).map(|_| ())
}

/// The totals of a run still going, and a sign of its life.
pub fn progress(conn: &mut DbConnection, id: &str, totals: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(imports::table.find(id).filter(imports::status.eq("running")))
        .set((imports::totals.eq(totals), imports::heartbeat_at.eq(Some(at))))
        .execute(conn)
        .map(|_| ())
}

/// Records as failed every run still "running" that has shown no life since `before` (its process
/// stopped mid-run); answers how many.
pub fn fail_stopped(conn: &mut DbConnection, before: NaiveDateTime, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(imports::table.filter(imports::status.eq("running")).filter(
        imports::heartbeat_at.lt(before).or(imports::heartbeat_at.is_null().and(imports::started_at.lt(before))),
    ))
    .set((imports::status.eq("failed"), imports::finished_at.eq(Some(at))))
    .execute(conn)
}

/// How an import ended.
pub struct Finished<'a> {
    pub status: &'a str,
    pub written: bool,
    pub totals: &'a str,
    pub report: &'a str,
    pub at: NaiveDateTime,
    pub ledger_seq: i64,
}

/// Records how an import ended.
pub fn finish(conn: &mut DbConnection, id: &str, f: &Finished<'_>) -> QueryResult<()> {
    diesel::update(imports::table.find(id))
        .set((
            imports::status.eq(f.status),
            imports::written.eq(f.written),
            imports::totals.eq(f.totals),
            imports::report.eq(f.report),
            imports::finished_at.eq(Some(f.at)),
            imports::ledger_seq.eq(Some(f.ledger_seq)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The first real import (not a dry run) that finished after `after`.
pub fn next_finished(conn: &mut DbConnection, after: NaiveDateTime) -> QueryResult<Option<ImportRecord>> {
    imports::table
        .filter(imports::dry_run.eq(false))
        .filter(imports::finished_at.gt(after))
        .order((imports::finished_at.asc(), imports::id.asc()))
        .select(ImportRecord::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ImportRecord>> {
    imports::table.find(id).select(ImportRecord::as_select()).first(conn).optional()
}

/// The most recent imports first.
pub fn recent(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<ImportRecord>> {
    imports::table.order(imports::started_at.desc()).limit(limit).select(ImportRecord::as_select()).load(conn)
}

/// Whether a file with this SHA-256 was imported (to the end, writing) before.
pub fn completed_with(conn: &mut DbConnection, file_sha256: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        imports::table
            .filter(imports::file_sha256.eq(file_sha256))
            .filter(imports::written.eq(true))
            .filter(imports::status.eq("done")),
    ))
    .get_result(conn)
}

/// Keeps a checked sheet (sealed) until its owner says go.
pub fn stage(conn: &mut DbConnection, import_id: &str, sealed: &[u8], at: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(import_uploads::table)
        .values((
            import_uploads::import_id.eq(import_id),
            import_uploads::sealed.eq(sealed),
            import_uploads::created_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The sealed sheet a dry run checked, if it is still kept.
pub fn staged(conn: &mut DbConnection, import_id: &str) -> QueryResult<Option<Vec<u8>>> {
    import_uploads::table.find(import_id).select(import_uploads::sealed).first(conn).optional()
}

/// Whether a checked sheet is kept (without reading it).
pub fn is_staged(conn: &mut DbConnection, import_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(import_uploads::table.find(import_id))).get_result(conn)
}

/// Forgets a checked sheet; answers whether it was kept (so that only one request imports it).
pub fn unstage(conn: &mut DbConnection, import_id: &str) -> QueryResult<bool> {
    diesel::delete(import_uploads::table.find(import_id)).execute(conn).map(|n| n == 1)
}

/// Forgets every checked sheet kept since before `before`.
pub fn purge_staged(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(import_uploads::table.filter(import_uploads::created_at.lt(before))).execute(conn)
}

/// A sheet kept while its columns are mapped (sealed).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_sheets)]
pub struct SheetRow {
    pub id: String,
    pub form_key: String,
    pub file_name: String,
    pub sealed: Vec<u8>,
    pub choices: String,
    pub created_at: NaiveDateTime,
}

pub fn keep_sheet(conn: &mut DbConnection, row: &SheetRow) -> QueryResult<()> {
    diesel::insert_into(import_sheets::table).values(row).execute(conn).map(|_| ())
}

/// A sheet being mapped, if it is kept and was uploaded after `since`.
pub fn sheet(conn: &mut DbConnection, id: &str, since: NaiveDateTime) -> QueryResult<Option<SheetRow>> {
    import_sheets::table
        .find(id)
        .filter(import_sheets::created_at.ge(since))
        .select(SheetRow::as_select())
        .first(conn)
        .optional()
}

/// Records the choices made so far for a sheet; answers whether it is kept.
pub fn choose(conn: &mut DbConnection, id: &str, choices: &str) -> QueryResult<bool> {
    diesel::update(import_sheets::table.find(id)).set(import_sheets::choices.eq(choices)).execute(conn).map(|n| n == 1)
}

pub fn forget_sheet(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(import_sheets::table.find(id)).execute(conn).map(|_| ())
}

/// Forgets every sheet being mapped uploaded before `before`.
pub fn purge_sheets(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(import_sheets::table.filter(import_sheets::created_at.lt(before))).execute(conn)
}

/// Records a de-identified export (its parameters and counts, never its rows).
#[allow(clippy::too_many_arguments)]
pub fn record_deidentified_export(
    conn: &mut DbConnection,
    id: &str,
    actor: &str,
    k: i64,
    rows: i64,
    suppressed: i64,
    parameters: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    use super::schema::deidentified_exports as d;
    diesel::insert_into(d::table)
        .values((
            d::id.eq(id),
            d::actor.eq(actor),
            d::k.eq(k),
            d::rows_exported.eq(rows),
            d::suppressed.eq(suppressed),
            d::parameters.eq(parameters),
            d::created_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}
