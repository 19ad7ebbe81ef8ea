//! The webhook endpoints through the API: their state and latest deliveries, a resend, a
//! resume. (Declaring, changing and removing them: `webhooks_manage_api`.)

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::api_key::authorize;
use super::error::{AppError, Problem};
use super::{AppState, no_store};
use crate::domain::ErrorCode;
use crate::domain::scopes::Scope;
use crate::services::rights::Actor;
use crate::services::webhooks::{self, EndpointView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    use super::webhooks_manage_api as manage;
    let not_allowed =
        |allow: &'static str| web::to(move || async move { Err::<HttpResponse, _>(AppError::MethodNotAllowed(allow)) });
    cfg.service(
        web::resource("/webhooks")
            .route(web::get().to(list))
            .route(web::post().to(manage::create))
            .default_service(not_allowed("GET, POST")),
    )
    .service(
        web::resource("/webhooks/{name}")
            .route(web::get().to(show))
            .route(web::patch().to(manage::change))
            .route(web::delete().to(manage::remove))
            .default_service(not_allowed("GET, PATCH, DELETE")),
    )
    .service(super::only("/webhooks/{name}/rotate", "POST", web::post().to(manage::rotate)))
    .service(super::only("/webhooks/{name}/resume", "POST", web::post().to(resume)))
    .service(super::only("/webhooks/{name}/deliveries/{id}/resend", "POST", web::post().to(resend)));
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EndpointList {
    /// Every endpoint (by name), each with its 50 latest deliveries.
    endpoints: Vec<EndpointView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Resumed {
    name: String,
    /// `false` when it was not stopped (nothing changed).
    resumed: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Resent {
    /// The `webhook-id` it goes with again.
    id: String,
    status: &'static str,
}

#[utoipa::path(
    operation_id = "list_webhooks",
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    security(("api_key" = ["webhooks"])),
    responses(
        (status = 200, description = "The endpoints and their latest deliveries", body = EndpointList),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `webhooks` scope", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    authorize(&req, &state, Scope::Webhooks).await?;
    let endpoints = super::point_read(&state, |conn| Ok(webhooks::overview(conn)?)).await?;
    Ok(no_store(&EndpointList { endpoints }))
}

#[utoipa::path(
    operation_id = "show_webhook",
    get,
    path = "/api/v1/webhooks/{name}",
    tag = "webhooks",
    security(("api_key" = ["webhooks"])),
    params(("name" = String, Path, description = "The endpoint's name")),
    responses(
        (status = 200, description = "The endpoint and its latest deliveries", body = EndpointView),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `webhooks` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`webhook_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    authorize(&req, &state, Scope::Webhooks).await?;
    let name = path.into_inner();
    let endpoint = super::point_read(&state, move |conn| Ok(webhooks::one(conn, &name)?)).await?;
    Ok(no_store(&endpoint.ok_or(AppError::NotFound(ErrorCode::WebhookNotFound))?))
}

#[utoipa::path(
    operation_id = "resume_webhook",
    post,
    path = "/api/v1/webhooks/{name}/resume",
    tag = "webhooks",
    security(("api_key" = ["webhooks"])),
    params(("name" = String, Path, description = "The endpoint's name")),
    responses(
        (status = 200, description = "Sending again: its failed deliveries first, then everything since, in order", body = Resumed),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `webhooks` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`webhook_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::Webhooks).await?;
    let (writer, name) = (state.db.writer.clone(), path.into_inner());
    let actor = Actor::ApiKey(key_id);
    let asked = name.clone();
    let resumed = web::block(move || webhooks::resume(&writer, &actor, &asked)).await??;
    let resumed = resumed.ok_or(AppError::NotFound(ErrorCode::WebhookNotFound))?;
    Ok(no_store(&Resumed { name, resumed }))
}

#[utoipa::path(
    operation_id = "resend_webhook_delivery",
    post,
    path = "/api/v1/webhooks/{name}/deliveries/{id}/resend",
    tag = "webhooks",
    security(("api_key" = ["webhooks"])),
    params(
        ("name" = String, Path, description = "The endpoint's name"),
        ("id" = String, Path, description = "The delivery's `webhook-id`"),
    ),
    responses(
        (status = 200, description = "Queued again, ahead of the rest, with the same `webhook-id`", body = Resent),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `webhooks` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`webhook_not_found` or `delivery_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::Webhooks).await?;
    let (name, id) = path.into_inner();
    let (writer, actor, asked) = (state.db.writer.clone(), Actor::ApiKey(key_id), id.clone());
    let known = {
        let name = name.clone();
        super::point_read(&state, move |conn| Ok(crate::db::webhooks::endpoint(conn, &name)?.is_some())).await?
    };
    if !known {
        return Err(AppError::NotFound(ErrorCode::WebhookNotFound));
    }
    let found = web::block(move || webhooks::resend(&writer, &actor, &name, &asked)).await??;
    if !found {
        return Err(AppError::NotFound(ErrorCode::DeliveryNotFound));
    }
    Ok(no_store(&Resent { id, status: "pending" }))
}
