//! Operations: health and the public key set for verifying receipts.

use actix_web::{HttpResponse, ResponseError, web};
use diesel::RunQueryDsl;

use super::AppState;
use super::error::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/.well-known/jwks.json", web::get().to(jwks))
        .route("/static/{file}", web::get().to(static_file))
        .route("/embed.js", web::get().to(|| static_response("embed.js")));
}

/// The few static files are compiled into the binary: nothing to deploy beside it.
const STATIC_FILES: &[(&str, &str, &str)] = &[
    ("assent.css", "text/css; charset=utf-8", include_str!("../../static/assent.css")),
    ("frame.js", "text/javascript; charset=utf-8", include_str!("../../static/frame.js")),
    ("embed.js", "text/javascript; charset=utf-8", include_str!("../../static/embed.js")),
];

async fn static_file(path: web::Path<String>) -> HttpResponse {
    static_response(&path).await
}

async fn static_response(name: &str) -> HttpResponse {
    match STATIC_FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("Cache-Control", "public, max-age=3600"))
            .body(*body),
        None => AppError::NotFound("not_found").error_response(),
    }
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pool = state.db.pool.clone();
    let ok = web::block(move || -> Result<(), AppError> {
        let mut conn = pool.get()?;
        diesel::sql_query("SELECT 1").execute(&mut conn)?;
        Ok(())
    })
    .await
    .ok()
    .and_then(Result::ok)
    .is_some();
    let body = serde_json::json!({ "status": if ok { "ok" } else { "unavailable" }, "database": ok });
    Ok(if ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) })
}

async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(state.keyring.receipts().jwks())
}
