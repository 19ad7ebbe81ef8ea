//! What the builder shows of each field: one block of inputs per field (and the "add field"
//! block), filled from the draft or from what was typed back on a refused save.

use super::AdminStrings;
use super::texts::{TextKind, TextRow, rows};
use crate::db::catalog::Catalog;
use crate::domain::{FieldDefinition, FormDefinition, Locale};
use crate::services::builder::{self, FIELD_TYPES, FieldInput};

/// Messages next to one field form's inputs.
#[derive(Default, Clone)]
pub struct FieldErrors {
    pub key: Option<String>,
    pub kind: Option<String>,
    /// By input name (`label_<tag>`).
    pub labels: Vec<(String, String)>,
    pub max_length: Option<String>,
    pub choices: Option<String>,
}

/// One field's block of inputs in the builder (or the "add field" block).
pub struct FieldFormView {
    /// Prefix of the inputs' names and ids: `f0`, `f1`, … or `new`.
    pub prefix: String,
    pub key: String,
    pub kind: String,
    /// The label, a row per offered language.
    pub labels: Vec<TextRow>,
    /// How the choices are written (`value|label|…`, labels in the workspace's language order).
    pub choices_hint: String,
    pub required: bool,
    pub max_length: String,
    pub choices: String,
    /// Every purpose: key, title, served by this field.
    pub purposes: Vec<(String, String, bool)>,
    /// Every field type: name and label.
    pub types: Vec<(&'static str, &'static str)>,
    pub errors: FieldErrors,
    pub is_new: bool,
    /// The field's label in the page's language (for button names).
    pub title: String,
}

fn purposes_of(catalog: &Catalog, locale: Locale, served: &[String]) -> Vec<(String, String, bool)> {
    catalog
        .purposes
        .values()
        .map(|p| {
            let title = p.policy.title().get(locale, catalog.default_locale()).to_owned();
            (p.key.to_string(), title, served.iter().any(|s| s == p.key.as_str()))
        })
        .collect()
}

fn types(locale: Locale) -> Vec<(&'static str, &'static str)> {
    let t = AdminStrings::get(locale);
    FIELD_TYPES.iter().map(|name| (*name, t.field_type(name))).collect()
}

/// The block of the field at `at` (`None`: the "add field" block), filled from `input`.
pub fn view_of(catalog: &Catalog, locale: Locale, at: Option<usize>, input: &FieldInput) -> FieldFormView {
    FieldFormView {
        prefix: at.map_or_else(|| "new".to_owned(), |i| format!("f{i}")),
        key: input.key.clone(),
        kind: input.kind.clone(),
        labels: rows("label", TextKind::Label, &input.label, &catalog.locales, locale),
        choices_hint: choices_hint(catalog, locale),
        required: input.required,
        max_length: input.max_length.clone(),
        choices: input.choices.clone(),
        purposes: purposes_of(catalog, locale, &input.purposes),
        types: types(locale),
        errors: FieldErrors::default(),
        is_new: at.is_none(),
        title: input.label.get(locale, catalog.default_locale()).to_owned(),
    }
}

/// `value|English|한국어|…`: the order of a choice's labels.
fn choices_hint(catalog: &Catalog, locale: Locale) -> String {
    let names: Vec<String> =
        catalog.locales.offered().iter().map(|l| crate::i18n::catalogue(*l).text("lang-name")).collect();
    crate::i18n::catalogue(locale)
        .format("texts-choices-hint", &[("order", fluent_bundle::FluentValue::from(names.join("|")))])
}

fn input_of(catalog: &Catalog, f: &FieldDefinition) -> FieldInput {
    FieldInput {
        key: f.key.to_string(),
        kind: builder::field_type_name(f.kind).to_owned(),
        label: f.label.clone(),
        required: f.required,
        max_length: f.max_length.map(|n| n.to_string()).unwrap_or_default(),
        choices: builder::choices_text(f, &catalog.locales),
        purposes: f.purposes.iter().map(ToString::to_string).collect(),
    }
}

/// The forms of every field of the draft.
pub fn views(catalog: &Catalog, locale: Locale, d: &FormDefinition) -> Vec<FieldFormView> {
    d.fields.iter().enumerate().map(|(i, f)| view_of(catalog, locale, Some(i), &input_of(catalog, f))).collect()
}

/// The empty "add field" form.
pub fn new_view(catalog: &Catalog, locale: Locale) -> FieldFormView {
    let input = FieldInput { kind: "text".into(), ..FieldInput::default() };
    view_of(catalog, locale, None, &input)
}

impl FieldFormView {
    /// Whether anything in the block was refused (it is then shown open).
    pub fn has_errors(&self) -> bool {
        let e = &self.errors;
        e.key.is_some() || e.kind.is_some() || !e.labels.is_empty() || e.max_length.is_some() || e.choices.is_some()
    }

    /// The message next to one language's label input, if refused.
    pub fn label_error(&self, name: &str) -> Option<&str> {
        self.errors.labels.iter().find(|(n, _)| n == name).map(|(_, m)| m.as_str())
    }
}
