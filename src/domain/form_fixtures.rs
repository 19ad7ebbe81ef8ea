//! Forms for unit tests elsewhere in `domain`.
use super::*;

pub(crate) fn key<T: TryFrom<String>>(raw: &str) -> T
where
    T::Error: std::fmt::Debug,
{
    T::try_from(raw.to_owned()).unwrap()
}

pub(crate) fn field(k: &str, kind: FieldType, required: bool, purposes: &[&str]) -> FieldDefinition {
    FieldDefinition {
        key: key(k),
        kind,
        label: Localized::new([(crate::domain::Locale::EN, k), (crate::domain::Locale::KO, k)]),
        required,
        purposes: purposes.iter().map(|p| key(p)).collect(),
        max_length: None,
        choices: vec![],
    }
}

pub(crate) fn newsletter() -> FormDefinition {
    FormDefinition {
        kind: "signup".into(),
        title: Localized::new([(crate::domain::Locale::EN, "News"), (crate::domain::Locale::KO, "소식")]),
        description: None,
        double_opt_in: false,
        purposes: ["service", "marketing_email", "marketing_sms", "personalisation"].map(key).to_vec(),
        allowed_origins: vec![],
        fields: vec![
            field("email", FieldType::Email, true, &["service", "marketing_email"]),
            field("name", FieldType::Text, false, &["personalisation"]),
            field("phone", FieldType::Tel, false, &["marketing_sms"]),
        ],
        min_age: None,
        age_check: Default::default(),
    }
}
