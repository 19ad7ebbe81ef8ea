//! The rights desk for ticketing systems: open a request for a person (by address or subject
//! id), list the open ones, read one, and move it on (verify, start, extend, complete, refuse).
//! The same rules and letters as the console's desk (`services::rights_desk`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::api::field_error;
use super::api_key::authorize;
use super::body::{JSON, read_limited, require_content_type};
use super::error::{AppError, Problem};
use super::{AppState, no_store};
use crate::db::rights::DeskFilter;
use crate::domain::ErrorCode;
use crate::domain::form::{FieldError, FieldErrorCode};
use crate::domain::rights::{Deadline, RequestChannel, RequestState, RightKind, Step, StepRefusal};
use crate::domain::scopes::Scope;
use crate::services::rights::Actor;
use crate::services::rights_desk::{self, DeskError, NewRequest, RequestView, Requester, StepTaken, view};

pub fn routes(cfg: &mut web::ServiceConfig) {
    let not_allowed =
        |allow: &'static str| web::to(move || async move { Err::<HttpResponse, _>(AppError::MethodNotAllowed(allow)) });
    cfg.service(
        web::resource("/rights-requests")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(not_allowed("GET, POST")),
    )
    .service(super::only("/rights-requests/{id}", "GET", web::get().to(show)))
    .service(super::only("/rights-requests/{id}/steps", "POST", web::post().to(take_step)));
}

impl From<DeskError> for AppError {
    fn from(e: DeskError) -> Self {
        let field =
            |field: &str, code| Self::Validation(vec![FieldError { field: field.into(), code, max_length: None }]);
        match e {
            DeskError::NotFound => Self::NotFound(ErrorCode::RightsRequestNotFound),
            DeskError::UnknownPerson => Self::NotFound(ErrorCode::SubjectNotFound),
            // Nothing is held about an erased person: there is no one to act for.
            DeskError::Erased => Self::NotFound(ErrorCode::SubjectNotFound),
            DeskError::UnknownAssignee => field("assignee", FieldErrorCode::InvalidChoice),
            DeskError::TooLong => Self::Validation(vec![FieldError {
                field: "detail".into(),
                code: FieldErrorCode::TooLong,
                max_length: Some(rights_desk::MAX_TEXT),
            }]),
            DeskError::Step(StepRefusal::ReasonRequired) => field("reason", FieldErrorCode::Required),
            DeskError::Step(refusal) => Self::Conflict(step_code(refusal)),
            DeskError::Conflict => Self::Conflict(ErrorCode::RequestChanged),
            DeskError::Service(e) => e.into(),
        }
    }
}

/// The stable code of a step that cannot be taken.
pub fn step_code(refusal: StepRefusal) -> ErrorCode {
    match refusal {
        StepRefusal::Closed => ErrorCode::RequestClosed,
        StepRefusal::AlreadyVerified => ErrorCode::AlreadyVerified,
        StepRefusal::NotVerified => ErrorCode::IdentityNotVerified,
        StepRefusal::AlreadyStarted => ErrorCode::AlreadyStarted,
        StepRefusal::AlreadyExtended => ErrorCode::AlreadyExtended,
        StepRefusal::NoExtension => ErrorCode::ExtensionNotAllowed,
        StepRefusal::ReasonRequired => ErrorCode::Required,
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRightsRequest {
    /// `access`, `rectification`, `erasure`, `restriction`, `objection`, `portability` or `withdrawal`.
    #[schema(example = "erasure")]
    kind: String,
    /// How it arrived: `web`, `email`, `phone`, `letter`, `in_person` or `api` (the default).
    #[serde(default)]
    channel: Option<String>,
    /// The person's address (or give `subject_id`).
    #[schema(format = "email", max_length = 254)]
    email: Option<String>,
    subject_id: Option<String>,
    /// What the person asked for, in their words (kept encrypted).
    #[serde(default)]
    #[schema(max_length = 4000)]
    detail: String,
    /// `gdpr`, `pipa` or `ccpa`; by default the server's `ASSENT_RIGHTS_DEADLINE`.
    regime: Option<String>,
    /// Whether the requester's identity was already verified by the ticketing system.
    #[serde(default)]
    verified: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepBody {
    /// `verify`, `start`, `extend`, `complete` or `refuse`.
    #[schema(example = "complete")]
    step: String,
    /// Required to `extend` or `refuse`: the person is told it.
    #[serde(default)]
    #[schema(max_length = 4000)]
    reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RequestList {
    /// By deadline, soonest first.
    requests: Vec<RequestView>,
    /// Pass as `?after=` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

fn invalid_choice(field: &str) -> AppError {
    field_error(field, FieldErrorCode::InvalidChoice)
}

fn choice<T>(field: &str, parsed: Option<T>) -> Result<T, AppError> {
    parsed.ok_or_else(|| invalid_choice(field))
}

const EXPECTED: &str =
    r#"Expected {"kind": "erasure", "email": "person@example.com", "channel": "email", "detail": "…"}"#;

#[utoipa::path(
    operation_id = "create_rights_request",
    post,
    path = "/api/v1/rights-requests",
    tag = "rights",
    security(("api_key" = ["subjects:write"])),
    request_body(content = NewRightsRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Received (or verified), due under its regime", body = RequestView,
            headers(("Location" = String, description = "The request: /api/v1/rights-requests/{id}"))),
        (status = 400, description = "`malformed_json` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`subject_not_found`: no person with that address or id (or their data was erased)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`kind`, `channel`, `regime`: `invalid_choice`; `email`: `required`, `invalid_email`; `detail`: `too_long`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::SubjectsWrite).await?;
    require_content_type(&req, JSON)?;
    let body: NewRightsRequest = super::body::json(&read_limited(&req, payload).await?, EXPECTED)?;
    let who = match (body.email, body.subject_id) {
        // An address given must be one, even beside a subject id.
        (Some(email), _) => match crate::domain::Email::parse(&email) {
            Ok(_) => Requester::Email(email),
            Err(_) => return Err(field_error("email", FieldErrorCode::InvalidEmail)),
        },
        (None, Some(id)) if !id.trim().is_empty() => Requester::Subject(id),
        _ => {
            let missing = FieldError { field: "email".into(), code: FieldErrorCode::Required, max_length: None };
            return Err(AppError::Validation(vec![missing]));
        }
    };
    let new = NewRequest {
        kind: choice("kind", RightKind::parse_desk(&body.kind))?,
        channel: choice("channel", RequestChannel::parse(body.channel.as_deref().unwrap_or("api")))?,
        who,
        note: body.detail,
        regime: match body.regime {
            Some(raw) => choice("regime", Deadline::parse(&raw))?,
            None => state.settings.rights_deadline,
        },
        assignee: None,
        verified: body.verified,
    };
    let (keyring, actor) = (state.keyring.clone(), Actor::ApiKey(key_id));
    let now = rights_desk::now();
    let opened = state.db.writer.write(move |tx| rights_desk::open(tx, &keyring, &new, &actor, now)).await?;
    let shown = read_one(&state, opened.id.clone()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/rights-requests/{}", opened.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(shown))
}

async fn read_one(state: &AppState, id: String) -> Result<RequestView, AppError> {
    let keyring = state.keyring.clone();
    super::point_read(state, move |conn| Ok(view::one(conn, &keyring, &id, rights_desk::now())?))
        .await?
        .ok_or(AppError::NotFound(ErrorCode::RightsRequestNotFound))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `open` (the default: every state not yet answered), `closed`, `all`, or one state.
    state: Option<String>,
    /// One kind of request.
    kind: Option<String>,
    /// `overdue` or `soon` (due within three days).
    due: Option<String>,
    /// Where the previous page ended (its `next`).
    after: Option<String>,
}

#[utoipa::path(
    operation_id = "list_rights_requests",
    get,
    path = "/api/v1/rights-requests",
    tag = "rights",
    security(("api_key" = ["subjects:read"])),
    params(ListQuery),
    responses(
        (status = 200, description = "Requests that need work, by deadline", body = RequestList),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:read` scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`state`, `kind`, `due`: `invalid_choice`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    authorize(&req, &state, Scope::SubjectsRead).await?;
    let q = web::Query::<ListQuery>::from_query(req.query_string())
        .map_err(|e| AppError::BadRequest { code: ErrorCode::InvalidQuery, detail: e.to_string() })?
        .into_inner();
    let now = rights_desk::now();
    let filter = desk_filter(q.state.as_deref(), q.kind.as_deref(), q.due.as_deref(), now)?;
    let after = match q.after.as_deref() {
        Some(raw) => Some(choice("after", super::admin::submissions::decode_cursor(raw))?),
        None => None,
    };
    let (requests, next) =
        super::point_read(&state, move |conn| Ok(view::page(conn, &filter, after.as_ref(), now)?)).await?;
    Ok(no_store(&RequestList { requests, next: next.as_ref().map(super::admin::submissions::encode_cursor) }))
}

/// The desk's filter from its query words (shared with the console).
pub fn desk_filter(
    state: Option<&str>,
    kind: Option<&str>,
    due: Option<&str>,
    now: chrono::NaiveDateTime,
) -> Result<DeskFilter, AppError> {
    let states: Vec<String> = match state.filter(|s| !s.is_empty()).unwrap_or("open") {
        "open" => RequestState::OPEN.iter().map(|s| s.as_str().to_owned()).collect(),
        "closed" => vec!["completed".into(), "refused".into()],
        "all" => Vec::new(),
        one => vec![choice("state", RequestState::parse(one))?.as_str().to_owned()],
    };
    let kind = match kind.filter(|k| !k.is_empty()) {
        Some(k) => Some(choice("kind", RightKind::parse_desk(k))?.as_str().to_owned()),
        None => None,
    };
    let soon = chrono::Duration::days(crate::domain::rights::DUE_SOON_DAYS as i64);
    let due_before = match due.unwrap_or("") {
        "" => None,
        "overdue" => Some(now),
        "soon" => Some(now + soon),
        _ => return Err(invalid_choice("due")),
    };
    Ok(DeskFilter { self_service: false, states, kind, assignee: None, due_before })
}

#[utoipa::path(
    operation_id = "show_rights_request",
    get,
    path = "/api/v1/rights-requests/{id}",
    tag = "rights",
    security(("api_key" = ["subjects:read"])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:read` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`rights_request_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    authorize(&req, &state, Scope::SubjectsRead).await?;
    Ok(no_store(&read_one(&state, path.into_inner()).await?))
}

#[utoipa::path(
    operation_id = "step_rights_request",
    post,
    path = "/api/v1/rights-requests/{id}/steps",
    tag = "rights",
    security(("api_key" = ["subjects:write"])),
    params(("id" = String, Path, description = "The request's id")),
    request_body(content = StepBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Moved on; on `extend`, `complete` and `refuse` the person is written to", body = RequestView),
        (status = 400, description = "`malformed_json` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`rights_request_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request_closed`, `identity_not_verified`, `already_verified`, `already_started`, `already_extended`, `extension_not_allowed` or `request_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`step`: `invalid_choice`; `reason`: `required`, `too_long`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn take_step(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::SubjectsWrite).await?;
    require_content_type(&req, JSON)?;
    let body: StepBody =
        super::body::json(&read_limited(&req, payload).await?, r#"Expected {"step": "complete", "reason": "…"}"#)?;
    let step = choice("step", Step::parse(&body.step))?;
    let (keyring, mail, actor, id) =
        (state.keyring.clone(), state.mail.clone(), Actor::ApiKey(key_id), path.into_inner());
    let now = rights_desk::now();
    let request_id = id.clone();
    state
        .db
        .writer
        .write(move |tx| {
            let taken = StepTaken { id: &request_id, step, reason: &body.reason, actor: &actor };
            rights_desk::step(tx, &keyring, &mail, &taken, now)
        })
        .await?;
    state.mail_queued.notify_one();
    Ok(no_store(&read_one(&state, id).await?))
}
