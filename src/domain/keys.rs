//! Keys that name things in a workspace: purposes, forms and fields.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A key is 1–64 characters of `a-z`, `0-9` and `_`, starting with a letter: safe in URLs, HTML
/// attributes, CSV headers and SQL without escaping.
pub fn is_valid_key(raw: &str) -> bool {
    let mut chars = raw.chars();
    matches!(chars.next(), Some('a'..='z'))
        && raw.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a key is 1 to 64 characters of a-z, 0-9 and _, starting with a letter")]
pub struct InvalidKey;

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
                if is_valid_key(raw) { Ok(Self(raw.to_owned())) } else { Err(InvalidKey) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidKey;
            fn try_from(raw: String) -> Result<Self, InvalidKey> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(key: $name) -> String {
                key.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

key_type!(
    /// Names a purpose of processing, e.g. `marketing_sms`.
    PurposeKey
);
key_type!(
    /// Names a form, e.g. `newsletter`; it appears in `/f/{form}`.
    FormKey
);
key_type!(
    /// Names a field within a form, e.g. `phone`.
    FieldKey
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_snake_case_keys() {
        for ok in ["service", "marketing_sms", "a", "x1_2"] {
            assert!(PurposeKey::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_anything_else() {
        let long = "a".repeat(65);
        for bad in ["", "1abc", "_x", "Marketing", "a-b", "a b", "<script>", "키", long.as_str()] {
            assert!(FormKey::parse(bad).is_err(), "{bad}");
        }
    }
}
