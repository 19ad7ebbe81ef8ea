//! The sentences people and integrators read for a stable code: a problem's [`ErrorCode`] and a
//! refused field's [`FieldErrorCode`], in English and Korean (the labels are in `i18n.rs`).
//!
//! Each language is one exhaustive `match`, so a new code does not compile until both languages
//! say something for it.

use super::i18n::Strings;
use crate::domain::ErrorCode;
use crate::domain::form::{FieldError, FieldErrorCode};

impl Strings {
    /// The sentence for a stable problem code.
    pub fn problem(&self, code: ErrorCode) -> &'static str {
        if self.is_ko() { problem_ko(code) } else { problem_en(code) }
    }

    /// The message shown next to a refused field.
    pub fn field_error(&self, error: &FieldError) -> String {
        let text = if self.is_ko() { field_ko(error.code) } else { field_en(error.code) };
        text.replace("{max}", &error.max_length.unwrap_or_default().to_string())
    }
}

fn problem_en(code: ErrorCode) -> &'static str {
    use ErrorCode as C;
    match code {
        C::SubjectErased => "This person's data has been erased.",
        C::NotGranted => "That consent is not currently given, so there is nothing to withdraw.",
        C::AlreadyGranted => "That consent is already given.",
        C::RequiredPurpose => "This purpose is needed for the service; withdrawing it means deleting the account.",
        C::EmailInUse => "Another person already uses that address.",
        C::LinkInvalid => "This link is not valid. Ask for a new one.",
        C::LinkExpired => "This link has expired. Ask for a new one.",
        C::LinkUsed => "This link has already been used. Ask for a new one.",
        C::CsrfFailed => "This page was open too long or came from elsewhere. Reload it and try again.",
        C::CrossSitePost => {
            "This form can only be sent from its own page or from a site its owner allows. Nothing was \
             saved: open the form on its own page and send it there."
        }
        C::BundledConsent => "A purpose needed for the service cannot rest on consent.",
        C::SessionRequired => "Please sign in again.",
        C::MethodNotAllowed => "This address does not answer that method; see the Allow header.",
        // Said by their own sentence in `Strings` or by the problem's detail, or console codes
        // (`AdminStrings::says`): when one is asked for here, the general sentence.
        C::ValidationFailed | C::Unauthorized | C::PayloadTooLarge | C::UnsupportedMediaType => GENERAL_EN,
        C::ServiceUnavailable | C::RateLimited | C::InternalError | C::MetricsForbidden => GENERAL_EN,
        C::CorsOriginNotAllowed | C::InvalidBody | C::InvalidUtf8 | C::InvalidRequest => GENERAL_EN,
        C::MalformedJson | C::UnsupportedLocale | C::InvalidQuery | C::InvalidAction => GENERAL_EN,
        C::NotFound | C::FormNotFound | C::SubjectNotFound | C::PurposeNotFound => GENERAL_EN,
        C::FieldNotFound | C::PolicyNotFound | C::SubmissionNotFound => GENERAL_EN,
        C::BadCredentials | C::Locked | C::EmailRequired | C::PasswordRequired => GENERAL_EN,
        C::OwnerRoleRequired | C::PiiExportOwnerOnly | C::KeyTaken | C::InvalidKey => GENERAL_EN,
        C::InvalidRetention | C::InvalidChoice | C::InvalidNumber | C::InvalidLength => GENERAL_EN,
        C::InvalidOrigin | C::InvalidChoices | C::Required | C::TooLong => GENERAL_EN,
    }
}

const GENERAL_EN: &str = "The request could not be completed.";
const GENERAL_KO: &str = "요청을 처리할 수 없습니다.";

fn problem_ko(code: ErrorCode) -> &'static str {
    use ErrorCode as C;
    match code {
        C::SubjectErased => "이 사람의 정보는 삭제되었습니다.",
        C::NotGranted => "현재 동의 상태가 아니어서 철회할 것이 없습니다.",
        C::AlreadyGranted => "이미 동의한 항목입니다.",
        C::RequiredPurpose => "서비스 제공에 필요한 항목입니다. 철회하려면 탈퇴(삭제)해야 합니다.",
        C::EmailInUse => "다른 사람이 이미 사용하는 주소입니다.",
        C::LinkInvalid => "유효하지 않은 링크입니다. 새 링크를 요청해 주세요.",
        C::LinkExpired => "링크가 만료되었습니다. 새 링크를 요청해 주세요.",
        C::LinkUsed => "이미 사용한 링크입니다. 새 링크를 요청해 주세요.",
        C::CsrfFailed => "페이지가 오래되었거나 다른 곳에서 전송되었습니다. 새로고침 후 다시 시도해 주세요.",
        C::CrossSitePost => {
            "이 양식은 양식 페이지나 운영자가 허용한 사이트에서만 보낼 수 있습니다. 아무것도 저장되지 \
             않았습니다. 양식 페이지를 직접 열어 다시 보내 주세요."
        }
        C::BundledConsent => "서비스 제공에 필요한 목적은 동의를 근거로 할 수 없습니다.",
        C::SessionRequired => "다시 로그인해 주세요.",
        C::MethodNotAllowed => "이 주소는 해당 메서드를 지원하지 않습니다. Allow 헤더를 확인해 주세요.",
        C::ValidationFailed | C::Unauthorized | C::PayloadTooLarge | C::UnsupportedMediaType => GENERAL_KO,
        C::ServiceUnavailable | C::RateLimited | C::InternalError | C::MetricsForbidden => GENERAL_KO,
        C::CorsOriginNotAllowed | C::InvalidBody | C::InvalidUtf8 | C::InvalidRequest => GENERAL_KO,
        C::MalformedJson | C::UnsupportedLocale | C::InvalidQuery | C::InvalidAction => GENERAL_KO,
        C::NotFound | C::FormNotFound | C::SubjectNotFound | C::PurposeNotFound => GENERAL_KO,
        C::FieldNotFound | C::PolicyNotFound | C::SubmissionNotFound => GENERAL_KO,
        C::BadCredentials | C::Locked | C::EmailRequired | C::PasswordRequired => GENERAL_KO,
        C::OwnerRoleRequired | C::PiiExportOwnerOnly | C::KeyTaken | C::InvalidKey => GENERAL_KO,
        C::InvalidRetention | C::InvalidChoice | C::InvalidNumber | C::InvalidLength => GENERAL_KO,
        C::InvalidOrigin | C::InvalidChoices | C::Required | C::TooLong => GENERAL_KO,
    }
}

/// `{max}` stands for the field's longest allowed length.
fn field_en(code: FieldErrorCode) -> &'static str {
    use FieldErrorCode as C;
    match code {
        C::Required => "This field is required.",
        C::InvalidEmail => "Enter an email address like name@example.com.",
        C::InvalidPhone => "Enter a phone number of 6 to 20 digits, e.g. 010-1234-5678.",
        C::InvalidDate => "Enter a date as YYYY-MM-DD.",
        C::InvalidChoice => "Choose one of the options.",
        C::TooLong => "Use at most {max} characters.",
        C::InvalidCharacters => "Remove the control characters from this field.",
        C::UnknownField => "This form has no such field.",
        C::DuplicateField => "This field was sent more than once.",
        C::UnknownPurpose => "This form does not ask for that purpose.",
        C::PurposeRequired => "This consent is required to provide the service.",
        C::WordingChanged => {
            "This wording changed while the form was open. Please read it again and send the form again."
        }
        C::InvalidType => "This value must be text.",
    }
}

fn field_ko(code: FieldErrorCode) -> &'static str {
    use FieldErrorCode as C;
    match code {
        C::Required => "필수 입력 항목입니다.",
        C::InvalidEmail => "name@example.com 형식의 이메일 주소를 입력해 주세요.",
        C::InvalidPhone => "010-1234-5678 처럼 6~20자리 전화번호를 입력해 주세요.",
        C::InvalidDate => "날짜를 YYYY-MM-DD 형식으로 입력해 주세요.",
        C::InvalidChoice => "목록에서 하나를 선택해 주세요.",
        C::TooLong => "{max}자 이내로 입력해 주세요.",
        C::InvalidCharacters => "허용되지 않는 제어 문자가 있습니다.",
        C::UnknownField => "이 양식에 없는 항목입니다.",
        C::DuplicateField => "같은 항목이 두 번 이상 전송되었습니다.",
        C::UnknownPurpose => "이 양식에서 요청하지 않는 동의 항목입니다.",
        C::PurposeRequired => "서비스 제공을 위해 필요한 동의입니다.",
        C::WordingChanged => "양식을 여신 사이 안내 문구가 바뀌었습니다. 다시 읽어 보시고 양식을 다시 보내 주세요.",
        C::InvalidType => "문자열 값이어야 합니다.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Locale;

    fn hangul(s: &str) -> bool {
        s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
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
        assert_eq!(Strings::get(Locale::KO).required_purpose, "[필수]");
    }
}
