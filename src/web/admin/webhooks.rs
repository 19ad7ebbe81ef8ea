//! `GET /admin/webhooks`: the webhook endpoints, how far behind each is, and their latest
//! deliveries (status, attempts, response code, latency). Owners declare endpoints here (beside
//! the workspace file's), change, rotate (the new secret shown once) and remove them, resend a
//! delivery and resume an endpoint that was given up on; viewers see the page.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{AdminError, Chrome, Problems, SignedIn, see_other};
use crate::domain::ErrorCode;
use crate::i18n::{catalogue, message_struct};
use crate::services::webhooks::{self, EndpointRequest, EndpointView, ManageError};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

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
        add_title,
        add_intro,
        name,
        name_hint,
        url,
        url_hint,
        events_hint,
        include_email,
        create,
        secret_label,
        secret_once,
        in_file,
        change,
        save,
        rotate,
        remove,
        changed,
        removed,
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
    /// What was just done (`resent`, `resumed`, `changed`, `removed`), for the notice.
    done: String,
    /// The event types and patterns an endpoint may ask for.
    choices: &'static [&'static str],
    /// The new-endpoint form as typed (after a refusal).
    adding: EndpointForm,
    /// The endpoint whose change was refused, as typed.
    editing: Option<EndpointForm>,
    problems: Problems,
    /// A secret just drawn (endpoint, `whsec_…`), shown this once.
    secret: Option<(String, String)>,
}

/// An endpoint form's values.
#[derive(Debug, Default, Clone)]
struct EndpointForm {
    name: String,
    url: String,
    events: Vec<String>,
    include_email: bool,
}

impl EndpointForm {
    fn read(fields: &super::Fields) -> Self {
        Self {
            name: fields.get("name").trim().to_owned(),
            url: fields.get("url").trim().to_owned(),
            events: fields.all("events").into_iter().map(str::to_owned).collect(),
            include_email: fields.get("include_email") == "on",
        }
    }

    fn request(&self) -> EndpointRequest {
        EndpointRequest { url: self.url.clone(), events: self.events.clone(), include_email: self.include_email }
    }

    fn asks(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }
}

/// The event choices offered: every consent change at once, then each type.
const CHOICES: &[&str] = &[
    "consent.*",
    "consent.granted",
    "consent.pending",
    "consent.confirmed",
    "consent.notified",
    "consent.withdrawn",
    "consent.renewed",
    "consent.expired",
    "consent.erased",
    "subject.erased",
    "import.completed",
];

impl WebhooksPage {
    /// The form values of an endpoint's change form: as typed after a refusal, else as it is.
    fn form_of(&self, e: &EndpointView) -> EndpointForm {
        match &self.editing {
            Some(form) if form.name == e.name => form.clone(),
            _ => EndpointForm {
                name: e.name.clone(),
                url: e.url.clone(),
                events: e.events.clone(),
                include_email: e.include_email,
            },
        }
    }

    /// The message next to an endpoint's change-form field, if it was refused.
    fn edit_problem(&self, e: &EndpointView, field: &str) -> Option<&str> {
        self.editing
            .as_ref()
            .filter(|f| f.name == e.name)
            .and_then(|_| self.problems.of(&format!("{}-{field}", e.name)))
    }

    fn status_word(&self, status: &str) -> &'static str {
        match status {
            "delivered" => self.w.status_delivered,
            "failed" => self.w.status_failed,
            _ => self.w.status_pending,
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/webhooks").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/admin/webhooks/{endpoint}/change").route(web::post().to(change)))
        .service(web::resource("/admin/webhooks/{endpoint}/rotate").route(web::post().to(rotate)))
        .service(web::resource("/admin/webhooks/{endpoint}/remove").route(web::post().to(remove)))
        .service(web::resource("/admin/webhooks/{endpoint}/resume").route(web::post().to(resume)))
        .service(web::resource("/admin/webhooks/{endpoint}/deliveries/{id}/resend").route(web::post().to(resend)));
}

async fn list(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, AdminError> {
    let known = ["resent", "resumed", "changed", "removed"];
    let done = if known.contains(&query.done.as_str()) { query.done.clone() } else { String::new() };
    page(&req, &who, &state, Shown { done, ..Shown::default() }, StatusCode::OK).await
}

/// What the page shows beyond the endpoints.
#[derive(Default)]
struct Shown {
    done: String,
    adding: EndpointForm,
    editing: Option<EndpointForm>,
    problems: Problems,
    secret: Option<(String, String)>,
}

async fn page(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let pool = state.db.pool.clone();
    let endpoints = web::block(move || -> Result<_, AppError> { Ok(webhooks::overview(&mut *pool.get()?)?) })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(e, who.locale))?;
    let w = WebhookStrings::get(who.locale);
    let Shown { done, adding, editing, problems, secret } = shown;
    let page = WebhooksPage {
        c: who.chrome(req, "webhooks"),
        w,
        endpoints,
        done,
        choices: CHOICES,
        adding,
        editing,
        problems,
        secret,
    };
    let mut response = render_with_status(&page, status);
    // A page that may show a secret is never cached.
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The refusals of a form, each next to its field (`prefix` names an endpoint's change form).
fn problems_of(who: &SignedIn, error: ManageError, prefix: &str) -> Result<Problems, AdminError> {
    let t = super::AdminStrings::get(who.locale);
    let mut problems = Problems::default();
    match error {
        ManageError::Invalid(refused) => {
            let words = crate::web::i18n::Strings::get(who.locale);
            for e in &refused {
                problems.add(format!("{prefix}{}", e.field), words.field_error(e));
            }
        }
        ManageError::NameTaken => problems.add(format!("{prefix}name"), t.says(ErrorCode::WebhookNameTaken)),
        ManageError::DeclaredInFile => {
            return Err(AdminError::Refused {
                status: StatusCode::CONFLICT,
                code: ErrorCode::WebhookDeclaredInFile,
                locale: who.locale,
            });
        }
        ManageError::NotFound => return Err(not_found(who)),
        ManageError::Service(e) => return Err(AdminError::new(AppError::from(e), who.locale)),
    }
    Ok(problems)
}

async fn create(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let form = EndpointForm::read(&who.owner_form(&req, payload).await?);
    let (writer, keyring, allow) =
        (state.db.writer.clone(), state.keyring.clone(), state.settings.webhook_allow_private);
    let (name, request, actor) = (form.name.clone(), form.request(), who.actor());
    let created = web::block(move || webhooks::create(&writer, &keyring, &name, &request, &actor, allow))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    match created {
        Ok(secret) => {
            let shown = Shown { secret: Some((form.name, secret)), ..Shown::default() };
            page(&req, &who, &state, shown, StatusCode::CREATED).await
        }
        Err(e) => {
            let shown = Shown { problems: problems_of(&who, e, "")?, adding: form, ..Shown::default() };
            page(&req, &who, &state, shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn change(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let mut form = EndpointForm::read(&who.owner_form(&req, payload).await?);
    form.name = path.into_inner();
    let (writer, allow) = (state.db.writer.clone(), state.settings.webhook_allow_private);
    let (name, request, actor) = (form.name.clone(), form.request(), who.actor());
    let changed = web::block(move || webhooks::change(&writer, &name, &request, &actor, allow))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    match changed {
        Ok(()) => Ok(see_other(&format!("/admin/webhooks?lang={}&done=changed", who.locale.as_str()))),
        Err(e) => {
            let problems = problems_of(&who, e, &format!("{}-", form.name))?;
            let shown = Shown { problems, editing: Some(form), ..Shown::default() };
            page(&req, &who, &state, shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn rotate(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.owner_form(&req, payload).await?;
    let (writer, keyring, actor, name) =
        (state.db.writer.clone(), state.keyring.clone(), who.actor(), path.into_inner());
    let asked = name.clone();
    let secret = web::block(move || webhooks::rotate(&writer, &keyring, &asked, &actor))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    match secret {
        Ok(secret) => {
            page(&req, &who, &state, Shown { secret: Some((name, secret)), ..Shown::default() }, StatusCode::OK).await
        }
        Err(e) => Err(problems_of(&who, e, "").err().unwrap_or_else(|| not_found(&who))),
    }
}

async fn remove(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.owner_form(&req, payload).await?;
    let (writer, actor, name) = (state.db.writer.clone(), who.actor(), path.into_inner());
    let removed = web::block(move || webhooks::remove(&writer, &name, &actor))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    match removed {
        Ok(()) => Ok(see_other(&format!("/admin/webhooks?lang={}&done=removed", who.locale.as_str()))),
        Err(e) => Err(problems_of(&who, e, "").err().unwrap_or_else(|| not_found(&who))),
    }
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
