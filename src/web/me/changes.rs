//! What a signed-in person changes at `/me`: correcting a value, giving or withdrawing a
//! consent, and deleting everything. Each is a CSRF-checked POST that ends on the profile page
//! (or, after a deletion, on a page saying it is done).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::profile::profile_page;
use super::{done, expired_cookie, form_fields, message, require_session};
use crate::domain::{ErrorCode, Locale, Method, SubjectId};
use crate::services::rights::{self, Actor, By, Change, ChangeRequest, ErasedBy, RightsError};
use crate::web::error::{AppError, PageError};
use crate::web::i18n::Strings;
use crate::web::pages::{ButtonForm, render};
use crate::web::{AppState, evidence_of, locale_of};

pub(super) async fn rectify(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let fields = form_fields(&req, payload, Some(&s), locale).await?;
    let field = fields.get("field").cloned().unwrap_or_default();
    let value = fields.get("value").cloned().unwrap_or_default();
    let (keyring, mail, subject) = (state.keyring.clone(), state.mail.clone(), SubjectId::from(s.subject_id.clone()));
    let actor = Actor::Subject(subject.clone());
    let f = field.clone();
    let result = state
        .db
        .writer
        .write(move |tx| {
            // The address itself changes only once a link sent to the new one is followed.
            if crate::services::email_change::request(tx, &keyring, &mail, &subject, &f, &value)? {
                return Ok(true);
            }
            rights::rectify(tx, &keyring, &subject, &f, &value, By::new(&actor, Method::PreferenceCenter))?;
            Ok(false)
        })
        .await;
    match result {
        Ok(true) => {
            state.mail_queued.notify_one();
            Ok(actix_web::HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, format!("/me?lang={}&done=email", locale.as_str())))
                .finish())
        }
        Ok(false) => Ok(done(locale)),
        Err(RightsError::Invalid(error)) => {
            let message = Strings::get(locale).field_error(&error);
            let mut response = profile_page(&req, &state, &s, locale, Some((field, message))).await?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e) => Err(PageError::new(e, locale)),
    }
}

pub(super) async fn change_consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let fields = form_fields(&req, payload, Some(&s), locale).await?;
    let change = match fields.get("action").map(String::as_str) {
        Some("withdraw") => Change::Withdraw,
        Some("grant") => Change::Grant,
        _ => {
            let detail = "action must be grant or withdraw".to_owned();
            return Err(PageError::new(AppError::BadRequest { code: ErrorCode::InvalidAction, detail }, locale));
        }
    };
    let purpose = fields.get("purpose").cloned().unwrap_or_default();
    let evidence = evidence_of(&req, &state, locale, "");
    let (keyring, catalog, subject) =
        (state.keyring.clone(), state.catalog.current(), SubjectId::from(s.subject_id.clone()));
    let outcome = state
        .db
        .writer
        .write(move |tx| {
            let request = ChangeRequest {
                subject_id: &subject,
                purpose: &purpose,
                change,
                method: Method::PreferenceCenter,
                actor: Actor::Subject(subject.clone()),
                evidence,
                on_request: None,
            };
            rights::change_consent(tx, &keyring, &catalog, &request)
        })
        .await
        .map_err(|e| PageError::new(e, locale))?;
    if outcome.subject_erased {
        // That was the last consent in force: nothing is kept but what a law obliges the business
        // to keep, and the page says so.
        let (pool, catalog, id) = (state.db.pool.clone(), state.catalog.current(), s.subject_id.clone());
        let kept = web::block(move || -> Result<_, AppError> {
            let held = crate::services::holds::held_about(&mut *pool.get()?, &id)?;
            Ok(crate::services::holds::lines(&catalog, &held, locale))
        })
        .await
        .map_err(|e| PageError::new(e, locale))?
        .map_err(|e| PageError::new(e, locale))?;
        return Ok(erased_page_keeping(locale, kept));
    }
    Ok(done(locale))
}

pub(super) async fn delete_page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let s = require_session(&req, &state, locale).await?;
    let mut page = message(locale, t.me.delete_title, vec![t.me.delete_body.to_owned()]);
    page.form = Some(ButtonForm {
        action: format!("/me/delete?lang={}", locale.as_str()),
        hidden: vec![("_csrf".into(), s.csrf_token), ("confirm".into(), "yes".into())],
        button: t.me.delete_button,
        danger: true,
    });
    page.links = vec![(format!("/me?lang={}", locale.as_str()), t.me.cancel.to_owned())];
    Ok(render(&page))
}

pub(super) async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let fields = form_fields(&req, payload, Some(&s), locale).await?;
    if fields.get("confirm").map(String::as_str) != Some("yes") {
        return delete_page(req, state).await;
    }
    let (keyring, mail, subject) = (state.keyring.clone(), state.mail.clone(), SubjectId::from(s.subject_id.clone()));
    let catalog = state.catalog.current();
    let shown = catalog.clone();
    let kept = state
        .db
        .writer
        .write(move |tx| {
            let actor = Actor::Subject(subject.clone());
            let by = ErasedBy::new(&actor, Method::PreferenceCenter);
            rights::erase(tx, &keyring, &catalog, &subject, by, Some((&mail, locale)))
        })
        .await
        .map_err(|e| PageError::new(e, locale))?;
    state.mail_queued.notify_one();
    Ok(erased_page_keeping(locale, crate::services::holds::lines(&shown, &kept, locale)))
}

/// The page after the person's data is gone: it says so, naming what another law obliges the
/// business to keep (a line each), and the session cookie goes too.
fn erased_page_keeping(locale: Locale, kept: Vec<String>) -> HttpResponse {
    let t = Strings::get(locale);
    let mut paragraphs = vec![t.me.deleted_body.to_owned()];
    if !kept.is_empty() {
        let c = crate::i18n::catalogue(locale);
        paragraphs = vec![c.text("mail-erased-body-kept")];
        paragraphs.extend(kept);
    }
    let mut response = render(&message(locale, t.me.deleted_title, paragraphs));
    response.add_cookie(&expired_cookie()).ok();
    response
}

/// `POST /me/requests`: a restriction or objection, which staff answer on the rights desk. The
/// signed-in person has shown who they are (the link reached their address): it arrives verified.
pub(super) async fn ask(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    use crate::domain::rights::{RequestChannel, RightKind};
    use crate::services::rights_desk::{self, NewRequest, Requester};
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let fields = form_fields(&req, payload, Some(&s), locale).await?;
    let kind = fields.get("kind").and_then(|k| RightKind::parse(k)).filter(|k| RightKind::ASKED_AT_ME.contains(k));
    let Some(kind) = kind else {
        let detail = "kind must be restriction or objection".to_owned();
        return Err(PageError::new(AppError::BadRequest { code: ErrorCode::InvalidAction, detail }, locale));
    };
    let new = NewRequest {
        kind,
        channel: RequestChannel::Web,
        who: Requester::Subject(s.subject_id.clone()),
        note: fields.get("detail").cloned().unwrap_or_default(),
        regime: state.settings.rights_deadline,
        assignee: None,
        verified: true,
    };
    let (keyring, actor) = (state.keyring.clone(), Actor::Subject(SubjectId::from(s.subject_id.clone())));
    let now = rights_desk::now();
    state
        .db
        .writer
        .write(move |tx| rights_desk::open(tx, &keyring, &new, &actor, now))
        .await
        .map_err(|e| PageError::new(AppError::from(e), locale))?;
    Ok(actix_web::HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, format!("/me?lang={}&done=asked", locale.as_str())))
        .finish())
}
