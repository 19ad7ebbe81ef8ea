//! RFC 9110 at the edge, for every route at once: `HEAD` is answered as `GET` without its body
//! (§9.3.2; actix-http leaves the body out of a HEAD response by itself), an `Allow` that lists
//! `GET` lists `HEAD` too (§10.2.1), and a request target longer than [`MAX_URI_BYTES`] is refused
//! with `414` before any handler reads it (§15.5.15).

use actix_web::HttpResponse;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};

/// The longest request target served (RFC 9110 §4.1 recommends supporting at least 8000 octets).
pub const MAX_URI_BYTES: usize = 8192;

pub fn http_edges<S>(
    mut req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse, actix_web::Error>> + use<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error>,
{
    let too_long = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len()) > MAX_URI_BYTES;
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let call = if too_long { Err(req) } else { Ok(srv.call(req)) };
    async move {
        let mut res = match call {
            Ok(fut) => fut.await?,
            Err(req) => {
                let refusal = HttpResponse::build(StatusCode::URI_TOO_LONG)
                    .content_type("application/problem+json")
                    .body(r#"{"type":"about:blank","title":"URI too long","status":414,"code":"uri_too_long"}"#);
                return Ok(req.into_response(refusal));
            }
        };
        let allow = res.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(allow) = allow.filter(|a| a.split(',').any(|m| m.trim() == "GET") && !a.contains("HEAD"))
            && let Ok(value) = header::HeaderValue::from_str(&format!("{allow}, HEAD"))
        {
            res.headers_mut().insert(header::ALLOW, value);
        }
        Ok(res)
    }
}
