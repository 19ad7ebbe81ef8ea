//! The consent check: `GET /api/v1/consents?email=…` (or `?external_id=…`), and `POST
//! /api/v1/consents` with the same in a JSON body, so that personal data need not travel in a URL
//! (proxies, access logs and browser histories keep URLs). Both answer the same.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::api::field_error;
use super::api_key::bearer;
use super::body::{JSON, read_limited, require_content_type};
use super::error::{AppError, Problem};
use super::{AppState, access, only};
use crate::domain::access::AccessAction;
use crate::domain::form::FieldErrorCode;
use crate::domain::purpose::is_daytime;
use crate::domain::scopes::Scope;
use crate::domain::{Email, ErrorCode};
use crate::services::lookup::{Cached, ConsentView, consent_views, consent_views_known};

/// This module's resource, inside the `/api/v1` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(only("/consents", "GET, POST", web::get().to(get_consents)).route(web::post().to(post_consents)));
}

/// Who the consent check is asked about, and when the sending is meant (the query of `GET`, the
/// body of `POST /api/v1/consents`).
#[derive(Debug, Deserialize)]
pub(crate) struct ConsentQuery {
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentsResponse {
    /// `null` when Assent holds nothing for this address (or external id).
    pub subject_id: Option<String>,
    /// Your id for the person, when one is attached (`PUT /api/v1/subjects/{id}/external-id`).
    pub external_id: Option<String>,
    pub consents: Vec<ConsentView>,
}

/// Whom a consent check asks about.
enum Asked {
    Email(Email),
    External(String),
}

fn asked(query: ConsentQuery) -> Result<Asked, AppError> {
    match (query.email, query.external_id) {
        (Some(raw), None) => {
            Email::parse(&raw).map(Asked::Email).map_err(|_| field_error("email", FieldErrorCode::InvalidEmail))
        }
        (None, Some(raw)) => Ok(Asked::External(
            crate::services::external_ids::check(&raw).map_err(|e| AppError::Validation(vec![e]))?.to_owned(),
        )),
        (None, None) => Err(field_error("email", FieldErrorCode::Required)),
        (Some(_), Some(_)) => Err(AppError::BadRequest {
            code: ErrorCode::InvalidQuery,
            detail: "Use ?email=<address> or ?external_id=<id>, not both.".into(),
        }),
    }
}

/// `GET /api/v1/consents?email=…` or `?external_id=…` (API key): the state of every purpose for
/// that person.
#[utoipa::path(
    get,
    path = "/api/v1/consents",
    tag = "consents",
    params(
        ("email" = Option<String>, Query, description = "The person's address (this or `external_id`)", example = "minji@example.com"),
        ("external_id" = Option<String>, Query, description = "Your id for the person (this or `email`)"),
        ("at" = Option<String>, Query, description = "When you mean to send (RFC 3339; default now): judges `may_send_now`", example = "2026-12-05T22:30:00+09:00"),
    ),
    security(("api_key" = ["consents:read"])),
    responses(
        (status = 200, description = "The state of every purpose; `subject_id` is null when nobody has this address or external id", body = ConsentsResponse),
        (status = 400, description = "`invalid_query`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `consents:read` scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`email`: `required` or `invalid_email`; `external_id`: `required`, `too_long` or `invalid_characters`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get_consents(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let presented = bearer(&req).ok_or(AppError::Unauthorized)?.to_owned();
    let query = web::Query::<ConsentQuery>::from_query(req.query_string())
        .map_err(|_| AppError::BadRequest { code: ErrorCode::InvalidQuery, detail: "Use ?email=<address>.".into() })?
        .into_inner();
    answer(&req, &state, presented, query).await
}

/// The consent check for `query`, asked with the key `presented`.
pub(crate) async fn answer(
    req: &HttpRequest,
    state: &AppState,
    presented: String,
    query: ConsentQuery,
) -> Result<HttpResponse, AppError> {
    let local = super::sending_time(state, query.at.as_deref())?;
    match asked(query)? {
        Asked::Email(email) => by_email(req, state, presented, &email, local).await,
        Asked::External(external_id) => by_external_id(req, state, external_id, local).await,
    }
}

async fn by_email(
    req: &HttpRequest,
    state: &AppState,
    presented: String,
    email: &Email,
    local: chrono::NaiveTime,
) -> Result<HttpResponse, AppError> {
    let catalog = state.catalog.current();
    let index = state.keyring.email_index(email);
    // The common case is answered from memory: a key found live moments ago, and a person whose
    // states were read since the last write (see `ConsentCache`).
    let stamp = state.consents.changes().stamp();
    let person = state.consents.changes().person_stamp();
    let cached = state.consents.get(&index);
    let known_key = state.api_keys.cached(&presented, stamp);
    if let Some(key) = &known_key
        && let Cached::Hit(found) = &cached
        && let Some(body) = found.body(&catalog, is_daytime(local), || {
            let (subject_id, states, external_id) = &found.states;
            let consents = consent_views_known(&catalog, &catalog.purpose_keys, states, local)?;
            serde_json::to_vec(&ConsentsResponse {
                subject_id: subject_id.clone(),
                external_id: external_id.clone(),
                consents,
            })
            .ok()
            .map(Into::into)
        })
    {
        crate::metrics::consent_check(true);
        let key_id = super::api_key::permitted(req, state, key.clone(), Scope::ConsentsRead)?;
        // Every check is an access record (art. 8), queued: the answer does not wait for it.
        access::by_api_key(req, state, &key_id, AccessAction::ConsentCheck, found.states.0.as_deref());
        return Ok(no_store().insert_header(header::ContentType::json()).body(body));
    }
    let (api_keys, cache, keyring) = (state.api_keys.clone(), state.consents.clone(), state.keyring.clone());
    let changes = state.consents.changes().clone();
    let (key, (subject_id, _, external_id), consents) = super::point_read(state, move |conn| {
        let key = match known_key {
            Some(key) => key,
            None => api_keys.authenticate(conn, &presented, stamp, &changes)?.ok_or(AppError::Unauthorized)?,
        };
        let found = match cached {
            Cached::Hit(found) => found,
            Cached::Miss => cache.read(conn, &keyring, &index, person, catalog.holds_possible())?,
        };
        let consents = consent_views(conn, &catalog, &catalog.purpose_keys, &found.states.1, local)?;
        Ok((key, found.states.clone(), consents))
    })
    .await?;
    crate::metrics::consent_check(false);
    let key_id = super::api_key::permitted(req, state, key, Scope::ConsentsRead)?;
    access::by_api_key(req, state, &key_id, AccessAction::ConsentCheck, subject_id.as_deref());
    Ok(consents_response(subject_id, external_id, consents))
}

/// The check by external id: not cached (integrations that know their own ids are few).
async fn by_external_id(
    req: &HttpRequest,
    state: &AppState,
    external_id: String,
    local: chrono::NaiveTime,
) -> Result<HttpResponse, AppError> {
    let key_id = super::api_key::authorize(req, state, Scope::ConsentsRead).await?;
    let (catalog, keyring, asked) = (state.catalog.current(), state.keyring.clone(), external_id.clone());
    let (subject_id, consents) = super::point_read(state, move |conn| {
        let subject_id = crate::services::external_ids::subject_of(conn, &keyring, &asked)?;
        let states = match &subject_id {
            Some(id) => {
                let states = crate::db::consent::for_subject(conn, id)?;
                crate::services::holds::checked_states(conn, Some(id), &[], states, catalog.holds_possible())?
            }
            None => Vec::new(),
        };
        Ok((subject_id, consent_views(conn, &catalog, &catalog.purpose_keys, &states, local)?))
    })
    .await?;
    crate::metrics::consent_check(false);
    access::by_api_key(req, state, &key_id, AccessAction::ConsentCheck, subject_id.as_deref());
    let external_id = subject_id.as_ref().map(|_| external_id);
    Ok(consents_response(subject_id, external_id, consents))
}

fn consents_response(
    subject_id: Option<String>,
    external_id: Option<String>,
    consents: Vec<ConsentView>,
) -> HttpResponse {
    no_store().json(ConsentsResponse { subject_id, external_id, consents })
}

/// A consent check's answer is the state at the moment asked: no cache on the way keeps it.
fn no_store() -> actix_web::HttpResponseBuilder {
    let mut answer = HttpResponse::Ok();
    answer.insert_header((header::CACHE_CONTROL, "no-store"));
    answer
}

/// Whom to check: by address or by your id for the person (exactly one), and optionally when you
/// mean to send (`at`, RFC 3339; default now: judges `may_send_now`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ConsentLookup {
    ByEmail(LookupByEmail),
    ByExternalId(LookupByExternalId),
}

/// The check by address.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupByEmail {
    #[schema(format = "email")]
    email: String,
    at: Option<String>,
}

/// The check by your id for the person.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupByExternalId {
    external_id: String,
    at: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/consents",
    tag = "consents",
    request_body(content = ConsentLookup, content_type = "application/json"),
    security(("api_key" = ["consents:read"])),
    responses(
        (status = 200, description = "The state of every purpose, as the GET answers it", body = ConsentsResponse),
        (status = 400, description = "`malformed_json`, or `invalid_request` (neither or both of `email` and `external_id`, or another member)", body = Problem, content_type = "application/problem+json"),
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
    let query = match asked {
        ConsentLookup::ByEmail(b) => ConsentQuery { email: Some(b.email), external_id: None, at: b.at },
        ConsentLookup::ByExternalId(b) => ConsentQuery { email: None, external_id: Some(b.external_id), at: b.at },
    };
    answer(&req, &state, presented, query).await
}
