//! [`Stamp`]: a timestamp to store, bound without chrono's pattern parser on SQLite.
//!
//! diesel binds a `NaiveDateTime` to SQLite as text written by `format("%F %T%.f")`, which parses
//! its pattern on every call; a bulk import binds about fifteen timestamps per person. A `Stamp`
//! writes the same text directly (`domain::time_text`), and on PostgreSQL binds exactly as a
//! `NaiveDateTime` does. The hot inserts (people, submissions, values, consent states, ledger
//! events) use it; what is stored is the same text as before, so reads and comparisons of old
//! and new rows agree.

use chrono::NaiveDateTime;
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

use super::DbConnection;

type MultiBackend = <DbConnection as diesel::Connection>::Backend;

/// A timestamp to insert (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Timestamp)]
pub struct Stamp(pub NaiveDateTime);

impl From<NaiveDateTime> for Stamp {
    fn from(t: NaiveDateTime) -> Self {
        Self(t)
    }
}

impl ToSql<Timestamp, Sqlite> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> diesel::serialize::Result {
        out.set_value(crate::domain::time_text::sqlite_text(self.0));
        Ok(IsNull::No)
    }
}

impl ToSql<Timestamp, Pg> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Pg>>::to_sql(&self.0, out)
    }
}

impl ToSql<Timestamp, MultiBackend> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> diesel::serialize::Result {
        out.set_value((Timestamp, self));
        Ok(IsNull::No)
    }
}
