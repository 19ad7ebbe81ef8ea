//! One error type for every handler, with a stable snake_case `code` and its HTTP status decided
//! here and nowhere else. API routes answer RFC 9457 `application/problem+json`; page routes
//! answer an HTML page in the visitor's language (see [`PageError`]). Internals never leak: a
//! 5xx carries a request-independent message, and the cause goes to the log only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use super::i18n::Strings;
use super::pages::{ErrorPage, MessagePage, render_with_status};
use crate::domain::form::FieldError;
use crate::domain::{ErrorCode, Locale};
use crate::services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the input has errors")]
    Validation(Vec<FieldError>),
    #[error("not found")]
    NotFound(ErrorCode),
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The body did not arrive in time (`ASSENT_BODY_TIMEOUT`); the connection is closed.
    #[error("the body did not arrive in time")]
    RequestTimeout,
    #[error("unsupported content type")]
    UnsupportedMediaType(&'static str),
    #[error("{detail}")]
    BadRequest { code: ErrorCode, detail: String },
    #[error("the service is temporarily unavailable")]
    Unavailable,
    #[error("conflict: {0}")]
    Conflict(ErrorCode),
    #[error("gone: {0}")]
    Gone(ErrorCode),
    #[error("forbidden: {0}")]
    Forbidden(ErrorCode),
    /// The API key is live but lacks the scope the route needs.
    #[error("the API key lacks the {0} scope")]
    InsufficientScope(crate::domain::scopes::Scope),
    #[error("too many requests")]
    TooManyRequests,
    /// The path exists but not with this method; the methods it has go in `Allow`.
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Commit(_) | ServiceError::Unavailable => Self::Unavailable,
            other => Self::Internal(other.into()),
        }
    }
}

impl From<crate::services::rights::RightsError> for AppError {
    fn from(e: crate::services::rights::RightsError) -> Self {
        use crate::services::links::LinkProblem;
        use crate::services::rights::RightsError as R;
        match e {
            R::NotFound => Self::NotFound(ErrorCode::SubjectNotFound),
            R::Erased => Self::Gone(ErrorCode::SubjectErased),
            R::UnknownPurpose => Self::NotFound(ErrorCode::PurposeNotFound),
            R::NotGranted => Self::Conflict(ErrorCode::NotGranted),
            R::AlreadyGranted => Self::Conflict(ErrorCode::AlreadyGranted),
            R::RequiredPurpose => Self::Conflict(ErrorCode::RequiredPurpose),
            R::UnknownField => Self::NotFound(ErrorCode::FieldNotFound),
            R::Invalid(error) => Self::Validation(vec![error]),
            R::EmailInUse => Self::Conflict(ErrorCode::EmailInUse),
            R::ExternalIdTaken => Self::Conflict(ErrorCode::ExternalIdTaken),
            R::Link(LinkProblem::Invalid) => Self::BadRequest { code: ErrorCode::LinkInvalid, detail: String::new() },
            R::Link(LinkProblem::Expired) => Self::Gone(ErrorCode::LinkExpired),
            R::Link(LinkProblem::Used) => Self::Gone(ErrorCode::LinkUsed),
            R::Service(e) => e.into(),
        }
    }
}

impl From<crate::db::CommitFailed> for AppError {
    fn from(_: crate::db::CommitFailed) -> Self {
        Self::Unavailable
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        Self::Unavailable
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(_: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable
    }
}

impl AppError {
    /// The stable code clients branch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::NotFound(code) => *code,
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::RequestTimeout => ErrorCode::RequestTimeout,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::BadRequest { code, .. } => *code,
            Self::Unavailable => ErrorCode::ServiceUnavailable,
            Self::Conflict(code) | Self::Gone(code) | Self::Forbidden(code) => *code,
            Self::TooManyRequests => ErrorCode::RateLimited,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::InsufficientScope(_) => ErrorCode::InsufficientScope,
            Self::Internal(_) => ErrorCode::InternalError,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::Forbidden(_) | Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What a person is told, in their language.
    pub fn message(&self, t: &Strings) -> String {
        match self {
            Self::Validation(_) => t.error_summary.to_owned(),
            Self::NotFound(_) => t.not_found.to_owned(),
            Self::Unauthorized => t.unauthorized.to_owned(),
            Self::PayloadTooLarge(limit) => t.too_large(*limit),
            Self::RequestTimeout => t.problem(self.code()).to_owned(),
            Self::UnsupportedMediaType(expected) => t.unsupported_media_type(expected),
            Self::BadRequest { code, detail } if detail.is_empty() => t.problem(*code).to_owned(),
            Self::BadRequest { detail, .. } => detail.clone(),
            Self::Unavailable => t.unavailable.to_owned(),
            Self::Conflict(code) | Self::Gone(code) | Self::Forbidden(code) => t.problem(*code).to_owned(),
            Self::TooManyRequests => t.rate_limited.to_owned(),
            Self::MethodNotAllowed(_) => t.problem(self.code()).to_owned(),
            Self::InsufficientScope(scope) => format!("{} ({scope})", t.problem(self.code())),
            Self::Internal(_) => t.internal.to_owned(),
        }
    }

    /// A page saying what went wrong (as an alert), with one way onward.
    pub fn problem_page(&self, locale: Locale, onward: (String, String)) -> HttpResponse {
        let t = Strings::get(locale);
        let mut page = MessagePage::new(locale, t.error_title, vec![self.message(t)]);
        page.alert = true;
        page.links = vec![onward];
        render_with_status(&page, self.status())
    }

    /// The problem document an API client gets (in English).
    pub fn problem(&self) -> Problem {
        let t = Strings::get(Locale::EN);
        let errors = match self {
            Self::Validation(errors) => errors
                .iter()
                .map(|e| FieldProblem {
                    field: e.field.clone(),
                    code: e.code.as_str(),
                    message: t.field_error(e),
                    max_length: e.max_length,
                })
                .collect(),
            _ => Vec::new(),
        };
        let status = self.status();
        Problem {
            kind: format!("urn:assent:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code: self.code(),
            detail: self.message(t),
            errors,
        }
    }

    fn log(&self) {
        if let Self::Internal(cause) = self {
            // `{:#}` prints the whole cause chain; causes never include request bodies.
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
    }
}

/// A field problem as the API reports it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

/// RFC 9457 problem details with Assent's stable `code`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    /// Stable, snake_case: branch on this, not on `title` or `detail`.
    #[schema(value_type = String)]
    pub code: ErrorCode,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let status = self.status();
        let mut response = HttpResponse::build(status);
        use actix_web::http::header;
        match self {
            Self::MethodNotAllowed(allow) => {
                response.insert_header((header::ALLOW, *allow));
            }
            // RFC 6750 §3: which scheme to present, and (RFC 6750 §3.1) the scope that was missing.
            Self::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::InsufficientScope(scope) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!(r#"Bearer error="insufficient_scope", scope="{scope}""#),
                ));
            }
            _ => {}
        }
        response.content_type("application/problem+json").json(self.problem())
    }
}

/// An [`AppError`] on a page route: rendered as an HTML page in the visitor's language.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct PageError {
    pub error: AppError,
    pub locale: Locale,
}

impl PageError {
    pub fn new(error: impl Into<AppError>, locale: Locale) -> Self {
        Self { error: error.into(), locale }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.error.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.error.log();
        let t = Strings::get(self.locale);
        let page = ErrorPage {
            t,
            lang: self.locale.as_str(),
            status: self.error.status().as_u16(),
            message: self.error.message(t),
        };
        render_with_status(&page, self.error.status())
    }
}

/// The id of the element a field error is shown in (and referenced by `aria-describedby`).
pub fn error_anchor(field: &str) -> String {
    format!("{}-error", field.replace('.', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::FieldErrorCode;

    fn json(error: &AppError) -> String {
        serde_json::to_string(&error.problem()).unwrap_or_default()
    }

    #[test]
    fn a_problem_carries_its_code_as_the_stable_string() {
        assert_eq!(
            json(&AppError::Conflict(ErrorCode::NotGranted)),
            r#"{"type":"urn:assent:problem:not_granted","title":"Conflict","status":409,"code":"not_granted","detail":"That consent is not currently given, so there is nothing to withdraw."}"#
        );
        assert_eq!(
            json(&AppError::NotFound(ErrorCode::FormNotFound)),
            r#"{"type":"urn:assent:problem:form_not_found","title":"Not Found","status":404,"code":"form_not_found","detail":"This page does not exist."}"#
        );
        let invalid = AppError::BadRequest { code: ErrorCode::InvalidQuery, detail: "Use ?email=<address>.".into() };
        assert_eq!(
            json(&invalid),
            r#"{"type":"urn:assent:problem:invalid_query","title":"Bad Request","status":400,"code":"invalid_query","detail":"Use ?email=<address>."}"#
        );
    }

    #[test]
    fn a_validation_problem_lists_each_field_with_its_own_code() {
        let error = AppError::Validation(vec![FieldError {
            field: "name".into(),
            code: FieldErrorCode::TooLong,
            max_length: Some(200),
        }]);
        assert_eq!(
            json(&error),
            r#"{"type":"urn:assent:problem:validation_failed","title":"Unprocessable Entity","status":422,"code":"validation_failed","detail":"Please correct the highlighted fields.","errors":[{"field":"name","code":"too_long","message":"Use at most 200 characters.","max_length":200}]}"#
        );
    }
}
