//! Site owners: their roles, what a password must be, and when repeated failures lock an account.

use chrono::{Duration, NaiveDateTime};

/// What a staff account may do in the console (see `domain::console_access` for each role's
/// permissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything but the restricted store.
    Owner,
    /// People's data: the rights desk, exports, and the only one to open data held under a
    /// statutory retention obligation (PIPA art. 21(3): kept apart, each look audited).
    PrivacyOfficer,
    /// Purposes, forms and embedding; no one's data.
    Editor,
    /// The dashboard and counts; no one's data.
    Analyst,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Self::Owner, Self::PrivacyOfficer, Self::Editor, Self::Analyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::PrivacyOfficer => "privacy_officer",
            Self::Editor => "editor",
            Self::Analyst => "analyst",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
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
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
        assert_eq!(Role::parse("viewer"), None, "migration 32 made every viewer an analyst");
    }
}
