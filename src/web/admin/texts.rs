//! A text the workspace writes, edited in the console: one row per language the workspace
//! offers, the default first-class (required) and the others optional, each saying when it
//! is untranslated (readers of that language then get the default's text).

use fluent_bundle::FluentValue;

use crate::domain::{Locale, Locales, Localized};
use crate::i18n::catalogue;

/// One input of a text, in one language.
pub struct TextRow {
    /// The input's name and id suffix: `<prefix>_<tag>`.
    pub name: String,
    pub label: String,
    pub lang: &'static str,
    pub value: String,
    pub long: bool,
    pub required: bool,
    pub hint: String,
    pub max: usize,
}

/// What a text is, for its label.
#[derive(Clone, Copy)]
pub enum TextKind {
    Title,
    Wording,
    Description,
    Label,
    /// What refusing a purpose means (required only for a required purpose).
    Refusal,
}

impl TextKind {
    fn id(self) -> &'static str {
        match self {
            Self::Title => "texts-title",
            Self::Wording => "texts-wording",
            Self::Description => "texts-description",
            Self::Label => "texts-label",
            Self::Refusal => "texts-refusal",
        }
    }
}

/// The rows of `text` (as typed or as stored) for the console in `console` language.
pub fn rows(prefix: &str, kind: TextKind, text: &Localized, locales: &Locales, console: Locale) -> Vec<TextRow> {
    let words = catalogue(console);
    let default_name = catalogue(locales.default_locale()).text("lang-name");
    locales
        .offered()
        .iter()
        .map(|locale| {
            let language = catalogue(*locale).text("lang-name");
            let refusal = matches!(kind, TextKind::Refusal);
            let required = *locale == locales.default_locale() && !refusal;
            let value = text.0.get(locale.as_str()).cloned().unwrap_or_default();
            let hint = if refusal && *locale == locales.default_locale() {
                words.text("texts-refusal-hint")
            } else if required {
                words.text("texts-default-hint")
            } else if value.trim().is_empty() {
                words.format("texts-untranslated-hint", &[("default", FluentValue::from(default_name.clone()))])
            } else {
                words.text("texts-optional-hint")
            };
            let long = matches!(kind, TextKind::Wording | TextKind::Description | TextKind::Refusal);
            TextRow {
                name: format!("{prefix}_{locale}"),
                label: format!("{} ({language})", words.text(kind.id())),
                lang: locale.as_str(),
                value,
                long,
                required,
                hint,
                max: if long { 10_000 } else { 200 },
            }
        })
        .collect()
}
