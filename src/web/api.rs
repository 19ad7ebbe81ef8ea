//! The JSON API at `/api/v1`: submissions for integrators' own front ends, and consent look-ups
//! for their back ends (API key).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::access;
use super::body::{JSON, read_limited, require_content_type};
use super::error::{AppError, Problem};
use super::{AppState, only};
use crate::db::catalog::Catalog;
use crate::domain::access::AccessAction;
use crate::domain::form::{FieldError, FieldErrorCode, RawSubmission};
use crate::domain::scopes::Scope;
use crate::domain::{ErrorCode, Locale, Locales, Method, PurposeKey};

use crate::services::lookup::{ConsentView, consent_views, consent_views_known};
use crate::services::receipts::Issuer;
use crate::services::submit::SubmissionOutcome;

/// This module's resources, inside the `/api/v1` scope (see [`super::api_routes`]).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(only("/forms/{form}/submissions", "POST", web::post().to(create_submission)));
}

/// `POST /api/v1/forms/{form}/submissions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionRequest {
    /// The form's fields by key; each value a string (`null` counts as absent).
    #[schema(value_type = BTreeMap<String, Option<String>>)]
    pub fields: BTreeMap<String, serde_json::Value>,
    /// The purposes the person agrees to (every required one must be there).
    #[serde(default)]
    pub purposes: Vec<String>,
    /// The language the form was displayed in: one the workspace offers (`en`, `ko`, `ja` in the
    /// demo); the workspace's default when absent.
    #[serde(default)]
    pub locale: Option<String>,
    /// The policy version (its number, as in `/p/{purpose}/v{n}`) of the wording you displayed
    /// for each purpose. When given, a ticked purpose displayed under another version (or not
    /// named) is refused with `wording_changed` (422) and nothing is recorded.
    #[serde(default)]
    #[schema(example = json!({"service": 1, "marketing_email": 1}))]
    pub policy_versions: Option<BTreeMap<String, i64>>,
    /// Your own id for the person (with an API key only), attached as `PUT
    /// /api/v1/subjects/{id}/external-id` attaches it; `409 external_id_taken`, with nothing
    /// recorded, when another person has it.
    #[serde(default)]
    #[schema(max_length = 200, example = "CUST-000123")]
    pub external_id: Option<String>,
    /// On a form with a minimum age (PIPA art. 22-2, GDPR art. 8): the person's affirmation or
    /// birth date, or, under the age, a parent's or guardian's address (every purpose then waits
    /// for their confirmation by mail). Refused with the input named when neither is given.
    #[serde(default)]
    pub age: Option<crate::domain::minors::AgeAnswer>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubmissionResponse {
    #[serde(flatten)]
    pub outcome: SubmissionOutcome,
    /// The resulting state of every purpose the form asks for.
    pub consents: Vec<ConsentView>,
    /// Optional fields sent without any of their purposes: not stored.
    pub dropped_fields: Vec<String>,
    /// A JWT (EdDSA) proving what was recorded; verify it with `/.well-known/jwks.json`.
    pub receipt: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/forms/{form}/submissions",
    tag = "submissions",
    description = "Records a submission. Without an API key the answer names no one: no subject id, only what this submission wrote, and an address already on record cannot overturn what its owner established (it waits for their confirmation by mail). An integrator's API key vouches for the person: the answer then carries the subject id and every purpose's state.",
    // The key is optional: anyone may submit a public form.
    security((), ("api_key" = ["submissions:write"])),
    params(("form" = String, Path, description = "The form's key", example = "newsletter")),
    request_body(content = SubmissionRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded: the consent state per purpose and a signed receipt", body = SubmissionResponse,
            headers(("location" = String, description = "The person the submission was recorded for: `/api/v1/subjects/{subject_id}` (GET with the `subjects:read` scope)"))),
        (status = 400, description = "`malformed_json`, `invalid_utf8`, `invalid_request`, `invalid_body` or `unsupported_locale`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: an Authorization header was sent with a key that is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: an Authorization header was sent with a key that lacks the `submissions:write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`form_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`external_id_taken`: another person has the `external_id` sent; nothing was recorded", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, with every field's own code in `errors` (`wording_changed` for a purpose displayed under another policy version than `policy_versions` names; `external_id`: `unknown_field` without an API key, `required`, `too_long` or `invalid_characters`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many submissions from this client (`ASSENT_SUBMISSIONS_PER_MINUTE`); nothing was recorded", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: nothing was recorded, try again", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create_submission(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let catalog = state.catalog.current();
    let form = catalog.form(&path).ok_or(AppError::NotFound(ErrorCode::FormNotFound))?;
    require_content_type(&req, JSON)?;
    let body = read_limited(&req, payload).await?;
    let request = parse_json(&body)?;
    let locale = locale_of_request(&request, &catalog.locales)?;
    // An integrator's API key vouches for the person; without one the answer says nothing about
    // who the address belongs to.
    let key_id = vouching_key(&req, &state).await?;
    let verified = key_id.is_some();
    let displayed = request.policy_versions.clone();
    let external_id = request.external_id.clone();
    let age = request.age.clone();
    let raw = raw_submission(request)?;
    let (accepted, judged) =
        super::submission::checked(&state, &catalog, form, &raw, age.as_ref()).map_err(AppError::Validation)?;
    let external_id =
        super::integration_api::submitted_external_id(&state, verified, external_id, &accepted.email).await?;
    if let Some(displayed) = &displayed {
        wording_displayed(&catalog, &accepted, displayed)?;
    }
    state.limits.submission(crate::web::client_ip(&req, &state.settings)).await?;
    let door = super::submission::Door { locale, method: Method::Api, verified };
    let input = super::submission::input(&req, &state, &catalog, form, (accepted, judged), door);
    let dropped_fields = input.accepted.dropped.iter().map(ToString::to_string).collect();
    let outcome = state.submissions.record(catalog.clone(), input).await?;
    if let (Some(key_id), Some(id), true) = (&key_id, external_id, outcome.stored) {
        super::integration_api::attach(&state, key_id, &outcome.recorded_for, id).await?;
    }
    if let Some(key_id) = &key_id {
        // The answer names the person and every purpose's state: an access by the key.
        let subject = outcome.subject_id.as_ref().map(ToString::to_string);
        access::by_api_key(&req, &state, key_id, AccessAction::VerifiedSubmission, subject.as_deref());
    }
    if !outcome.pending.is_empty() {
        state.mail_queued.notify_one();
    }
    let receipt = sign_receipt(&state, &catalog, &outcome, locale)?;
    let consents = answered_consents(&state, &catalog, &form.definition.purposes, verified, &outcome).await?;
    Ok(HttpResponse::Created()
        // The person it was recorded for, as the subjects API reads them (a key with
        // `subjects:read` follows it).
        .insert_header((header::LOCATION, format!("/api/v1/subjects/{}", outcome.recorded_for.as_str())))
        .json(SubmissionResponse { outcome, consents, dropped_fields, receipt }))
}

/// The states a submission's answer shows: every purpose of the form for a verified caller, else
/// only those it wrote. They come with the outcome; they are read again only when one names a
/// policy version published since the catalogue was loaded.
async fn answered_consents(
    state: &AppState,
    catalog: &Catalog,
    purposes: &[PurposeKey],
    verified: bool,
    outcome: &SubmissionOutcome,
) -> Result<Vec<ConsentView>, AppError> {
    let asked: Vec<PurposeKey> = purposes
        .iter()
        .filter(|p| verified || outcome.states.iter().any(|s| s.purpose_key == p.as_str()))
        .cloned()
        .collect();
    let local = super::sending_time(state, None)?;
    match consent_views_known(catalog, &asked, &outcome.states, local) {
        Some(views) => Ok(views),
        None => subject_consents(state, outcome.recorded_for.to_string(), asked).await,
    }
}

/// The language the integrator displayed the form in: one the workspace offers (its default
/// when not named).
fn locale_of_request(request: &SubmissionRequest, locales: &Locales) -> Result<Locale, AppError> {
    match &request.locale {
        None => Ok(locales.default_locale()),
        Some(tag) => Locale::find(tag, locales.offered().iter().copied()).ok_or_else(|| {
            let offered: Vec<String> = locales.offered().iter().map(|l| format!("\"{l}\"")).collect();
            AppError::BadRequest {
                code: ErrorCode::UnsupportedLocale,
                detail: format!("locale must be one of the workspace's languages: {}.", offered.join(", ")),
            }
        }),
    }
}

/// Every ticked purpose must have been displayed under the version in force (422 otherwise).
fn wording_displayed(
    catalog: &Catalog,
    accepted: &crate::domain::AcceptedSubmission,
    displayed: &BTreeMap<String, i64>,
) -> Result<(), AppError> {
    let in_force = accepted.granted.iter().filter_map(|p| catalog.purpose(p.as_str())).map(|p| {
        (p.key.to_string(), catalog.policy_version_numbers.get(&p.policy.id).copied().unwrap_or(p.policy.version))
    });
    let stale = crate::domain::wording::displayed_versions_hold(displayed, in_force);
    if stale.is_empty() { Ok(()) } else { Err(AppError::Validation(stale)) }
}

/// Read after the commit, through the pool: the writer thread only writes.
async fn subject_consents(
    state: &AppState,
    subject_id: String,
    purposes: Vec<PurposeKey>,
) -> Result<Vec<ConsentView>, AppError> {
    let (pool, catalog, local) = (state.db.pool.clone(), state.catalog.current(), super::sending_time(state, None)?);
    web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let states = crate::db::consent::for_subject(&mut conn, &subject_id)?;
        Ok(consent_views(&mut conn, &catalog, &purposes, &states, local)?)
    })
    .await?
}

fn parse_json(body: &[u8]) -> Result<SubmissionRequest, AppError> {
    if std::str::from_utf8(body).is_err() {
        return Err(AppError::BadRequest {
            code: ErrorCode::InvalidUtf8,
            detail: "The body is not valid UTF-8.".into(),
        });
    }
    super::body::json(body, "The JSON does not have the expected shape")
}

/// JSON values must be strings (a `null` counts as absent); anything else is a field error.
fn raw_submission(request: SubmissionRequest) -> Result<RawSubmission, AppError> {
    let mut errors = Vec::new();
    let mut fields = Vec::new();
    for (key, value) in request.fields {
        match value {
            serde_json::Value::String(s) => fields.push((key, s)),
            serde_json::Value::Null => {}
            _ => errors.push(FieldError { field: key, code: FieldErrorCode::InvalidType, max_length: None }),
        }
    }
    if errors.is_empty() {
        Ok(RawSubmission { fields, purposes: request.purposes })
    } else {
        Err(AppError::Validation(errors))
    }
}

fn sign_receipt(
    state: &AppState,
    catalog: &Catalog,
    outcome: &SubmissionOutcome,
    locale: Locale,
) -> Result<String, AppError> {
    let issuer = Issuer { keyring: &state.keyring, catalog, base_url: &state.settings.base_url };
    issuer.submission(outcome, Method::Api, locale).map_err(|e| AppError::Internal(e.into()))
}

/// The API key an integrator vouches for the person with (`None`: no `Authorization` header; a
/// bad key is a 401, never a silent downgrade).
async fn vouching_key(req: &HttpRequest, state: &AppState) -> Result<Option<String>, AppError> {
    match req.headers().get(header::AUTHORIZATION) {
        Some(_) => Ok(Some(super::api_key::authorize(req, state, Scope::SubmissionsWrite).await?)),
        None => Ok(None),
    }
}

pub(crate) fn field_error(field: &str, code: FieldErrorCode) -> AppError {
    AppError::Validation(vec![FieldError { field: field.into(), code, max_length: None }])
}
