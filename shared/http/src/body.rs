//! Reading request bodies: under a limit enforced while reading (a client
//! cannot make the server buffer more than the limit by lying about or
//! omitting `Content-Length`), and parsing JSON bodies.

use core::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Reads `body` whole, refusing it with 413 as soon as the declared length
/// or the bytes received pass `limit`, and with 408 when it has not
/// arrived whole within `deadline` (a client trickling bytes would
/// otherwise hold a connection and its buffer for as long as it likes).
pub async fn read_limited<B>(
    headers: &HeaderMap,
    body: B,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let read = tokio::time::timeout(deadline, Limited::new(body, limit).collect());
    match read.await.map_err(|_| ApiError::BodyTimeout)? {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(ApiError::PayloadTooLarge { limit }),
        Err(_) => Err(ApiError::BodyUnreadable),
    }
}

/// Whether the request declares a JSON body (`application/json`, with any
/// parameters such as `charset=utf-8`).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses a JSON body: 415 unless it is declared as JSON, 400
/// `malformed_json` when it does not parse into `T`.
pub fn json<T: DeserializeOwned>(request: &http::Request<Bytes>) -> Result<T, ApiError> {
    if !is_json(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(request.body()).map_err(|_| ApiError::MalformedJson)
}
