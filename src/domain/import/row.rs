//! One row of an import: what it says, checked by the form's rules, or every mistake in it.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::Zone;
use super::{Column, MAX_SOURCE_CHARS, dates};
use crate::domain::form::{AcceptedSubmission, FieldErrorCode, RawSubmission};
use crate::domain::ids::check_external_id;
use crate::domain::{FormDefinition, PurposeKey};

/// A row's cells as (header, column, text), constants included, ignored columns left out.
pub(super) fn read(cells: &[(&str, &Column, &str)], rules: &RowRules<'_>) -> Result<ImportedRow, Vec<RowProblem>> {
    RowReader { cells, rules, problems: Vec::new() }.read()
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

/// A consent cell that is none of the accepted spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAChoice;

/// A consent cell: `Some(true)` agreed, `Some(false)` refused or withdrawn, `None` not asked.
pub fn parse_choice(raw: &str) -> Result<Option<bool>, NotAChoice> {
    match raw.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "y" | "yes" | "true" | "1" | "o" | "동의" | "granted" | "agreed" => Ok(Some(true)),
        "n" | "no" | "false" | "0" | "x" | "미동의" | "비동의" | "거부" | "withdrawn" | "refused" => {
            Ok(Some(false))
        }
        _ => Err(NotAChoice),
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
            let own_cell = self.cell(&Column::ConsentAt(purpose.clone())).is_some();
            let own = self.date(&Column::ConsentAt(purpose.clone()));
            let Some(granted_at) = own.or(consented_at) else {
                // A date that is there but wrong is named once, by its own cell.
                let wrong_date = own_cell || self.cell(&Column::ConsentedAt).is_some();
                if !wrong_date {
                    self.problem(&header, RowCode::MissingDate);
                }
                // Agreed all the same: the form's rules need not say so again.
                if withdrawn.is_none() {
                    granted.push(purpose.to_string());
                }
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
