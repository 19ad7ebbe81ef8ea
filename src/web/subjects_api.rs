//! `/api/v1/subjects/{id}`: what an integrator's back end can do for a person, with the same
//! effects as the preference center. Every call needs an API key and is audited.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::api_key::authorize;
use super::body::{JSON, read_limited, require_content_type};
use super::error::{AppError, Problem};
use super::{AppState, evidence_of};
use crate::domain::access::AccessAction;
use crate::domain::rights::RightKind;
use crate::domain::scopes::Scope;
use crate::domain::{ErrorCode, Locale, Method, PurposeKey, SubjectId};
use crate::services::links;
use crate::services::lookup::{ConsentView, consent_views};
use crate::services::receipts::Issuer;
use crate::services::rights::{self, Actor, Change, ChangeOutcome, ChangeRequest, ErasedBy, Profile};

pub fn routes(cfg: &mut web::ServiceConfig) {
    let not_allowed =
        |allow: &'static str| web::to(move || async move { Err::<HttpResponse, _>(AppError::MethodNotAllowed(allow)) });
    cfg.service(
        web::resource("/subjects/{id}")
            .route(web::get().to(show))
            .route(web::delete().to(erase))
            .default_service(not_allowed("GET, DELETE")),
    )
    .service(super::only("/subjects/{id}/export", "GET", web::get().to(export)))
    .service(super::only("/subjects/{id}/consents", "POST", web::post().to(change)));
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SubjectResponse {
    #[serde(flatten)]
    profile: Profile,
    /// One-click unsubscribe URLs (RFC 8058) to put in your own marketing mail, per purpose.
    unsubscribe_urls: std::collections::BTreeMap<String, String>,
}

async fn read(
    req: &HttpRequest,
    state: &AppState,
    key_id: &str,
    id: &str,
    kind: RightKind,
) -> Result<Profile, AppError> {
    let (pool, keyring, catalog, subject) =
        (state.db.pool.clone(), state.keyring.clone(), state.catalog.current(), id.to_owned());
    let profile = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(rights::profile(&mut conn, &keyring, &catalog, &subject)?)
    })
    .await??;
    // Reading personal data is audited.
    let (actor, subject) = (Actor::ApiKey(key_id.to_owned()), SubjectId::from(id));
    state
        .db
        .writer
        .write(move |tx| rights::record_access(tx, &subject, kind, rights::By::new(&actor, Method::Api)))
        .await?;
    let action = if kind == RightKind::Portability { AccessAction::ExportPerson } else { AccessAction::ViewPerson };
    super::access::by_api_key(req, state, key_id, action, Some(id));
    Ok(profile)
}

#[utoipa::path(
    operation_id = "show_subject",
    get,
    path = "/api/v1/subjects/{id}",
    tag = "subjects",
    params(("id" = String, Path, description = "The subject's id")),
    security(("api_key" = ["subjects:read"])),
    responses(
        (status = 200, description = "Everything held about the person, with one-click unsubscribe URLs", body = SubjectResponse),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:read` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`subject_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject_erased`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::SubjectsRead).await?;
    let profile = read(&req, &state, &key_id, &path, RightKind::Access).await?;
    let mut unsubscribe_urls = std::collections::BTreeMap::new();
    let catalog = state.catalog.current();
    for c in profile.consents.iter().filter(|c| !c.required) {
        if catalog.purpose(&c.purpose).is_some_and(|p| p.channel != crate::domain::Channel::None) {
            let url = links::unsubscribe_url(&state.keyring, &state.mail, &path, vec![c.purpose.clone()], Locale::EN)?;
            unsubscribe_urls.insert(c.purpose.clone(), url);
        }
    }
    Ok(no_store(HttpResponse::Ok()).json(SubjectResponse { profile, unsubscribe_urls }))
}

#[utoipa::path(
    operation_id = "export_subject",
    get,
    path = "/api/v1/subjects/{id}/export",
    tag = "subjects",
    params(("id" = String, Path, description = "The subject's id")),
    security(("api_key" = ["subjects:read"])),
    responses(
        (status = 200, description = "The export document, as a download", body = Profile),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:read` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`subject_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject_erased`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::SubjectsRead).await?;
    let profile = read(&req, &state, &key_id, &path, RightKind::Portability).await?;
    Ok(no_store(HttpResponse::Ok())
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"subject-export.json\""))
        .json(profile))
}

fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeBody {
    purpose: String,
    action: ChangeAction,
    /// Where the change came from in your system, e.g. `"crm:call-centre"` (kept as evidence).
    #[serde(default)]
    #[schema(max_length = 200)]
    source: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ChangeAction {
    Grant,
    Withdraw,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ChangeResponse {
    subject_id: String,
    change: ChangeOutcome,
    consents: Vec<ConsentView>,
    /// The signed receipt of the subject's consent state after the change.
    receipt: String,
}

#[utoipa::path(
    operation_id = "change_subject_consent",
    post,
    path = "/api/v1/subjects/{id}/consents",
    tag = "subjects",
    params(("id" = String, Path, description = "The subject's id")),
    security(("api_key" = ["subjects:write"])),
    request_body(content = ChangeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded: the new states and a signed receipt", body = ChangeResponse),
        (status = 400, description = "`malformed_json`, `invalid_request` or `invalid_body`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`subject_not_found` or `purpose_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject_erased`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_granted`, `already_granted` or `required_purpose`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::SubjectsWrite).await?;
    require_content_type(&req, JSON)?;
    let body = read_limited(&req, payload).await?;
    let request = change_body(&body)?;
    let mut evidence = evidence_of(&req, &state, Locale::EN, "");
    evidence.source = request.source.clone();
    let change = match request.action {
        ChangeAction::Grant => Change::Grant,
        ChangeAction::Withdraw => Change::Withdraw,
    };
    let (keyring, catalog, subject) = (state.keyring.clone(), state.catalog.current(), SubjectId::from(path.clone()));
    let purpose = request.purpose.clone();
    let actor_key = key_id.clone();
    let outcome = state
        .db
        .writer
        .write(move |tx| {
            let request = ChangeRequest {
                subject_id: &subject,
                purpose: &purpose,
                change,
                method: Method::Api,
                actor: Actor::ApiKey(key_id),
                evidence,
                on_request: None,
            };
            rights::change_consent(tx, &keyring, &catalog, &request)
        })
        .await?;
    super::access::by_api_key(&req, &state, &actor_key, AccessAction::ChangeConsent, Some(&path));
    let (profile, consents) = state_after(&state, path.clone(), outcome.subject_erased).await?;
    let catalog = state.catalog.current();
    let issuer = Issuer { keyring: &state.keyring, catalog: &catalog, base_url: &state.settings.base_url };
    let receipt = issuer.state(&profile, Method::Api, Locale::EN).map_err(|e| AppError::Internal(e.into()))?;
    Ok(no_store(HttpResponse::Ok()).json(ChangeResponse {
        subject_id: path.into_inner(),
        change: outcome,
        consents,
        receipt,
    }))
}

/// The change asked for, or a 400 saying what is wrong with the body.
fn change_body(body: &[u8]) -> Result<ChangeBody, AppError> {
    let request: ChangeBody =
        super::body::json(body, r#"Expected {"purpose": …, "action": "grant"|"withdraw", "source": …}"#)?;
    if request.source.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(AppError::BadRequest {
            code: ErrorCode::InvalidRequest,
            detail: "source is at most 200 characters.".into(),
        });
    }
    Ok(request)
}

/// The subject's profile and consent states after a change, read through the pool.
/// `erased`: the change left the person with nothing and erased them, so the receipt holds no
/// data.
async fn state_after(state: &AppState, subject: String, erased: bool) -> Result<(Profile, Vec<ConsentView>), AppError> {
    let (pool, keyring, catalog) = (state.db.pool.clone(), state.keyring.clone(), state.catalog.current());
    let local = super::sending_time(state, None)?;
    web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let profile = if erased {
            crate::services::profile::erased(&mut conn, &subject)?
        } else {
            rights::profile(&mut conn, &keyring, &catalog, &subject)?
        };
        let purposes: Vec<PurposeKey> = catalog.purposes.values().map(|p| p.key.clone()).collect();
        let states = crate::db::consent::for_subject(&mut conn, &subject)?;
        Ok((profile, consent_views(&mut conn, &catalog, &purposes, &states, local)?))
    })
    .await?
}

/// The answer to an erasure.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Erased {
    subject_id: String,
    /// Always `true`.
    erased: bool,
    /// What another law obliges the business to keep (restricted, destroyed at `until`):
    /// PIPA art. 21(1), 전자상거래법 art. 6. Empty when nothing is.
    kept_by_law: Vec<crate::services::holds::Held>,
}

#[utoipa::path(
    operation_id = "erase_subject",
    delete,
    path = "/api/v1/subjects/{id}",
    tag = "subjects",
    params(("id" = String, Path, description = "The subject's id")),
    security(("api_key" = ["subjects:erase"])),
    responses(
        (status = 200, description = "Erased (crypto-shredded); the ledger keeps non-personal `erased` events", body = Erased),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `subjects:erase` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`subject_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject_erased`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn erase(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::SubjectsErase).await?;
    let actor_key = key_id.clone();
    let (keyring, mail, subject) = (state.keyring.clone(), state.mail.clone(), SubjectId::from(path.clone()));
    let catalog = state.catalog.current();
    let kept_by_law = state
        .db
        .writer
        .write(move |tx| {
            // The mail goes in the language the person last used with the business.
            let found = crate::db::subjects::find(tx.conn, subject.as_str())?;
            let spoken = found.and_then(|s| Locale::from_tag(&s.locale)).unwrap_or(catalog.default_locale());
            rights::erase(
                tx,
                &keyring,
                &catalog,
                &subject,
                ErasedBy::new(&Actor::ApiKey(key_id), Method::Api),
                Some((&mail, spoken)),
            )
        })
        .await?;
    super::access::by_api_key(&req, &state, &actor_key, AccessAction::ErasePerson, Some(&path));
    state.mail_queued.notify_one();
    Ok(HttpResponse::Ok().json(Erased { subject_id: path.into_inner(), erased: true, kept_by_law }))
}
