//! THE ROUTING TABLE: where every function's handler is mounted under
//! `/api/...`. Each function crate under `functions/` exposes its handlers;
//! mount them here with the template their Lambda route uses, so the
//! runner and the gateway answer the same paths.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_http::{Router, response};
use serde_json::json;

use crate::data::Deps;

/// Every `/api` route of the runner.
pub fn api(deps: &Deps) -> Router {
    // The handlers will take clones of these adapters.
    let _ = deps;
    Router::new().route(Method::GET, "/api/health", health)
    // Function handlers go here once `kluis_core::service` and the
    // `functions/` crates land, e.g.:
    //   .route(Method::POST, "/api/sender/code", sender::request_code(svc.clone()))
    //   .route(Method::POST, "/api/sender/verify", verify::handler(svc.clone()))
}

/// `GET /api/health`: the runner is up.
async fn health(_: Request<Bytes>) -> Response<Bytes> {
    response::json(StatusCode::OK, &json!({ "status": "ok" }))
}
