//! When each routine operation (backup, retention run, ledger verification, security check)
//! last succeeded and last failed: one row each, made by the migration, only ever updated.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::operations;
use crate::domain::doctor::Ran;

/// The operations recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Backup,
    Retention,
    LedgerVerify,
    Doctor,
}

impl Operation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Backup => "backup",
            Self::Retention => "retention",
            Self::LedgerVerify => "ledger_verify",
            Self::Doctor => "doctor",
        }
    }
}

/// Records a run: its outcome, its time and what it said (never personal data).
pub fn record(conn: &mut DbConnection, op: Operation, ok: bool, detail: &str, now: NaiveDateTime) -> QueryResult<()> {
    let row = operations::table.find(op.as_str());
    if ok {
        diesel::update(row).set((operations::last_ok_at.eq(now), operations::detail.eq(detail))).execute(conn)?;
    } else {
        diesel::update(row).set((operations::last_failed_at.eq(now), operations::detail.eq(detail))).execute(conn)?;
    }
    Ok(())
}

/// When it last succeeded and failed, and what the latest run said (nothing before the
/// migration that records them has run).
pub fn read(conn: &mut DbConnection, op: Operation) -> QueryResult<(Ran, String)> {
    let row: Option<(Option<NaiveDateTime>, Option<NaiveDateTime>, String)> = operations::table
        .find(op.as_str())
        .select((operations::last_ok_at, operations::last_failed_at, operations::detail))
        .first(conn)
        .optional()?;
    Ok(row.map(|(ok_at, failed_at, detail)| (Ran { ok_at, failed_at }, detail)).unwrap_or_default())
}
