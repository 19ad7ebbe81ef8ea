//! The console's sentences looked up by a stable code: messages next to refused fields, refusals
//! (`console-says-<code>`) and why a form cannot be published (`definition-error-<kind>`), read
//! from the catalogues (the labels are in `strings.rs`).

use super::strings::AdminStrings;
use crate::domain::form::DefinitionError;
use crate::domain::{ErrorCode, Locale};
use crate::i18n::{catalogue, kebab};
use crate::web::i18n::Strings;
use fluent_bundle::FluentValue;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Whether the console says `code` in a sentence of its own (`console-says-<code>`); the others
/// are said as the public pages say them. Exhaustive, so a new code forces a decision.
pub fn console_has_own_sentence(code: ErrorCode) -> bool {
    use ErrorCode as C;
    match code {
        C::BadCredentials | C::Locked | C::EmailRequired | C::PasswordRequired | C::OwnerRoleRequired => true,
        C::CsrfFailed | C::SessionRequired | C::RateLimited | C::KeyTaken | C::InvalidRetention => true,
        C::InvalidChoice | C::InvalidNumber | C::InvalidLength | C::InvalidOrigin | C::InvalidChoices => true,
        C::NotFound | C::PiiExportOwnerOnly | C::Required | C::TooLong | C::InvalidKey => true,
        C::RoleNotAllowed | C::NotYourself | C::LastOwner => true,
        C::WebhookNameTaken | C::WebhookDeclaredInFile | C::SubjectNotFound => true,
        C::RequestClosed | C::IdentityNotVerified | C::AlreadyVerified | C::AlreadyStarted => true,
        C::AlreadyExtended | C::ExtensionNotAllowed | C::RequestChanged | C::PrivacyOfficerRequired => true,
        C::ValidationFailed | C::Unauthorized | C::PayloadTooLarge | C::UnsupportedMediaType => false,
        C::RequestTimeout => false,
        C::ServiceUnavailable | C::MethodNotAllowed | C::InternalError | C::FormNotFound => false,
        C::PurposeNotFound | C::FieldNotFound | C::PolicyNotFound => false,
        C::SubmissionNotFound | C::ReceiptNotFound | C::SubjectErased | C::NotGranted | C::AlreadyGranted => false,
        C::RequiredPurpose | C::EmailInUse | C::LinkInvalid | C::LinkExpired | C::LinkUsed => false,
        C::InvalidBody | C::InvalidUtf8 | C::InvalidRequest | C::MalformedJson => false,
        C::UnsupportedLocale | C::InvalidQuery | C::InvalidAction | C::MetricsForbidden => false,
        C::InsufficientScope => false,
        C::CorsOriginNotAllowed | C::CrossSitePost | C::ExternalIdTaken => false,
        C::WebhookNotFound | C::DeliveryNotFound | C::ImportNotFound | C::RightsRequestNotFound => false,
        // Named with its purpose: see `bundled_consent`.
        C::BundledConsent => false,
    }
}

/// The catalogue id of the console's own sentence for `code`.
pub fn says_id(code: ErrorCode) -> String {
    format!("console-says-{}", kebab(code.as_str()))
}

/// The catalogue id of a definition error's sentence, and its arguments.
pub fn definition_error_id(e: &DefinitionError) -> (&'static str, Vec<(&'static str, &str)>) {
    use DefinitionError as D;
    match e {
        D::FieldWithoutPurpose(f) => ("definition-error-field-without-purpose", vec![("field", f.as_str())]),
        D::DuplicateField(f) => ("definition-error-duplicate-field", vec![("field", f.as_str())]),
        D::PurposeNotAsked { field, purpose } => {
            ("definition-error-purpose-not-asked", vec![("field", field.as_str()), ("purpose", purpose.as_str())])
        }
        D::UnknownPurpose(p) => ("definition-error-unknown-purpose", vec![("purpose", p.as_str())]),
        D::NoIdentity => ("definition-error-no-identity", vec![]),
        D::SelectWithoutChoices(f) => ("definition-error-select-without-choices", vec![("field", f.as_str())]),
        D::NoPurposes => ("definition-error-no-purposes", vec![]),
        D::MinAge => ("definition-error-min-age", vec![]),
        D::ReservedKey(f) => ("definition-error-reserved-key", vec![("field", f.as_str())]),
    }
}

/// Every sentence the console says for a code, in every shipped language, read once.
static SAYS: LazyLock<HashMap<(Locale, ErrorCode), &'static str>> = LazyLock::new(|| {
    let mut says = HashMap::new();
    for locale in Locale::shipped() {
        for &code in ErrorCode::ALL.iter().filter(|&&c| console_has_own_sentence(c)) {
            let text: &'static str = catalogue(locale).text(&says_id(code)).leak();
            says.insert((locale, code), text);
        }
    }
    says
});

impl AdminStrings {
    /// The sentence for a stable code (field errors, refusals); a code the console has no
    /// sentence of its own for is said as the public pages say it.
    pub fn says(&self, code: ErrorCode) -> &'static str {
        match SAYS.get(&(self.lang, code)) {
            Some(own) => own,
            None => Strings::get(self.lang).problem(code),
        }
    }

    /// Why the builder cannot publish a form, naming the field or purpose concerned.
    pub fn definition_error(&self, e: &DefinitionError) -> String {
        let (id, args) = definition_error_id(e);
        let args: Vec<_> = args.into_iter().map(|(name, value)| (name, FluentValue::from(value))).collect();
        catalogue(self.lang).format(id, &args)
    }

    /// Why a required purpose cannot rest on consent, naming it (PIPA art. 22(5), GDPR art. 7(4)).
    pub fn bundled_consent(&self, purpose: &str) -> String {
        catalogue(self.lang).format("console-bundled-consent", &[("purpose", FluentValue::from(purpose))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_definition_error() -> Vec<DefinitionError> {
        use DefinitionError as D;
        let all = vec![
            D::FieldWithoutPurpose("name".into()),
            D::DuplicateField("name".into()),
            D::PurposeNotAsked { field: "name".into(), purpose: "marketing".into() },
            D::UnknownPurpose("marketing".into()),
            D::NoIdentity,
            D::SelectWithoutChoices("name".into()),
            D::NoPurposes,
            D::MinAge,
            D::ReservedKey("birth_date".into()),
        ];
        // Exhaustive: a new variant fails to compile here until it is added above.
        for e in &all {
            match e {
                D::FieldWithoutPurpose(_) | D::DuplicateField(_) | D::PurposeNotAsked { .. } => {}
                D::UnknownPurpose(_) | D::NoIdentity | D::SelectWithoutChoices(_) | D::NoPurposes => {}
                D::MinAge | D::ReservedKey(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_console_id_is_in_every_catalogue() {
        for locale in Locale::shipped() {
            let c = catalogue(locale);
            for &code in ErrorCode::ALL.iter().filter(|&&c| console_has_own_sentence(c)) {
                assert!(c.has(&says_id(code)), "{locale} lacks {}", says_id(code));
            }
            for e in every_definition_error() {
                assert!(c.has(definition_error_id(&e).0), "{locale} lacks {}", definition_error_id(&e).0);
            }
            assert!(c.has("console-bundled-consent"), "{locale}");
        }
    }

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

    #[test]
    fn definition_errors_name_what_they_concern() {
        let en = AdminStrings::get(Locale::EN);
        let e = DefinitionError::PurposeNotAsked { field: "phone".into(), purpose: "sms".into() };
        assert_eq!(
            en.definition_error(&e),
            "Field \u{201c}phone\u{201d} serves \u{201c}sms\u{201d}, which the form does not ask for: tick it under Purposes asked."
        );
        assert_eq!(
            AdminStrings::get(Locale::KO).definition_error(&DefinitionError::DuplicateField("x".into())),
            "‘x’ 항목이 두 번 있습니다."
        );
        assert!(en.bundled_consent("account").starts_with("Purpose \u{201c}account\u{201d} is required"));
    }
}
