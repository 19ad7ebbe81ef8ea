//! An import's stored report as the console shows it: totals, and each reported row's outcome
//! and mistakes in the reader's language (with the stable code beside them).

use serde::Deserialize;

use crate::domain::Locale;
use crate::i18n::catalogue;

/// Every code a report may carry that has a sentence of the import pages' own (the form's field
/// codes are said as the forms say them).
#[cfg(test)]
pub const CODES: [&str; 12] = [
    "invalid_consent",
    "invalid_date",
    "missing_date",
    "future_date",
    "withdrawn_before_granted",
    "required_withdrawn",
    "duplicate_person",
    "external_id_taken",
    "duplicate_column",
    "unknown_target",
    "missing_column",
    "no_consent_column",
];

/// The sentence for a row's or a header's problem code: the import pages' own, else the
/// form's (`field-error-…`), else the code itself.
pub fn code_sentence(locale: Locale, code: &str) -> String {
    let c = catalogue(locale);
    let kebab = code.replace('_', "-");
    let own = format!("imports-code-{kebab}");
    if c.has(&own) {
        return c.text(&own);
    }
    let field = format!("field-error-{kebab}");
    if c.has(&field) {
        return c.format(&field, &[("max", fluent_bundle::FluentValue::from(""))]);
    }
    code.to_owned()
}

/// The rows done and expected of a run still going (its record's totals).
pub fn progress_of(totals: &str) -> (u64, u64) {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct SoFar {
        rows: u64,
        expected: u64,
    }
    let so_far: SoFar = serde_json::from_str(totals).unwrap_or_default();
    (so_far.rows, so_far.expected)
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct TotalsView {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub refused: u64,
    pub events: u64,
    pub expired: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Stored {
    read_as: String,
    written: bool,
    ignored_columns: Vec<String>,
    header_problems: Vec<StoredProblem>,
    totals: TotalsView,
    rows: Vec<StoredRow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StoredProblem {
    column: String,
    code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StoredRow {
    line: u64,
    outcome: String,
    problems: Vec<StoredProblem>,
    kept: Vec<String>,
}

/// One mistake: the column (its header) and what is wrong, said and coded.
pub struct ProblemView {
    pub column: String,
    pub code: String,
    pub says: String,
}

pub struct RowView {
    pub line: u64,
    pub outcome: String,
    pub problems: Vec<ProblemView>,
    pub kept: Vec<String>,
}

pub struct ReportView {
    pub read_as: String,
    pub written: bool,
    pub ignored: Vec<String>,
    pub header_problems: Vec<ProblemView>,
    pub totals: TotalsView,
    pub rows: Vec<RowView>,
}

impl ReportView {
    /// The stored report (JSON), read leniently: a run that failed midway has none.
    pub fn parse(stored: &str, locale: Locale) -> Self {
        let stored: Stored = serde_json::from_str(stored).unwrap_or_default();
        let said =
            |p: StoredProblem| ProblemView { says: code_sentence(locale, &p.code), column: p.column, code: p.code };
        Self {
            read_as: stored.read_as,
            written: stored.written,
            ignored: stored.ignored_columns,
            header_problems: stored.header_problems.into_iter().map(said).collect(),
            totals: stored.totals,
            rows: stored
                .rows
                .into_iter()
                .map(|r| RowView {
                    line: r.line,
                    outcome: r.outcome,
                    problems: r.problems.into_iter().map(said).collect(),
                    kept: r.kept,
                })
                .collect(),
        }
    }
}
