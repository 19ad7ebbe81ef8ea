//! The console's words, in Korean and English. Labels are fields (checked by the compiler in the
//! templates); messages shown next to fields are looked up by a stable code in [`AdminStrings::says`].

use crate::domain::Locale;

/// The console's message catalogue for one language.
pub struct AdminStrings {
    pub lang: Locale,
    pub other_lang_label: &'static str,
    pub console: &'static str,
    pub skip_link: &'static str,
    pub nav_label: &'static str,
    pub nav_dashboard: &'static str,
    pub nav_purposes: &'static str,
    pub nav_forms: &'static str,
    pub nav_submissions: &'static str,
    pub nav_rights: &'static str,
    pub nav_audit: &'static str,
    pub nav_keys: &'static str,
    pub signed_in_as: &'static str,
    pub role_owner: &'static str,
    pub role_viewer: &'static str,
    pub sign_out: &'static str,
    pub sign_in_title: &'static str,
    pub sign_in_intro: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub error_summary: &'static str,
    pub dashboard_intro: &'static str,
    pub read_only: &'static str,
    pub save: &'static str,
    pub create: &'static str,
    pub cancel: &'static str,
    pub edit: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub none: &'static str,
    pub saved: &'static str,
}

static EN: AdminStrings = AdminStrings {
    lang: Locale::En,
    other_lang_label: "한국어",
    console: "Assent console",
    skip_link: "Skip to content",
    nav_label: "Console",
    nav_dashboard: "Dashboard",
    nav_purposes: "Purposes",
    nav_forms: "Forms",
    nav_submissions: "Submissions",
    nav_rights: "Rights requests",
    nav_audit: "Audit log",
    nav_keys: "API keys",
    signed_in_as: "Signed in as",
    role_owner: "owner",
    role_viewer: "viewer (read only)",
    sign_out: "Sign out",
    sign_in_title: "Sign in to the console",
    sign_in_intro: "For the site's owners and staff. Customers manage their data at /me.",
    email: "Email address",
    password: "Password",
    sign_in: "Sign in",
    error_summary: "Please correct the highlighted fields.",
    dashboard_intro: "What your forms collected, and what people agreed to.",
    read_only: "You can read everything here; changes need the owner role.",
    save: "Save",
    create: "Create",
    cancel: "Cancel",
    edit: "Edit",
    yes: "yes",
    no: "no",
    none: "None yet.",
    saved: "Saved.",
};

static KO: AdminStrings = AdminStrings {
    lang: Locale::Ko,
    other_lang_label: "English",
    console: "Assent 관리 콘솔",
    skip_link: "본문으로 건너뛰기",
    nav_label: "콘솔",
    nav_dashboard: "대시보드",
    nav_purposes: "이용 목적",
    nav_forms: "양식",
    nav_submissions: "제출 내역",
    nav_rights: "권리 행사 요청",
    nav_audit: "감사 로그",
    nav_keys: "API 키",
    signed_in_as: "로그인 계정",
    role_owner: "소유자",
    role_viewer: "열람자 (읽기 전용)",
    sign_out: "로그아웃",
    sign_in_title: "콘솔 로그인",
    sign_in_intro: "사이트 운영자와 직원용입니다. 고객은 /me 에서 자신의 정보를 관리합니다.",
    email: "이메일 주소",
    password: "비밀번호",
    sign_in: "로그인",
    error_summary: "표시된 항목을 확인해 주세요.",
    dashboard_intro: "양식으로 수집한 정보와 동의 현황입니다.",
    read_only: "모든 내용을 볼 수 있지만, 변경하려면 소유자 권한이 필요합니다.",
    save: "저장",
    create: "만들기",
    cancel: "취소",
    edit: "수정",
    yes: "예",
    no: "아니요",
    none: "아직 없습니다.",
    saved: "저장했습니다.",
};

impl AdminStrings {
    pub fn get(locale: Locale) -> &'static AdminStrings {
        match locale {
            Locale::En => &EN,
            Locale::Ko => &KO,
        }
    }

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
            ("csrf_failed", true) => "페이지가 오래되었거나 다른 곳에서 전송되었습니다. 새로고침 후 다시 시도해 주세요.",
            ("session_required", false) => "Your session has ended. Please sign in again.",
            ("session_required", true) => "세션이 끝났습니다. 다시 로그인해 주세요.",
            ("rate_limited", false) => "Too many sign-in attempts. Please wait a while and try again.",
            ("rate_limited", true) => "로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요.",
            ("pii_export_owner_only", false) => {
                "Exports contain personal data: only owners can download them. Your account can read only."
            }
            ("pii_export_owner_only", true) => "내보내기 파일에는 개인정보가 있어 소유자만 내려받을 수 있습니다. 이 계정은 읽기 전용입니다.",
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

    pub fn role(&self, role: crate::domain::owner::Role) -> &'static str {
        match role {
            crate::domain::owner::Role::Owner => self.role_owner,
            crate::domain::owner::Role::Viewer => self.role_viewer,
        }
    }
}
