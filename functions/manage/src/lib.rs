//! The `manage` function: the sender's status page (per recipient and
//! file, who downloaded when; the transfer's state and expiry) and revoke,
//! both with the manage token of the sender's summary mail (a bearer token
//! from the link's fragment).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::error::Field;
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::{bearer, transfer_id};
use kluis_http::{Router, response};

/// `GET` (manage token): the status page's data.
pub const STATUS_PATH: &str = "/api/manage/{id}";
/// `POST` (manage token): revoke.
pub const REVOKE_PATH: &str = "/api/manage/{id}/revoke";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let (showing, revoking) = (Arc::clone(service), Arc::clone(service));
    Router::new()
        .route(Method::GET, STATUS_PATH, move |request| {
            status::<P>(Arc::clone(&showing), request)
        })
        .route(Method::POST, REVOKE_PATH, move |request| {
            revoke::<P>(Arc::clone(&revoking), request)
        })
}

/// `GET /api/manage/{id}`: 200 with the state, expiry, recipients and their downloads.
pub async fn status<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::ManageToken)?;
        Ok(service.status(transfer_id(&request)?, &token).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

/// `POST /api/manage/{id}/revoke`: 200 `{transfer_id, ...}`; the links stop working.
pub async fn revoke<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::ManageToken)?;
        Ok(service.revoke(transfer_id(&request)?, &token).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kluis_core::service::testing::MemoryPorts;
    use kluis_core::service::testing::walk;
    use kluis_function::testing::{self, call};

    #[tokio::test]
    async fn the_sender_sees_the_status_and_revokes_once() {
        let service = testing::service();
        let (_, transfer) =
            walk::sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
        let (_, manage) = walk::link_for(&service, "jan@example.nl");
        let routes = routes::<MemoryPorts>(&service);
        let base = format!("/api/manage/{transfer}");
        let shown = call(&routes, Method::GET, &base, Some(&manage.reveal()), None).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.json);
        let revoked = call(
            &routes,
            Method::POST,
            &format!("{base}/revoke"),
            Some(&manage.reveal()),
            None,
        )
        .await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.json);
        let again = call(
            &routes,
            Method::POST,
            &format!("{base}/revoke"),
            Some(&manage.reveal()),
            None,
        )
        .await;
        assert!(again.status.is_client_error(), "{}", again.json);
    }

    #[tokio::test]
    async fn a_recipient_token_cannot_manage() {
        let service = testing::service();
        let (_, transfer) =
            walk::sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
        let (_, retrieval) = walk::link_for(&service, "a@extern.example");
        let path = format!("/api/manage/{transfer}/revoke");
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&retrieval.reveal()),
            None,
        )
        .await;
        assert!(answer.status.is_client_error(), "{}", answer.json);
        assert!(walk::link_for(&service, "a@extern.example").0 == transfer);
    }
}
