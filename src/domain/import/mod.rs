//! Importing people from a spreadsheet (pure): which column is what (`Layout`), and what each
//! row says (`Layout::row`), judged by the same rules as the form it is imported into. Every
//! mistake of a row is reported at once, by the column's header as it is in the file.

pub mod dates;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use dates::Zone;

use super::form::{AcceptedSubmission, FieldErrorCode, RawSubmission};
use super::ids::check_external_id;
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
        RowReader { cells: &cells, rules, problems: Vec::new() }.read()
    }
}

/// What judging a row needs besides its cells.
pub struct RowRules<'a> {
    pub form: &'a FormDefinition,
    pub required: &'a dyn Fn(&PurposeKey) -> bool,
    pub zone: Zone,
    /// The file is a workbook: a number in a date column is an Excel serial date.
    pub serial_dates: bool,
    /// Dates after this are refused (the import's start, with a day's slack for time zones).
    pub latest: NaiveDateTime,
}

/// What one row says, checked.
#[derive(Debug, Clone)]
pub struct ImportedRow {
    /// The values the form accepts, kept only for purposes granted (as on the form).
    pub accepted: AcceptedSubmission,
    pub consents: Vec<ImportedConsent>,
    pub source: Option<String>,
    pub external_id: Option<String>,
}

/// One purpose the person agreed to, and withdrew from if `withdrawn_at` is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedConsent {
    pub purpose: PurposeKey,
    pub granted_at: NaiveDateTime,
    pub withdrawn_at: Option<NaiveDateTime>,
}

/// One mistake in a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The header as in the file (or the constant's name).
    pub column: String,
    pub code: RowCode,
}

/// What is wrong with a cell (or a row), as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowCode {
    /// The form's own rule for a field value (`invalid_email`, `required`, `too_long`, …).
    Field(FieldErrorCode),
    /// A consent cell that is none of the accepted spellings.
    InvalidConsent,
    InvalidDate,
    /// A consent given with no date for it (`<purpose>_at` or `consented_at`).
    MissingDate,
    FutureDate,
    WithdrawnBeforeGranted,
    /// A required purpose cannot be withdrawn (the person would have the service without it).
    RequiredWithdrawn,
    /// The same address as an earlier row of the file.
    DuplicatePerson,
    /// Another person already has this external id.
    ExternalIdTaken,
}

impl RowCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Field(code) => code.as_str(),
            Self::InvalidConsent => "invalid_consent",
            Self::InvalidDate => "invalid_date",
            Self::MissingDate => "missing_date",
            Self::FutureDate => "future_date",
            Self::WithdrawnBeforeGranted => "withdrawn_before_granted",
            Self::RequiredWithdrawn => "required_withdrawn",
            Self::DuplicatePerson => "duplicate_person",
            Self::ExternalIdTaken => "external_id_taken",
        }
    }
}

impl Serialize for RowCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A consent cell: `Some(true)` agreed, `Some(false)` refused or withdrawn, `None` not asked.
pub fn parse_choice(raw: &str) -> Result<Option<bool>, ()> {
    match raw.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "y" | "yes" | "true" | "1" | "o" | "동의" | "granted" | "agreed" => Ok(Some(true)),
        "n" | "no" | "false" | "0" | "x" | "미동의" | "비동의" | "거부" | "withdrawn" | "refused" => Ok(Some(false)),
        _ => Err(()),
    }
}

struct RowReader<'r> {
    cells: &'r [(&'r str, &'r Column, &'r str)],
    rules: &'r RowRules<'r>,
    problems: Vec<RowProblem>,
}

impl<'r> RowReader<'r> {
    fn problem(&mut self, column: &str, code: RowCode) {
        self.problems.push(RowProblem { column: column.to_owned(), code });
    }

    /// The cell of `column` (its header and text), if the file has one and it is not empty.
    fn cell(&self, column: &Column) -> Option<(&'r str, &'r str)> {
        self.cells.iter().find(|(_, c, v)| *c == column && !v.is_empty()).map(|(h, _, v)| (*h, *v))
    }

    fn date(&mut self, column: &Column) -> Option<NaiveDateTime> {
        let (header, raw) = self.cell(column)?;
        match dates::parse(raw, self.rules.zone, self.rules.serial_dates) {
            Some(t) if t > self.rules.latest => {
                self.problem(header, RowCode::FutureDate);
                None
            }
            Some(t) => Some(t),
            None => {
                self.problem(header, RowCode::InvalidDate);
                None
            }
        }
    }

    fn read(mut self) -> Result<ImportedRow, Vec<RowProblem>> {
        let consented_at = self.date(&Column::ConsentedAt);
        let withdrawn_at = self.date(&Column::WithdrawnAt);
        let (consents, granted) = self.consents(consented_at, withdrawn_at);
        let source = self.cell(&Column::Source).map(|(h, v)| (h.to_owned(), v.to_owned()));
        if let Some((header, text)) = &source
            && text.chars().count() > MAX_SOURCE_CHARS
        {
            self.problem(header, RowCode::Field(FieldErrorCode::TooLong));
        }
        let external = self.cell(&Column::ExternalId).map(|(h, v)| (h.to_owned(), v.to_owned()));
        if let Some((header, id)) = &external
            && let Err(e) = check_external_id(id)
        {
            self.problem(header, RowCode::Field(e.code));
        }
        let accepted = self.accept(granted);
        match accepted {
            Some(accepted) if self.problems.is_empty() => Ok(ImportedRow {
                accepted,
                consents,
                source: source.map(|(_, v)| v),
                external_id: external.map(|(_, v)| v),
            }),
            _ => Err(self.problems),
        }
    }

    /// The consents the row records, and the purposes in force after them (for the values).
    fn consents(
        &mut self,
        consented_at: Option<NaiveDateTime>,
        withdrawn_at: Option<NaiveDateTime>,
    ) -> (Vec<ImportedConsent>, Vec<String>) {
        let mut consents = Vec::new();
        let mut granted = Vec::new();
        let asked: Vec<(String, PurposeKey, String)> = self
            .cells
            .iter()
            .filter_map(|(h, c, v)| match c {
                Column::Consent(p) => Some(((*h).to_owned(), p.clone(), (*v).to_owned())),
                _ => None,
            })
            .collect();
        for (header, purpose, raw) in asked {
            let Ok(choice) = parse_choice(&raw) else {
                self.problem(&header, RowCode::InvalidConsent);
                continue;
            };
            let withdrawn = match choice {
                None => continue,
                Some(true) => None,
                // Refused and never agreed: nothing to record.
                Some(false) if withdrawn_at.is_none() => continue,
                Some(false) => withdrawn_at,
            };
            let own = self.date(&Column::ConsentAt(purpose.clone()));
            let Some(granted_at) = own.or(consented_at) else {
                self.problem(&header, RowCode::MissingDate);
                continue;
            };
            if let Some(w) = withdrawn {
                if (self.rules.required)(&purpose) {
                    self.problem(&header, RowCode::RequiredWithdrawn);
                } else if w < granted_at {
                    self.problem(&header, RowCode::WithdrawnBeforeGranted);
                }
            } else {
                granted.push(purpose.to_string());
            }
            consents.push(ImportedConsent { purpose, granted_at, withdrawn_at: withdrawn });
        }
        (consents, granted)
    }

    /// The form's rules for the values (and for required purposes), errors named by header.
    fn accept(&mut self, granted: Vec<String>) -> Option<AcceptedSubmission> {
        let fields: Vec<(String, String)> = self
            .cells
            .iter()
            .filter_map(|(_, c, v)| match c {
                Column::Field(key) => Some((key.to_string(), (*v).to_owned())),
                _ => None,
            })
            .collect();
        let raw = RawSubmission { fields, purposes: granted };
        match self.rules.form.accept(&raw, self.rules.required) {
            Ok(accepted) => Some(accepted),
            Err(errors) => {
                for e in errors {
                    let header = match e.field.strip_prefix("purpose.") {
                        Some(p) => self.header_where(|c| matches!(c, Column::Consent(k) if k.as_str() == p)),
                        None => self.header_where(|c| matches!(c, Column::Field(k) if k.as_str() == e.field)),
                    };
                    let header = header.unwrap_or(e.field.as_str()).to_owned();
                    // A refused required purpose is already named by its own cell's problem.
                    if !self.problems.iter().any(|p| p.column == header) {
                        self.problem(&header, RowCode::Field(e.code));
                    }
                }
                None
            }
        }
    }

    fn header_where(&self, wanted: impl Fn(&Column) -> bool) -> Option<&'r str> {
        self.cells.iter().find(|(_, c, _)| wanted(c)).map(|(h, _, _)| *h)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
