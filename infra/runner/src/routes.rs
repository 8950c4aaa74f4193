//! THE ROUTING TABLE: every function's routes (from its crate under
//! `functions/`) merged into the one `/api` table the runner serves, so the
//! runner and the gateway answer the same paths with the same handlers.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::{Router, response};
use serde_json::json;

/// Every `/api` route, over `service`.
pub fn api<P: Ports>(service: &Shared<P>) -> Router {
    Router::new()
        .route(Method::GET, "/api/health", health)
        .merge(kluis_sender::routes::<P>(service))
        .merge(kluis_verify::routes::<P>(service))
        .merge(kluis_recipients::routes::<P>(service))
        .merge(kluis_files::routes::<P>(service))
        .merge(kluis_password::routes::<P>(service))
        .merge(kluis_transfer::routes::<P>(service))
        .merge(kluis_retrieve::routes::<P>(service))
        .merge(kluis_reply::routes::<P>(service))
        .merge(kluis_manage::routes::<P>(service))
}

/// `GET /api/health`: the runner is up.
async fn health(_: Request<Bytes>) -> Response<Bytes> {
    response::json(StatusCode::OK, &json!({ "status": "ok" }))
}
