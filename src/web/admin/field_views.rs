//! What the builder shows of each field: one small form per field (and the "add field" form),
//! filled from the draft or from what was typed back on a refused edit.

use super::AdminStrings;
use crate::db::catalog::Catalog;
use crate::domain::{FieldDefinition, FormDefinition, Locale};
use crate::services::builder::{self, FIELD_TYPES, FieldInput};

/// Messages next to one field form's inputs.
#[derive(Default, Clone)]
pub struct FieldErrors {
    pub key: Option<String>,
    pub kind: Option<String>,
    pub label_en: Option<String>,
    pub label_ko: Option<String>,
    pub max_length: Option<String>,
    pub choices: Option<String>,
}

/// One field's form in the builder (or the "add field" form).
pub struct FieldFormView {
    /// Prefix of the inputs' ids: `f0`, `f1`, … or `new`.
    pub prefix: String,
    pub index: usize,
    pub action: String,
    pub key: String,
    pub kind: String,
    pub label_en: String,
    pub label_ko: String,
    pub required: bool,
    pub max_length: String,
    pub choices: String,
    /// Every purpose: key, title, served by this field.
    pub purposes: Vec<(String, String, bool)>,
    /// Every field type: name and label.
    pub types: Vec<(&'static str, &'static str)>,
    pub errors: FieldErrors,
    pub first: bool,
    pub last: bool,
    pub is_new: bool,
    /// The field's label in the page's language (for button names).
    pub title: String,
}

fn purposes_of(catalog: &Catalog, locale: Locale, served: &[String]) -> Vec<(String, String, bool)> {
    catalog
        .purposes
        .values()
        .map(|p| {
            (p.key.to_string(), p.policy.title().get(locale).to_owned(), served.iter().any(|s| s == p.key.as_str()))
        })
        .collect()
}

fn types(locale: Locale) -> Vec<(&'static str, &'static str)> {
    let t = AdminStrings::get(locale);
    FIELD_TYPES.iter().map(|name| (*name, t.field_type(name))).collect()
}

pub fn view_of(
    catalog: &Catalog,
    locale: Locale,
    form: &str,
    at: Option<usize>,
    input: &FieldInput,
    count: usize,
) -> FieldFormView {
    let lang = locale.as_str();
    let (prefix, action, index) = match at {
        Some(i) => (format!("f{i}"), format!("/admin/forms/{form}/fields/{i}?lang={lang}"), i),
        None => ("new".to_owned(), format!("/admin/forms/{form}/fields?lang={lang}"), count),
    };
    FieldFormView {
        prefix,
        index,
        action,
        key: input.key.clone(),
        kind: input.kind.clone(),
        label_en: input.label_en.clone(),
        label_ko: input.label_ko.clone(),
        required: input.required,
        max_length: input.max_length.clone(),
        choices: input.choices.clone(),
        purposes: purposes_of(catalog, locale, &input.purposes),
        types: types(locale),
        errors: FieldErrors::default(),
        first: at == Some(0),
        last: at.is_some_and(|i| i + 1 == count),
        is_new: at.is_none(),
        title: if locale == Locale::KO { input.label_ko.clone() } else { input.label_en.clone() },
    }
}

fn input_of(f: &FieldDefinition) -> FieldInput {
    FieldInput {
        key: f.key.to_string(),
        kind: builder::field_type_name(f.kind).to_owned(),
        label_en: f.label.en.clone(),
        label_ko: f.label.ko.clone(),
        required: f.required,
        max_length: f.max_length.map(|n| n.to_string()).unwrap_or_default(),
        choices: builder::choices_text(f),
        purposes: f.purposes.iter().map(ToString::to_string).collect(),
    }
}

/// The forms of every field of the draft.
pub fn views(catalog: &Catalog, locale: Locale, form: &str, d: &FormDefinition) -> Vec<FieldFormView> {
    let n = d.fields.len();
    d.fields.iter().enumerate().map(|(i, f)| view_of(catalog, locale, form, Some(i), &input_of(f), n)).collect()
}

/// The empty "add field" form.
pub fn new_view(catalog: &Catalog, locale: Locale, form: &str) -> FieldFormView {
    let input = FieldInput { kind: "text".into(), ..FieldInput::default() };
    view_of(catalog, locale, form, None, &input, 0)
}
