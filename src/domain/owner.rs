//! Site owners: their roles and what a password must be.

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

#[cfg(test)]
mod tests {
    use super::*;

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
