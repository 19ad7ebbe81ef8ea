//! Reading request bodies: a hard size limit, the right content type, strict UTF-8.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use futures_util::StreamExt;

use super::error::AppError;
use super::i18n::Strings;
use crate::domain::{ErrorCode, Locale};

/// The largest body any endpoint accepts.
pub const MAX_BODY: usize = 64 * 1024;

pub const FORM_URLENCODED: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

/// Oversized bodies up to this size are read and discarded before the 413 is sent, so that the
/// client (a browser mid-upload) receives the answer instead of a reset connection.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// A JSON body as `T`: `400 malformed_json` when it is not JSON, `400 invalid_request` (its detail
/// `"{shape}: {serde's message}"`) when it is JSON of another shape.
pub fn json<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            AppError::BadRequest { code: ErrorCode::InvalidRequest, detail: format!("{shape}: {e}") }
        }
        _ => {
            AppError::BadRequest { code: ErrorCode::MalformedJson, detail: format!("The body is not valid JSON: {e}") }
        }
    })
}

/// Reads the whole body, refusing more than [`MAX_BODY`] bytes.
pub async fn read_limited(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, AppError> {
    read_at_most(req, payload, MAX_BODY).await
}

/// Reads the whole body, refusing more than `limit` bytes (an endpoint that takes more than
/// [`MAX_BODY`], such as the bulk consent check).
pub async fn read_at_most(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<web::Bytes, AppError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        if declared.is_some_and(|n| n <= DRAIN_LIMIT) {
            drain(&mut payload).await;
        }
        return Err(AppError::PayloadTooLarge(limit));
    }
    in_time(req, limit, async move {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest {
                code: ErrorCode::InvalidBody,
                detail: "The body could not be read.".into(),
            })?;
            if body.len() + chunk.len() > limit {
                drain(&mut payload).await;
                return Err(AppError::PayloadTooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    })
    .await
}

/// Reads a body of at most `size` bytes with `read` if it arrives within the server's
/// `ASSENT_BODY_TIMEOUT` (plus a second per 64 KiB it may be, for uploads); 408 (and the connection
/// closed) otherwise, so a client sending slowly cannot hold its connection as long as it likes.
pub async fn in_time<T>(
    req: &HttpRequest,
    size: usize,
    read: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let base = req
        .app_data::<web::Data<super::AppState>>()
        .map_or(std::time::Duration::from_secs(30), |s| s.settings.body_timeout);
    let allowed = base + std::time::Duration::from_secs((size / (64 * 1024)) as u64);
    actix_web::rt::time::timeout(allowed, read).await.unwrap_or(Err(AppError::RequestTimeout))
}

async fn drain(payload: &mut web::Payload) {
    let mut seen = 0;
    while let Some(Ok(chunk)) = payload.next().await {
        seen += chunk.len();
        if seen > DRAIN_LIMIT {
            break;
        }
    }
}

/// Reads an `application/x-www-form-urlencoded` body into a map (last value of a repeated key
/// wins), for page routes.
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    locale: Locale,
) -> Result<std::collections::HashMap<String, String>, super::error::PageError> {
    let err = |e| super::error::PageError::new(e, locale);
    require_content_type(req, FORM_URLENCODED).map_err(err)?;
    let body = read_limited(req, payload).await.map_err(err)?;
    Ok(parse_urlencoded(&body, locale).map_err(err)?.into_iter().collect())
}

/// Refuses any content type but `expected` (a UTF-8 charset, or none, is allowed).
pub fn require_content_type(req: &HttpRequest, expected: &'static str) -> Result<(), AppError> {
    let raw = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut parts = raw.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset_ok = parts.all(|p| {
        let p = p.trim().to_ascii_lowercase();
        !p.starts_with("charset=") || matches!(p.trim_start_matches("charset=").trim_matches('"'), "utf-8" | "utf8")
    });
    if essence == expected && charset_ok { Ok(()) } else { Err(AppError::UnsupportedMediaType(expected)) }
}

/// Decodes `application/x-www-form-urlencoded` strictly: percent-escapes that do not decode to
/// valid UTF-8 are refused rather than silently replaced (the lenient decoders turn them into
/// U+FFFD, which would store something the person never typed).
pub fn parse_urlencoded(body: &[u8], locale: Locale) -> Result<Vec<(String, String)>, AppError> {
    let invalid = || AppError::BadRequest { code: ErrorCode::InvalidUtf8, detail: Strings::get(locale).invalid_utf8() };
    let text = std::str::from_utf8(body).map_err(|_| invalid())?;
    let decode = |raw: &str| -> Result<String, AppError> {
        let spaced = raw.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced).decode_utf8().map(|s| s.into_owned()).map_err(|_| invalid())
    };
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_percent_and_korean() {
        let pairs =
            parse_urlencoded(b"name=%EA%B9%80+%EB%AF%BC%EC%A7%80&purpose=service&purpose=a%2Bb", Locale::EN).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("name".into(), "김 민지".into()),
                ("purpose".into(), "service".into()),
                ("purpose".into(), "a+b".into())
            ]
        );
    }

    #[test]
    fn refuses_escapes_that_are_not_utf8() {
        assert!(matches!(
            parse_urlencoded(b"name=%FF%FE", Locale::EN),
            Err(AppError::BadRequest { code: ErrorCode::InvalidUtf8, .. })
        ));
        assert!(parse_urlencoded(&[b'a', b'=', 0xff], Locale::EN).is_err());
    }
}
