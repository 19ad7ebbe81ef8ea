//! The languages Assent speaks, and how a request chooses one.
//!
//! A [`Locale`] is a language Assent ships an interface catalogue for (`locales/<tag>.ftl`,
//! embedded at build time): adding a language is adding that file. A workspace offers some of
//! them to the people filling its forms, with one as its default (see `services::locales`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

include!(concat!(env!("OUT_DIR"), "/catalogues.rs"));

/// A shipped language, named by its lowercase BCP 47 tag (`en`, `ko`, `ja`, `pt-br`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(&'static str);

impl Default for Locale {
    fn default() -> Self {
        Self::EN
    }
}

impl Locale {
    /// English: the last fallback of every catalogue and of every workspace text.
    pub const EN: Locale = Locale("en");
    /// Korean (a test checks that every named locale ships a catalogue).
    pub const KO: Locale = Locale("ko");
    /// Japanese.
    pub const JA: Locale = Locale("ja");

    /// Every shipped language, English first.
    pub fn shipped() -> impl Iterator<Item = Locale> {
        CATALOGUES.iter().map(|(tag, _)| Locale(tag))
    }

    /// The Fluent source of this language's interface catalogue.
    pub fn catalogue_source(self) -> &'static str {
        CATALOGUES.iter().find(|(tag, _)| *tag == self.0).map_or("", |(_, source)| source)
    }

    /// The shipped language a tag names exactly (`ko`, `KO`, `pt_BR`), if any.
    pub fn from_tag(tag: &str) -> Option<Self> {
        Self::find(tag, CATALOGUES.iter().map(|(t, _)| Locale(t)))
    }

    /// The language of `offered` a tag asks for: the same tag, or the same primary language
    /// (`ko-KR` finds `ko`; `pt` finds `pt-br` when no plain `pt` is offered).
    pub fn find<I: IntoIterator<Item = Locale> + Clone>(tag: &str, offered: I) -> Option<Self> {
        let wanted = tag.trim().replace('_', "-").to_ascii_lowercase();
        if wanted.is_empty() || wanted == "*" {
            return None;
        }
        if let Some(exact) = offered.clone().into_iter().find(|l| l.0 == wanted) {
            return Some(exact);
        }
        let primary = wanted.split('-').next().unwrap_or_default();
        offered.into_iter().find(|l| l.primary() == primary)
    }

    fn primary(self) -> &'static str {
        self.0.split('-').next().unwrap_or(self.0)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// An explicit choice (`?lang=`) wins when it is offered; otherwise the highest-weighted
    /// offered language in `Accept-Language` (RFC 9110 §12.5.4: `q=0` refuses, ties keep the
    /// header's order); otherwise `default`.
    pub fn negotiate(
        explicit: Option<&str>,
        accept_language: Option<&str>,
        offered: &[Locale],
        default: Locale,
    ) -> Self {
        if let Some(locale) = explicit.and_then(|tag| Self::find(tag, offered.iter().copied())) {
            return locale;
        }
        let Some(header) = accept_language else {
            return default;
        };
        let mut best: Option<(f32, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default();
            let weight =
                parts.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            if let Some(locale) = Self::find(tag, offered.iter().copied())
                && weight > 0.0
                && best.is_none_or(|(w, _)| weight > w)
            {
                best = Some((weight, locale));
            }
        }
        best.map_or(default, |(_, l)| l)
    }
}

/// The languages a workspace offers the people filling its forms, in its order, and the one
/// every text is written in and falls back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locales {
    offered: Vec<Locale>,
    default: Locale,
}

/// Why a set of languages cannot be a workspace's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalesError {
    #[error("a workspace offers at least one language")]
    Empty,
    #[error("`{0}` is offered twice")]
    Duplicate(Locale),
    #[error("the default language `{0}` is not among the offered ones")]
    DefaultNotOffered(Locale),
}

impl Default for Locales {
    /// What every workspace spoke before languages were data: English (the default) and Korean.
    fn default() -> Self {
        Self { offered: vec![Locale::EN, Locale::KO], default: Locale::EN }
    }
}

impl Locales {
    pub fn new(offered: Vec<Locale>, default: Locale) -> Result<Self, LocalesError> {
        if offered.is_empty() {
            return Err(LocalesError::Empty);
        }
        if let Some(twice) = offered.iter().enumerate().find_map(|(i, l)| offered[..i].contains(l).then_some(*l)) {
            return Err(LocalesError::Duplicate(twice));
        }
        if !offered.contains(&default) {
            return Err(LocalesError::DefaultNotOffered(default));
        }
        Ok(Self { offered, default })
    }

    pub fn offered(&self) -> &[Locale] {
        &self.offered
    }

    pub fn default_locale(&self) -> Locale {
        self.default
    }

    pub fn offers(&self, locale: Locale) -> bool {
        self.offered.contains(&locale)
    }

    /// [`Locale::negotiate`] over these languages.
    pub fn negotiate(&self, explicit: Option<&str>, accept_language: Option<&str>) -> Locale {
        Locale::negotiate(explicit, accept_language, &self.offered, self.default)
    }

    /// The language a person's recorded tag names, among these; else the default.
    pub fn of_person(&self, recorded: &str) -> Locale {
        Locale::find(recorded, self.offered.iter().copied()).unwrap_or(self.default)
    }
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Locale {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(deserializer)?;
        Self::from_tag(&tag).ok_or_else(|| {
            let shipped: Vec<&str> = Self::shipped().map(Locale::as_str).collect();
            serde::de::Error::custom(format!(
                "`{tag}` is not a language Assent ships (it ships {}); add locales/{tag}.ftl to add it",
                shipped.join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERED: [Locale; 3] = [Locale::EN, Locale::KO, Locale::JA];

    #[test]
    fn the_named_locales_ship_a_catalogue() {
        for named in OFFERED {
            assert_eq!(Locale::from_tag(named.as_str()), Some(named));
            assert!(!named.catalogue_source().is_empty(), "{named}");
        }
        assert_eq!(Locale::shipped().next(), Some(Locale::EN));
    }

    #[test]
    fn explicit_choice_wins_over_the_header() {
        assert_eq!(Locale::negotiate(Some("ko"), Some("en-US,en;q=0.9"), &OFFERED, Locale::EN), Locale::KO);
        assert_eq!(Locale::negotiate(Some("ja-JP"), None, &OFFERED, Locale::EN), Locale::JA);
    }

    #[test]
    fn header_weights_are_respected() {
        let pick = |header| Locale::negotiate(None, Some(header), &OFFERED, Locale::EN);
        assert_eq!(pick("fr;q=1, en;q=0.5, ko-KR;q=0.8"), Locale::KO);
        assert_eq!(pick("ko-KR,ko;q=0.9,en-US;q=0.8"), Locale::KO);
        assert_eq!(pick("ko;q=0, en"), Locale::EN);
        assert_eq!(pick("ja;q=0.9, ko;q=0.9"), Locale::JA, "a tie keeps the header's order");
        assert_eq!(pick("JA-jp"), Locale::JA);
    }

    #[test]
    fn only_offered_locales_are_chosen_and_the_default_stands_in() {
        let offered = [Locale::EN, Locale::KO];
        assert_eq!(Locale::negotiate(Some("ja"), Some("ja"), &offered, Locale::KO), Locale::KO);
        assert_eq!(Locale::negotiate(Some("xx"), Some("de, fr, *"), &OFFERED, Locale::EN), Locale::EN);
        assert_eq!(Locale::negotiate(None, None, &OFFERED, Locale::JA), Locale::JA);
    }

    #[test]
    fn a_workspace_offers_its_default_once() {
        assert_eq!(Locales::new(vec![], Locale::EN), Err(LocalesError::Empty));
        assert_eq!(Locales::new(vec![Locale::EN, Locale::EN], Locale::EN), Err(LocalesError::Duplicate(Locale::EN)));
        assert_eq!(Locales::new(vec![Locale::KO], Locale::EN), Err(LocalesError::DefaultNotOffered(Locale::EN)));
        let ko_first = Locales::new(vec![Locale::KO, Locale::JA], Locale::KO).expect("valid");
        assert_eq!(ko_first.negotiate(None, Some("en")), Locale::KO);
        assert_eq!(ko_first.of_person("ja"), Locale::JA);
        assert_eq!(ko_first.of_person("en"), Locale::KO);
    }

    #[test]
    fn unknown_tags_are_not_locales() {
        assert_eq!(Locale::from_tag("xx"), None);
        assert_eq!(Locale::from_tag(""), None);
        assert!(serde_json::from_str::<Locale>("\"xx\"").is_err());
        assert_eq!(serde_json::from_str::<Locale>("\"ko\"").ok(), Some(Locale::KO));
    }
}
