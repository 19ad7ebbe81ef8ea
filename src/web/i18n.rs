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
    pub rate_limited: &'static str,
    pub thanks_pending: &'static str,
    /// Before the labels of values typed but not kept (none of their purposes was agreed to).
    pub thanks_dropped: &'static str,
    /// Before the purposes a form field serves ("Used for: …").
    pub used_for: &'static str,
    pub me: MeStrings,
}

/// The preference center's words.
pub struct MeStrings {
    pub title: &'static str,
    pub intro: &'static str,
    pub email_label: &'static str,
    pub send_link: &'static str,
    pub sent_title: &'static str,
    pub sent_body: &'static str,
    pub continue_title: &'static str,
    pub continue_body: &'static str,
    pub continue_button: &'static str,
    pub ask_again: &'static str,
    pub held_title: &'static str,
    pub held_none: &'static str,
    pub col_field: &'static str,
    pub col_value: &'static str,
    pub col_source: &'static str,
    pub col_purposes: &'static str,
    pub save: &'static str,
    pub consents_title: &'static str,
    pub status_granted: &'static str,
    pub status_withdrawn: &'static str,
    pub status_pending: &'static str,
    pub status_expired: &'static str,
    pub status_never: &'static str,
    pub since: &'static str,
    pub expires: &'static str,
    pub version: &'static str,
    pub withdraw: &'static str,
    pub grant: &'static str,
    pub close_account: &'static str,
    pub required_note: &'static str,
    pub history_title: &'static str,
    pub col_when: &'static str,
    pub col_purpose: &'static str,
    pub col_action: &'static str,
    pub col_how: &'static str,
    pub export_title: &'static str,
    pub export_json: &'static str,
    pub export_csv: &'static str,
    pub receipt: &'static str,
    pub delete_title: &'static str,
    pub delete_body: &'static str,
    pub delete_button: &'static str,
    pub delete_link: &'static str,
    pub cancel: &'static str,
    pub deleted_title: &'static str,
    pub deleted_body: &'static str,
    pub sign_out: &'static str,
    pub done: &'static str,
    pub confirm_title: &'static str,
    pub confirm_body: &'static str,
    pub confirm_button: &'static str,
    pub confirmed_title: &'static str,
    pub confirmed_body: &'static str,
    pub unsubscribe_title: &'static str,
    pub unsubscribe_body: &'static str,
    pub unsubscribe_button: &'static str,
    pub unsubscribed_title: &'static str,
    pub unsubscribed_body: &'static str,
    pub manage_link: &'static str,
    pub renew_title: &'static str,
    pub renew_body: &'static str,
    pub renew_button: &'static str,
    pub decline_title: &'static str,
    pub decline_body: &'static str,
    pub decline_button: &'static str,
    pub renewed_title: &'static str,
    pub renewed_body: &'static str,
    pub declined_title: &'static str,
    pub declined_body: &'static str,
}

static EN: Strings = Strings {
    lang_name: "English",
    other_lang_label: "한국어",
    required_marker: "required",
    optional_marker: "optional",
    required_purpose: "[Required]",
    optional_purpose: "[Optional]",
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
    rate_limited: "Too many requests. Please wait a while and try again.",
    thanks_pending: "We have sent you an email: please click the link in it to confirm your subscription. Until you do, nothing will be sent to you.",
    thanks_dropped: "You filled these in, but did not agree to any purpose they are used for, so we did not keep them:",
    used_for: "Used for:",
    me: MeStrings {
        title: "Your data and consents",
        intro: "See, correct, export or delete the data we hold about you, and choose what you agree to. No password needed: we send a sign-in link to your email address.",
        email_label: "Email address",
        send_link: "Send me a sign-in link",
        sent_title: "Check your inbox",
        sent_body: "If we hold data for this address, a sign-in link is on its way. It works once, for 15 minutes.",
        continue_title: "Sign in",
        continue_body: "Continue to see and manage the data we hold about you.",
        continue_button: "Continue",
        ask_again: "Ask for a new link",
        held_title: "What we hold about you",
        held_none: "We hold no values about you.",
        col_field: "Information",
        col_value: "Value",
        col_source: "Given on",
        col_purposes: "Kept for",
        save: "Save",
        consents_title: "What you agreed to",
        status_granted: "Agreed",
        status_withdrawn: "Withdrawn",
        status_pending: "Waiting for your confirmation",
        status_expired: "Expired",
        status_never: "Not given",
        since: "since",
        expires: "until",
        version: "wording version",
        withdraw: "Withdraw",
        grant: "Agree",
        close_account: "Close my account and delete my data",
        required_note: "Needed to provide the service: withdrawing it closes your account.",
        history_title: "History",
        col_when: "When (UTC)",
        col_purpose: "Purpose",
        col_action: "What happened",
        col_how: "How",
        export_title: "Take your data with you",
        export_json: "Download as JSON",
        export_csv: "Download as CSV",
        receipt: "Download your consent receipt (signed)",
        delete_title: "Delete everything",
        delete_body: "This deletes all the data we hold about you and destroys the key that protects it. It cannot be undone. We keep only a record, naming no one, that a deletion took place, and send one last mail to confirm.",
        delete_button: "Yes, delete everything",
        delete_link: "Delete all my data",
        cancel: "Cancel",
        deleted_title: "Your data has been deleted",
        deleted_body: "Everything we held about you is gone. A confirmation is on its way to your address.",
        sign_out: "Sign out",
        done: "Saved. Your updated consent receipt is ready to download.",
        confirm_title: "Confirm your subscription",
        confirm_body: "Confirm that you want to receive what you ticked.",
        confirm_button: "Yes, I confirm",
        confirmed_title: "Thank you, confirmed",
        confirmed_body: "Your subscription is confirmed. You can withdraw at any time.",
        unsubscribe_title: "Unsubscribe",
        unsubscribe_body: "Stop receiving these messages? Your other choices stay as they are.",
        unsubscribe_button: "Unsubscribe",
        unsubscribed_title: "You are unsubscribed",
        unsubscribed_body: "You will not receive these messages any more.",
        manage_link: "Manage all your data and consents",
        renew_title: "Extend your consent",
        renew_body: "Keep this consent, and the data it covers, for another period?",
        renew_button: "Yes, extend",
        decline_title: "Let your consent end",
        decline_body: "End this consent now? The data kept only for it will be deleted.",
        decline_button: "End it and delete that data",
        renewed_title: "Extended",
        renewed_body: "Thank you. Your consent now runs for another period.",
        declined_title: "Ended",
        declined_body: "Your consent has ended and the data kept only for it has been deleted.",
    },
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
    rate_limited: "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
    thanks_pending: "확인 메일을 보내 드렸습니다. 메일의 링크를 눌러 수신 동의를 확인해 주세요. 확인 전에는 아무것도 발송되지 않습니다.",
    thanks_dropped: "아래 항목은 입력하셨지만 이용 목적에 동의하지 않으셔서 저장하지 않았습니다:",
    used_for: "이용 목적:",
    me: MeStrings {
        title: "내 정보와 동의 관리",
        intro: "보관 중인 내 정보를 확인, 수정, 내려받기, 삭제하고 동의 항목을 선택할 수 있습니다. 비밀번호 없이 이메일로 로그인 링크를 보내 드립니다.",
        email_label: "이메일 주소",
        send_link: "로그인 링크 받기",
        sent_title: "메일함을 확인해 주세요",
        sent_body: "이 주소로 보관 중인 정보가 있다면 로그인 링크를 보내 드렸습니다. 링크는 15분 동안 한 번만 사용할 수 있습니다.",
        continue_title: "로그인",
        continue_body: "계속하면 보관 중인 내 정보를 확인하고 관리할 수 있습니다.",
        continue_button: "계속",
        ask_again: "새 링크 요청하기",
        held_title: "보관 중인 내 정보",
        held_none: "보관 중인 정보가 없습니다.",
        col_field: "항목",
        col_value: "값",
        col_source: "제공일",
        col_purposes: "이용 목적",
        save: "저장",
        consents_title: "동의 내역",
        status_granted: "동의함",
        status_withdrawn: "철회함",
        status_pending: "확인 대기 중",
        status_expired: "만료됨",
        status_never: "동의하지 않음",
        since: "부터",
        expires: "까지",
        version: "문구 버전",
        withdraw: "동의 철회",
        grant: "동의하기",
        close_account: "탈퇴하고 내 정보 삭제하기",
        required_note: "서비스 제공에 필요한 항목입니다. 철회하면 탈퇴 처리됩니다.",
        history_title: "변경 이력",
        col_when: "일시 (UTC)",
        col_purpose: "목적",
        col_action: "내용",
        col_how: "경로",
        export_title: "내 정보 내려받기",
        export_json: "JSON으로 내려받기",
        export_csv: "CSV로 내려받기",
        receipt: "동의 확인서 내려받기 (전자서명)",
        delete_title: "모두 삭제하기",
        delete_body: "보관 중인 모든 정보를 삭제하고 이를 보호하던 암호화 키를 파기합니다. 되돌릴 수 없습니다. 누구인지 알 수 없는 삭제 기록만 남기며, 확인 메일을 한 번 보내 드립니다.",
        delete_button: "네, 모두 삭제합니다",
        delete_link: "내 정보 모두 삭제하기",
        cancel: "취소",
        deleted_title: "개인정보가 삭제되었습니다",
        deleted_body: "보관 중이던 정보를 모두 삭제했습니다. 확인 메일을 보내 드렸습니다.",
        sign_out: "로그아웃",
        done: "저장했습니다. 갱신된 동의 확인서를 내려받을 수 있습니다.",
        confirm_title: "수신 동의 확인",
        confirm_body: "선택하신 항목의 수신에 동의하시는지 확인해 주세요.",
        confirm_button: "네, 동의합니다",
        confirmed_title: "확인되었습니다",
        confirmed_body: "수신 동의가 확인되었습니다. 언제든지 철회할 수 있습니다.",
        unsubscribe_title: "수신 거부",
        unsubscribe_body: "이 메시지를 더 이상 받지 않으시겠어요? 다른 선택은 그대로 유지됩니다.",
        unsubscribe_button: "수신 거부",
        unsubscribed_title: "수신 거부되었습니다",
        unsubscribed_body: "더 이상 이 메시지를 받지 않습니다.",
        manage_link: "내 정보와 동의 전체 관리하기",
        renew_title: "동의 연장",
        renew_body: "이 동의와 관련 정보를 한 기간 더 유지하시겠어요?",
        renew_button: "네, 연장합니다",
        decline_title: "동의 종료",
        decline_body: "지금 이 동의를 종료하시겠어요? 이 목적으로만 보관하던 정보는 삭제됩니다.",
        decline_button: "종료하고 정보 삭제하기",
        renewed_title: "연장되었습니다",
        renewed_body: "감사합니다. 동의 기간이 한 기간 더 연장되었습니다.",
        declined_title: "종료되었습니다",
        declined_body: "동의가 종료되었고 이 목적으로만 보관하던 정보는 삭제되었습니다.",
    },
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

    /// The sentence for a stable problem code.
    pub fn problem(&self, code: &str) -> &'static str {
        let ko = self.is_ko();
        match (code, ko) {
            ("subject_erased", false) => "This person's data has been erased.",
            ("subject_erased", true) => "이 사람의 정보는 삭제되었습니다.",
            ("not_granted", false) => "That consent is not currently given, so there is nothing to withdraw.",
            ("not_granted", true) => "현재 동의 상태가 아니어서 철회할 것이 없습니다.",
            ("already_granted", false) => "That consent is already given.",
            ("already_granted", true) => "이미 동의한 항목입니다.",
            ("required_purpose", false) => {
                "This purpose is needed for the service; withdrawing it means deleting the account."
            }
            ("required_purpose", true) => "서비스 제공에 필요한 항목입니다. 철회하려면 탈퇴(삭제)해야 합니다.",
            ("email_in_use", false) => "Another person already uses that address.",
            ("email_in_use", true) => "다른 사람이 이미 사용하는 주소입니다.",
            ("link_invalid", false) => "This link is not valid. Ask for a new one.",
            ("link_invalid", true) => "유효하지 않은 링크입니다. 새 링크를 요청해 주세요.",
            ("link_expired", false) => "This link has expired. Ask for a new one.",
            ("link_expired", true) => "링크가 만료되었습니다. 새 링크를 요청해 주세요.",
            ("link_used", false) => "This link has already been used. Ask for a new one.",
            ("link_used", true) => "이미 사용한 링크입니다. 새 링크를 요청해 주세요.",
            ("csrf_failed", false) => "This page was open too long or came from elsewhere. Reload it and try again.",
            ("csrf_failed", true) => {
                "페이지가 오래되었거나 다른 곳에서 전송되었습니다. 새로고침 후 다시 시도해 주세요."
            }
            ("cross_site_post", false) => {
                "This form can only be sent from its own page or from a site its owner allows. Nothing was \
                 saved: open the form on its own page and send it there."
            }
            ("cross_site_post", true) => {
                "이 양식은 양식 페이지나 운영자가 허용한 사이트에서만 보낼 수 있습니다. 아무것도 저장되지 \
                 않았습니다. 양식 페이지를 직접 열어 다시 보내 주세요."
            }
            ("session_required", false) => "Please sign in again.",
            ("session_required", true) => "다시 로그인해 주세요.",
            ("method_not_allowed", false) => "This address does not answer that method; see the Allow header.",
            ("method_not_allowed", true) => "이 주소는 해당 메서드를 지원하지 않습니다. Allow 헤더를 확인해 주세요.",
            (_, false) => "The request could not be completed.",
            (_, true) => "요청을 처리할 수 없습니다.",
        }
    }

    pub fn status(&self, status: crate::domain::ConsentStatus) -> &'static str {
        use crate::domain::ConsentStatus as S;
        match status {
            S::Granted => self.me.status_granted,
            S::Withdrawn => self.me.status_withdrawn,
            S::Pending => self.me.status_pending,
            S::Expired => self.me.status_expired,
            S::Never => self.me.status_never,
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
            (C::InvalidPhone, false) => "Enter a phone number of 6 to 20 digits, e.g. 010-1234-5678.",
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
        let e = FieldError { field: "name".into(), code: FieldErrorCode::TooLong, max_length: Some(200) };
        assert_eq!(Strings::get(Locale::En).field_error(&e), "Use at most 200 characters.");
        assert_eq!(Strings::get(Locale::Ko).field_error(&e), "200자 이내로 입력해 주세요.");
        assert_eq!(Strings::get(Locale::Ko).required_purpose, "[필수]");
    }
}
