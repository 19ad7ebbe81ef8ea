//! `GET /admin/held` and `/admin/held/{subject}`: data kept under a statutory retention
//! obligation (PIPA art. 21(3)), for the privacy officer only. The list names people by id,
//! purpose, law and date, never a value; opening a person's held values is audited and an access
//! record. Every other role is refused (403 `privacy_officer_required`).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{AdminError, Chrome, SignedIn};
use crate::db::holds::HeldValue;
use crate::domain::access::AccessAction;
use crate::i18n::message_struct;
use crate::services::audit::audit_action;
use crate::services::holds;
use crate::web::AppState;
use crate::web::access;
use crate::web::error::AppError;
use crate::web::pages::render;

message_struct! {
    /// The held-data pages' words (ids `held-<field>`).
    pub struct HeldStrings("held-") {
        title,
        intro,
        none,
        col_subject,
        col_purpose,
        col_item,
        col_value,
        col_law,
        col_until,
        open,
        person_title,
        back,
    }
}

const LIST_MAX: i64 = 500;

#[derive(Template)]
#[template(path = "admin/held.html")]
struct HeldPage {
    c: Chrome,
    h: &'static HeldStrings,
    /// Each held value, with its plain value when a person is opened (else empty).
    rows: Vec<(HeldValue, String)>,
    /// The person opened (their id), when one is.
    person: Option<String>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/held").route(web::get().to(list)))
        .service(web::resource("/admin/held/{subject}").route(web::get().to(person)));
}

impl Chrome {
    /// The navigation entry of these pages, in the console's language.
    pub fn nav_held(&self) -> String {
        crate::i18n::catalogue(self.t.lang).text("nav-held")
    }
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let pool = state.db.pool.clone();
    let rows =
        web::block(move || -> Result<_, AppError> { Ok(crate::db::holds::soonest(&mut *pool.get()?, LIST_MAX)?) })
            .await
            .map_err(|e| AdminError::new(e, who.locale))?
            .map_err(|e| AdminError::new(e, who.locale))?;
    let rows = rows.into_iter().map(|r| (r, String::new())).collect();
    let page = HeldPage { c: who.chrome(&req, "held"), h: HeldStrings::get(who.locale), rows, person: None };
    Ok(render(&page))
}

async fn person(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let subject = path.into_inner();
    let (pool, keyring, id) = (state.db.pool.clone(), state.keyring.clone(), subject.clone());
    let opened = web::block(move || -> Result<_, AppError> { Ok(holds::open(&mut *pool.get()?, &keyring, &id)?) })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(e, who.locale))?;
    // Audited before anything is shown: no audit row, no held data.
    let (actor, audited) = (who.actor(), subject.clone());
    state
        .db
        .writer
        .write(move |tx| {
            let detail = "held under a statutory obligation";
            Ok::<_, crate::services::ServiceError>(audit_action(tx.conn, &actor, "view_held", Some(&audited), detail)?)
        })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    access::by_owner(&req, &state, &who.owner.id, AccessAction::ViewPerson, Some(&subject));
    let page =
        HeldPage { c: who.chrome(&req, "held"), h: HeldStrings::get(who.locale), rows: opened, person: Some(subject) };
    Ok(render(&page))
}
