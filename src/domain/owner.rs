//! Site owners: their roles, what a password must be, and when repeated failures lock an account.

use chrono::{Duration, NaiveDateTime};

/// What an owner may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Owner,
    /// Reads only: no changes, no export of personal data.
    Viewer,
    /// Everything an owner may, and the only one to open data held under a statutory retention
    /// obligation (PIPA art. 21(3): kept apart, each look audited).
    PrivacyOfficer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Viewer => "viewer",
            Self::PrivacyOfficer => "privacy_officer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Self::Owner),
            "viewer" => Some(Self::Viewer),
            "privacy_officer" => Some(Self::PrivacyOfficer),
            _ => None,
        }
    }

    pub fn can_write(self) -> bool {
        self != Self::Viewer
    }

    /// May open what is held under a statutory obligation.
    pub fn sees_held_data(self) -> bool {
        self == Self::PrivacyOfficer
    }
}

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest, so that hashing cannot be made arbitrarily expensive.
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must be at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
}

/// Checks a new password's length (what matters most; no composition rules, as NIST 800-63B advises).
pub fn check_new_password(password: &str) -> Result<(), PasswordError> {
    match password.chars().count() {
        n if n < MIN_PASSWORD_CHARS => Err(PasswordError::TooShort),
        n if n > MAX_PASSWORD_CHARS => Err(PasswordError::TooLong),
        _ => Ok(()),
    }
}

/// Consecutive failures that lock an account.
pub const LOCK_AFTER_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub fn lock_duration() -> Duration {
    Duration::minutes(15)
}

/// The failure count and lock after one more failed sign-in. Locking starts the count afresh,
/// so after the lock ends the next run of failures locks again.
pub fn after_failure(failed_before: i64, now: NaiveDateTime) -> (i64, Option<NaiveDateTime>) {
    let failed = failed_before.saturating_add(1);
    if failed >= LOCK_AFTER_FAILURES { (0, Some(now + lock_duration())) } else { (failed, None) }
}

pub fn is_locked(locked_until: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    locked_until.is_some_and(|until| now < until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap().naive_utc()
    }

    #[test]
    fn the_fifth_consecutive_failure_locks_for_fifteen_minutes() {
        let mut failed = 0;
        for _ in 0..4 {
            let (n, lock) = after_failure(failed, t0());
            assert_eq!(lock, None);
            failed = n;
        }
        let (_, lock) = after_failure(failed, t0());
        assert_eq!(lock, Some(t0() + Duration::minutes(15)));
        assert!(is_locked(lock, t0() + Duration::minutes(14)));
        assert!(!is_locked(lock, t0() + Duration::minutes(15)));
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert_eq!(check_new_password("short"), Err(PasswordError::TooShort));
        assert_eq!(check_new_password("열두글자비밀번호입니다요"), Ok(()));
        assert!(check_new_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn roles() {
        assert!(Role::parse("owner").unwrap().can_write());
        assert!(!Role::parse("viewer").unwrap().can_write());
        assert_eq!(Role::parse("admin"), None);
    }
}
