//! Building answers: JSON bodies, the `{ "code", "message" }` error body,
//! and the security headers every answer carries.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde::Serialize;

use kluis_core::error_body::ErrorBody;

use crate::error::ApiError;

/// The pages load only their own scripts, styles and WebAssembly, and
/// nothing may frame them: the page holds the password and the keys.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// `application/json`, the type of every API answer.
pub const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Adds the headers every answer carries, keeping any the handler set
/// itself (a page may need a looser policy than an API answer).
pub fn add_security_headers(headers: &mut HeaderMap) {
    let defaults: [(HeaderName, &'static str); 3] = [
        (http::header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (http::header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
}

/// Adds `Cache-Control: no-store` unless the handler chose otherwise: API
/// answers hold session state and wrapped keys that no cache may keep.
pub fn add_no_store(headers: &mut HeaderMap) {
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// `value` as a JSON answer with `status`. A value that cannot be
/// serialised (never for the API's own types) is a 500 `internal`.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Bytes> {
    match serde_json::to_vec(value) {
        Ok(body) => with_type(status, Bytes::from(body)),
        Err(_) => error(&ApiError::Internal),
    }
}

/// An answer without a body (204): nothing to say but that it was done.
pub fn no_content() -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// `error` as `{ "code", "message" }` (plus `field` when it names one) with
/// its status. Port failures are logged here, once, by kind only.
pub fn error(error: &ApiError) -> Response<Bytes> {
    let failure: Option<&dyn std::error::Error> = match error {
        ApiError::Port(port) => Some(port),
        ApiError::Service(service) if service.domain().is_none() => Some(service),
        _ => None,
    };
    if let Some(failure) = failure {
        tracing::error!(error = %crate::log::chain(failure), "a request failed on the operator's side");
    }
    let body = ErrorBody {
        field: error.field().map(str::to_owned),
        attempts_left: error.attempts_left(),
        reason: error.gone_reason().map(str::to_owned),
        ..ErrorBody::new(error.code(), error.to_string())
    };
    let mut response = with_type(error.status(), Bytes::from(body.to_json()));
    if matches!(error, ApiError::MethodNotAllowed) {
        // The router sets `Allow`; a bare refusal still says nothing is.
        response
            .headers_mut()
            .entry(http::header::ALLOW)
            .or_insert(HeaderValue::from_static(""));
    }
    response
}

/// A result of a handler as an answer: `Ok` as JSON with `status`, `Err` as
/// its refusal.
pub fn result<T: Serialize>(status: StatusCode, outcome: Result<T, ApiError>) -> Response<Bytes> {
    match outcome {
        Ok(value) => json(status, &value),
        Err(e) => error(&e),
    }
}

/// An answer with no body, and so no `Content-Type` (204 for a `DELETE`
/// that succeeded). The headers every answer carries are added as for any.
pub fn empty(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

/// A result of a handler that answers nothing on success: `Ok` as an
/// [`empty`] answer with `status`, `Err` as its refusal.
pub fn empty_result(status: StatusCode, outcome: Result<(), ApiError>) -> Response<Bytes> {
    match outcome {
        Ok(()) => empty(status),
        Err(e) => error(&e),
    }
}

fn with_type(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, JSON);
    response
}
