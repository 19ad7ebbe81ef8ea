//! Pages behind e-mailed links that need no sign-in: double opt-in confirmation (`/confirm`)
//! and one-click unsubscribe (`/u`, RFC 8058).

use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;

use super::body::read_form;
use super::error::{AppError, PageError};
use super::i18n::Strings;
use super::pages::{ButtonForm, MessagePage, render};
use super::{AppState, evidence_of, locale_of};
use crate::domain::Locale;
use crate::services::links;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/confirm").route(web::get().to(confirm_page)).route(web::post().to(confirm)))
        .service(web::resource("/u").route(web::get().to(unsubscribe_page)).route(web::post().to(unsubscribe)))
        .service(web::resource("/renewal").route(web::get().to(renewal_page)).route(web::post().to(renewal)))
        .service(web::resource("/me/email").route(web::get().to(email_page)).route(web::post().to(change_email)));
}

fn token_in_query(req: &HttpRequest) -> String {
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("token").cloned())
        .unwrap_or_default()
}

fn manage_link(locale: Locale) -> (String, String) {
    (format!("/me?lang={}", locale.as_str()), Strings::get(locale).me.manage_link.to_owned())
}

fn page(locale: Locale, title: &str, body: &str) -> MessagePage {
    let mut page = MessagePage::new(locale, title, vec![body.to_owned()]);
    page.links = vec![manage_link(locale)];
    page
}

fn problem_page(locale: Locale, error: AppError) -> HttpResponse {
    error.problem_page(locale, manage_link(locale))
}

/// A button that POSTs the token: link scanners only GET.
fn button_page(
    locale: Locale,
    title: &str,
    body: &str,
    action: &str,
    token: String,
    button: &'static str,
) -> HttpResponse {
    let mut p = page(locale, title, body);
    p.form = Some(ButtonForm {
        action: format!("{action}?lang={}", locale.as_str()),
        hidden: vec![("token".into(), token)],
        button,
        danger: false,
    });
    render(&p)
}

/// The token from the body (our button) or, for RFC 8058 one-click POSTs, from the URL. A
/// one-click POST may come as `multipart/form-data` (RFC 8058 §3.1): its body says only
/// `List-Unsubscribe=One-Click`, read (within the size limit) and set aside.
async fn posted_token(req: &HttpRequest, payload: web::Payload, locale: Locale) -> Result<String, PageError> {
    if crate::web::body::require_content_type(req, "multipart/form-data").is_ok() {
        crate::web::body::read_limited(req, payload).await.map_err(|e| PageError::new(e, locale))?;
        return Ok(token_in_query(req));
    }
    let fields = read_form(req, payload, locale).await?;
    Ok(fields.get("token").cloned().unwrap_or_else(|| token_in_query(req)))
}

async fn confirm_page(req: HttpRequest) -> HttpResponse {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    button_page(locale, t.me.confirm_title, t.me.confirm_body, "/confirm", token_in_query(&req), t.me.confirm_button)
}

async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let token = posted_token(&req, payload, locale).await?;
    let evidence = evidence_of(&req, &state, locale, "");
    let (keyring, catalog) = (state.keyring.clone(), state.catalog.current());
    match state.db.writer.write(move |tx| links::confirm(tx, &keyring, &catalog, &token, &evidence)).await {
        Ok(_) => Ok(render(&page(locale, t.me.confirmed_title, t.me.confirmed_body))),
        Err(e) => Ok(problem_page(locale, e.into())),
    }
}

async fn email_page(req: HttpRequest) -> HttpResponse {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let token = token_in_query(&req);
    button_page(
        locale,
        t.me.email_confirm_title,
        t.me.email_confirm_body,
        "/me/email",
        token,
        t.me.email_confirm_button,
    )
}

/// The link sent to a new address was followed: the address changes, and the old one is told.
async fn change_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let token = posted_token(&req, payload, locale).await?;
    let (keyring, mail) = (state.keyring.clone(), state.mail.clone());
    match state.db.writer.write(move |tx| crate::services::email_change::confirm(tx, &keyring, &mail, &token)).await {
        Ok(()) => {
            state.mail_queued.notify_one();
            Ok(render(&page(locale, t.me.email_changed_title, t.me.email_changed_body)))
        }
        Err(e) => Ok(problem_page(locale, e.into())),
    }
}

/// What an unsubscribe link stops, in the page's words: the titles of the purposes it names.
fn which_messages(state: &AppState, locale: Locale, token: &str, id: &str) -> Option<String> {
    let claims = links::unsubscribe_claims(&state.keyring, token).ok()?;
    let catalog = state.catalog.current();
    let titles: Vec<String> =
        claims.purposes.iter().map(|p| crate::web::pages::purpose_title(&catalog, p, locale)).collect();
    let list = titles.join(&crate::i18n::catalogue(locale).text("list-separator"));
    (!titles.is_empty())
        .then(|| crate::i18n::catalogue(locale).format(id, &[("list", fluent_bundle::FluentValue::from(list))]))
}

async fn unsubscribe_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let token = token_in_query(&req);
    if let Err(e) = links::unsubscribe_claims(&state.keyring, &token) {
        return problem_page(locale, e.into());
    }
    let body = which_messages(&state, locale, &token, "me-unsubscribe-which")
        .unwrap_or_else(|| t.me.unsubscribe_body.to_owned());
    button_page(locale, t.me.unsubscribe_title, &body, "/u", token, t.me.unsubscribe_button)
}

async fn unsubscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let token = posted_token(&req, payload, locale).await?;
    let evidence = evidence_of(&req, &state, locale, "");
    let done = which_messages(&state, locale, &token, "me-unsubscribed-which")
        .unwrap_or_else(|| t.me.unsubscribed_body.to_owned());
    let (keyring, catalog) = (state.keyring.clone(), state.catalog.current());
    match state.db.writer.write(move |tx| links::unsubscribe(tx, &keyring, &catalog, &token, evidence)).await {
        Ok(_) => Ok(render(&page(locale, t.me.unsubscribed_title, &done))),
        Err(e) => Ok(problem_page(locale, e.into())),
    }
}

async fn renewal_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let token = token_in_query(&req);
    match links::renewal_answer(&state.keyring, &token) {
        Ok(links::RenewalAnswer::Extend) => {
            button_page(locale, t.me.renew_title, t.me.renew_body, "/renewal", token, t.me.renew_button)
        }
        Ok(links::RenewalAnswer::DontExtend) => {
            button_page(locale, t.me.decline_title, t.me.decline_body, "/renewal", token, t.me.decline_button)
        }
        Err(e) => problem_page(locale, e.into()),
    }
}

async fn renewal(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let t = Strings::get(locale);
    let token = posted_token(&req, payload, locale).await?;
    let evidence = evidence_of(&req, &state, locale, "");
    let (keyring, catalog) = (state.keyring.clone(), state.catalog.current());
    match state.db.writer.write(move |tx| links::answer_renewal(tx, &keyring, &catalog, &token, &evidence)).await {
        Ok(links::RenewalAnswer::Extend) => Ok(render(&page(locale, t.me.renewed_title, t.me.renewed_body))),
        Ok(links::RenewalAnswer::DontExtend) => Ok(render(&page(locale, t.me.declined_title, t.me.declined_body))),
        Err(e) => Ok(problem_page(locale, e.into())),
    }
}
