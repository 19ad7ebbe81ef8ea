//! Who is calling the JSON API and whether they may: the API key in `Authorization: Bearer …`,
//! checked against the keys recently found live before the database is asked, and the scope the
//! route needs checked against the key's (every API route calls [`authorize`] with its scope).

use actix_web::HttpRequest;
use actix_web::http::header;

use super::AppState;
use super::error::AppError;
use crate::domain::scopes::Scope;
use crate::services::keys::LiveKey;

/// The id of the API key the request presents (`Authorization: Bearer …`) if it holds `scope`;
/// 401 without a live key, 403 `insufficient_scope` (audited) without the scope.
pub async fn authorize(req: &HttpRequest, state: &AppState, scope: Scope) -> Result<String, AppError> {
    let presented = bearer(req).ok_or(AppError::Unauthorized)?.to_owned();
    let stamp = state.consents.changes().stamp();
    let key = match state.api_keys.cached(&presented, stamp) {
        Some(key) => key,
        None => {
            let (api_keys, changes) = (state.api_keys.clone(), state.consents.changes().clone());
            super::point_read(state, move |conn| {
                api_keys.authenticate(conn, &presented, stamp, &changes)?.ok_or(AppError::Unauthorized)
            })
            .await?
        }
    };
    permitted(req, state, key, scope)
}

/// The key's id if it holds `scope` (its use recorded); otherwise the refusal is audited (the
/// key, the scope, the route's pattern: never a path's values) and answered 403.
pub(crate) fn permitted(req: &HttpRequest, state: &AppState, key: LiveKey, scope: Scope) -> Result<String, AppError> {
    record_use(state, &key.id);
    if key.scopes.contains(scope) {
        return Ok(key.id);
    }
    let route = format!("{} {}", req.method(), req.match_pattern().unwrap_or_else(|| "?".into()));
    let detail = format!("{scope} needed for {route}");
    let queued = state.db.writer.queue(move |tx| {
        let actor = crate::services::audit::Actor::ApiKey(key.id);
        Ok::<_, AppError>(crate::services::audit::audit_action(
            tx.conn,
            &actor,
            "api_key.scope_refused",
            None,
            &detail,
        )?)
    });
    if let Err(e) = queued {
        tracing::warn!(error = %e, "could not audit a refused API key");
    }
    Err(AppError::InsufficientScope(scope))
}

/// Records a key's first use of the day (for `assent doctor`'s unused keys): queued to the writer
/// and not waited for, off the request's path.
pub(crate) fn record_use(state: &AppState, id: &str) {
    let now = chrono::Utc::now().naive_utc();
    if state.api_keys.first_use_today(id, now.date()) {
        let id = id.to_owned();
        let queued = state.db.writer.queue(move |tx| Ok::<_, AppError>(crate::db::api_keys::touch(tx.conn, &id, now)?));
        if let Err(e) = queued {
            tracing::warn!(error = %e, "could not record an API key's use");
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
