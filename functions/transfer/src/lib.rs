//! The `transfer` function, step 6 of the wizard: seal the keyed transfer
//! exactly once (a retried or racing send sends no second set of mails),
//! notify every recipient with their own link, summarise to the sender.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::{session_token, transfer_id};
use kluis_http::{Router, response};

/// `POST` (session): send.
pub const SEND_PATH: &str = "/api/transfers/{id}/send";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let service = Arc::clone(service);
    Router::new().route(Method::POST, SEND_PATH, move |request| {
        send::<P>(Arc::clone(&service), request)
    })
}

/// `POST /api/transfers/{id}/send`: 200 `{transfer_id, expires_at, sent_now, undelivered, summary_delivered}`.
pub async fn send<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        Ok(service.send(&session, transfer_id(&request)?).await?)
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
    async fn sending_twice_mails_each_recipient_once() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(
            &service,
            &session,
            &["a@extern.example", "b@extern.example"],
            false,
        )
        .await;
        walk::upload(&service, &session, transfer, 1000).await;
        service
            .set_key(&session, transfer, walk::key_request(&walk::RIGHT_KEY))
            .await
            .expect("keyed");
        let path = format!("/api/transfers/{transfer}/send");
        let first = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session.reveal()),
            None,
        )
        .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.json);
        assert_eq!(first.json["sent_now"], true);
        let again = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session.reveal()),
            None,
        )
        .await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.json);
        assert_eq!(again.json["sent_now"], false);
        assert_eq!(service.mailer().sent_to("a@extern.example").len(), 1);
        assert_eq!(service.mailer().sent_to("b@extern.example").len(), 1);
    }

    #[tokio::test]
    async fn a_transfer_without_a_key_cannot_be_sent() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &session, &["a@extern.example"], false).await;
        let path = format!("/api/transfers/{transfer}/send");
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session.reveal()),
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.json);
        assert!(service.mailer().sent_to("a@extern.example").is_empty());
    }
}
