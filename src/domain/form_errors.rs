//! Why an input was refused: a stable code per reason, the keys of the message catalogue.

use serde::Serialize;

/// Stable, machine-readable reasons a field was refused (also the keys of the message catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    Required,
    InvalidEmail,
    InvalidPhone,
    InvalidDate,
    InvalidChoice,
    TooLong,
    InvalidCharacters,
    UnknownField,
    DuplicateField,
    UnknownPurpose,
    PurposeRequired,
    InvalidType,
    /// The wording of this purpose (or the form) changed since it was shown: read it again.
    WordingChanged,
    /// Not a key: 1 to 64 characters of a-z, 0-9 and _, starting with a letter.
    InvalidKey,
    /// Not an http(s) address of a server that may be reached.
    InvalidUrl,
    /// Under the form's minimum age (or not saying): a parent's or guardian's address is needed.
    GuardianNeeded,
}

impl FieldErrorCode {
    /// Every code (the message catalogue has a sentence for each, in each language).
    pub const ALL: [FieldErrorCode; 16] = [
        Self::Required,
        Self::InvalidEmail,
        Self::InvalidPhone,
        Self::InvalidDate,
        Self::InvalidChoice,
        Self::TooLong,
        Self::InvalidCharacters,
        Self::UnknownField,
        Self::DuplicateField,
        Self::UnknownPurpose,
        Self::PurposeRequired,
        Self::InvalidType,
        Self::WordingChanged,
        Self::InvalidKey,
        Self::InvalidUrl,
        Self::GuardianNeeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPhone => "invalid_phone",
            Self::InvalidDate => "invalid_date",
            Self::InvalidChoice => "invalid_choice",
            Self::TooLong => "too_long",
            Self::InvalidCharacters => "invalid_characters",
            Self::UnknownField => "unknown_field",
            Self::DuplicateField => "duplicate_field",
            Self::UnknownPurpose => "unknown_purpose",
            Self::PurposeRequired => "purpose_required",
            Self::WordingChanged => "wording_changed",
            Self::InvalidType => "invalid_type",
            Self::InvalidKey => "invalid_key",
            Self::InvalidUrl => "invalid_url",
            Self::GuardianNeeded => "guardian_needed",
        }
    }
}

/// One refused input: which field (or `purpose`, or `purpose.<key>`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: FieldErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldErrorCode) -> Self {
        Self { field: field.into(), code, max_length: None }
    }
}
