//! CORS for the form submission API (`/api/v1/forms/{form}/…`), per form: a browser on one of the
//! form's `allowed_origins` may call it; every other origin gets no CORS headers, and its
//! preflight is refused with a 403 problem.
//!
//! Hand-written rather than `actix-cors`: the allowed origins are per form and change when a form
//! is published, and a refused preflight must answer a problem document with a stable code.

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError, web};
use std::future::Future;
use std::pin::Pin;

use super::AppState;
use super::error::AppError;
use crate::domain::ErrorCode;
use crate::domain::origin;

/// What the request may do across origins.
enum Verdict {
    /// Not a cross-origin call on a form route: nothing to add.
    NotApplicable,
    Allowed(HeaderValue),
    Refused,
    UnknownForm,
}

type Answer = Pin<Box<dyn Future<Output = Result<ServiceResponse, actix_web::Error>>>>;

/// Middleware (`wrap_fn`) for the `/api/v1` scope.
pub fn per_form<S>(req: ServiceRequest, srv: &S) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error>,
    S::Future: 'static,
{
    let verdict = verdict(&req);
    let preflight = req.method() == Method::OPTIONS;
    match (verdict, preflight) {
        (Verdict::Allowed(origin), true) => Box::pin(std::future::ready(Ok(req.into_response(preflight_ok(origin))))),
        (Verdict::Refused, true) => {
            let refused = AppError::Forbidden(ErrorCode::CorsOriginNotAllowed).error_response();
            Box::pin(std::future::ready(Ok(req.into_response(with_vary(refused)))))
        }
        (Verdict::UnknownForm, true) => {
            let missing = AppError::NotFound(ErrorCode::FormNotFound).error_response();
            Box::pin(std::future::ready(Ok(req.into_response(missing))))
        }
        (verdict, _) => {
            let fut = srv.call(req);
            Box::pin(async move {
                let mut res = fut.await?;
                if let Verdict::Allowed(origin) = verdict {
                    let headers = res.headers_mut();
                    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("location"));
                }
                if is_form_route(&res) {
                    res.headers_mut().append(header::VARY, HeaderValue::from_static("origin"));
                }
                Ok(res)
            })
        }
    }
}

/// Responses on form routes depend on `Origin`: caches must keep them apart.
fn is_form_route(res: &ServiceResponse) -> bool {
    form_key(res.request().path()).is_some()
}

fn verdict(req: &ServiceRequest) -> Verdict {
    let Some(form) = form_key(req.path()) else {
        return Verdict::NotApplicable;
    };
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return Verdict::NotApplicable;
    };
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Verdict::Refused;
    };
    let catalog = state.catalog.current();
    let Some(published) = catalog.form(form) else {
        return Verdict::UnknownForm;
    };
    match origin.to_str() {
        Ok(raw) if origin::is_allowed(&published.definition.allowed_origins, raw) => Verdict::Allowed(origin),
        _ => Verdict::Refused,
    }
}

/// The form key of `/api/v1/forms/{form}/…`.
fn form_key(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/forms/")?;
    rest.split('/').next().filter(|k| !k.is_empty())
}

fn preflight_ok(origin: HeaderValue) -> HttpResponse {
    let response = HttpResponse::build(StatusCode::NO_CONTENT)
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type, accept-language"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
        .finish();
    with_vary(response)
}

fn with_vary(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().append(header::VARY, HeaderValue::from_static("origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::form_key;

    #[test]
    fn only_form_routes_are_cors_routes() {
        assert_eq!(form_key("/api/v1/forms/newsletter/submissions"), Some("newsletter"));
        assert_eq!(form_key("/api/v1/consents"), None);
        assert_eq!(form_key("/api/v1/forms/"), None);
    }
}
