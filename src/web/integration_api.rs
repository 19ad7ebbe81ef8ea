//! What a CRM needs to keep in step: the event feed (`GET /api/v1/events`), paging through every
//! consent event in ledger order with a stable cursor, and a person's external id (`PUT` /
//! `DELETE /api/v1/subjects/{id}/external-id`). Every call needs an API key.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api_key::authorize;
use super::body::{JSON, read_limited, require_content_type};
use super::error::{AppError, Problem};
use crate::domain::access::AccessAction;
use crate::domain::form::{FieldError, FieldErrorCode};
use crate::domain::scopes::Scope;
use crate::domain::{ErrorCode, Method, SubjectId};
use crate::services::external_ids;
use crate::services::feed::{self, FeedPage};
use crate::services::rights::Actor;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let not_allowed =
        |allow: &'static str| web::to(move || async move { Err::<HttpResponse, _>(AppError::MethodNotAllowed(allow)) });
    cfg.service(super::only("/events", "GET", web::get().to(events))).service(
        web::resource("/subjects/{id}/external-id")
            .route(web::put().to(put_external_id))
            .route(web::delete().to(delete_external_id))
            .default_service(not_allowed("PUT, DELETE")),
    );
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    after: Option<String>,
    limit: Option<String>,
}

fn bad_query() -> AppError {
    AppError::BadRequest {
        code: ErrorCode::InvalidQuery,
        detail: format!(
            "Use ?after=<cursor>&limit=1..{} (the cursor is a previous page's next_cursor).",
            feed::MAX_LIMIT
        ),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    params(
        ("after" = Option<String>, Query, description = "A previous page's `next_cursor`; absent: from the first event", example = "0"),
        ("limit" = Option<i64>, Query, description = "Events per page, 1 to 1000 (default 100)", example = 100),
    ),
    security(("api_key" = ["consents:read"])),
    responses(
        (status = 200, description = "The consent events after the cursor, oldest first; nothing personal beyond ids", body = FeedPage),
        (status = 400, description = "`invalid_query`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `consents:read` scope", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn events(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::ConsentsRead).await?;
    let query = web::Query::<FeedQuery>::from_query(req.query_string()).map_err(|_| bad_query())?.into_inner();
    let after = query.after.as_deref().map_or(Some(0), feed::parse_cursor).ok_or_else(bad_query)?;
    let limit = query.limit.as_deref().map_or(Some(feed::DEFAULT_LIMIT), feed::parse_limit).ok_or_else(bad_query)?;
    let keyring = state.keyring.clone();
    let page = super::point_read(&state, move |conn| Ok(feed::page(conn, &keyring, after, limit)?)).await?;
    // Every person the page names is an access record (one per person, as the console's lists).
    let who = super::access::accessor(&req, &state, crate::domain::access::ActorKind::ApiKey, &key_id);
    let named = page.subjects();
    state.access.record_each(
        &who,
        AccessAction::ReadEvents,
        named.iter().map(String::as_str),
        &super::access::path_of(&req),
    );
    Ok(super::no_store(&page))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExternalIdBody {
    /// Your own id for the person (e.g. your CRM's customer id), 1 to 200 characters.
    #[schema(max_length = 200, min_length = 1, example = "CUST-000123")]
    external_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ExternalIdResponse {
    subject_id: String,
    external_id: Option<String>,
}

#[utoipa::path(
    put,
    path = "/api/v1/subjects/{id}/external-id",
    tag = "subjects",
    params(("id" = String, Path, description = "The subject's id")),
    security(("api_key" = ["subjects:write"])),
    request_body(content = ExternalIdBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Attached (replacing the person's earlier one)", body = ExternalIdResponse),
        (status = 400, description = "`malformed_json` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`subject_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`external_id_taken`: another person has this external id", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject_erased`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`external_id`: `required`, `too_long` or `invalid_characters`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn put_external_id(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::SubjectsWrite).await?;
    require_content_type(&req, JSON)?;
    let body = read_limited(&req, payload).await?;
    let request: ExternalIdBody = super::body::json(&body, r#"Expected {"external_id": "…"}"#)?;
    let external_id = external_ids::check(&request.external_id).map_err(|e| AppError::Validation(vec![e]))?.to_owned();
    let (keyring, subject, actor) =
        (state.keyring.clone(), SubjectId::from(path.clone()), Actor::ApiKey(key_id.clone()));
    let attached = external_id.clone();
    state.db.writer.write(move |tx| external_ids::set(tx, &keyring, &subject, &attached, &actor, Method::Api)).await?;
    super::access::by_api_key(&req, &state, &key_id, AccessAction::SetExternalId, Some(&path));
    Ok(HttpResponse::Ok().json(ExternalIdResponse { subject_id: path.into_inner(), external_id: Some(external_id) }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/subjects/{id}/external-id",
    tag = "subjects",
    params(("id" = String, Path, description = "The subject's id")),
    security(("api_key" = ["subjects:write"])),
    responses(
        (status = 200, description = "Removed (or there was none)", body = ExternalIdResponse),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`subject_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject_erased`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn delete_external_id(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::SubjectsWrite).await?;
    let (keyring, subject, actor) =
        (state.keyring.clone(), SubjectId::from(path.clone()), Actor::ApiKey(key_id.clone()));
    state.db.writer.write(move |tx| external_ids::remove(tx, &keyring, &subject, &actor, Method::Api)).await?;
    super::access::by_api_key(&req, &state, &key_id, AccessAction::SetExternalId, Some(&path));
    Ok(HttpResponse::Ok().json(ExternalIdResponse { subject_id: path.into_inner(), external_id: None }))
}

/// The `external_id` of a submission, checked before anything is recorded: only with an API key,
/// well formed, and not another person's (the person being the one the address names).
pub(crate) async fn submitted_external_id(
    state: &AppState,
    vouched: bool,
    raw: Option<String>,
    email: &crate::domain::Email,
) -> Result<Option<String>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    let field = |code| AppError::Validation(vec![FieldError { field: "external_id".into(), code, max_length: None }]);
    if !vouched {
        return Err(field(FieldErrorCode::UnknownField));
    }
    let id = external_ids::check(&raw).map_err(|e| AppError::Validation(vec![e]))?.to_owned();
    let (keyring, asked, index) = (state.keyring.clone(), id.clone(), state.keyring.email_index(email));
    let taken = super::point_read(state, move |conn| {
        let holder = external_ids::subject_of(conn, &keyring, &asked)?;
        let person =
            crate::db::subjects::find_by_index(conn, &index)?.filter(|s| s.wrapped_key.is_some()).map(|s| s.id);
        Ok(holder.is_some_and(|h| Some(h) != person))
    })
    .await?;
    if taken {
        return Err(crate::services::rights::RightsError::ExternalIdTaken.into());
    }
    Ok(Some(id))
}

/// Attaches a submission's external id to the person it was recorded for.
pub(crate) async fn attach(state: &AppState, key_id: &str, subject: &SubjectId, id: String) -> Result<(), AppError> {
    let (keyring, subject, actor) = (state.keyring.clone(), subject.clone(), Actor::ApiKey(key_id.to_owned()));
    state.db.writer.write(move |tx| external_ids::set(tx, &keyring, &subject, &id, &actor, Method::Api)).await?;
    Ok(())
}
