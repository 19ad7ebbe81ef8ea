//! Declaring webhook endpoints through the API (beside the workspace file's): create one (its
//! secret answered once), change where it sends and what, rotate its secret, remove it.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api_key::authorize;
use super::body::{JSON, read_limited, require_content_type};
use super::error::{AppError, Problem};
use crate::domain::ErrorCode;
use crate::domain::scopes::Scope;
use crate::services::rights::Actor;
use crate::services::webhooks::{self, EndpointRequest, EndpointView, ManageError};

impl From<ManageError> for AppError {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::Invalid(problems) => Self::Validation(problems),
            ManageError::NameTaken => Self::Conflict(ErrorCode::WebhookNameTaken),
            ManageError::DeclaredInFile => Self::Conflict(ErrorCode::WebhookDeclaredInFile),
            ManageError::NotFound => Self::NotFound(ErrorCode::WebhookNotFound),
            ManageError::Service(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewEndpoint {
    /// Its name: 1 to 64 characters of a-z, 0-9 and _, starting with a letter.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z][a-z0-9_]*$", example = "crm")]
    name: String,
    /// Where events are POSTed: an http(s) address on the internet.
    #[schema(min_length = 1, max_length = 2000, example = "https://crm.example/hooks/assent")]
    url: String,
    /// Event types or patterns: `consent.*`, `consent.withdrawn`, `subject.erased`, `import.completed`, `*`.
    #[schema(min_items = 1, example = json!(["consent.*", "subject.erased"]))]
    events: Vec<String>,
    /// Put the person's address in each event (off: subject id and external id only).
    #[serde(default)]
    include_email: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointChange {
    #[schema(min_length = 1, max_length = 2000)]
    url: Option<String>,
    #[schema(min_items = 1)]
    events: Option<Vec<String>>,
    include_email: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Created {
    endpoint: EndpointView,
    /// The signing secret (`whsec_…`, Standard Webhooks): answered this once, never again.
    secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Rotated {
    name: String,
    /// The new signing secret: answered this once. The previous one keeps signing beside it for 24 hours.
    secret: String,
}

const EXPECTED: &str =
    r#"Expected {"name": "crm", "url": "https://…", "events": ["consent.*"], "include_email": false}"#;

#[utoipa::path(
    operation_id = "create_webhook",
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    security(("api_key" = ["webhooks"])),
    request_body(content = NewEndpoint, content_type = "application/json"),
    responses(
        (status = 201, description = "Declared: it is sent what happens from now on. The secret is answered this once.", body = Created,
            headers(("Location" = String, description = "The endpoint: /api/v1/webhooks/{name}"))),
        (status = 400, description = "`malformed_json` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `webhooks` scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`webhook_name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`name`: `required`, `too_long`, `invalid_key`; `url`: `required`, `too_long`, `invalid_url`; `events`: `required`, `invalid_choice`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::Webhooks).await?;
    require_content_type(&req, JSON)?;
    let body: NewEndpoint = super::body::json(&read_limited(&req, payload).await?, EXPECTED)?;
    let request = EndpointRequest { url: body.url, events: body.events, include_email: body.include_email };
    let (writer, keyring, allow) =
        (state.db.writer.clone(), state.keyring.clone(), state.settings.webhook_allow_private);
    let (name, actor) = (body.name.clone(), Actor::ApiKey(key_id));
    let secret = web::block(move || webhooks::create(&writer, &keyring, &name, &request, &actor, allow)).await??;
    let endpoint = read_one(&state, body.name.clone()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/webhooks/{}", body.name)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Created { endpoint, secret }))
}

async fn read_one(state: &AppState, name: String) -> Result<EndpointView, AppError> {
    super::point_read(state, move |conn| Ok(webhooks::one(conn, &name)?))
        .await?
        .ok_or(AppError::NotFound(ErrorCode::WebhookNotFound))
}

#[utoipa::path(
    operation_id = "change_webhook",
    patch,
    path = "/api/v1/webhooks/{name}",
    tag = "webhooks",
    security(("api_key" = ["webhooks"])),
    params(("name" = String, Path, description = "The endpoint's name")),
    request_body(content = EndpointChange, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed (what is left out stays as it was)", body = EndpointView),
        (status = 400, description = "`malformed_json` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `webhooks` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`webhook_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`webhook_declared_in_file`: change it in the workspace file", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`url`: `required`, `too_long`, `invalid_url`; `events`: `required`, `invalid_choice`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::Webhooks).await?;
    require_content_type(&req, JSON)?;
    let body: EndpointChange = super::body::json(
        &read_limited(&req, payload).await?,
        r#"Expected {"url": "https://…", "events": ["consent.*"], "include_email": false} (any of them)"#,
    )?;
    let name = path.into_inner();
    let now = read_one(&state, name.clone()).await?;
    let request = EndpointRequest {
        url: body.url.unwrap_or(now.url),
        events: body.events.unwrap_or(now.events),
        include_email: body.include_email.unwrap_or(now.include_email),
    };
    let (writer, allow, actor, asked) =
        (state.db.writer.clone(), state.settings.webhook_allow_private, Actor::ApiKey(key_id), name.clone());
    web::block(move || webhooks::change(&writer, &asked, &request, &actor, allow)).await??;
    Ok(super::no_store(&read_one(&state, name).await?))
}

#[utoipa::path(
    operation_id = "rotate_webhook_secret",
    post,
    path = "/api/v1/webhooks/{name}/rotate",
    tag = "webhooks",
    security(("api_key" = ["webhooks"])),
    params(("name" = String, Path, description = "The endpoint's name")),
    responses(
        (status = 200, description = "A new secret, answered this once; both sign for 24 hours", body = Rotated),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `webhooks` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`webhook_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`webhook_declared_in_file`: rotate it in the workspace file", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::Webhooks).await?;
    let (writer, keyring, actor, name) =
        (state.db.writer.clone(), state.keyring.clone(), Actor::ApiKey(key_id), path.into_inner());
    let asked = name.clone();
    let secret = web::block(move || webhooks::rotate(&writer, &keyring, &asked, &actor)).await??;
    Ok(super::no_store(&Rotated { name, secret }))
}

#[utoipa::path(
    operation_id = "remove_webhook",
    delete,
    path = "/api/v1/webhooks/{name}",
    tag = "webhooks",
    security(("api_key" = ["webhooks"])),
    params(("name" = String, Path, description = "The endpoint's name")),
    responses(
        (status = 204, description = "Removed with its deliveries: nothing more is sent to it"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `webhooks` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`webhook_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`webhook_declared_in_file`: remove it from the workspace file", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::Webhooks).await?;
    let (writer, actor, name) = (state.db.writer.clone(), Actor::ApiKey(key_id), path.into_inner());
    web::block(move || webhooks::remove(&writer, &name, &actor)).await??;
    Ok(HttpResponse::NoContent().finish())
}
