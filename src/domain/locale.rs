//! The languages Assent speaks, and how a request chooses one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Ko,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Ko];

    /// Parses a language tag such as `ko`, `ko-KR` or `en_US`.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            "ko" => Some(Self::Ko),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ko => "ko",
        }
    }

    /// An explicit choice (`?lang=`) wins; otherwise the highest-weighted supported language in
    /// `Accept-Language`; otherwise English.
    pub fn negotiate(explicit: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(locale) = explicit.and_then(Self::from_tag) {
            return locale;
        }
        let Some(header) = accept_language else {
            return Self::default();
        };
        let mut best: Option<(f32, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default();
            let weight =
                parts.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            if let Some(locale) = Self::from_tag(tag)
                && weight > 0.0
                && best.is_none_or(|(w, _)| weight > w)
            {
                best = Some((weight, locale));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_choice_wins_over_the_header() {
        assert_eq!(Locale::negotiate(Some("ko"), Some("en-US,en;q=0.9")), Locale::Ko);
    }

    #[test]
    fn header_weights_are_respected() {
        assert_eq!(Locale::negotiate(None, Some("fr;q=1, en;q=0.5, ko-KR;q=0.8")), Locale::Ko);
        assert_eq!(Locale::negotiate(None, Some("ko-KR,ko;q=0.9,en-US;q=0.8")), Locale::Ko);
        assert_eq!(Locale::negotiate(None, Some("ko;q=0, en")), Locale::En);
    }

    #[test]
    fn unknown_or_missing_falls_back_to_english() {
        assert_eq!(Locale::negotiate(Some("xx"), Some("de, fr")), Locale::En);
        assert_eq!(Locale::negotiate(None, None), Locale::En);
    }
}
