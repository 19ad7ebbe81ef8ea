//! Importing people from a spreadsheet (pure): which column is what (`Layout`), and what each
//! row says (`Layout::row`), judged by the same rules as the form it is imported into. Every
//! mistake of a row is reported at once, by the column's header as it is in the file.

pub mod dates;
mod row;
pub mod steps;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use dates::Zone;
pub use row::{ImportedConsent, ImportedRow, RowCode, RowProblem, RowRules, parse_choice};

use super::{FieldKey, FieldType, FormDefinition, PurposeKey};

/// A mapping file (TOML): which header is which name, and values every row has.
///
/// ```toml
/// [columns]
/// "이메일" = "email"
/// "가입일" = "consented_at"
/// "메모" = "ignore"
///
/// [constants]
/// source = "2019 paper form"
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Field(FieldKey),
    /// The consent to a purpose (`Y`/`N`, `동의`/`미동의`, …).
    Consent(PurposeKey),
    /// When that consent was given (`<purpose>_at`), overriding `consented_at`.
    ConsentAt(PurposeKey),
    ConsentedAt,
    WithdrawnAt,
    Source,
    ExternalId,
    Ignored,
}

/// The names a header (or a mapping's right-hand side) may have besides field and purpose keys.
pub const CONSENTED_AT: &str = "consented_at";
pub const WITHDRAWN_AT: &str = "withdrawn_at";
pub const SOURCE: &str = "source";
pub const EXTERNAL_ID: &str = "external_id";
pub const IGNORE: &str = "ignore";

/// The longest `source` kept, in characters.
pub const MAX_SOURCE_CHARS: usize = 200;

/// What a name means for this form, if anything.
pub fn column_named(name: &str, form: &FormDefinition) -> Option<Column> {
    let purpose = |key: &str| form.purposes.iter().find(|p| p.as_str() == key).cloned();
    if let Some(field) = form.field(name) {
        return Some(Column::Field(field.key.clone()));
    }
    if let Some(p) = purpose(name) {
        return Some(Column::Consent(p));
    }
    if let Some(p) = name.strip_suffix("_at").and_then(purpose) {
        return Some(Column::ConsentAt(p));
    }
    match name {
        CONSENTED_AT => Some(Column::ConsentedAt),
        WITHDRAWN_AT => Some(Column::WithdrawnAt),
        SOURCE => Some(Column::Source),
        EXTERNAL_ID => Some(Column::ExternalId),
        IGNORE => Some(Column::Ignored),
        _ => None,
    }
}

/// Why a file's headers cannot be imported (nothing of the file is then read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderProblem {
    /// The header, or the mapping's name for the missing column.
    pub column: String,
    pub code: HeaderCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderCode {
    /// Two columns (or a column and a constant) are the same thing.
    DuplicateColumn,
    /// The mapping names something the form does not have.
    UnknownTarget,
    /// A column the form needs is absent: its address field, or a required purpose.
    MissingColumn,
    /// No column says what anyone agreed to.
    NoConsentColumn,
}

/// Which column is what, for one file and one form.
#[derive(Debug, Clone)]
pub struct Layout {
    headers: Vec<String>,
    columns: Vec<Column>,
    constants: Vec<(Column, String, String)>,
    /// Headers no name matched: their cells are not read.
    pub ignored: Vec<String>,
}

impl Layout {
    pub fn resolve(
        headers: &[String],
        mapping: &Mapping,
        form: &FormDefinition,
        required: impl Fn(&PurposeKey) -> bool,
    ) -> Result<Self, Vec<HeaderProblem>> {
        let mut problems = Vec::new();
        let headers: Vec<String> = headers.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_owned()).collect();
        let mut columns = Vec::with_capacity(headers.len());
        let mut ignored = Vec::new();
        for header in &headers {
            let column = match mapping.columns.get(header) {
                Some(target) => column_named(target, form).unwrap_or_else(|| {
                    problems.push(HeaderProblem { column: header.clone(), code: HeaderCode::UnknownTarget });
                    Column::Ignored
                }),
                None => column_named(header, form).unwrap_or_else(|| {
                    ignored.push(header.clone());
                    Column::Ignored
                }),
            };
            columns.push(column);
        }
        let mut constants = Vec::new();
        for (name, value) in &mapping.constants {
            match column_named(name, form) {
                Some(Column::Ignored) | None => {
                    problems.push(HeaderProblem { column: name.clone(), code: HeaderCode::UnknownTarget });
                }
                Some(column) => constants.push((column, name.clone(), value.clone())),
            }
        }
        let layout = Self { headers, columns, constants, ignored };
        layout.check(form, required, &mut problems);
        if problems.is_empty() { Ok(layout) } else { Err(problems) }
    }

    fn check(&self, form: &FormDefinition, required: impl Fn(&PurposeKey) -> bool, problems: &mut Vec<HeaderProblem>) {
        let named: Vec<(&str, &Column)> = self
            .headers
            .iter()
            .map(String::as_str)
            .zip(&self.columns)
            .chain(self.constants.iter().map(|(c, name, _)| (name.as_str(), c)))
            .filter(|(_, c)| **c != Column::Ignored)
            .collect();
        for (i, (name, column)) in named.iter().enumerate() {
            if named[..i].iter().any(|(_, earlier)| earlier == column) {
                problems.push(HeaderProblem { column: (*name).to_owned(), code: HeaderCode::DuplicateColumn });
            }
        }
        let has = |wanted: &Column| named.iter().any(|(_, c)| *c == wanted);
        for field in form.fields.iter().filter(|f| f.required && f.kind == FieldType::Email) {
            if !has(&Column::Field(field.key.clone())) {
                problems.push(HeaderProblem { column: field.key.to_string(), code: HeaderCode::MissingColumn });
            }
        }
        for p in form.purposes.iter().filter(|p| required(p)) {
            if !has(&Column::Consent(p.clone())) {
                problems.push(HeaderProblem { column: p.to_string(), code: HeaderCode::MissingColumn });
            }
        }
        if !named.iter().any(|(_, c)| matches!(c, Column::Consent(_))) {
            problems.push(HeaderProblem { column: String::new(), code: HeaderCode::NoConsentColumn });
        }
    }

    /// The header of the file's column for `column`, if it has one.
    pub fn header_for(&self, column: &Column) -> Option<&str> {
        self.headers.iter().zip(&self.columns).find(|(_, c)| *c == column).map(|(h, _)| h.as_str())
    }

    /// The headers as read (trimmed, without a byte-order mark).
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// What one row says, or every mistake in it.
    pub fn row(&self, cells: &[String], rules: &RowRules<'_>) -> Result<ImportedRow, Vec<RowProblem>> {
        let cells: Vec<(&str, &Column, &str)> = self
            .headers
            .iter()
            .zip(&self.columns)
            .enumerate()
            .map(|(i, (h, c))| (h.as_str(), c, cells.get(i).map_or("", |v| v.trim())))
            .chain(self.constants.iter().map(|(c, name, value)| (name.as_str(), c, value.trim())))
            .filter(|(_, c, _)| **c != Column::Ignored)
            .collect();
        row::read(&cells, rules)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
