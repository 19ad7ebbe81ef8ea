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
        if !(plain_ascii_address(&normalised) || normalised.validate_email()) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `address` is of the common all-ASCII shape that `validator`'s e-mail rule (the HTML
/// standard's "valid e-mail address", with RFC 5321's lengths) accepts: a local part of up to 64
/// of the rule's characters, and a domain of up to 255 bytes in dot-separated labels of 1 to 63
/// letters, digits and inner hyphens. The same rule as its regular expressions, spelled as byte
/// tests, so the address every request carries skips the regex engine (5 % of a consent check);
/// whatever is not of this shape (IP literals, international domains, mistakes) is left to
/// `validator`, so this never accepts what it would refuse.
fn plain_ascii_address(address: &str) -> bool {
    const LOCAL_SPECIALS: &[u8] = b".!#$%&'*+/=?^_`{|}~-";
    let Some((local, domain)) = address.rsplit_once('@') else { return false };
    let local_ok = (1..=64).contains(&local.len())
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(&b));
    let label_ok = |label: &str| {
        let bytes = label.as_bytes();
        (1..=63).contains(&bytes.len())
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-'
    };
    local_ok && domain.len() <= 255 && domain.split('.').all(label_ok)
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
    fn the_plain_shape_accepts_only_what_validator_accepts() {
        let plain = ["a@b", "kim.minji@example.com", "x+tag@mail.example.co.kr", "a-b@c-d.e1", "o'neil@x.io"];
        let not_plain = [
            "plainaddress",
            "@example.com",
            "a@",
            "a@-b.com",
            "a@b-.com",
            "a@b..com",
            "a@.b",
            "a b@c.d",
            "a@b_c.d",
            "a@[127.0.0.1]",
            "a@bücher.de",
            "\"q\"@x.y",
        ];
        for address in plain {
            assert!(plain_ascii_address(address), "{address}");
            assert!(address.validate_email(), "{address}");
        }
        for address in not_plain {
            assert!(!plain_ascii_address(address), "{address}");
        }
        let longest_domain = format!("a@{}b", "b.".repeat(127));
        assert!(plain_ascii_address(&longest_domain) && longest_domain.validate_email());
        let long_label = format!("a@{}.com", "b".repeat(64));
        let long_local = format!("{}@b.com", "a".repeat(65));
        let long_domain = format!("a@{}b", "b.".repeat(128));
        for address in [long_label, long_local, long_domain] {
            assert!(!plain_ascii_address(&address) && !address.validate_email(), "{address}");
        }
        // Every string over a small alphabet of the characters that matter, up to 5 long: the
        // shape never accepts one that validator refuses.
        let alphabet = ['a', '0', '-', '.', '@', '_', '+'];
        let mut words = vec![String::new()];
        for _ in 0..5 {
            words = words.iter().flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}"))).collect();
            for word in &words {
                assert!(!plain_ascii_address(word) || word.validate_email(), "{word}");
            }
        }
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
