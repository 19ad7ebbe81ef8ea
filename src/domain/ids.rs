//! Row ids as types of their own, so that a person's id cannot be passed where another id (a
//! submission's, a value's) is meant. The database keeps them as text: the mapping is in `db`.

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;

/// The longest external id accepted, in characters.
pub const MAX_EXTERNAL_ID_CHARS: usize = 200;

/// An external id as given: 1 to [`MAX_EXTERNAL_ID_CHARS`] characters, not only spaces, no control
/// characters; kept exactly as sent.
pub fn check_external_id(raw: &str) -> Result<&str, super::form::FieldError> {
    let refuse = |code, max_length| super::form::FieldError { field: "external_id".into(), code, max_length };
    if raw.trim().is_empty() {
        return Err(refuse(super::form::FieldErrorCode::Required, None));
    }
    if raw.chars().count() > MAX_EXTERNAL_ID_CHARS {
        return Err(refuse(super::form::FieldErrorCode::TooLong, Some(MAX_EXTERNAL_ID_CHARS)));
    }
    if raw.chars().any(char::is_control) {
        return Err(refuse(super::form::FieldErrorCode::InvalidCharacters, None));
    }
    Ok(raw)
}

/// The id of a subject: the person whose data is held.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubjectId(String);

impl SubjectId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Ids as the text the database holds (for `IN (…)` lists).
    pub fn strs(ids: &[SubjectId]) -> Vec<&str> {
        ids.iter().map(SubjectId::as_str).collect()
    }
}

impl From<String> for SubjectId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&str> for SubjectId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl AsRef<str> for SubjectId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SubjectId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// Read as text wherever text is wanted (queries, associated data); the other way round takes an
/// explicit `SubjectId::from`.
impl std::ops::Deref for SubjectId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for SubjectId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}
