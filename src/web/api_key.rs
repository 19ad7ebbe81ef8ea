//! Who is calling the JSON API: the API key in `Authorization: Bearer …`, checked against the
//! keys recently found live before the database is asked.

use actix_web::HttpRequest;
use actix_web::http::header;

use super::AppState;
use super::error::AppError;

/// The id of the API key the request presents (`Authorization: Bearer …`), or 401.
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<String, AppError> {
    let presented = bearer(req).ok_or(AppError::Unauthorized)?.to_owned();
    let stamp = state.consents.changes().stamp();
    let id = match state.api_keys.cached(&presented, stamp) {
        Some(id) => id,
        None => {
            let api_keys = state.api_keys.clone();
            super::point_read(state, move |conn| {
                api_keys.authenticate(conn, &presented, stamp)?.ok_or(AppError::Unauthorized)
            })
            .await?
        }
    };
    record_use(state, &id);
    Ok(id)
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
