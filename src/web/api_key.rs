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
    if let Some(id) = state.api_keys.cached(&presented, stamp) {
        return Ok(id);
    }
    let api_keys = state.api_keys.clone();
    super::point_read(state, move |conn| api_keys.authenticate(conn, &presented, stamp)?.ok_or(AppError::Unauthorized))
        .await
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
