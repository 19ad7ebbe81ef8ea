//! `POST /api/v1/consents`: the consent check with the address (or external id) in the body, so
//! that personal data does not travel in a URL (proxies, access logs and browser histories keep
//! URLs). Answers exactly as `GET /api/v1/consents?email=…` does.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use super::api::{ConsentQuery, ConsentsResponse};
use super::api_key::bearer;
use super::body::{JSON, read_limited, require_content_type};
use super::error::{AppError, Problem};

/// Whom to check: `email` or `external_id` (one of them), and optionally when you mean to send.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentLookup {
    #[schema(format = "email", example = "minji@example.com")]
    pub email: Option<String>,
    /// Your id for the person.
    pub external_id: Option<String>,
    /// When you mean to send (RFC 3339; default now): judges `may_send_now`.
    pub at: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/consents",
    tag = "consents",
    request_body(content = ConsentLookup, content_type = "application/json"),
    security(("api_key" = ["consents:read"])),
    responses(
        (status = 200, description = "The state of every purpose, as the GET answers it", body = ConsentsResponse),
        (status = 400, description = "`invalid_query` (both given), `malformed_json` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `consents:read` scope", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`email`: `required` or `invalid_email`; `external_id`: `required`, `too_long` or `invalid_characters`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn post_consents(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let presented = bearer(&req).ok_or(AppError::Unauthorized)?.to_owned();
    require_content_type(&req, JSON)?;
    let body = read_limited(&req, payload).await?;
    let asked: ConsentLookup = super::body::json(&body, r#"Expected {"email": "…"} or {"external_id": "…"}"#)?;
    let query = ConsentQuery { email: asked.email, external_id: asked.external_id, at: asked.at };
    super::api::answer(&req, &state, presented, query).await
}
