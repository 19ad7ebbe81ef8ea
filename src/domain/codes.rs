//! Every stable error code Assent emits, as one enum (lemmy's `LemmyErrorType` style).
//!
//! A code is what a client branches on: the `code` of a JSON problem (and its `type`,
//! `urn:assent:problem:<code>`), and the key of the message catalogues (`web::messages` for
//! people and integrators, `web::admin::messages` for the console). Keying the catalogues by
//! this enum with exhaustive matches means a misspelt or unlocalised code cannot compile.
//! Field validation reasons have their own enum, [`super::form::FieldErrorCode`].

use serde::Serialize;

/// Declares [`ErrorCode`] with each variant's wire string written once: serde's name for it and
/// [`ErrorCode::as_str`] come from the same literal, and [`ErrorCode::ALL`] lists every variant.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// A stable, snake_case error code; serialises to exactly its string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $code)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),*];

            /// The code as it appears on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    // What the request was, whatever the route.
    ValidationFailed = "validation_failed",
    Unauthorized = "unauthorized",
    PayloadTooLarge = "payload_too_large",
    RequestTimeout = "request_timeout",
    UnsupportedMediaType = "unsupported_media_type",
    ServiceUnavailable = "service_unavailable",
    RateLimited = "rate_limited",
    MethodNotAllowed = "method_not_allowed",
    InternalError = "internal_error",
    // Not found (404).
    NotFound = "not_found",
    FormNotFound = "form_not_found",
    SubjectNotFound = "subject_not_found",
    PurposeNotFound = "purpose_not_found",
    FieldNotFound = "field_not_found",
    PolicyNotFound = "policy_not_found",
    SubmissionNotFound = "submission_not_found",
    ReceiptNotFound = "receipt_not_found",
    WebhookNotFound = "webhook_not_found",
    DeliveryNotFound = "delivery_not_found",
    ImportNotFound = "import_not_found",
    RightsRequestNotFound = "rights_request_not_found",
    // A person's data and mail links.
    SubjectErased = "subject_erased",
    NotGranted = "not_granted",
    AlreadyGranted = "already_granted",
    RequiredPurpose = "required_purpose",
    EmailInUse = "email_in_use",
    ExternalIdTaken = "external_id_taken",
    // A rights-desk step that cannot be taken (409).
    RequestClosed = "request_closed",
    IdentityNotVerified = "identity_not_verified",
    AlreadyVerified = "already_verified",
    AlreadyStarted = "already_started",
    AlreadyExtended = "already_extended",
    ExtensionNotAllowed = "extension_not_allowed",
    RequestChanged = "request_changed",
    // Webhook endpoints (409).
    WebhookNameTaken = "webhook_name_taken",
    WebhookDeclaredInFile = "webhook_declared_in_file",
    LinkInvalid = "link_invalid",
    LinkExpired = "link_expired",
    LinkUsed = "link_used",
    // Malformed requests (400).
    InvalidBody = "invalid_body",
    InvalidUtf8 = "invalid_utf8",
    InvalidRequest = "invalid_request",
    MalformedJson = "malformed_json",
    UnsupportedLocale = "unsupported_locale",
    InvalidQuery = "invalid_query",
    InvalidAction = "invalid_action",
    // Refused (403).
    CsrfFailed = "csrf_failed",
    SessionRequired = "session_required",
    MetricsForbidden = "metrics_forbidden",
    InsufficientScope = "insufficient_scope",
    CorsOriginNotAllowed = "cors_origin_not_allowed",
    /// A browser posted a public form from a site neither Assent nor the form allows.
    CrossSitePost = "cross_site_post",
    // The console: refusals and the messages next to its form inputs.
    BadCredentials = "bad_credentials",
    Locked = "locked",
    EmailRequired = "email_required",
    PasswordRequired = "password_required",
    OwnerRoleRequired = "owner_role_required",
    RoleNotAllowed = "role_not_allowed",
    NotYourself = "not_yourself",
    LastOwner = "last_owner",
    /// Data held under a statutory obligation opens only to a privacy officer.
    PrivacyOfficerRequired = "privacy_officer_required",
    PiiExportOwnerOnly = "pii_export_owner_only",
    KeyTaken = "key_taken",
    InvalidKey = "invalid_key",
    InvalidRetention = "invalid_retention",
    /// A required purpose resting on consent (PIPA art. 22(5), GDPR art. 7(4)).
    BundledConsent = "bundled_consent",
    InvalidChoice = "invalid_choice",
    InvalidNumber = "invalid_number",
    InvalidLength = "invalid_length",
    InvalidOrigin = "invalid_origin",
    InvalidChoices = "invalid_choices",
    Required = "required",
    TooLong = "too_long",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode as C;
    use super::*;

    /// The strings clients already branch on: written out here, apart from the enum, so that
    /// renaming a variant's string cannot go unnoticed.
    const WIRE: &[(ErrorCode, &str)] = &[
        (C::ValidationFailed, "validation_failed"),
        (C::Unauthorized, "unauthorized"),
        (C::PayloadTooLarge, "payload_too_large"),
        (C::RequestTimeout, "request_timeout"),
        (C::UnsupportedMediaType, "unsupported_media_type"),
        (C::ServiceUnavailable, "service_unavailable"),
        (C::RateLimited, "rate_limited"),
        (C::MethodNotAllowed, "method_not_allowed"),
        (C::InternalError, "internal_error"),
        (C::NotFound, "not_found"),
        (C::FormNotFound, "form_not_found"),
        (C::SubjectNotFound, "subject_not_found"),
        (C::PurposeNotFound, "purpose_not_found"),
        (C::FieldNotFound, "field_not_found"),
        (C::PolicyNotFound, "policy_not_found"),
        (C::SubmissionNotFound, "submission_not_found"),
        (C::ReceiptNotFound, "receipt_not_found"),
        (C::WebhookNotFound, "webhook_not_found"),
        (C::DeliveryNotFound, "delivery_not_found"),
        (C::ImportNotFound, "import_not_found"),
        (C::RightsRequestNotFound, "rights_request_not_found"),
        (C::RequestClosed, "request_closed"),
        (C::IdentityNotVerified, "identity_not_verified"),
        (C::AlreadyVerified, "already_verified"),
        (C::AlreadyStarted, "already_started"),
        (C::AlreadyExtended, "already_extended"),
        (C::ExtensionNotAllowed, "extension_not_allowed"),
        (C::RequestChanged, "request_changed"),
        (C::SubjectErased, "subject_erased"),
        (C::NotGranted, "not_granted"),
        (C::AlreadyGranted, "already_granted"),
        (C::RequiredPurpose, "required_purpose"),
        (C::EmailInUse, "email_in_use"),
        (C::ExternalIdTaken, "external_id_taken"),
        (C::WebhookNameTaken, "webhook_name_taken"),
        (C::WebhookDeclaredInFile, "webhook_declared_in_file"),
        (C::LinkInvalid, "link_invalid"),
        (C::LinkExpired, "link_expired"),
        (C::LinkUsed, "link_used"),
        (C::InvalidBody, "invalid_body"),
        (C::InvalidUtf8, "invalid_utf8"),
        (C::InvalidRequest, "invalid_request"),
        (C::MalformedJson, "malformed_json"),
        (C::UnsupportedLocale, "unsupported_locale"),
        (C::InvalidQuery, "invalid_query"),
        (C::InvalidAction, "invalid_action"),
        (C::CsrfFailed, "csrf_failed"),
        (C::SessionRequired, "session_required"),
        (C::MetricsForbidden, "metrics_forbidden"),
        (C::InsufficientScope, "insufficient_scope"),
        (C::CorsOriginNotAllowed, "cors_origin_not_allowed"),
        (C::CrossSitePost, "cross_site_post"),
        (C::BadCredentials, "bad_credentials"),
        (C::Locked, "locked"),
        (C::EmailRequired, "email_required"),
        (C::PasswordRequired, "password_required"),
        (C::OwnerRoleRequired, "owner_role_required"),
        (C::RoleNotAllowed, "role_not_allowed"),
        (C::NotYourself, "not_yourself"),
        (C::LastOwner, "last_owner"),
        (C::PrivacyOfficerRequired, "privacy_officer_required"),
        (C::PiiExportOwnerOnly, "pii_export_owner_only"),
        (C::KeyTaken, "key_taken"),
        (C::InvalidKey, "invalid_key"),
        (C::InvalidRetention, "invalid_retention"),
        (C::BundledConsent, "bundled_consent"),
        (C::InvalidChoice, "invalid_choice"),
        (C::InvalidNumber, "invalid_number"),
        (C::InvalidLength, "invalid_length"),
        (C::InvalidOrigin, "invalid_origin"),
        (C::InvalidChoices, "invalid_choices"),
        (C::Required, "required"),
        (C::TooLong, "too_long"),
    ];

    #[test]
    fn every_code_serialises_to_its_existing_string() {
        assert_eq!(WIRE.len(), ErrorCode::ALL.len(), "every code is listed with its string");
        for (code, wire) in WIRE {
            assert!(ErrorCode::ALL.contains(code), "{code:?}");
            assert_eq!(serde_json::to_value(code).ok(), Some(serde_json::Value::from(*wire)), "{code:?}");
            assert_eq!(code.as_str(), *wire);
            assert_eq!(code.to_string(), *wire);
        }
    }

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{s}"
            );
        }
    }
}
