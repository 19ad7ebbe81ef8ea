//! The console's mapping step, before the check: an uploaded sheet is kept (sealed, a day at
//! most) while its owner says which column is what, and its first rows are shown as they would
//! be read with those choices. Checking it moves it on (`staged::check`) and forgets it here.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

use super::read::{self, Source};
use super::staged::{KEPT_FOR, is_workbook};
use super::{ImportError, Options};
use crate::crypto::Keyring;
use crate::db::catalog::Catalog;
use crate::db::imports::{self, SheetRow};
use crate::db::{Db, new_row_id};
use crate::domain::import::{HeaderProblem, ImportedRow, Layout, Mapping, RowProblem, RowRules, Zone};
use crate::services::ServiceError;

/// Rows shown in a preview.
pub const PREVIEW_ROWS: usize = 5;

/// What the owner chose for a sheet so far (no value from the file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    pub mapping: Mapping,
    pub wording_version: Option<i64>,
    /// The time zone as typed (`Asia/Seoul`, `+09:00`).
    pub time_zone: String,
    pub all_or_nothing: bool,
}

impl Choices {
    fn zone(&self) -> Zone {
        Zone::parse(&self.time_zone).unwrap_or_default()
    }
}

/// A sheet being mapped.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub id: String,
    pub form: String,
    pub file_name: String,
    pub bytes: Arc<[u8]>,
    pub choices: Choices,
}

impl Sheet {
    fn source(&self) -> Source {
        Source::Upload { name: self.file_name.clone(), bytes: self.bytes.clone(), xlsx: is_workbook(&self.file_name) }
    }

    /// The options to check it with (a dry run), under the choices made.
    pub fn options(&self) -> Options {
        Options {
            id: None,
            form: self.form.clone(),
            source: self.source(),
            dry_run: true,
            mapping: self.choices.mapping.clone(),
            encoding: None,
            sheet: None,
            wording_version: self.choices.wording_version,
            zone: self.choices.zone(),
            all_or_nothing: self.choices.all_or_nothing,
        }
    }
}

/// The bound a sealed sheet is kept under (apart from a checked one's).
fn label(id: &str) -> String {
    format!("sheet:{id}")
}

/// Keeps an uploaded sheet for mapping; answers its id.
pub fn keep(
    db: &Db,
    keyring: &Keyring,
    form: &str,
    file_name: &str,
    bytes: &[u8],
    choices: &Choices,
) -> Result<String, ServiceError> {
    let id = new_row_id();
    let row = SheetRow {
        sealed: keyring.seal_upload(bytes, &label(&id))?,
        id: id.clone(),
        form_key: form.to_owned(),
        file_name: file_name.to_owned(),
        choices: serde_json::to_string(choices).unwrap_or_default(),
        created_at: Utc::now().naive_utc(),
    };
    db.writer.write_blocking(move |tx| imports::keep_sheet(tx.conn, &row).map_err(ServiceError::from))?;
    Ok(id)
}

/// The sheet `id`, if it is still kept (for less than a day).
pub fn open(db: &Db, keyring: &Keyring, id: &str) -> Result<Option<Sheet>, ServiceError> {
    let mut conn = db.pool.get().map_err(|_| ServiceError::Unavailable)?;
    let since = Utc::now().naive_utc() - KEPT_FOR;
    let Some(row) = imports::sheet(&mut conn, id, since)? else { return Ok(None) };
    let bytes = keyring.open_upload(&row.sealed, &label(&row.id))?;
    Ok(Some(Sheet {
        choices: serde_json::from_str(&row.choices).unwrap_or_default(),
        id: row.id,
        form: row.form_key,
        file_name: row.file_name,
        bytes: bytes.into(),
    }))
}

/// Records new choices for a sheet; answers whether it is still kept.
pub fn choose(db: &Db, id: &str, choices: &Choices) -> Result<bool, ServiceError> {
    let (id, text) = (id.to_owned(), serde_json::to_string(choices).unwrap_or_default());
    db.writer.write_blocking(move |tx| imports::choose(tx.conn, &id, &text).map_err(ServiceError::from))
}

/// Forgets a sheet (checked: it is kept with its check now).
pub fn forget(db: &Db, id: &str) -> Result<(), ServiceError> {
    let id = id.to_owned();
    db.writer.write_blocking(move |tx| imports::forget_sheet(tx.conn, &id).map_err(ServiceError::from))
}

/// A sheet's first rows as they would be read with the choices made.
#[derive(Debug)]
pub struct Preview {
    /// `utf-8`, `cp949` or `xlsx`.
    pub read_as: &'static str,
    pub headers: Vec<String>,
    /// The first rows' cells as in the file, by line.
    pub samples: Vec<(u64, Vec<String>)>,
    /// Which column is what, or why the headers cannot be imported so.
    pub layout: Result<Layout, Vec<HeaderProblem>>,
    /// Each sample row as it would be read (when the layout holds).
    pub rows: Vec<(u64, Result<ImportedRow, Vec<RowProblem>>)>,
}

/// Reads the sheet's headers and first [`PREVIEW_ROWS`] rows, and judges them under its choices.
pub fn preview(catalog: &Catalog, sheet: &Sheet) -> Result<Preview, ImportError> {
    let form = catalog.form(&sheet.form).ok_or_else(|| ImportError::UnknownForm(sheet.form.clone()))?;
    let table = read::open(&sheet.source(), None, None)?;
    let required = |p: &crate::domain::PurposeKey| catalog.is_required(p);
    let layout = Layout::resolve(&table.headers, &sheet.choices.mapping, &form.definition, required);
    let samples: Vec<(u64, Vec<String>)> = table.rows.take(PREVIEW_ROWS).collect::<Result<_, _>>()?;
    let rules = RowRules {
        form: &form.definition,
        required: &required,
        zone: sheet.choices.zone(),
        serial_dates: table.serial_dates,
        latest: Utc::now().naive_utc() + Duration::days(1),
    };
    let rows = match &layout {
        Ok(layout) => samples.iter().map(|(line, cells)| (*line, layout.row(cells, &rules))).collect(),
        Err(_) => Vec::new(),
    };
    let headers = match &layout {
        Ok(layout) => layout.headers().to_vec(),
        Err(_) => table.headers.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_owned()).collect(),
    };
    Ok(Preview { read_as: table.read_as, headers, samples, layout, rows })
}
