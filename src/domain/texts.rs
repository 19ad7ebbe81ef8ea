//! Texts a workspace writes (purpose wording, form titles, labels, choices) in each language it
//! offers, and the rules for them: the workspace's default language is always there, no text is
//! in a language the workspace does not offer, and a reader of another language gets the default.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::locale::{Locale, Locales};

/// A text a workspace wrote, in each of its languages: a map from language tag to text
/// (`{ en = "…", ko = "…", ja = "…" }` in the workspace file, the same object in the API and the
/// stored definitions). Which tags are allowed, and that the workspace's default is present, is
/// the workspace's rule (`services::locales`); reading falls back to that default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = std::collections::BTreeMap<String, String>, example = json!({"en": "Email address", "ko": "이메일 주소"}))]
pub struct Localized(pub BTreeMap<String, String>);

impl Localized {
    pub fn new<'a>(texts: impl IntoIterator<Item = (Locale, &'a str)>) -> Self {
        Self(texts.into_iter().map(|(l, t)| (l.as_str().to_owned(), t.to_owned())).collect())
    }

    /// The text in `locale`, else in the workspace's `default`, else in English, else any.
    pub fn get(&self, locale: Locale, default: Locale) -> &str {
        self.resolve(locale, default).map_or("", |(_, text)| text)
    }

    /// The language actually shown for `locale` (see [`Localized::get`]) and its text.
    pub fn resolve(&self, locale: Locale, default: Locale) -> Option<(&str, &str)> {
        [locale, default, Locale::EN]
            .iter()
            .find_map(|l| self.0.get_key_value(l.as_str()))
            .or_else(|| self.0.iter().next())
            .map(|(tag, text)| (tag.as_str(), text.as_str()))
    }

    /// The text written in exactly `locale` (no fallback), if non-empty.
    pub fn exactly(&self, locale: Locale) -> Option<&str> {
        self.0.get(locale.as_str()).map(String::as_str).filter(|t| !t.trim().is_empty())
    }

    pub fn set(&mut self, locale: Locale, text: impl Into<String>) {
        self.0.insert(locale.as_str().to_owned(), text.into());
    }

    /// The languages this text is written in.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Why a text does not fit the workspace's languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    #[error("the text is missing in {0}, the workspace's default language")]
    MissingDefault(Locale),
    #[error("the text is written in `{0}`, which the workspace does not offer (add it to [workspace] locales)")]
    NotOffered(String),
}

impl Localized {
    /// The text holds for `locales`: written in the default language, and only in offered ones.
    /// Languages left empty count as not written (see [`Localized::tidy`]).
    pub fn check(&self, locales: &Locales) -> Result<(), TextProblem> {
        if let Some(tag) = self
            .0
            .iter()
            .filter(|(_, t)| !t.trim().is_empty())
            .map(|(tag, _)| tag)
            .find(|tag| !locales.offered().iter().any(|l| l.as_str() == tag.as_str()))
        {
            return Err(TextProblem::NotOffered(tag.clone()));
        }
        match self.exactly(locales.default_locale()) {
            Some(_) => Ok(()),
            None => Err(TextProblem::MissingDefault(locales.default_locale())),
        }
    }

    /// The text without the languages left empty (a console row not filled in).
    pub fn tidy(mut self) -> Self {
        self.0.retain(|_, text| !text.trim().is_empty());
        self
    }

    /// The offered languages this text is not written in (readers of them get the default).
    pub fn untranslated(&self, locales: &Locales) -> Vec<Locale> {
        locales.offered().iter().copied().filter(|l| self.exactly(*l).is_none()).collect()
    }
}

/// Reads a text typed in the console, one input per offered language (named
/// `<field>_<tag>`): trimmed, empty languages left out. The default language is required; every
/// language is at most `max` characters. Problems are named by their input.
pub fn typed(
    field: &str,
    typed: &Localized,
    locales: &Locales,
    max: usize,
    problems: &mut Vec<(String, super::ErrorCode)>,
) -> Localized {
    let mut text = Localized::default();
    for locale in locales.offered() {
        let value = typed.0.get(locale.as_str()).map_or("", |v| v.trim());
        if value.is_empty() {
            if *locale == locales.default_locale() {
                problems.push((format!("{field}_{locale}"), super::ErrorCode::Required));
            }
            continue;
        }
        if value.chars().count() > max {
            problems.push((format!("{field}_{locale}"), super::ErrorCode::TooLong));
        }
        text.set(*locale, value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locales(offered: &[Locale], default: Locale) -> Locales {
        Locales::new(offered.to_vec(), default).expect("valid locales")
    }

    #[test]
    fn reading_falls_back_to_the_default_then_english() {
        let text = Localized::new([(Locale::KO, "가"), (Locale::EN, "A")]);
        assert_eq!(text.get(Locale::JA, Locale::KO), "가");
        assert_eq!(text.get(Locale::JA, Locale::JA), "A");
        assert_eq!(text.get(Locale::EN, Locale::KO), "A");
        assert_eq!(text.resolve(Locale::JA, Locale::KO), Some(("ko", "가")));
        assert_eq!(Localized::default().get(Locale::EN, Locale::EN), "");
    }

    #[test]
    fn a_text_needs_the_default_and_only_offered_languages() {
        let all = locales(&[Locale::EN, Locale::KO, Locale::JA], Locale::EN);
        assert_eq!(Localized::new([(Locale::EN, "A")]).check(&all), Ok(()));
        assert_eq!(Localized::new([(Locale::KO, "가")]).check(&all), Err(TextProblem::MissingDefault(Locale::EN)));
        assert_eq!(Localized::new([(Locale::EN, " ")]).check(&all), Err(TextProblem::MissingDefault(Locale::EN)));
        let two = locales(&[Locale::EN, Locale::KO], Locale::EN);
        let with_ja = Localized::new([(Locale::EN, "A"), (Locale::JA, "あ")]);
        assert_eq!(with_ja.check(&two), Err(TextProblem::NotOffered("ja".into())));
        assert_eq!(with_ja.untranslated(&all), vec![Locale::KO]);
    }

    #[test]
    fn a_typed_text_needs_its_default_and_keeps_each_language_short() {
        let all = locales(&[Locale::KO, Locale::EN, Locale::JA], Locale::KO);
        let mut problems = Vec::new();
        let typed_in = Localized::new([(Locale::EN, " A "), (Locale::JA, "あああ"), (Locale::KO, "")]);
        let text = typed("title", &typed_in, &all, 2, &mut problems);
        assert_eq!(text, Localized::new([(Locale::EN, "A"), (Locale::JA, "あああ")]));
        let names: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["title_ko", "title_ja"]);
    }

    #[test]
    fn the_stored_shape_is_a_map_of_tags() {
        let text = Localized::new([(Locale::EN, "A"), (Locale::KO, "가")]);
        assert_eq!(serde_json::to_string(&text).ok().as_deref(), Some(r#"{"en":"A","ko":"가"}"#));
        let parsed: Localized = toml::from_str::<BTreeMap<String, Localized>>("t = { en = \"A\", ko = \"가\" }")
            .expect("toml")
            .remove("t")
            .expect("t");
        assert_eq!(parsed, text);
    }
}
