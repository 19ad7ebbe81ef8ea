//! `GET /admin/webhooks`: the endpoints the workspace file declares, how far behind each is,
//! and their latest deliveries (status, attempts, response code, latency). Owners can resend a
//! delivery and resume an endpoint that was given up on; viewers see the page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{AdminError, Chrome, SignedIn, see_other};
use crate::domain::ErrorCode;
use crate::i18n::{catalogue, message_struct};
use crate::services::webhooks::{self, EndpointView};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render;

message_struct! {
    /// The webhooks page's words (ids `webhooks-<field>`).
    pub struct WebhookStrings("webhooks-") {
        title,
        intro,
        none,
        events,
        with_email,
        state,
        live,
        stopped,
        behind,
        rotated,
        resume,
        deliveries,
        no_deliveries,
        col_when,
        col_event,
        col_status,
        col_attempts,
        col_response,
        col_latency,
        status_pending,
        status_delivered,
        status_failed,
        resend,
        resent,
        resumed,
    }
}

#[derive(serde::Deserialize, Default)]
struct Query {
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct WebhooksPage {
    c: Chrome,
    w: &'static WebhookStrings,
    endpoints: Vec<EndpointView>,
    /// What was just done (`resent`, `resumed`), for the notice.
    done: String,
}

impl WebhooksPage {
    fn status_word(&self, status: &str) -> &'static str {
        match status {
            "delivered" => self.w.status_delivered,
            "failed" => self.w.status_failed,
            _ => self.w.status_pending,
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/webhooks", web::get().to(list))
        .route("/admin/webhooks/{endpoint}/resume", web::post().to(resume))
        .route("/admin/webhooks/{endpoint}/deliveries/{id}/resend", web::post().to(resend));
}

async fn list(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, AdminError> {
    let pool = state.db.pool.clone();
    let endpoints = web::block(move || -> Result<_, AppError> { Ok(webhooks::overview(&mut *pool.get()?)?) })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(e, who.locale))?;
    let w = WebhookStrings::get(who.locale);
    let done = if matches!(query.done.as_str(), "resent" | "resumed") { query.done.clone() } else { String::new() };
    Ok(render(&WebhooksPage { c: who.chrome(&req, "webhooks"), w, endpoints, done }))
}

fn not_found(who: &SignedIn) -> AdminError {
    AdminError::Refused { status: StatusCode::NOT_FOUND, code: ErrorCode::NotFound, locale: who.locale }
}

async fn resend(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.owner_form(&req, payload).await?;
    let (endpoint, id) = path.into_inner();
    let (writer, actor) = (state.db.writer.clone(), who.actor());
    let found = web::block(move || webhooks::resend(&writer, &actor, &endpoint, &id))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(e, who.locale))?;
    if !found {
        return Err(not_found(&who));
    }
    Ok(see_other(&format!("/admin/webhooks?lang={}&done=resent", who.locale.as_str())))
}

async fn resume(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.owner_form(&req, payload).await?;
    let (writer, actor, endpoint) = (state.db.writer.clone(), who.actor(), path.into_inner());
    let resumed = web::block(move || webhooks::resume(&writer, &actor, &endpoint))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(e, who.locale))?;
    if resumed.is_none() {
        return Err(not_found(&who));
    }
    Ok(see_other(&format!("/admin/webhooks?lang={}&done=resumed", who.locale.as_str())))
}

impl Chrome {
    /// The navigation entry of this page, in the console's language.
    pub fn nav_webhooks(&self) -> String {
        catalogue(self.t.lang).text("nav-webhooks")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_the_page_words() {
        for locale in crate::domain::Locale::shipped() {
            let c = catalogue(locale);
            for id in WebhookStrings::ids().iter().map(String::as_str).chain(["nav-webhooks"]) {
                assert!(c.has(id), "{locale:?} lacks {id}");
            }
        }
    }
}
