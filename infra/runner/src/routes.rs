//! THE ROUTING TABLE: where every function's handler is mounted under
//! `/api/...`, with the template its gateway route uses, so the runner and
//! the gateway answer the same paths. Today the handlers come from
//! [`crate::handlers`]; when the `functions/` crates land, mount theirs here.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_http::{Router, response};
use serde_json::json;

use crate::handlers::{self, Svc};

/// Mounts `handler` with the service captured.
macro_rules! with_svc {
    ($svc:expr, $handler:path) => {{
        let svc: Svc = Arc::clone(&$svc);
        move |request| $handler(Arc::clone(&svc), request)
    }};
}

/// Every `/api` route of the runner.
pub fn api(svc: &Svc) -> Router {
    Router::new()
        .route(Method::GET, "/api/health", health)
        // sender: details → code mail; verify: code → session
        .route(
            Method::POST,
            "/api/sender/code",
            with_svc!(svc, handlers::request_code),
        )
        .route(
            Method::POST,
            "/api/sender/verify",
            with_svc!(svc, handlers::verify_code),
        )
        // recipients: policy → draft; files; password; transfer
        .route(
            Method::POST,
            "/api/transfers",
            with_svc!(svc, handlers::create_draft),
        )
        .route(
            Method::POST,
            "/api/transfers/{id}/files",
            with_svc!(svc, handlers::add_file),
        )
        .route(
            Method::POST,
            "/api/transfers/{id}/files/{file}/complete",
            with_svc!(svc, handlers::complete_file),
        )
        .route(
            Method::PUT,
            "/api/transfers/{id}/key",
            with_svc!(svc, handlers::set_key),
        )
        .route(
            Method::POST,
            "/api/transfers/{id}/send",
            with_svc!(svc, handlers::send),
        )
        // retrieve and reply (bearer: the link's retrieval token)
        .route(
            Method::GET,
            "/api/retrieve/{id}",
            with_svc!(svc, handlers::public_info),
        )
        .route(
            Method::POST,
            "/api/retrieve/{id}/unlock",
            with_svc!(svc, handlers::unlock),
        )
        .route(
            Method::POST,
            "/api/retrieve/{id}/downloads",
            with_svc!(svc, handlers::record_download),
        )
        .route(
            Method::POST,
            "/api/retrieve/{id}/reply",
            with_svc!(svc, handlers::reply),
        )
        // manage (bearer: the manage token)
        .route(Method::GET, "/api/manage/{id}", with_svc!(svc, handlers::status))
        .route(
            Method::POST,
            "/api/manage/{id}/revoke",
            with_svc!(svc, handlers::revoke),
        )
}

/// `GET /api/health`: the runner is up.
async fn health(_: Request<Bytes>) -> Response<Bytes> {
    response::json(StatusCode::OK, &json!({ "status": "ok" }))
}
