//! Data-subject rights: their kinds and legal deadlines.

use chrono::{DateTime, Days, Months, Utc};
use serde::{Deserialize, Serialize};

/// Which right a request exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RightKind {
    Access,
    Rectification,
    Erasure,
    Portability,
    Withdrawal,
    /// Giving (or giving again) a consent.
    Consent,
}

impl RightKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Rectification => "rectification",
            Self::Erasure => "erasure",
            Self::Portability => "portability",
            Self::Withdrawal => "withdrawal",
            Self::Consent => "consent",
        }
    }
}

/// How long a controller may take to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deadline {
    /// GDPR art. 12(3): one month.
    #[default]
    Gdpr,
    /// PIPA (Korea) enforcement decree art. 41: ten days.
    Pipa,
}

impl Deadline {
    pub fn due(self, received: DateTime<Utc>) -> DateTime<Utc> {
        let due = match self {
            Self::Gdpr => received.checked_add_months(Months::new(1)),
            Self::Pipa => received.checked_add_days(Days::new(10)),
        };
        due.unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn deadlines_follow_the_calendar() {
        let jan31 = Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap();
        assert_eq!(Deadline::Gdpr.due(jan31), Utc.with_ymd_and_hms(2026, 2, 28, 9, 0, 0).unwrap());
        assert_eq!(Deadline::Pipa.due(jan31), Utc.with_ymd_and_hms(2026, 2, 10, 9, 0, 0).unwrap());
    }
}
