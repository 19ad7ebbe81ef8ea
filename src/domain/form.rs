//! Forms: their declared fields and purposes, and the rule that turns raw input into an accepted
//! submission or a list of field errors.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use super::consent::may_store;
use super::email::{Email, EmailError};
pub use super::form_errors::{FieldError, FieldErrorCode};
use super::minors::AgeCheck;
pub use super::texts::Localized;
use super::{FieldKey, PurposeKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Email,
    Text,
    Textarea,
    Tel,
    Date,
    Select,
}

impl FieldType {
    /// The longest value accepted when the definition sets no `max_length`.
    pub fn default_max_length(self) -> usize {
        match self {
            Self::Email => super::email::MAX_EMAIL_LEN,
            Self::Text | Self::Select => 200,
            Self::Textarea => 2000,
            Self::Tel => 32,
            Self::Date => 10,
        }
    }

    /// The HTML `<input type>` that gives phones the right keyboard.
    pub fn input_type(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Tel => "tel",
            Self::Date => "date",
            Self::Text | Self::Textarea | Self::Select => "text",
        }
    }

    pub fn autocomplete(self, key: &str) -> &'static str {
        match (self, key) {
            (Self::Email, _) => "email",
            (Self::Tel, _) => "tel",
            (_, "name") => "name",
            _ => "off",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: Localized,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDefinition {
    pub key: FieldKey,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub label: Localized,
    #[serde(default)]
    pub required: bool,
    /// The purposes this value serves; it is kept only while one of them is granted.
    pub purposes: Vec<PurposeKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

impl FieldDefinition {
    pub fn max_length(&self) -> usize {
        self.max_length.unwrap_or_else(|| self.kind.default_max_length())
    }
}

/// A form as published: an immutable version of this is what submissions point at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormDefinition {
    pub kind: String,
    pub title: Localized,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Localized>,
    #[serde(default)]
    pub double_opt_in: bool,
    /// The purposes the form asks for, in the order they are shown.
    pub purposes: Vec<PurposeKey>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    pub fields: Vec<FieldDefinition>,
    /// The minimum age (PIPA art. 22-2: 14; GDPR art. 8: 13 to 16; 0: none). Absent: 14 for a
    /// Korean-language workspace's form that asks for consent, else none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u8>,
    /// How the form asks for the age: `affirmation` (a box) or `birth_date`.
    #[serde(default, skip_serializing_if = "AgeCheck::is_affirmation")]
    pub age_check: AgeCheck,
}

/// Why a form definition cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("field `{0}` is declared twice")]
    DuplicateField(String),
    #[error("field `{0}` serves no purpose: every field must be bound to at least one purpose")]
    FieldWithoutPurpose(String),
    #[error("field `{field}` serves `{purpose}`, which the form does not ask for")]
    PurposeNotAsked { field: String, purpose: String },
    #[error("purpose `{0}` is not defined")]
    UnknownPurpose(String),
    #[error("a form needs exactly one required field of type email (the person's identity)")]
    NoIdentity,
    #[error("field `{0}` is a select without choices")]
    SelectWithoutChoices(String),
    #[error("a form must ask for at least one purpose")]
    NoPurposes,
    #[error("min_age must be 0 (none) or 13 to 16 (GDPR art. 8; PIPA art. 22-2: 14)")]
    MinAge,
    #[error("field `{0}` is a name the form's age check uses: choose another key")]
    ReservedKey(String),
}

impl FormDefinition {
    /// Checks the rules a publishable form obeys; `purpose_exists` says which purposes are defined.
    pub fn check(&self, purpose_exists: impl Fn(&PurposeKey) -> bool) -> Result<(), DefinitionError> {
        if self.purposes.is_empty() {
            return Err(DefinitionError::NoPurposes);
        }
        if self.min_age.is_some_and(|age| !super::minors::valid_min_age(age)) {
            return Err(DefinitionError::MinAge);
        }
        if let Some(f) = self.fields.iter().find(|f| super::minors::AGE_INPUTS.contains(&f.key.as_str())) {
            return Err(DefinitionError::ReservedKey(f.key.to_string()));
        }
        if let Some(p) = self.purposes.iter().find(|p| !purpose_exists(p)) {
            return Err(DefinitionError::UnknownPurpose(p.to_string()));
        }
        let mut seen = HashSet::new();
        for field in &self.fields {
            if !seen.insert(&field.key) {
                return Err(DefinitionError::DuplicateField(field.key.to_string()));
            }
            if field.purposes.is_empty() {
                return Err(DefinitionError::FieldWithoutPurpose(field.key.to_string()));
            }
            if let Some(p) = field.purposes.iter().find(|p| !self.purposes.contains(p)) {
                return Err(DefinitionError::PurposeNotAsked { field: field.key.to_string(), purpose: p.to_string() });
            }
            if field.kind == FieldType::Select && field.choices.is_empty() {
                return Err(DefinitionError::SelectWithoutChoices(field.key.to_string()));
            }
        }
        let identities = self.fields.iter().filter(|f| f.kind == FieldType::Email && f.required).count();
        if identities != 1 {
            return Err(DefinitionError::NoIdentity);
        }
        Ok(())
    }

    pub fn field(&self, key: &str) -> Option<&FieldDefinition> {
        self.fields.iter().find(|f| f.key.as_str() == key)
    }

    /// Every text the form shows, each with where it is (`title`, `field email label`, …).
    pub fn texts(&self) -> Vec<(String, &Localized)> {
        let mut texts = vec![("title".to_owned(), &self.title)];
        if let Some(d) = &self.description {
            texts.push(("description".to_owned(), d));
        }
        for f in &self.fields {
            texts.push((format!("field `{}` label", f.key), &f.label));
            for c in &f.choices {
                texts.push((format!("field `{}` choice `{}`", f.key, c.value), &c.label));
            }
        }
        texts
    }

    /// Every text fits the workspace's languages (see [`Localized::check`]): the first that
    /// does not, named.
    pub fn check_texts(&self, locales: &super::Locales) -> Result<(), (String, super::texts::TextProblem)> {
        self.texts().into_iter().try_for_each(|(place, text)| text.check(locales).map_err(|e| (place, e)))
    }
}

impl AcceptedSubmission {
    /// What is kept of a child's submission until the guardian agrees: only what is needed to ask
    /// them and to find the request again — the person's address (the form's identity field); every
    /// other value is dropped (and named as such), to be given again once the consents stand.
    pub fn only_identity(mut self, form: &FormDefinition) -> Self {
        let identity =
            |key: &FieldKey| form.field(key.as_str()).is_some_and(|f| f.kind == FieldType::Email && f.required);
        let (kept, dropped): (Vec<_>, Vec<_>) = self.values.into_iter().partition(|v| identity(&v.key));
        self.values = kept;
        self.dropped.extend(dropped.into_iter().map(|v| v.key));
        self
    }
}

/// Raw input as it arrived: field values by key (in order, duplicates kept) and ticked purposes.
#[derive(Debug, Default, Clone)]
pub struct RawSubmission {
    pub fields: Vec<(String, String)>,
    pub purposes: Vec<String>,
}

/// A value that passed validation and may be stored.
#[derive(Debug, Clone)]
pub struct AcceptedValue {
    pub key: FieldKey,
    pub value: String,
    pub purposes: Vec<PurposeKey>,
}

/// A submission that obeys its form: the identity, the values to store and the granted purposes.
#[derive(Debug, Clone)]
pub struct AcceptedSubmission {
    pub email: Email,
    pub values: Vec<AcceptedValue>,
    pub granted: Vec<PurposeKey>,
    /// Optional fields that were filled in but dropped: none of their purposes was granted.
    pub dropped: Vec<FieldKey>,
}

impl FormDefinition {
    /// Validates raw input against this form. Every problem is reported at once, so a person
    /// can fix all of them in one go. `purpose_required` says which purposes are mandatory.
    pub fn accept(
        &self,
        raw: &RawSubmission,
        purpose_required: impl Fn(&PurposeKey) -> bool,
    ) -> Result<AcceptedSubmission, Vec<FieldError>> {
        let mut errors = Vec::new();
        let granted = self.accept_purposes(&raw.purposes, &purpose_required, &mut errors);

        let mut seen = HashSet::new();
        for (key, _) in &raw.fields {
            if self.field(key).is_none() {
                errors.push(FieldError::new(key.clone(), FieldErrorCode::UnknownField));
            } else if !seen.insert(key.as_str()) {
                errors.push(FieldError::new(key.clone(), FieldErrorCode::DuplicateField));
            }
        }

        let mut email = None;
        let mut values = Vec::new();
        let mut dropped = Vec::new();
        for field in &self.fields {
            let value = raw.fields.iter().find(|(k, _)| k == field.key.as_str()).map(|(_, v)| v.trim());
            let value = match value {
                Some(v) if !v.is_empty() => v,
                _ => {
                    if field.required {
                        errors.push(FieldError::new(field.key.as_str(), FieldErrorCode::Required));
                    }
                    continue;
                }
            };
            match check_value(field, value) {
                Err(mut e) => {
                    e.field = field.key.to_string();
                    errors.push(e);
                }
                Ok(value) => {
                    if field.kind == FieldType::Email && field.required {
                        email = Email::parse(&value).ok();
                    }
                    if may_store(&field.purposes, &granted) {
                        values.push(AcceptedValue { key: field.key.clone(), value, purposes: field.purposes.clone() });
                    } else {
                        dropped.push(field.key.clone());
                    }
                }
            }
        }
        match email {
            Some(email) if errors.is_empty() => Ok(AcceptedSubmission { email, values, granted, dropped }),
            _ => Err(errors),
        }
    }

    fn accept_purposes(
        &self,
        ticked: &[String],
        purpose_required: &impl Fn(&PurposeKey) -> bool,
        errors: &mut Vec<FieldError>,
    ) -> Vec<PurposeKey> {
        let mut granted = Vec::new();
        for raw in ticked {
            match self.purposes.iter().find(|p| p.as_str() == raw) {
                Some(p) if !granted.contains(p) => granted.push(p.clone()),
                Some(_) => {}
                None => errors.push(FieldError::new("purpose", FieldErrorCode::UnknownPurpose)),
            }
        }
        for p in self.purposes.iter().filter(|p| purpose_required(p)) {
            if !granted.contains(p) {
                errors.push(FieldError::new(format!("purpose.{p}"), FieldErrorCode::PurposeRequired));
            }
        }
        granted
    }
}

impl FieldDefinition {
    /// Validates a new value for this field (rectification uses the same rules as the form).
    pub fn check(&self, value: &str) -> Result<String, FieldError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(FieldError::new(self.key.as_str(), FieldErrorCode::Required));
        }
        check_value(self, value).map_err(|mut e| {
            e.field = self.key.to_string();
            e
        })
    }
}

/// Checks one non-empty value against its field and returns the value to store.
fn check_value(field: &FieldDefinition, value: &str) -> Result<String, FieldError> {
    let err = |code| FieldError::new("", code);
    let allowed_controls: &[char] = if field.kind == FieldType::Textarea { &['\n', '\r', '\t'] } else { &[] };
    if value.chars().any(|c| c.is_control() && !allowed_controls.contains(&c)) {
        return Err(err(FieldErrorCode::InvalidCharacters));
    }
    let max = field.max_length();
    if value.chars().count() > max {
        return Err(FieldError { max_length: Some(max), ..err(FieldErrorCode::TooLong) });
    }
    match field.kind {
        FieldType::Email => match Email::parse(value) {
            Ok(email) => Ok(email.as_str().to_owned()),
            Err(EmailError::TooLong) => Err(FieldError { max_length: Some(max), ..err(FieldErrorCode::TooLong) }),
            Err(_) => Err(err(FieldErrorCode::InvalidEmail)),
        },
        FieldType::Tel => {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            let shape_ok = value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if shape_ok && (6..=20).contains(&digits) {
                Ok(value.to_owned())
            } else {
                Err(err(FieldErrorCode::InvalidPhone))
            }
        }
        FieldType::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(|d| d.format("%Y-%m-%d").to_string())
            .map_err(|_| err(FieldErrorCode::InvalidDate)),
        FieldType::Select => {
            if field.choices.iter().any(|c| c.value == value) {
                Ok(value.to_owned())
            } else {
                Err(err(FieldErrorCode::InvalidChoice))
            }
        }
        FieldType::Text | FieldType::Textarea => Ok(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn field_error_codes_serialise_to_their_strings() {
        let mut seen = HashSet::new();
        for code in FieldErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).ok(), Some(serde_json::Value::from(code.as_str())));
            assert!(seen.insert(code.as_str()), "{code:?} twice");
        }
    }

    fn required(p: &PurposeKey) -> bool {
        p.as_str() == "service"
    }

    fn raw(fields: &[(&str, &str)], purposes: &[&str]) -> RawSubmission {
        RawSubmission {
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            purposes: purposes.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(String, &'static str)> {
        errors.iter().map(|e| (e.field.clone(), e.code.as_str())).collect()
    }

    #[test]
    fn the_demo_newsletter_definition_is_publishable() {
        newsletter().check(|_| true).unwrap();
    }

    #[test]
    fn a_field_cannot_be_published_without_a_purpose() {
        let mut form = newsletter();
        form.fields[1].purposes.clear();
        assert_eq!(form.check(|_| true), Err(DefinitionError::FieldWithoutPurpose("name".into())));
    }

    #[test]
    fn a_form_needs_one_required_email() {
        let mut form = newsletter();
        form.fields[0].required = false;
        assert_eq!(form.check(|_| true), Err(DefinitionError::NoIdentity));
    }

    #[test]
    fn refusing_optional_purposes_still_accepts_the_form() {
        let accepted = newsletter().accept(&raw(&[("email", "A@B.example")], &["service"]), required).unwrap();
        assert_eq!(accepted.email.as_str(), "a@b.example");
        assert_eq!(accepted.granted, vec![key::<PurposeKey>("service")]);
    }

    #[test]
    fn a_phone_number_without_sms_consent_is_dropped_not_stored() {
        let input = raw(&[("email", "a@b.example"), ("phone", "010-1234-5678")], &["service"]);
        let accepted = newsletter().accept(&input, required).unwrap();
        assert!(accepted.values.iter().all(|v| v.key.as_str() != "phone"));
        assert_eq!(accepted.dropped, vec![key::<FieldKey>("phone")]);
    }

    #[test]
    fn a_phone_number_with_sms_consent_is_kept() {
        let input = raw(&[("email", "a@b.example"), ("phone", "+82 10 1234 5678")], &["service", "marketing_sms"]);
        let accepted = newsletter().accept(&input, required).unwrap();
        assert!(accepted.values.iter().any(|v| v.key.as_str() == "phone"));
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let input = raw(&[("email", "nope"), ("phone", "call me"), ("shoe_size", "42")], &["ads"]);
        let errors = newsletter().accept(&input, required).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![
                ("purpose".into(), "unknown_purpose"),
                ("purpose.service".into(), "purpose_required"),
                ("shoe_size".into(), "unknown_field"),
                ("email".into(), "invalid_email"),
                ("phone".into(), "invalid_phone"),
            ]
        );
    }

    #[test]
    fn missing_required_field_and_overlong_value_are_refused() {
        let long = "가".repeat(201);
        let errors =
            newsletter().accept(&raw(&[("name", &long)], &["service", "personalisation"]), required).unwrap_err();
        assert_eq!(codes(&errors), vec![("email".into(), "required"), ("name".into(), "too_long")]);
        assert_eq!(errors[1].max_length, Some(200));
    }

    #[test]
    fn a_value_of_exactly_the_maximum_length_is_accepted() {
        let name = "가".repeat(200);
        let input = raw(&[("email", "a@b.example"), ("name", &name)], &["service", "personalisation"]);
        assert!(newsletter().accept(&input, required).is_ok());
    }

    #[test]
    fn duplicate_fields_and_control_characters_are_refused() {
        let input = raw(&[("email", "a@b.example"), ("email", "c@d.example"), ("name", "a\u{0}b")], &["service"]);
        let errors = newsletter().accept(&input, required).unwrap_err();
        assert_eq!(codes(&errors), vec![("email".into(), "duplicate_field"), ("name".into(), "invalid_characters")]);
    }

    #[test]
    fn markup_and_sql_are_just_text() {
        let name = "<script>alert(1)</script>'; DROP TABLE subjects;--";
        let input = raw(&[("email", "a@b.example"), ("name", name)], &["service", "personalisation"]);
        let accepted = newsletter().accept(&input, required).unwrap();
        assert!(accepted.values.iter().any(|v| v.value == name));
    }
}

/// Forms for unit tests elsewhere in `domain`.
#[cfg(test)]
#[path = "form_fixtures.rs"]
pub(crate) mod fixtures;
