//! The sentences people and integrators read for a stable code: a problem's [`ErrorCode`]
//! (`problem-<code>`) and a refused field's [`FieldErrorCode`] (`field-error-<code>`), read from
//! the catalogues (the labels are in `i18n.rs`).
//!
//! Which problem codes have a sentence of their own is one exhaustive `match`
//! ([`has_own_sentence`]), so a new code does not compile until someone decides; the tests walk
//! every code and every shipped catalogue.

use super::i18n::Strings;
use crate::domain::form::{FieldError, FieldErrorCode};
use crate::domain::{ErrorCode, Locale};
use crate::i18n::{catalogue, kebab};
use fluent_bundle::FluentValue;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Whether the public pages say `code` in a sentence of its own; the others are said by their own
/// field in [`Strings`], by the problem's detail, or are console codes (`AdminStrings::says`), and
/// read `problem-general` when asked for here.
pub fn has_own_sentence(code: ErrorCode) -> bool {
    use ErrorCode as C;
    match code {
        C::SubjectErased | C::NotGranted | C::AlreadyGranted | C::RequiredPurpose | C::EmailInUse => true,
        C::ExternalIdTaken | C::WebhookNameTaken | C::WebhookDeclaredInFile => true,
        C::LinkInvalid | C::LinkExpired | C::LinkUsed | C::CsrfFailed | C::CrossSitePost => true,
        C::BundledConsent | C::SessionRequired | C::MethodNotAllowed => true,
        C::RequestClosed | C::IdentityNotVerified | C::AlreadyVerified | C::AlreadyStarted => true,
        C::AlreadyExtended | C::ExtensionNotAllowed | C::RequestChanged | C::InsufficientScope => true,
        C::RequestTimeout => true,
        C::ValidationFailed | C::Unauthorized | C::PayloadTooLarge | C::UnsupportedMediaType => false,
        C::ServiceUnavailable | C::RateLimited | C::InternalError | C::MetricsForbidden => false,
        C::CorsOriginNotAllowed | C::InvalidBody | C::InvalidUtf8 | C::InvalidRequest => false,
        C::MalformedJson | C::UnsupportedLocale | C::InvalidQuery | C::InvalidAction => false,
        C::NotFound | C::FormNotFound | C::SubjectNotFound | C::PurposeNotFound => false,
        C::FieldNotFound | C::PolicyNotFound | C::SubmissionNotFound | C::ReceiptNotFound => false,
        C::WebhookNotFound | C::DeliveryNotFound | C::ImportNotFound | C::RightsRequestNotFound => false,
        C::BadCredentials | C::Locked | C::EmailRequired | C::PasswordRequired => false,
        C::OwnerRoleRequired | C::PiiExportOwnerOnly | C::KeyTaken | C::InvalidKey => false,
        C::RoleNotAllowed | C::NotYourself | C::LastOwner => false,
        C::PrivacyOfficerRequired => false,
        C::InvalidRetention | C::InvalidChoice | C::InvalidNumber | C::InvalidLength => false,
        C::InvalidOrigin | C::InvalidChoices | C::Required | C::TooLong => false,
    }
}

/// The catalogue id of a problem code's sentence.
pub fn problem_id(code: ErrorCode) -> String {
    if has_own_sentence(code) { format!("problem-{}", kebab(code.as_str())) } else { "problem-general".to_owned() }
}

/// The catalogue id of a refused field's message.
pub fn field_error_id(code: FieldErrorCode) -> String {
    format!("field-error-{}", kebab(code.as_str()))
}

/// Every problem sentence of every shipped language, read once.
static PROBLEMS: LazyLock<HashMap<(Locale, ErrorCode), &'static str>> = LazyLock::new(|| {
    Locale::shipped()
        .flat_map(|l| ErrorCode::ALL.iter().map(move |&code| ((l, code), catalogue(l).text(&problem_id(code)).leak())))
        .map(|(key, text)| (key, &*text))
        .collect()
});

impl Strings {
    /// The sentence for a stable problem code.
    pub fn problem(&self, code: ErrorCode) -> &'static str {
        PROBLEMS.get(&(self.locale, code)).or_else(|| PROBLEMS.get(&(Locale::EN, code))).copied().unwrap_or_default()
    }

    /// The message shown next to a refused field.
    pub fn field_error(&self, error: &FieldError) -> String {
        let max = FluentValue::from(error.max_length.unwrap_or_default());
        catalogue(self.locale).format(&field_error_id(error.code), &[("max", max)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hangul(s: &str) -> bool {
        s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
    }

    #[test]
    fn every_problem_and_field_id_is_in_every_catalogue() {
        for locale in Locale::shipped() {
            let c = catalogue(locale);
            for &code in ErrorCode::ALL {
                assert!(c.has(&problem_id(code)), "{locale} lacks {}", problem_id(code));
            }
            for code in FieldErrorCode::ALL {
                assert!(c.has(&field_error_id(code)), "{locale} lacks {}", field_error_id(code));
            }
        }
        // No sentence is left in English that no code says.
        let said: Vec<String> = ErrorCode::ALL.iter().map(|&c| problem_id(c)).collect();
        for id in catalogue(Locale::EN).ids().iter().filter(|id| id.starts_with("problem-")) {
            assert!(said.contains(id), "{id} is said by no code");
        }
    }

    #[test]
    fn every_problem_code_has_a_sentence_in_both_languages() {
        let (en, ko) = (Strings::get(Locale::EN), Strings::get(Locale::KO));
        for &code in ErrorCode::ALL {
            let (e, k) = (en.problem(code), ko.problem(code));
            assert!(!e.is_empty() && !hangul(e), "{code}: {e}");
            assert!(hangul(k), "{code}: {k}");
        }
        assert_eq!(en.problem(ErrorCode::LinkUsed), "This link has already been used. Ask for a new one.");
        assert_eq!(ko.problem(ErrorCode::SubjectErased), "이 사람의 정보는 삭제되었습니다.");
        // Codes without a sentence of their own keep the general one.
        assert_eq!(en.problem(ErrorCode::MetricsForbidden), "The request could not be completed.");
    }

    #[test]
    fn every_field_code_has_a_message_in_both_languages() {
        let (en, ko) = (Strings::get(Locale::EN), Strings::get(Locale::KO));
        for code in FieldErrorCode::ALL {
            let error = FieldError { field: "name".into(), code, max_length: Some(7) };
            let (e, k) = (en.field_error(&error), ko.field_error(&error));
            assert!(!e.is_empty() && !hangul(&e) && !e.contains('{'), "{code:?}: {e}");
            assert!(hangul(&k) && !k.contains('{'), "{code:?}: {k}");
        }
    }

    #[test]
    fn each_language_has_its_own_messages() {
        let e = FieldError { field: "name".into(), code: FieldErrorCode::TooLong, max_length: Some(200) };
        assert_eq!(Strings::get(Locale::EN).field_error(&e), "Use at most 200 characters.");
        assert_eq!(Strings::get(Locale::KO).field_error(&e), "200자 이내로 입력해 주세요.");
        assert_eq!(Strings::get(Locale::JA).field_error(&e), "200文字以内で入力してください。");
        assert_eq!(Strings::get(Locale::KO).required_purpose, "[필수]");
    }
}
