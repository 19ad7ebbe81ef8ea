//! HTTP: one module per audience (public forms, JSON API, operations), plus the cross-cutting
//! pieces (errors, body reading, localisation, security headers, request logging).

pub mod access;
pub mod admin;
pub mod age;
pub mod api;
pub mod api_key;
pub mod body;
pub mod bulk_api;
pub mod consents_lookup;
pub mod cors;
pub mod edges;
pub mod error;
pub mod footer;
pub mod i18n;
pub mod limits;
pub mod shared_limits;
pub use limits::RateLimits;
pub mod imports_api;
pub mod integration_api;
pub mod links;
pub mod me;
pub mod messages;
pub mod notice_words;
pub mod openapi;
mod openapi_links;
pub mod ops;
pub mod pages;
mod policy;
pub mod public;
pub mod rights_api;
pub mod subjects_api;
pub mod submission;
pub(crate) mod transparency;
pub mod webhooks_api;
pub mod webhooks_manage_api;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::config::Settings;
use crate::crypto::Keyring;
use crate::db::Db;
use crate::db::catalog::Catalog;
use crate::domain::{ErrorCode, Evidence, Locale};
use crate::mail::MailContext;
use crate::services::person_cache::PersonCache;
use crate::web::error::AppError;

/// The shared, current catalogue; replaced whole when the workspace changes.
#[derive(Clone, Default)]
pub struct CatalogHandle(Arc<RwLock<Arc<Catalog>>>);

impl CatalogHandle {
    pub fn new(catalog: Catalog) -> Self {
        footer::set(catalog.controller.as_ref());
        Self(Arc::new(RwLock::new(Arc::new(catalog))))
    }

    pub fn current(&self) -> Arc<Catalog> {
        self.0.read().map(|c| Arc::clone(&c)).unwrap_or_default()
    }

    /// Serves `catalog` from now on, unless the one served is newer: two reloads racing (the
    /// console's own after a change, and the background refresher's begun before that change)
    /// must not leave the older one in place.
    pub fn replace(&self, catalog: Catalog) {
        if let Ok(mut current) = self.0.write()
            && catalog.version >= current.version
        {
            footer::set(catalog.controller.as_ref());
            *current = Arc::new(catalog);
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Records form submissions (in batches, through the writer).
    pub submissions: crate::services::recorder::Recorder,
    /// API keys recently found live.
    pub api_keys: Arc<crate::services::keys::KeyCache>,
    /// Consent states recently read, for the consent check.
    pub consents: Arc<crate::services::lookup::ConsentCache>,
    pub keyring: Arc<Keyring>,
    pub catalog: CatalogHandle,
    pub settings: Arc<Settings>,
    pub mail: MailContext,
    /// Wakes the mail delivery loop after something was queued.
    pub mail_queued: Arc<tokio::sync::Notify>,
    pub limits: Arc<RateLimits>,
    /// Access records (art. 8), queued and written in batches.
    pub access: crate::services::access::AccessLog,
    /// The preference center's sessions, by the cookie's hash, while unchanged.
    pub me_sessions: Arc<PersonCache<crate::db::sessions::Session>>,
    /// The preference center's page data, by subject, while unchanged.
    pub me_pages: Arc<PersonCache<crate::services::profile::ReadUnder>>,
}

/// Runs a point read (a few index lookups). On SQLite it runs right here when a pooled
/// connection is free at once: the database is in this process and its pages are cached, so the
/// read takes microseconds, less than handing it to the blocking pool and back (measured on the
/// consent check: that hand-off, two context switches, was a third of its CPU). Otherwise, and
/// always on PostgreSQL (a network round trip), it runs on the blocking pool.
pub async fn point_read<T, F>(state: &AppState, read: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConnection) -> Result<T, AppError> + Send + 'static,
{
    if state.db.url.is_sqlite()
        && let Some(mut conn) = state.db.pool.try_get()
    {
        return read(&mut conn);
    }
    let pool = state.db.pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        read(&mut conn)
    })
    .await?
}

/// The client address of a request (see [`Settings::client_ip`]).
pub fn client_ip(req: &HttpRequest, settings: &Settings) -> Option<std::net::IpAddr> {
    settings.client_ip(req.peer_addr().map(|a| a.ip()), forwarded_for(req).as_deref())
}

/// Every `X-Forwarded-For` line, in order, as one list (RFC 9110 §5.3: repeated lines are one
/// comma-separated value); `None` without any.
pub fn forwarded_for(req: &HttpRequest) -> Option<String> {
    let lines: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    (!lines.is_empty()).then(|| lines.join(","))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(public::routes)
        .configure(me::routes)
        .configure(links::routes)
        .configure(api_routes)
        .configure(admin::routes)
        .configure(ops::routes)
        .configure(transparency::routes);
}

/// The JSON API at `/api/v1` (CORS per form); an unknown path there is a JSON 404.
fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .wrap_fn(cors::per_form)
            .service(only("/openapi.json", "GET", web::get().to(openapi::document)))
            .configure(api::routes)
            .configure(consents_lookup::routes)
            .configure(subjects_api::routes)
            .configure(integration_api::routes)
            .configure(bulk_api::routes)
            .configure(webhooks_api::routes)
            .configure(rights_api::routes)
            .configure(imports_api::routes)
            .service(only("/receipts/{receipt_id}/proof", "GET", web::get().to(transparency::receipt_proof)))
            .default_service(web::to(|| async { Err::<HttpResponse, _>(AppError::NotFound(ErrorCode::NotFound)) })),
    );
}

/// A `200` JSON answer that no cache keeps (it names people or the state of the deployment).
pub(crate) fn no_store(body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(body)
}

/// A resource with one route; any other method is answered `405 method_not_allowed`.
/// The time of day in the workspace's time zone at `at` (RFC 3339, as a consent check's `at`),
/// or now: when `may_send_now` is judged.
pub(crate) fn sending_time(state: &AppState, at: Option<&str>) -> Result<chrono::NaiveTime, AppError> {
    let at = match at {
        None => chrono::Utc::now(),
        Some(raw) => {
            chrono::DateTime::parse_from_rfc3339(raw).map(|t| t.to_utc()).map_err(|_| AppError::BadRequest {
                code: ErrorCode::InvalidQuery,
                detail: "at must be an RFC 3339 time, such as 2026-12-05T22:30:00+09:00.".into(),
            })?
        }
    };
    Ok(state.settings.time_zone.local_time(at))
}

pub(crate) fn only(path: &str, allow: &'static str, route: actix_web::Route) -> actix_web::Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(move || async move { Err::<HttpResponse, _>(AppError::MethodNotAllowed(allow)) }))
}

/// The language of a public page (forms, `/me`, policies, mail links): `?lang=` first, then
/// `Accept-Language`, over the languages the workspace offers; else its default.
pub fn locale_of(req: &HttpRequest) -> Locale {
    let (explicit, header) = asked_language(req);
    match req.app_data::<web::Data<AppState>>() {
        Some(state) => state.catalog.current().locales.negotiate(explicit.as_deref(), header),
        None => Locale::negotiate(explicit.as_deref(), header, &[Locale::EN], Locale::EN),
    }
}

/// The language of a console page: any language Assent ships (the console is the staff's, not
/// the workspace's audience), English by default.
pub fn console_locale_of(req: &HttpRequest) -> Locale {
    let (explicit, header) = asked_language(req);
    let shipped: Vec<Locale> = Locale::shipped().collect();
    Locale::negotiate(explicit.as_deref(), header, &shipped, Locale::EN)
}

fn asked_language(req: &HttpRequest) -> (Option<String>, Option<&str>) {
    let explicit = web::Query::<LangQuery>::from_query(req.query_string()).ok().and_then(|q| q.0.lang);
    (explicit, req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

#[derive(serde::Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The proof kept with each consent event: pseudonymised IP, user agent, origin, language and
/// the Global Privacy Control signal.
pub fn evidence_of(req: &HttpRequest, state: &AppState, locale: Locale, form_version_id: &str) -> Evidence {
    let header = |name| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let clip = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    Evidence {
        ip_hash: client_ip(req, &state.settings).map(|ip| state.keyring.ip_pseudonym(&ip.to_string())),
        user_agent: header(header::USER_AGENT).map(|ua| clip(ua, 256)),
        origin: header(header::ORIGIN).or_else(|| header(header::REFERER)).and_then(origin_of),
        locale: locale.as_str().to_owned(),
        gpc: header(header::HeaderName::from_static("sec-gpc")).is_some_and(|v| v.trim() == "1"),
        form_version_id: (!form_version_id.is_empty()).then(|| form_version_id.to_owned()),
        source: None,
        import: None,
        rights_request: None,
        age: None,
        guardian: None,
    }
}

/// `scheme://host[:port]` of a URL: the referring page's path and query may hold personal data.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && (scheme == "http" || scheme == "https")).then(|| format!("{scheme}://{host}"))
}

/// Security headers on every response; a handler's own (e.g. a form's CSP) takes precedence.
/// Framing is governed by CSP `frame-ancestors` alone: `X-Frame-Options` cannot list origins.
pub fn security_headers(hsts: bool) -> actix_web::middleware::DefaultHeaders {
    let mut headers = actix_web::middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        // Nothing here needs a camera, a microphone, a location or payment: no page (nor anything a
        // page embeds) may ask.
        .add((
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
        ))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ));
    if hsts {
        headers = headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"));
    }
    headers
}

/// Logs method, path (never the query string, which may carry an address), status and time, and
/// counts the request under its route pattern for `/metrics`.
pub fn log_request<S>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse, actix_web::Error>> + use<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error>,
{
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let status = res.status().as_u16();
        let seconds = started.elapsed().as_secs_f64();
        crate::metrics::observe_request(&method, res.request().match_pattern().as_deref(), status, seconds);
        let ms = seconds * 1000.0;
        if status >= 500 {
            tracing::warn!(%method, %path, status, ms, "request");
        } else {
            tracing::info!(%method, %path, status, ms, "request");
        }
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_drops_path_and_query() {
        assert_eq!(origin_of("https://shop.example/signup?email=a@b.c").as_deref(), Some("https://shop.example"));
        assert_eq!(origin_of("http://127.0.0.1:3000").as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }
}
