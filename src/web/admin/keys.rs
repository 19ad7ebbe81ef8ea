//! API keys in the console: list (name, prefix, scopes, created, last used, expiry, state),
//! create (with its scopes and an expiry; the secret shown once, only its hash stored) and revoke.
//! Owners only change them; viewers see the list.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::{AdminError, Chrome, Problems, SignedIn, see_other};
use crate::db::api_keys::{self, ApiKeyRow};
use crate::domain::ErrorCode;
use crate::domain::scopes::{Scope, Scopes};
use crate::services::keys;
use crate::services::rights::audit_action;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/keys").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/admin/keys/{id}/revoke").route(web::post().to(revoke)));
}

struct KeyView {
    id: String,
    name: String,
    prefix: String,
    /// The scopes' names; empty when the key may do everything.
    scopes: Vec<&'static str>,
    created: String,
    last_used: Option<String>,
    expires: Option<String>,
    revoked: Option<String>,
    expired: bool,
}

/// A scope as the form offers it: its name, what it allows, and whether it is ticked.
struct ScopeChoice {
    name: &'static str,
    says: &'static str,
    ticked: bool,
}

/// The expiries the form offers (as `Retention` writes them; empty: none).
const EXPIRIES: [&str; 3] = ["", "90d", "1y"];

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    c: Chrome,
    keys: Vec<KeyView>,
    /// The secret of a key just created, shown this once.
    created: Option<String>,
    name: String,
    scopes: Vec<ScopeChoice>,
    expiry: String,
    problems: Problems,
}

/// What the new-key form holds (kept when it comes back with a problem).
#[derive(Default)]
struct Draft {
    name: String,
    scopes: Scopes,
    expiry: String,
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
    let now = Utc::now().naive_utc();
    Ok(rows
        .into_iter()
        .map(|r| {
            let scopes = Scopes::from_stored(&r.scopes);
            KeyView {
                id: r.id,
                name: r.name,
                prefix: r.prefix,
                scopes: if scopes.is_all() { Vec::new() } else { scopes.iter().map(Scope::as_str).collect() },
                created: when(r.created_at),
                last_used: r.last_used_at.map(when),
                expires: r.expires_at.map(when),
                revoked: r.revoked_at.map(when),
                expired: r.expires_at.is_some_and(|at| at <= now),
            }
        })
        .collect())
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    who: &SignedIn,
    created: Option<String>,
    draft: Draft,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let keys = load(state, who).await?;
    let t = super::AdminStrings::get(who.locale);
    let scopes = Scope::ALL
        .iter()
        .map(|&s| ScopeChoice { name: s.as_str(), says: t.scope(s), ticked: draft.scopes.contains(s) })
        .collect();
    let c = who.chrome(req, "keys");
    let page = KeysPage { c, keys, created, name: draft.name, scopes, expiry: draft.expiry, problems };
    let mut response = render_with_status(&page, status);
    // A page that may show a secret is never cached.
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    page(&req, &state, &who, None, Draft::default(), Problems::default(), StatusCode::OK).await
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
    let expiry = fields.get("expiry").to_owned();
    let mut problems = Problems::default();
    if name.is_empty() {
        problems.add("name", t.says(ErrorCode::Required));
    } else if name.chars().count() > 100 {
        problems.add("name", t.says(ErrorCode::TooLong));
    }
    let scopes = Scopes::parse(&fields.all("scope").join(" "));
    match &scopes {
        Ok(set) if set.is_empty() => problems.add("scopes", t.says(ErrorCode::Required)),
        Ok(_) => {}
        Err(_) => problems.add("scopes", t.says(ErrorCode::InvalidChoices)),
    }
    if !EXPIRIES.contains(&expiry.as_str()) {
        problems.add("expiry", t.says(ErrorCode::InvalidChoice));
    }
    let draft = Draft { name, scopes: scopes.unwrap_or_default(), expiry };
    if !problems.is_empty() {
        return page(&req, &state, &who, None, draft, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let expires_at = crate::domain::Retention::parse(&draft.expiry).ok().map(|p| p.expires_at(Utc::now()).naive_utc());
    let (actor, key_name, scopes, owner_id) = (who.actor(), draft.name, draft.scopes, who.owner.id.clone());
    let created = state
        .db
        .writer
        .write(move |tx| -> Result<_, AppError> {
            let created = keys::create(tx.conn, &key_name, expires_at, scopes, Some(&owner_id))?;
            let detail = format!("{} ({})", created.id, scopes.to_text());
            audit_action(tx.conn, &actor, "api_key_created", None, &detail)?;
            Ok(created)
        })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    page(&req, &state, &who, Some(created.secret), Draft::default(), Problems::default(), StatusCode::CREATED).await
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
