//! `POST /api/v1/consents/query`: the consent check for many people in one call, for a CRM or
//! mailing tool that checks a whole send list before a campaign.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api_key::authorize;
use super::body::{JSON, read_at_most, require_content_type};
use super::error::{AppError, Problem};
use crate::domain::Email;
use crate::domain::access::{AccessAction, ActorKind};
use crate::domain::form::{FieldError, FieldErrorCode};
use crate::domain::scopes::Scope;
use crate::services::bulk_check::{self, Identifier, MAX_IDENTIFIERS};
use crate::services::lookup::{ConsentView, consent_views};

/// The largest bulk query body: a thousand of the longest addresses, with room to spare.
const MAX_BULK_BODY: usize = 512 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(super::only("/consents/query", "POST", web::post().to(query)));
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkQuery {
    /// 1 to 1000 people, each named by exactly one of `email`, `subject_id`, `external_id`.
    #[schema(min_items = 1, max_items = 1000)]
    identifiers: Vec<IdentifierBody>,
    /// When you mean to send (RFC 3339; default now): judges each `may_send_now`.
    #[serde(default)]
    #[schema(example = "2026-12-05T22:30:00+09:00")]
    at: Option<String>,
}

/// One person: exactly one of the three.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentifierBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "minji@example.com", format = "email", max_length = 254)]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "CUST-000123")]
    external_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BulkAnswer {
    /// The identifier as asked.
    identifier: IdentifierBody,
    /// `null` when Assent holds nothing for this person (never seen, or erased).
    subject_id: Option<String>,
    external_id: Option<String>,
    /// Every purpose's state (`never` for each when `subject_id` is null).
    consents: Vec<ConsentView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BulkResponse {
    /// One answer per identifier, in the order asked.
    results: Vec<BulkAnswer>,
}

/// Each identifier parsed, or every mistake in the list at once.
fn parse(asked: &[IdentifierBody]) -> Result<Vec<Identifier>, AppError> {
    let mut errors = Vec::new();
    if asked.is_empty() {
        errors.push(FieldError { field: "identifiers".into(), code: FieldErrorCode::Required, max_length: None });
    }
    if asked.len() > MAX_IDENTIFIERS {
        let code = FieldErrorCode::TooLong;
        errors.push(FieldError { field: "identifiers".into(), code, max_length: Some(MAX_IDENTIFIERS) });
        return Err(AppError::Validation(errors));
    }
    let mut parsed = Vec::with_capacity(asked.len());
    for (i, item) in asked.iter().enumerate() {
        let at = |name: &str| format!("identifiers[{i}]{name}");
        let refuse = |field: String, code| FieldError { field, code, max_length: None };
        match (&item.email, &item.subject_id, &item.external_id) {
            (Some(email), None, None) => match Email::parse(email) {
                Ok(email) => parsed.push(Identifier::Email(email)),
                Err(_) => errors.push(refuse(at(".email"), FieldErrorCode::InvalidEmail)),
            },
            // Subject ids are UUIDs: nothing longer, and no control characters (PostgreSQL
            // text cannot hold NUL).
            (None, Some(id), None) if !id.trim().is_empty() && id.len() <= 64 && !id.chars().any(char::is_control) => {
                parsed.push(Identifier::Subject(id.clone()));
            }
            (None, Some(_), None) => errors.push(refuse(at(".subject_id"), FieldErrorCode::InvalidCharacters)),
            (None, None, Some(id)) => match crate::services::external_ids::check(id) {
                Ok(id) => parsed.push(Identifier::External(id.to_owned())),
                Err(e) => errors.push(FieldError { field: at(".external_id"), ..e }),
            },
            (None, None, None) => errors.push(refuse(at(""), FieldErrorCode::Required)),
            _ => errors.push(refuse(at(""), FieldErrorCode::InvalidType)),
        }
    }
    if errors.is_empty() { Ok(parsed) } else { Err(AppError::Validation(errors)) }
}

#[utoipa::path(
    post,
    path = "/api/v1/consents/query",
    tag = "consents",
    security(("api_key" = ["consents:read"])),
    request_body(content = BulkQuery, content_type = "application/json"),
    responses(
        (status = 200, description = "Every person's state per purpose, in the order asked", body = BulkResponse),
        (status = 400, description = "`malformed_json` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `consents:read` scope", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, every mistake at once: `identifiers` (`required`: empty; `too_long`: over 1000), `identifiers[i]` (`required`: none of the three; `invalid_type`: more than one), `identifiers[i].email` (`invalid_email`), `identifiers[i].subject_id` (`invalid_characters`), `identifiers[i].external_id` (`required`, `too_long`, `invalid_characters`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn query(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::ConsentsRead).await?;
    require_content_type(&req, JSON)?;
    let body = read_at_most(&req, payload, MAX_BULK_BODY).await?;
    let request: BulkQuery = super::body::json(&body, r#"Expected {"identifiers": [{"email": "…"}, …]}"#)?;
    let asked = parse(&request.identifiers)?;
    let local = super::sending_time(&state, request.at.as_deref())?;
    let (catalog, keyring) = (state.catalog.current(), state.keyring.clone());
    let answers = super::point_read(&state, move |conn| {
        let mut answers = bulk_check::answer(conn, &keyring, &asked)?;
        if catalog.holds_possible() {
            bulk_check::restrict_held(conn, &keyring, &asked, &mut answers)?;
        }
        answers
            .into_iter()
            .map(|a| {
                Ok((
                    a.subject_id,
                    a.external_id,
                    consent_views(conn, &catalog, &catalog.purpose_keys, &a.states, local)?,
                ))
            })
            .collect::<Result<Vec<_>, AppError>>()
    })
    .await?;
    // Every person found is an access record, as for the single check.
    let who = super::access::accessor(&req, &state, ActorKind::ApiKey, &key_id);
    let found = answers.iter().filter_map(|(id, _, _)| id.as_deref());
    state.access.record_each(&who, AccessAction::ConsentCheck, found, &super::access::path_of(&req));
    let results = request
        .identifiers
        .into_iter()
        .zip(answers)
        .map(|(identifier, (subject_id, external_id, consents))| BulkAnswer {
            identifier,
            subject_id,
            external_id,
            consents,
        })
        .collect();
    Ok(super::no_store(&BulkResponse { results }))
}
