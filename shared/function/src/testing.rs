//! Test support for the functions' handlers: the whole service in memory
//! (`kluis_core::service::testing`), a verified sender's session, and one
//! call through a function's routes the way the gateway makes it. Not for
//! production.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use kluis_core::ids::Token;
use kluis_core::service::testing::{MemoryPorts, walk};
use kluis_http::{Api, Router};

pub use kluis_core::service::testing::walk::request_id;

use crate::Shared;

/// A fresh in-memory service at the walk's fixed time.
pub fn service() -> Shared<MemoryPorts> {
    Arc::new(walk::service())
}

/// A session of a verified sender `email`, through the core directly.
pub async fn session(service: &Shared<MemoryPorts>, email: &str) -> Token {
    walk::sign_in(service, email).await
}

/// One answer: its status, the JSON body (`Null` when empty) and the raw answer.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The body as JSON.
    pub json: serde_json::Value,
    /// The headers.
    pub headers: http::HeaderMap,
}

/// Calls `routes` with `method path`, a bearer token if given, and a JSON
/// body if given, through [`Api`] (body limit, panic containment, headers).
pub async fn call(
    routes: &Router,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<serde_json::Value>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            request = request.header(CONTENT_TYPE, "application/json");
            Bytes::from(json.to_string())
        }
        None => Bytes::new(),
    };
    let request = request.body(body).expect("a valid request");
    let answer = Api::from(routes.clone()).call(request).await;
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.into_body();
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("every answer is JSON")
    };
    Answer {
        status,
        json,
        headers,
    }
}
