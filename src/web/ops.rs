//! Operations: health, metrics and the public key set for verifying receipts.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use super::AppState;
use super::error::AppError;
use crate::domain::ErrorCode;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::web::only("/healthz", "GET", web::get().to(healthz)))
        .service(crate::web::only("/readyz", "GET", web::get().to(readyz)))
        .service(crate::web::only("/metrics", "GET", web::get().to(metrics)))
        .service(crate::web::only("/.well-known/jwks.json", "GET", web::get().to(jwks)))
        .service(crate::web::only("/static/{file}", "GET", web::get().to(static_file)))
        .service(crate::web::only("/embed.js", "GET", web::get().to(|| static_response("embed.js"))))
        .service(crate::web::only("/favicon.ico", "GET", web::get().to(|| static_response("favicon.svg"))))
        .service(crate::web::only("/", "GET", web::get().to(super::footer::home)));
}

/// The few static files are compiled into the binary: nothing to deploy beside it.
const STATIC_FILES: &[(&str, &str, &str)] = &[
    ("assent.css", "text/css; charset=utf-8", include_str!("../../static/assent.css")),
    ("frame.js", "text/javascript; charset=utf-8", include_str!("../../static/frame.js")),
    ("embed.js", "text/javascript; charset=utf-8", include_str!("../../static/embed.js")),
    ("builder.js", "text/javascript; charset=utf-8", include_str!("../../static/builder.js")),
    ("favicon.svg", "image/svg+xml", include_str!("../../static/favicon.svg")),
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
        None => AppError::NotFound(ErrorCode::NotFound).error_response(),
    }
}

/// `GET /healthz`: liveness. 200 while the process answers HTTP, whatever its database does (a
/// database outage is `/readyz`'s to report: restarting the process would not mend it).
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when this server can take traffic, 503 otherwise, with each check: the
/// database answers and its schema is this binary's (no migration pending), the writer thread
/// runs, other processes' commits are followed (on PostgreSQL, the change listener is connected),
/// and the data folder has `ASSENT_MIN_FREE_SPACE` MiB free. For load balancers and
/// orchestrators; `/healthz` is the liveness check.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.db.pool.clone();
    let pending = web::block(move || -> Result<usize, AppError> {
        let mut conn = pool.get()?;
        crate::db::pending_migrations(&mut conn).map_err(|_| AppError::Unavailable)
    })
    .await
    .ok()
    .and_then(Result::ok);
    let writer = state.db.writer.is_running();
    let following = state.consents.changes().following();
    let min = state.settings.min_free_space_mib.saturating_mul(1024 * 1024);
    let free = rustix::fs::statvfs(&state.settings.data_dir).ok().map(|s| s.f_bavail.saturating_mul(s.f_frsize));
    let disk = free.is_some_and(|f| f >= min);
    let ready = pending == Some(0) && writer && following && disk;
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {
            "database": { "ok": pending == Some(0), "pending_migrations": pending },
            "writer": { "ok": writer },
            "change_listener": { "ok": following },
            "disk": { "ok": disk, "free_bytes": free, "min_free_bytes": min },
        },
    });
    let mut response = if ready { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    response.insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

/// Set, `/metrics` needs `Authorization: Bearer <token>` from everyone; unset, it answers
/// loopback clients only: a loopback peer that is a trusted proxy is believed only when it says it
/// forwards this machine too (else a proxy on the same host would open it to the internet).
static METRICS_TOKEN: std::sync::LazyLock<Option<String>> =
    std::sync::LazyLock::new(|| std::env::var("ASSENT_METRICS_TOKEN").ok().filter(|t| !t.trim().is_empty()));

fn may_scrape(req: &HttpRequest) -> bool {
    match METRICS_TOKEN.as_deref() {
        Some(token) => {
            use subtle::ConstantTimeEq;
            let presented = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim())
                .unwrap_or_default();
            bool::from(presented.as_bytes().ct_eq(token.as_bytes()))
        }
        None => {
            let Some(peer) = req.peer_addr().map(|a| a.ip()) else { return false };
            let settings = req.app_data::<web::Data<AppState>>().map(|s| &s.settings);
            match settings.filter(|s| s.trusted_proxies.contains(&peer)) {
                None => peer.is_loopback(),
                Some(settings) => {
                    let forwarded = super::forwarded_for(req);
                    let client = settings.client_ip(Some(peer), forwarded.as_deref());
                    forwarded.is_some() && client.is_some_and(|ip| ip.is_loopback())
                }
            }
        }
    }
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if !may_scrape(&req) {
        return Err(if METRICS_TOKEN.is_some() {
            AppError::Unauthorized
        } else {
            AppError::Forbidden(ErrorCode::MetricsForbidden)
        });
    }
    let pool = state.db.pool.clone();
    let backlog = web::block(move || -> Result<i64, AppError> {
        let mut conn = pool.get()?;
        Ok(crate::db::outbox::backlog(&mut conn)?)
    })
    .await
    .ok()
    .and_then(Result::ok);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(crate::metrics::render(backlog)))
}

/// Every trusted receipt key, read from the database (a key another process created since this
/// one started is listed too); what this process loaded if the database cannot answer.
async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let (pool, keyring) = (state.db.pool.clone(), state.keyring.clone());
    let stored = web::block(move || -> Option<serde_json::Value> {
        let mut conn = pool.get().ok()?;
        crate::services::keyring::jwks(&mut conn, &keyring).ok()
    })
    .await
    .ok()
    .flatten();
    let keys = stored.unwrap_or_else(|| state.keyring.jwks());
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(keys)
}

#[cfg(test)]
mod tests {
    use super::may_scrape;
    use actix_web::test::TestRequest;

    #[test]
    fn without_a_token_only_loopback_may_scrape() {
        // The unit-test process has no ASSENT_METRICS_TOKEN.
        let local = TestRequest::default().peer_addr("127.0.0.1:40000".parse().unwrap()).to_http_request();
        let remote = TestRequest::default().peer_addr("192.0.2.7:40000".parse().unwrap()).to_http_request();
        assert!(may_scrape(&local));
        assert!(!may_scrape(&remote));
    }
}
