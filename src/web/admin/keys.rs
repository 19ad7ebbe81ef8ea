//! API keys in the console: list (name, prefix, created, revoked), create (the secret shown
//! once; only its hash is stored) and revoke. Owners only change them; viewers see the list.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::{AdminError, Chrome, Problems, SignedIn, see_other};
use crate::db::api_keys::{self, ApiKeyRow};
use crate::domain::ErrorCode;
use crate::services::keys;
use crate::services::rights::audit_action;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/keys").route(web::get().to(list)).route(web::post().to(create)))
        .route("/admin/keys/{id}/revoke", web::post().to(revoke));
}

struct KeyView {
    id: String,
    name: String,
    prefix: String,
    created: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    c: Chrome,
    keys: Vec<KeyView>,
    /// The secret of a key just created, shown this once.
    created: Option<String>,
    name: String,
    problems: Problems,
}

async fn load(state: &AppState, who: &SignedIn) -> Result<Vec<KeyView>, AdminError> {
    let pool = state.db.pool.clone();
    let rows: Vec<ApiKeyRow> = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(api_keys::list(&mut conn)?)
    })
    .await
    .map_err(|e| AdminError::new(e, who.locale))?
    .map_err(|e| AdminError::new(e, who.locale))?;
    let when = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M").to_string();
    Ok(rows
        .into_iter()
        .map(|r| KeyView {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            created: when(r.created_at),
            revoked: r.revoked_at.map(when),
        })
        .collect())
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    who: &SignedIn,
    created: Option<String>,
    name: String,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let keys = load(state, who).await?;
    let mut response =
        render_with_status(&KeysPage { c: who.chrome(req, "keys"), keys, created, name, problems }, status);
    // A page that may show a secret is never cached.
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    page(&req, &state, &who, None, String::new(), Problems::default(), StatusCode::OK).await
}

async fn create(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let t = super::AdminStrings::get(who.locale);
    let name = fields.get("name").trim().to_owned();
    let mut problems = Problems::default();
    if name.is_empty() {
        problems.add("name", t.says(ErrorCode::Required));
    } else if name.chars().count() > 100 {
        problems.add("name", t.says(ErrorCode::TooLong));
    }
    if !problems.is_empty() {
        return page(&req, &state, &who, None, name, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let (actor, key_name) = (who.actor(), name.clone());
    let created = state
        .db
        .writer
        .write(move |tx| -> Result<_, AppError> {
            let created = keys::create(tx.conn, &key_name, None)?;
            audit_action(tx.conn, &actor, "api_key_created", None, &created.id)?;
            Ok(created)
        })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    page(&req, &state, &who, Some(created.secret), String::new(), Problems::default(), StatusCode::CREATED).await
}

async fn revoke(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.owner_form(&req, payload).await?;
    let (actor, id) = (who.actor(), path.into_inner());
    let revoked = state
        .db
        .writer
        .write(move |tx| -> Result<_, AppError> {
            let revoked = api_keys::revoke(tx.conn, &id, Utc::now().naive_utc())?;
            if revoked {
                audit_action(tx.conn, &actor, "api_key_revoked", None, &id)?;
            }
            Ok(revoked)
        })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    state.api_keys.forget_all();
    if !revoked {
        return Err(AdminError::Refused {
            status: StatusCode::NOT_FOUND,
            code: ErrorCode::NotFound,
            locale: who.locale,
        });
    }
    Ok(see_other(&format!("/admin/keys?lang={}", who.locale.as_str())))
}
