//! Every string a person reads, in Korean and English, in one place.

use crate::domain::Locale;
use crate::domain::form::{FieldError, FieldErrorCode};

/// The message catalogue for one language.
pub struct Strings {
    pub lang_name: &'static str,
    pub other_lang_label: &'static str,
    pub required_marker: &'static str,
    pub optional_marker: &'static str,
    pub required_purpose: &'static str,
    pub optional_purpose: &'static str,
    pub purposes_legend: &'static str,
    pub purposes_hint: &'static str,
    pub retention_label: &'static str,
    pub policy_link: &'static str,
    pub submit: &'static str,
    pub error_summary: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub thanks_back: &'static str,
    pub not_found: &'static str,
    pub unauthorized: &'static str,
    pub unavailable: &'static str,
    pub internal: &'static str,
    pub error_title: &'static str,
    pub policy_title: &'static str,
    pub policy_published: &'static str,
    pub policy_hash: &'static str,
    pub select_placeholder: &'static str,
}

static EN: Strings = Strings {
    lang_name: "English",
    other_lang_label: "한국어",
    required_marker: "required",
    optional_marker: "optional",
    required_purpose: "Required",
    optional_purpose: "Optional",
    purposes_legend: "How we may use your information",
    purposes_hint: "Tick what you agree to. Optional items can be left unticked; you will still get the service, and you can change your mind at any time.",
    retention_label: "Kept for",
    policy_link: "Full text",
    submit: "Submit",
    error_summary: "Please correct the highlighted fields.",
    thanks_title: "Thank you",
    thanks_body: "We have received your submission and recorded your choices.",
    thanks_back: "Back to the form",
    not_found: "This page does not exist.",
    unauthorized: "A valid API key is required (Authorization: Bearer …).",
    unavailable: "The service is briefly unavailable and nothing was saved. Please try again in a moment.",
    internal: "Something went wrong on our side and nothing was saved. Please try again.",
    error_title: "Sorry",
    policy_title: "Policy",
    policy_published: "Published",
    policy_hash: "Fingerprint (SHA-256)",
    select_placeholder: "Choose…",
};

static KO: Strings = Strings {
    lang_name: "한국어",
    other_lang_label: "English",
    required_marker: "필수",
    optional_marker: "선택",
    required_purpose: "[필수]",
    optional_purpose: "[선택]",
    purposes_legend: "개인정보 수집·이용 동의",
    purposes_hint: "동의하는 항목에 체크해 주세요. 선택 항목에 동의하지 않아도 서비스를 이용할 수 있으며, 언제든지 동의를 철회할 수 있습니다.",
    retention_label: "보유 기간",
    policy_link: "전문 보기",
    submit: "제출",
    error_summary: "표시된 항목을 확인해 주세요.",
    thanks_title: "감사합니다",
    thanks_body: "제출하신 내용과 동의 선택을 기록했습니다.",
    thanks_back: "양식으로 돌아가기",
    not_found: "페이지를 찾을 수 없습니다.",
    unauthorized: "유효한 API 키가 필요합니다 (Authorization: Bearer …).",
    unavailable: "일시적으로 서비스를 이용할 수 없으며 아무것도 저장되지 않았습니다. 잠시 후 다시 시도해 주세요.",
    internal: "처리 중 문제가 발생했으며 아무것도 저장되지 않았습니다. 다시 시도해 주세요.",
    error_title: "죄송합니다",
    policy_title: "동의 문구",
    policy_published: "게시일",
    policy_hash: "지문 (SHA-256)",
    select_placeholder: "선택하세요…",
};

impl Strings {
    pub fn get(locale: Locale) -> &'static Strings {
        match locale {
            Locale::En => &EN,
            Locale::Ko => &KO,
        }
    }

    fn is_ko(&self) -> bool {
        std::ptr::eq(self, &KO)
    }

    pub fn too_large(&self, limit: usize) -> String {
        if self.is_ko() {
            format!("요청이 너무 큽니다 (최대 {} KiB).", limit / 1024)
        } else {
            format!("The request is too large (at most {} KiB).", limit / 1024)
        }
    }

    pub fn unsupported_media_type(&self, expected: &str) -> String {
        if self.is_ko() {
            format!("지원하지 않는 형식입니다. {expected} 형식으로 보내 주세요.")
        } else {
            format!("Unsupported content type: send {expected}.")
        }
    }

    pub fn invalid_utf8(&self) -> String {
        if self.is_ko() {
            "요청이 올바른 UTF-8이 아닙니다.".into()
        } else {
            "The request is not valid UTF-8.".into()
        }
    }

    /// The message shown next to a refused field.
    pub fn field_error(&self, error: &FieldError) -> String {
        use FieldErrorCode as C;
        let ko = self.is_ko();
        let text = match (error.code, ko) {
            (C::Required, false) => "This field is required.",
            (C::Required, true) => "필수 입력 항목입니다.",
            (C::InvalidEmail, false) => "Enter an email address like name@example.com.",
            (C::InvalidEmail, true) => "name@example.com 형식의 이메일 주소를 입력해 주세요.",
            (C::InvalidPhone, false) => {
                "Enter a phone number of 6 to 20 digits, e.g. 010-1234-5678."
            }
            (C::InvalidPhone, true) => "010-1234-5678 처럼 6~20자리 전화번호를 입력해 주세요.",
            (C::InvalidDate, false) => "Enter a date as YYYY-MM-DD.",
            (C::InvalidDate, true) => "날짜를 YYYY-MM-DD 형식으로 입력해 주세요.",
            (C::InvalidChoice, false) => "Choose one of the options.",
            (C::InvalidChoice, true) => "목록에서 하나를 선택해 주세요.",
            (C::TooLong, _) => {
                let max = error.max_length.unwrap_or_default();
                return if ko {
                    format!("{max}자 이내로 입력해 주세요.")
                } else {
                    format!("Use at most {max} characters.")
                };
            }
            (C::InvalidCharacters, false) => "Remove the control characters from this field.",
            (C::InvalidCharacters, true) => "허용되지 않는 제어 문자가 있습니다.",
            (C::UnknownField, false) => "This form has no such field.",
            (C::UnknownField, true) => "이 양식에 없는 항목입니다.",
            (C::DuplicateField, false) => "This field was sent more than once.",
            (C::DuplicateField, true) => "같은 항목이 두 번 이상 전송되었습니다.",
            (C::UnknownPurpose, false) => "This form does not ask for that purpose.",
            (C::UnknownPurpose, true) => "이 양식에서 요청하지 않는 동의 항목입니다.",
            (C::PurposeRequired, false) => "This consent is required to provide the service.",
            (C::PurposeRequired, true) => "서비스 제공을 위해 필요한 동의입니다.",
            (C::InvalidType, false) => "This value must be text.",
            (C::InvalidType, true) => "문자열 값이어야 합니다.",
        };
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_has_its_own_messages() {
        let e = FieldError {
            field: "name".into(),
            code: FieldErrorCode::TooLong,
            max_length: Some(200),
        };
        assert_eq!(
            Strings::get(Locale::En).field_error(&e),
            "Use at most 200 characters."
        );
        assert_eq!(
            Strings::get(Locale::Ko).field_error(&e),
            "200자 이내로 입력해 주세요."
        );
        assert_eq!(Strings::get(Locale::Ko).required_purpose, "[필수]");
    }
}
