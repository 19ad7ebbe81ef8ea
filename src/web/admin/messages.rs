//! The console's sentences looked up by a stable code: messages next to refused fields, refusals
//! and why a form cannot be published (the labels are in `strings.rs`).

use super::strings::AdminStrings;
use crate::domain::{ErrorCode, Locale};
use crate::web::i18n::Strings;

impl AdminStrings {
    /// The sentence for a stable code (field errors, refusals); a code the console has no
    /// sentence of its own for is said as the public pages say it.
    pub fn says(&self, code: ErrorCode) -> &'static str {
        let own = if self.lang == Locale::KO { says_ko(code) } else { says_en(code) };
        own.unwrap_or_else(|| Strings::get(self.lang).problem(code))
    }

    /// Why the builder cannot publish a form, naming the field or purpose concerned.
    pub fn definition_error(&self, e: &crate::domain::form::DefinitionError) -> String {
        use crate::domain::form::DefinitionError as D;
        let ko = self.lang == Locale::KO;
        match (e, ko) {
            (D::FieldWithoutPurpose(f), false) => {
                format!("Field \u{201c}{f}\u{201d} serves no purpose: choose at least one purpose for every field.")
            }
            (D::FieldWithoutPurpose(f), true) => {
                format!("‘{f}’ 항목에 이용 목적이 없습니다. 모든 항목에 목적을 하나 이상 선택해 주세요.")
            }
            (D::DuplicateField(f), false) => format!("Field \u{201c}{f}\u{201d} is declared twice."),
            (D::DuplicateField(f), true) => format!("‘{f}’ 항목이 두 번 있습니다."),
            (D::PurposeNotAsked { field, purpose }, false) => {
                format!(
                    "Field \u{201c}{field}\u{201d} serves \u{201c}{purpose}\u{201d}, which the form does not ask for: tick it under Purposes asked."
                )
            }
            (D::PurposeNotAsked { field, purpose }, true) => {
                format!(
                    "‘{field}’ 항목의 목적 ‘{purpose}’을(를) 양식에서 묻지 않습니다. 동의를 받을 목적에서 선택해 주세요."
                )
            }
            (D::UnknownPurpose(p), false) => format!("Purpose \u{201c}{p}\u{201d} does not exist."),
            (D::UnknownPurpose(p), true) => format!("‘{p}’ 목적이 없습니다."),
            (D::NoIdentity, false) => {
                "A form needs exactly one required field of type Email (the person's identity).".into()
            }
            (D::NoIdentity, true) => "필수 이메일 항목이 정확히 하나 있어야 합니다 (본인 확인용).".into(),
            (D::SelectWithoutChoices(f), false) => {
                format!("Field \u{201c}{f}\u{201d} is a choice list without choices.")
            }
            (D::SelectWithoutChoices(f), true) => format!("‘{f}’ 선택 목록에 선택지가 없습니다."),
            (D::NoPurposes, false) => "A form must ask for at least one purpose.".into(),
            (D::NoPurposes, true) => "양식은 목적을 하나 이상 물어야 합니다.".into(),
        }
    }

    /// Why a required purpose cannot rest on consent, naming it (PIPA art. 22(5), GDPR art. 7(4)).
    pub fn bundled_consent(&self, purpose: &str) -> String {
        if self.lang == Locale::KO {
            format!(
                "‘{purpose}’ 목적은 필수이므로 동의를 근거로 할 수 없습니다(개인정보 보호법 제22조 제5항, GDPR 제7조 제4항). \
                 계약 이행, 법적 의무 등 다른 법적 근거를 고르거나 선택 항목으로 바꿔 주세요."
            )
        } else {
            format!(
                "Purpose \u{201c}{purpose}\u{201d} is required, so it cannot rest on consent (PIPA art. 22(5), GDPR art. 7(4)): \
                 choose another legal basis (contract, legal obligation, …) or make it optional."
            )
        }
    }
}

fn says_en(code: ErrorCode) -> Option<&'static str> {
    use ErrorCode as C;
    Some(match code {
        C::BadCredentials => "The email address or password is not right.",
        C::Locked => "Too many failed attempts: this account is locked for 15 minutes. Please try again later.",
        C::EmailRequired => "Enter your email address.",
        C::PasswordRequired => "Enter your password.",
        C::OwnerRoleRequired => "Only owners can change this; your account can read only.",
        C::CsrfFailed => "This page was open too long or came from elsewhere. Reload it and try again.",
        C::SessionRequired => "Your session has ended. Please sign in again.",
        C::RateLimited => "Too many sign-in attempts. Please wait a while and try again.",
        C::KeyTaken => "This key is already used.",
        C::InvalidRetention => "Enter a period such as 2y, 6m, 90d or 1y6m, or choose a preset.",
        C::InvalidChoice => "Choose one of the options.",
        C::InvalidNumber => "Enter a whole number from 0 to 365.",
        C::InvalidLength => "Enter a whole number from 1 to 10000, or leave it empty.",
        C::InvalidOrigin => {
            "Each line must be an origin like https://shop.example or http://localhost:3000, with no path."
        }
        C::InvalidChoices => "Write each choice as value|English|Korean, with a key-like value.",
        C::NotFound => "There is no such item.",
        C::PiiExportOwnerOnly => {
            "Exports contain personal data: only owners can download them. Your account can read only."
        }
        C::Required => "This field is required.",
        C::TooLong => "This is too long.",
        C::InvalidKey => "Use 1 to 64 characters: a-z, 0-9 and _, starting with a letter.",
        // Not the console's own: said as the public pages say it.
        C::ValidationFailed | C::Unauthorized | C::PayloadTooLarge | C::UnsupportedMediaType => return None,
        C::ServiceUnavailable | C::MethodNotAllowed | C::InternalError | C::FormNotFound => return None,
        C::SubjectNotFound | C::PurposeNotFound | C::FieldNotFound | C::PolicyNotFound => return None,
        C::SubmissionNotFound | C::SubjectErased | C::NotGranted | C::AlreadyGranted => return None,
        C::RequiredPurpose | C::EmailInUse | C::LinkInvalid | C::LinkExpired | C::LinkUsed => return None,
        C::InvalidBody | C::InvalidUtf8 | C::InvalidRequest | C::MalformedJson => return None,
        C::UnsupportedLocale | C::InvalidQuery | C::InvalidAction | C::MetricsForbidden => return None,
        C::CorsOriginNotAllowed | C::CrossSitePost => return None,
        // Named with its purpose: see `bundled_consent`.
        C::BundledConsent => return None,
    })
}

fn says_ko(code: ErrorCode) -> Option<&'static str> {
    use ErrorCode as C;
    Some(match code {
        C::BadCredentials => "이메일 주소 또는 비밀번호가 올바르지 않습니다.",
        C::Locked => "로그인에 여러 번 실패하여 계정이 15분 동안 잠겼습니다. 잠시 후 다시 시도해 주세요.",
        C::EmailRequired => "이메일 주소를 입력해 주세요.",
        C::PasswordRequired => "비밀번호를 입력해 주세요.",
        C::OwnerRoleRequired => "소유자만 변경할 수 있습니다. 이 계정은 읽기 전용입니다.",
        C::CsrfFailed => "페이지가 오래되었거나 다른 곳에서 전송되었습니다. 새로고침 후 다시 시도해 주세요.",
        C::SessionRequired => "세션이 끝났습니다. 다시 로그인해 주세요.",
        C::RateLimited => "로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요.",
        C::KeyTaken => "이미 사용 중인 키입니다.",
        C::InvalidRetention => "2y, 6m, 90d, 1y6m 같은 기간을 입력하거나 법정 기간을 고르세요.",
        C::InvalidChoice => "목록에서 하나를 선택해 주세요.",
        C::InvalidNumber => "0에서 365 사이의 정수를 입력해 주세요.",
        C::InvalidLength => "1에서 10000 사이의 정수를 입력하거나 비워 두세요.",
        C::InvalidOrigin => "각 줄은 https://shop.example 또는 http://localhost:3000 처럼 경로 없는 출처여야 합니다.",
        C::InvalidChoices => "선택지는 값|영어|한국어 형식으로, 값은 키 형식으로 적어 주세요.",
        C::NotFound => "해당 항목이 없습니다.",
        C::PiiExportOwnerOnly => {
            "내보내기 파일에는 개인정보가 있어 소유자만 내려받을 수 있습니다. 이 계정은 읽기 전용입니다."
        }
        C::Required => "필수 입력 항목입니다.",
        C::TooLong => "너무 깁니다.",
        C::InvalidKey => "영문 소문자로 시작하는 1~64자의 a-z, 0-9, _ 만 사용할 수 있습니다.",
        // Not the console's own: said as the public pages say it.
        C::ValidationFailed | C::Unauthorized | C::PayloadTooLarge | C::UnsupportedMediaType => return None,
        C::ServiceUnavailable | C::MethodNotAllowed | C::InternalError | C::FormNotFound => return None,
        C::SubjectNotFound | C::PurposeNotFound | C::FieldNotFound | C::PolicyNotFound => return None,
        C::SubmissionNotFound | C::SubjectErased | C::NotGranted | C::AlreadyGranted => return None,
        C::RequiredPurpose | C::EmailInUse | C::LinkInvalid | C::LinkExpired | C::LinkUsed => return None,
        C::InvalidBody | C::InvalidUtf8 | C::InvalidRequest | C::MalformedJson => return None,
        C::UnsupportedLocale | C::InvalidQuery | C::InvalidAction | C::MetricsForbidden => return None,
        C::CorsOriginNotAllowed | C::CrossSitePost => return None,
        C::BundledConsent => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_console_sentence_in_both_languages() {
        let (en, ko) = (AdminStrings::get(Locale::EN), AdminStrings::get(Locale::KO));
        for &code in ErrorCode::ALL {
            let (e, k) = (en.says(code), ko.says(code));
            assert!(!e.is_empty() && e.is_ascii(), "{code}: {e}");
            assert!(k.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)), "{code}: {k}");
        }
        assert_eq!(en.says(ErrorCode::SessionRequired), "Your session has ended. Please sign in again.");
        // Codes the console has no sentence for are said as the public pages say them.
        assert_eq!(en.says(ErrorCode::LinkUsed), Strings::get(Locale::EN).problem(ErrorCode::LinkUsed));
    }
}
