//! What an import did, row by row and in total: kept without personal data and printed.

use serde::Serialize;

use crate::domain::import::{HeaderProblem, RowProblem};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    /// Assent already holds what the row says (or the row records nothing).
    Unchanged,
    Refused,
}

impl Outcome {
    pub(super) fn writes(self) -> bool {
        matches!(self, Self::Created | Self::Updated)
    }
}

/// What one row did (or, in a dry run, would do). No value from the file.
#[derive(Debug, Clone, Serialize)]
pub struct RowReport {
    pub line: u64,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<RowProblem>,
    /// Purposes for which a choice the person made in Assent after the imported date stands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Totals {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub refused: u64,
    /// Ledger events written (0 in a dry run).
    pub events: u64,
    /// Consents already past their retention, recorded and expired at once.
    pub expired: u64,
    /// The file's rows, estimated from its line count (for the ETA).
    #[serde(skip)]
    pub expected: u64,
}

impl Totals {
    /// The totals so far as kept on the import's record while it runs (with the rows expected).
    pub(super) fn progress_text(&self) -> String {
        let mut so_far = serde_json::to_value(self).unwrap_or_default();
        so_far["expected"] = self.expected.into();
        so_far.to_string()
    }

    pub(super) fn add(&mut self, report: &RowReport) {
        self.rows += 1;
        match report.outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Refused => self.refused += 1,
        }
    }
}

/// The whole import's report, as kept (without personal data) and as printed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub form: String,
    pub file_sha256: String,
    /// `utf-8`, `cp949` or `xlsx`.
    pub read_as: String,
    pub dry_run: bool,
    pub all_or_nothing: bool,
    /// Whether anything was written.
    pub written: bool,
    /// Headers no name matched (not read).
    pub ignored_columns: Vec<String>,
    /// Why the file could not be imported at all (then there are no rows).
    pub header_problems: Vec<HeaderProblem>,
    pub totals: Totals,
    /// Every row that was refused, updated or kept a newer choice (up to 10 000).
    pub rows: Vec<RowReport>,
}

impl Report {
    /// The report of a run just starting (a dry run? all or nothing?): nothing decided yet
    /// (`lines` estimates the rows).
    pub(super) fn empty(
        id: &str,
        form: &str,
        (dry_run, all_or_nothing): (bool, bool),
        sha256: &str,
        read_as: &str,
        lines: u64,
    ) -> Self {
        Self {
            id: id.to_owned(),
            form: form.to_owned(),
            file_sha256: sha256.to_owned(),
            read_as: read_as.to_owned(),
            dry_run,
            all_or_nothing,
            written: false,
            ignored_columns: Vec::new(),
            header_problems: Vec::new(),
            totals: Totals { expected: lines.saturating_sub(1), ..Totals::default() },
            rows: Vec::new(),
        }
    }
}
