//! What staff do for the person from a desk request: download their data, correct a value,
//! withdraw a consent, erase everything. Each goes through the service the person's own action
//! uses (the consent door for consents), as the signed-in staff member, with the request's id
//! in the ledger's evidence and the audit log; reads are access records too.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::request::{back_to, show};
use crate::domain::access::AccessAction;
use crate::domain::form::FieldErrorCode;
use crate::domain::rights::RightKind;
use crate::domain::{ErrorCode, Locale, SubjectId};
use crate::services::rights::{self, By, Change, ChangeRequest, RightsError};
use crate::web::admin::{AdminError, AdminStrings, Problems, SignedIn};
use crate::web::error::AppError;
use crate::web::i18n::Strings;
use crate::web::{AppState, access, evidence_of};

/// The open desk request `id` and its person, or 404.
async fn subject_of(state: &AppState, id: &str, locale: Locale) -> Result<SubjectId, AdminError> {
    let (pool, id) = (state.db.pool.clone(), id.to_owned());
    let request =
        web::block(move || -> Result<_, AppError> { Ok(crate::db::rights::request(&mut *pool.get()?, &id)?) })
            .await
            .map_err(|e| AdminError::new(e, locale))?
            .map_err(|e| AdminError::new(e, locale))?;
    request
        .filter(|r| !r.self_service)
        .map(|r| SubjectId::from(r.subject_id))
        .ok_or_else(|| AdminError::new(AppError::NotFound(ErrorCode::RightsRequestNotFound), locale))
}

/// What every act starts from: its CSRF-checked form (owners only), the request's id and person.
async fn acting(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<(crate::web::admin::Fields, String, SubjectId), AdminError> {
    let fields = who.owner_form(req, payload).await?;
    let id = path.into_inner();
    let subject = subject_of(state, &id, who.locale).await?;
    Ok((fields, id, subject))
}

/// A refusal of the person's data service next to the field it is about, on the request's page.
async fn refused(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    id: String,
    field: &str,
    e: RightsError,
) -> Result<HttpResponse, AdminError> {
    let t = AdminStrings::get(who.locale);
    let message = match &e {
        RightsError::Invalid(error) => Strings::get(who.locale).field_error(error).to_owned(),
        RightsError::UnknownField => super::DeskStrings::get(who.locale).nothing_held.to_owned(),
        RightsError::UnknownPurpose | RightsError::NotGranted | RightsError::RequiredPurpose => {
            Strings::get(who.locale).field_error(&crate::domain::form::FieldError {
                field: field.to_owned(),
                code: FieldErrorCode::InvalidChoice,
                max_length: None,
            })
        }
        RightsError::EmailInUse => t.says(ErrorCode::EmailInUse).to_owned(),
        _ => return Err(AdminError::new(AppError::from(e), who.locale)),
    };
    let mut problems = Problems::default();
    problems.add(field, message);
    show(req, who, state, id, problems, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// `GET /admin/rights/{id}/export.json`: everything held about the person (owners only).
pub async fn export(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let (locale, id) = (who.locale, path.into_inner());
    let subject = subject_of(&state, &id, locale).await?;
    let (keyring, catalog, pool, actor) =
        (state.keyring.clone(), state.catalog.current(), state.db.pool.clone(), who.actor());
    let reading = subject.clone();
    let profile = web::block(move || -> Result<_, AppError> {
        Ok(rights::profile(&mut *pool.get()?, &keyring, &catalog, &reading)?)
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?;
    let (recorded, request_id) = (subject.clone(), id.clone());
    state
        .db
        .writer
        .write(move |tx| {
            rights::record_access(tx, &recorded, RightKind::Portability, By::for_request(&actor, &request_id))
        })
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    access::by_owner(&req, &state, &who.owner.id, AccessAction::ExportPerson, Some(subject.as_str()));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"request-{id}.json\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(profile))
}

pub async fn rectify(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let (fields, id, subject) = acting(&req, &who, &state, path, payload).await?;
    let locale = who.locale;
    let (field, value) = (fields.get("field").to_owned(), fields.get("value").to_owned());
    let (keyring, actor, request_id, changed) = (state.keyring.clone(), who.actor(), id.clone(), subject.clone());
    let result = state
        .db
        .writer
        .write(move |tx| rights::rectify(tx, &keyring, &changed, &field, &value, By::for_request(&actor, &request_id)))
        .await;
    match result {
        Ok(()) => Ok(back_to(&id, locale, "done")),
        Err(e) => refused(&req, &who, &state, id, "value", e).await,
    }
}

pub async fn withdraw(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let (fields, id, subject) = acting(&req, &who, &state, path, payload).await?;
    let locale = who.locale;
    let purpose = fields.get("purpose").to_owned();
    let evidence = evidence_of(&req, &state, locale, "");
    let (keyring, catalog, actor, request_id) =
        (state.keyring.clone(), state.catalog.current(), who.actor(), id.clone());
    let result = state
        .db
        .writer
        .write(move |tx| {
            let change = ChangeRequest {
                subject_id: &subject,
                purpose: &purpose,
                change: Change::Withdraw,
                method: crate::domain::Method::Admin,
                actor,
                evidence,
                on_request: Some(&request_id),
            };
            rights::change_consent(tx, &keyring, &catalog, &change)
        })
        .await;
    match result {
        Ok(_) => Ok(back_to(&id, locale, "done")),
        Err(e) => refused(&req, &who, &state, id, "purpose", e).await,
    }
}

pub async fn erase(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let (fields, id, subject) = acting(&req, &who, &state, path, payload).await?;
    let locale = who.locale;
    if fields.get("confirm") != "yes" {
        let mut problems = Problems::default();
        problems.add("confirm", AdminStrings::get(locale).says(ErrorCode::Required));
        return show(&req, &who, &state, id, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let (keyring, catalog, mail, actor, request_id) =
        (state.keyring.clone(), state.catalog.current(), state.mail.clone(), who.actor(), id.clone());
    state
        .db
        .writer
        .write(move |tx| {
            let person = crate::db::subjects::find(tx.conn, &subject)?;
            let language = person.and_then(|s| Locale::from_tag(&s.locale)).unwrap_or_default();
            rights::erase(
                tx,
                &keyring,
                &catalog,
                &subject,
                By::for_request(&actor, &request_id),
                Some((&mail, language)),
            )
        })
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    state.mail_queued.notify_one();
    Ok(back_to(&id, locale, "done"))
}
