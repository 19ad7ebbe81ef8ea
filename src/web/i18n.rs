//! Every string a person reads on the public pages and `/me`: the typed views of the
//! catalogues (`locales/<tag>.ftl`, see `crate::i18n`); the sentences for stable codes are in
//! `messages.rs`.

use crate::domain::{ConsentStatus, Locale};
use crate::i18n::{catalogue, message_struct};
use fluent_bundle::FluentValue;

message_struct! {
    /// The public pages' words in one language (ids `page-<field>`).
    pub struct Strings("page-") {
        required_marker,
        optional_marker,
        required_purpose,
        optional_purpose,
        purposes_legend,
        purposes_hint,
        retention_label,
        items_label,
        refuse_optional,
        refuse_required,
        policy_link,
        submit,
        error_summary,
        thanks_title,
        thanks_body,
        thanks_back,
        not_found,
        unauthorized,
        unavailable,
        internal,
        error_title,
        policy_title,
        policy_published,
        policy_hash,
        select_placeholder,
        rate_limited,
        thanks_pending,
        thanks_guardian,
        /// Before the labels of values typed but not kept (none of their purposes was agreed to).
        thanks_dropped,
        /// Before the purposes a form field serves ("Used for: …").
        used_for,
    }
    extra(locale) {
        locale: Locale = locale,
        /// This language's own name (`lang-name`).
        lang_name: &'static str = catalogue(locale).text("lang-name").leak(),
        /// The label of the language switcher.
        languages_label: &'static str = catalogue(locale).text("languages-label").leak(),
        me: &'static MeStrings = MeStrings::get(locale),
    }
}

message_struct! {
    /// The preference center's words (ids `me-<field>`).
    pub struct MeStrings("me-") {
        title,
        intro,
        email_label,
        send_link,
        sent_title,
        sent_body,
        continue_title,
        continue_body,
        continue_button,
        ask_again,
        held_title,
        held_none,
        external_id,
        col_field,
        col_value,
        col_source,
        col_purposes,
        save,
        consents_title,
        status_granted,
        status_withdrawn,
        status_pending,
        status_expired,
        status_never,
        status_restricted,
        version,
        withdraw,
        grant,
        close_account,
        required_note,
        history_title,
        col_when,
        col_purpose,
        col_action,
        col_how,
        export_title,
        export_json,
        export_csv,
        receipt,
        delete_title,
        delete_body,
        delete_button,
        delete_link,
        ask_title,
        ask_intro,
        ask_kind,
        ask_restriction,
        ask_objection,
        ask_detail,
        ask_send,
        ask_sent,
        email_sent,
        email_confirm_title,
        email_confirm_body,
        email_confirm_button,
        email_changed_title,
        email_changed_body,
        cancel,
        deleted_title,
        deleted_body,
        sign_out,
        done,
        confirm_title,
        confirm_body,
        confirm_button,
        confirmed_title,
        confirmed_body,
        unsubscribe_title,
        unsubscribe_body,
        unsubscribe_button,
        unsubscribed_title,
        unsubscribed_body,
        manage_link,
        renew_title,
        renew_body,
        renew_button,
        decline_title,
        decline_body,
        decline_button,
        renewed_title,
        renewed_body,
        declined_title,
        declined_body,
    }
}

impl Strings {
    pub fn too_large(&self, limit: usize) -> String {
        catalogue(self.locale).format("page-too-large", &[("kib", FluentValue::from(limit / 1024))])
    }

    pub fn unsupported_media_type(&self, expected: &str) -> String {
        catalogue(self.locale).format("page-unsupported-media-type", &[("expected", FluentValue::from(expected))])
    }

    pub fn status(&self, status: ConsentStatus) -> &'static str {
        match status {
            ConsentStatus::Granted => self.me.status_granted,
            ConsentStatus::Withdrawn => self.me.status_withdrawn,
            ConsentStatus::Pending => self.me.status_pending,
            ConsentStatus::Expired => self.me.status_expired,
            ConsentStatus::Never => self.me.status_never,
            ConsentStatus::Restricted => self.me.status_restricted,
        }
    }

    pub fn invalid_utf8(&self) -> String {
        catalogue(self.locale).text("page-invalid-utf8")
    }

    /// "since 1 May 2026": the day a consent took its state.
    pub fn since(&self, day: chrono::NaiveDate) -> String {
        let c = catalogue(self.locale);
        c.format("me-since", &[("date", FluentValue::from(c.date(day)))])
    }

    /// "until 1 May 2027": the day a consent ends.
    pub fn until(&self, day: chrono::NaiveDate) -> String {
        let c = catalogue(self.locale);
        c.format("me-until", &[("date", FluentValue::from(c.date(day)))])
    }
}

/// One entry of a page's language switcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageLink {
    /// The language's tag, for `?lang=`, `lang` and `hreflang`.
    pub tag: &'static str,
    /// The language's name in itself (its catalogue's `lang-name`).
    pub name: &'static str,
    /// The page is shown in this language (marked `aria-current`, not a link).
    pub current: bool,
}

/// The switcher of a page shown in `current`, one entry per language `offered` (in that order).
pub fn languages(current: Locale, offered: &[Locale]) -> Vec<LanguageLink> {
    offered
        .iter()
        .map(|&l| LanguageLink { tag: l.as_str(), name: Strings::get(l).lang_name, current: l == current })
        .collect()
}

/// Every shipped language: what public pages and the console offer until a workspace chooses.
pub fn shipped_languages(current: Locale) -> Vec<LanguageLink> {
    languages(current, &Locale::shipped().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_the_structs_ask_for_is_in_english() {
        let english = catalogue(Locale::EN);
        for id in Strings::ids().iter().chain(&MeStrings::ids()) {
            assert!(english.has(id), "locales/en.ftl lacks {id}");
        }
        for id in ["lang-name", "languages-label", "page-too-large", "page-unsupported-media-type"] {
            assert!(english.has(id), "{id}");
        }
    }

    #[test]
    fn every_consent_state_has_words() {
        for status in [
            ConsentStatus::Granted,
            ConsentStatus::Withdrawn,
            ConsentStatus::Pending,
            ConsentStatus::Expired,
            ConsentStatus::Never,
        ] {
            for locale in Locale::shipped() {
                assert!(catalogue(locale).has(&format!("me-status-{}", status.as_str())), "{locale} {status:?}");
            }
        }
    }

    #[test]
    fn the_switcher_marks_the_current_language() {
        let links = languages(Locale::KO, &[Locale::EN, Locale::KO, Locale::JA]);
        let names: Vec<_> = links.iter().map(|l| (l.tag, l.name, l.current)).collect();
        assert_eq!(names, [("en", "English", false), ("ko", "한국어", true), ("ja", "日本語", false)]);
        assert_eq!(languages(Locale::EN, &[Locale::EN]).len(), 1);
    }

    #[test]
    fn sentences_take_their_arguments() {
        let (en, ko) = (Strings::get(Locale::EN), Strings::get(Locale::KO));
        assert_eq!(en.too_large(64 * 1024), "The request is too large (at most 64 KiB).");
        assert_eq!(ko.unsupported_media_type("JSON"), "지원하지 않는 형식입니다. JSON 형식으로 보내 주세요.");
        let day = chrono::NaiveDate::from_ymd_opt(2026, 5, 1).expect("a date");
        assert_eq!(en.since(day), "since 1 May 2026");
        assert_eq!(ko.until(day), "2026년 5월 1일까지");
        assert_eq!(en.submit, "Submit");
        assert_eq!(ko.me.title, "내 정보와 동의 관리");
    }
}
