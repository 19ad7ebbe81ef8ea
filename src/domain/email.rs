//! `Email`: a syntactically valid, normalised e-mail address (the subject's identity).

use std::fmt;
use validator::ValidateEmail;

/// The longest address SMTP allows (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// A normalised e-mail address: trimmed and lower-cased, so one person is one subject.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the address is empty")]
    Empty,
    #[error("the address is too long")]
    TooLong,
    #[error("the address is not valid")]
    Invalid,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.chars().count() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let normalised = trimmed.to_lowercase();
        if !normalised.validate_email() {
            return Err(EmailError::Invalid);
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never print an address by accident: logs must not carry personal data.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let email = Email::parse("  Kim.Minji@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "kim.minji@example.com");
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in ["plainaddress", "@example.com", "a@", "a b@example.com", "a@@example.com"] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
    }

    #[test]
    fn rejects_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn debug_output_hides_the_address() {
        let email = Email::parse("secret@example.com").unwrap();
        assert!(!format!("{email:?}").contains("secret"));
    }
}
