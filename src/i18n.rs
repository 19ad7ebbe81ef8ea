//! The interface catalogues: every sentence Assent's pages, mails and console say, one Fluent
//! file per language (`locales/<tag>.ftl`, embedded at build time; see `domain::Locale`).
//!
//! Code names a message by its id. Ids the code derives from a typed value (an error code, a
//! consent state, an action, a channel) have a test that walks every value and every shipped
//! catalogue, so a missing translation fails the build's tests, not a person reading the page.
//! A message missing from one catalogue falls back to English at run time.

use chrono::{Datelike, NaiveDate};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::Locale;

/// One language's catalogue.
pub struct Catalogue {
    locale: Locale,
    bundle: FluentBundle<FluentResource>,
    ids: Vec<String>,
}

static CATALOGUES: LazyLock<HashMap<Locale, Catalogue>> =
    LazyLock::new(|| Locale::shipped().map(|l| (l, Catalogue::load(l))).collect());

/// The catalogue of a shipped language.
pub fn catalogue(locale: Locale) -> &'static Catalogue {
    CATALOGUES.get(&locale).or_else(|| CATALOGUES.get(&Locale::EN)).expect("locales/en.ftl is always built in")
}

/// Problems in a catalogue's source (a test asserts there are none in any shipped one).
pub fn syntax_errors(locale: Locale) -> Vec<String> {
    match FluentResource::try_new(locale.catalogue_source().to_owned()) {
        Ok(_) => Vec::new(),
        Err((_, errors)) => errors.iter().map(|e| format!("{locale}: {e:?}")).collect(),
    }
}

impl Catalogue {
    fn load(locale: Locale) -> Self {
        let resource = FluentResource::try_new(locale.catalogue_source().to_owned()).unwrap_or_else(|(r, errors)| {
            tracing::error!(%locale, errors = errors.len(), "interface catalogue has syntax errors");
            r
        });
        let ids = resource
            .entries()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect();
        let langid = locale.as_str().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![langid]);
        // Plain text: the pages and mails escape and lay out what they insert themselves.
        bundle.set_use_isolating(false);
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(%locale, errors = errors.len(), "interface catalogue defines a message twice");
        }
        Self { locale, bundle, ids }
    }

    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The ids of the messages this catalogue defines itself.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Whether this catalogue itself (not its fallback) says `id`.
    pub fn has(&self, id: &str) -> bool {
        self.bundle.get_message(id).is_some_and(|m| m.value().is_some())
    }

    /// The message `id` without arguments.
    pub fn text(&self, id: &str) -> String {
        self.format(id, &[])
    }

    /// The message `id` with its arguments; English where this catalogue lacks it, and the id
    /// itself where English does too (a test keeps that from shipping).
    pub fn format(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        if let Some(text) = self.try_format(id, args) {
            return text;
        }
        if self.locale != Locale::EN
            && let Some(text) = catalogue(Locale::EN).try_format(id, args)
        {
            return text;
        }
        tracing::warn!(locale = %self.locale, id, "message missing from every catalogue");
        id.to_owned()
    }

    fn try_format(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> Option<String> {
        let pattern = self.bundle.get_message(id)?.value()?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(locale = %self.locale, id, errors = errors.len(), "message formatted with errors");
        }
        Some(text.into_owned())
    }

    /// A calendar date as this language writes it (`date` in the catalogue, with `$year`,
    /// `$month`, `$day` and `$month-name` from `month-1` … `month-12`).
    pub fn date(&self, date: NaiveDate) -> String {
        let month_name = self.text(&format!("month-{}", date.month()));
        self.format(
            "date",
            &[
                ("year", FluentValue::from(date.year().to_string())),
                ("month", FluentValue::from(date.month().to_string())),
                ("day", FluentValue::from(date.day().to_string())),
                ("month-name", FluentValue::from(month_name)),
            ],
        )
    }

    /// A retention period: "2 years", "1 year 6 months", "2년", "1年6か月" … (the units and their
    /// plurals are the catalogue's: `retention-years`, `-months`, `-days`).
    pub fn retention(&self, period: crate::domain::Retention) -> String {
        let (years, months, days) = period.parts();
        let parts: Vec<String> = [("retention-years", years), ("retention-months", months), ("retention-days", days)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(id, n)| self.format(id, &[("count", FluentValue::from(n))]))
            .collect();
        parts.join(&self.text("retention-separator"))
    }

    /// A whole number with this language's digit grouping (`number-group-separator`).
    pub fn number(&self, n: i64) -> String {
        let separator = self.text("number-group-separator");
        let digits = n.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * separator.len() + 1);
        if n < 0 {
            grouped.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push_str(&separator);
            }
            grouped.push(c);
        }
        grouped
    }
}

/// Declares a struct of `&'static str` fields read from the catalogues: each field IS a typed
/// message id (`prefix` + the field's name in kebab case: `me-status-granted` for `status_granted`
/// with prefix `"me-"`). `get(locale)` fills it once per shipped language (the texts are leaked,
/// a bounded once-per-language cost) and `ids()` lists what it asks for, for a test to check.
/// `extra` fields are computed from the locale (`lang`, a nested struct).
macro_rules! message_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($prefix:literal) {
            $($(#[$field_meta:meta])* $field:ident,)*
        }
        $(extra($locale:ident) { $($(#[$extra_meta:meta])* $extra:ident: $extra_ty:ty = $extra_init:expr,)* })?
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($($(#[$extra_meta])* pub $extra: $extra_ty,)*)?
            $($(#[$field_meta])* pub $field: &'static str,)*
        }

        impl $name {
            /// This struct's words in `locale` (English for a language not shipped).
            pub fn get(locale: $crate::domain::Locale) -> &'static $name {
                static TABLE: std::sync::LazyLock<std::collections::HashMap<$crate::domain::Locale, $name>> =
                    std::sync::LazyLock::new(|| $crate::domain::Locale::shipped().map(|l| (l, $name::load(l))).collect());
                TABLE.get(&locale).or_else(|| TABLE.get(&$crate::domain::Locale::EN)).expect("English is shipped")
            }

            /// The message ids this struct reads.
            pub fn ids() -> Vec<String> {
                [$(stringify!($field)),*].iter().map(|f| $crate::i18n::field_id($prefix, f)).collect()
            }

            #[allow(unused_variables)]
            fn load(locale: $crate::domain::Locale) -> $name {
                let c = $crate::i18n::catalogue(locale);
                $(let $locale = locale;)?
                $name {
                    $($($extra: $extra_init,)*)?
                    $($field: c.text(&$crate::i18n::field_id($prefix, stringify!($field))).leak(),)*
                }
            }
        }
    };
}
pub(crate) use message_struct;

/// The message id of a struct field: `prefix` + the field's name with `_` as `-`.
pub fn field_id(prefix: &str, field: &str) -> String {
    format!("{prefix}{}", field.replace('_', "-"))
}

/// The id part of a wire string (`payload_too_large` → `payload-too-large`).
pub fn kebab(wire: &str) -> String {
    wire.replace('_', "-")
}

/// A typed value in words: the message `<prefix>-<kebab value>` (a state, kind or channel).
pub fn in_words(c: &Catalogue, prefix: &str, value: &str) -> String {
    c.text(&format!("{prefix}-{}", kebab(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rights_value_is_in_words_in_every_language() {
        use crate::domain::rights::{Deadline, RequestChannel, RequestState, RightKind, Step};
        let values = RightKind::ALL
            .iter()
            .map(|v| ("rights-kind", v.as_str()))
            .chain(RequestChannel::ALL.iter().map(|v| ("rights-channel", v.as_str())))
            .chain(RequestState::ALL.iter().map(|v| ("rights-state", v.as_str())))
            .chain(Step::ALL.iter().map(|v| ("rights-step", v.as_str())))
            .chain(Deadline::ALL.iter().map(|v| ("rights-regime", v.as_str())));
        for (prefix, value) in values {
            for locale in Locale::shipped() {
                let id = format!("{prefix}-{}", kebab(value));
                assert!(catalogue(locale).has(&id), "{locale} lacks {id}");
            }
        }
    }

    #[test]
    fn every_shipped_catalogue_parses() {
        for locale in Locale::shipped() {
            assert_eq!(syntax_errors(locale), Vec::<String>::new());
        }
    }

    #[test]
    fn no_catalogue_defines_a_message_twice() {
        for locale in Locale::shipped() {
            let ids = catalogue(locale).ids();
            let unique: std::collections::HashSet<&String> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "{locale} defines a message twice");
        }
    }

    #[test]
    fn every_catalogue_says_everything_english_says() {
        let english = catalogue(Locale::EN);
        for locale in Locale::shipped() {
            let missing: Vec<&String> = english.ids().iter().filter(|id| !catalogue(locale).has(id)).collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
            let extra: Vec<&String> = catalogue(locale).ids().iter().filter(|id| !english.has(id)).collect();
            assert!(extra.is_empty(), "{locale} says what English does not: {extra:?}");
        }
    }

    #[test]
    fn dates_and_numbers_follow_the_language() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date");
        assert_eq!(catalogue(Locale::EN).date(day), "1 December 2026");
        assert_eq!(catalogue(Locale::KO).date(day), "2026년 12월 1일");
        assert_eq!(catalogue(Locale::JA).date(day), "2026年12月1日");
        assert_eq!(catalogue(Locale::EN).number(1_234_567), "1,234,567");
        assert_eq!(catalogue(Locale::EN).number(-999), "-999");
        assert_eq!(catalogue(Locale::EN).number(1000), "1,000");
    }

    #[test]
    fn retention_periods_read_naturally_in_each_language() {
        let r = crate::domain::Retention::parse("1y6m").unwrap();
        assert_eq!(catalogue(Locale::EN).retention(r), "1 year 6 months");
        assert_eq!(catalogue(Locale::KO).retention(r), "1년 6개월");
        assert_eq!(catalogue(Locale::EN).retention(crate::domain::Retention::months(36)), "3 years");
        assert_eq!(catalogue(Locale::JA).retention(r), "1年6か月");
        assert_eq!(
            crate::domain::Retention::parse("1d").map(|r| catalogue(Locale::EN).retention(r)).ok().as_deref(),
            Some("1 day")
        );
    }
}
