//! The console's sentences looked up by a stable code: messages next to refused fields, refusals
//! and why a form cannot be published (the labels are in `strings.rs`).

use super::strings::AdminStrings;
use crate::domain::Locale;

impl AdminStrings {
    /// The sentence for a stable message code (field errors, notices, refusals).
    pub fn says(&self, code: &str) -> &'static str {
        let ko = self.lang == Locale::Ko;
        match (code, ko) {
            ("bad_credentials", false) => "The email address or password is not right.",
            ("bad_credentials", true) => "이메일 주소 또는 비밀번호가 올바르지 않습니다.",
            ("locked", false) => {
                "Too many failed attempts: this account is locked for 15 minutes. Please try again later."
            }
            ("locked", true) => "로그인에 여러 번 실패하여 계정이 15분 동안 잠겼습니다. 잠시 후 다시 시도해 주세요.",
            ("email_required", false) => "Enter your email address.",
            ("email_required", true) => "이메일 주소를 입력해 주세요.",
            ("password_required", false) => "Enter your password.",
            ("password_required", true) => "비밀번호를 입력해 주세요.",
            ("owner_role_required", false) => "Only owners can change this; your account can read only.",
            ("owner_role_required", true) => "소유자만 변경할 수 있습니다. 이 계정은 읽기 전용입니다.",
            ("csrf_failed", false) => "This page was open too long or came from elsewhere. Reload it and try again.",
            ("csrf_failed", true) => {
                "페이지가 오래되었거나 다른 곳에서 전송되었습니다. 새로고침 후 다시 시도해 주세요."
            }
            ("session_required", false) => "Your session has ended. Please sign in again.",
            ("session_required", true) => "세션이 끝났습니다. 다시 로그인해 주세요.",
            ("rate_limited", false) => "Too many sign-in attempts. Please wait a while and try again.",
            ("rate_limited", true) => "로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요.",
            ("key_taken", false) => "This key is already used.",
            ("key_taken", true) => "이미 사용 중인 키입니다.",
            ("invalid_retention", false) => "Enter a period such as 2y, 6m, 90d or 1y6m, or choose a preset.",
            ("invalid_retention", true) => "2y, 6m, 90d, 1y6m 같은 기간을 입력하거나 법정 기간을 고르세요.",
            ("invalid_choice", false) => "Choose one of the options.",
            ("invalid_choice", true) => "목록에서 하나를 선택해 주세요.",
            ("invalid_number", false) => "Enter a whole number from 0 to 365.",
            ("invalid_number", true) => "0에서 365 사이의 정수를 입력해 주세요.",
            ("invalid_length", false) => "Enter a whole number from 1 to 10000, or leave it empty.",
            ("invalid_length", true) => "1에서 10000 사이의 정수를 입력하거나 비워 두세요.",
            ("invalid_origin", false) => {
                "Each line must be an origin like https://shop.example or http://localhost:3000, with no path."
            }
            ("invalid_origin", true) => {
                "각 줄은 https://shop.example 또는 http://localhost:3000 처럼 경로 없는 출처여야 합니다."
            }
            ("invalid_choices", false) => "Write each choice as value|English|Korean, with a key-like value.",
            ("invalid_choices", true) => "선택지는 값|영어|한국어 형식으로, 값은 키 형식으로 적어 주세요.",
            ("no_purpose", false) => "Choose at least one purpose.",
            ("no_purpose", true) => "목적을 하나 이상 선택해 주세요.",
            ("not_found", false) => "There is no such item.",
            ("not_found", true) => "해당 항목이 없습니다.",
            ("pii_export_owner_only", false) => {
                "Exports contain personal data: only owners can download them. Your account can read only."
            }
            ("pii_export_owner_only", true) => {
                "내보내기 파일에는 개인정보가 있어 소유자만 내려받을 수 있습니다. 이 계정은 읽기 전용입니다."
            }
            ("required", false) => "This field is required.",
            ("required", true) => "필수 입력 항목입니다.",
            ("too_long", false) => "This is too long.",
            ("too_long", true) => "너무 깁니다.",
            ("invalid_key", false) => "Use 1 to 64 characters: a-z, 0-9 and _, starting with a letter.",
            ("invalid_key", true) => "영문 소문자로 시작하는 1~64자의 a-z, 0-9, _ 만 사용할 수 있습니다.",
            (_, false) => "This value is not valid.",
            (_, true) => "올바르지 않은 값입니다.",
        }
    }

    /// Why the builder cannot publish a form, naming the field or purpose concerned.
    pub fn definition_error(&self, e: &crate::domain::form::DefinitionError) -> String {
        use crate::domain::form::DefinitionError as D;
        let ko = self.lang == Locale::Ko;
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
        if self.lang == Locale::Ko {
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
