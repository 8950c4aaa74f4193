//! The `recipients` function, step 3 of the wizard: the recipients and the
//! transfer's options, checked against the policy (every transfer needs an
//! internal party; limits on recipients and retention) → a draft transfer.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::session_token;
use kluis_http::{Router, body, response};

/// `POST` (session): recipients and options → a draft.
pub const TRANSFERS_PATH: &str = "/api/transfers";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let service = Arc::clone(service);
    Router::new().route(Method::POST, TRANSFERS_PATH, move |request| {
        create_draft::<P>(Arc::clone(&service), request)
    })
}

/// `POST /api/transfers`: 201 `{transfer_id, expires_at, retention_days}`.
pub async fn create_draft<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        Ok(service.create_draft(&session, body::json(&request)?).await?)
    };
    response::result(StatusCode::CREATED, outcome.await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kluis_core::service::testing::MemoryPorts;
    use kluis_function::testing::{self, call, request_id};
    use serde_json::json;

    fn draft(recipients: &[&str]) -> serde_json::Value {
        json!({
            "request_id": request_id().to_string(),
            "recipients": recipients,
            "language": "en",
            "download_receipts": true,
        })
    }

    #[tokio::test]
    async fn staff_sending_to_a_partner_gets_a_draft() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await.reveal();
        let body = draft(&["partner@extern.example"]);
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            TRANSFERS_PATH,
            Some(&session),
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
        assert!(answer.json["transfer_id"].is_string());
        assert_eq!(answer.json["retention_days"], 7);
    }

    #[tokio::test]
    async fn a_stranger_sending_to_a_stranger_is_refused_by_policy() {
        let service = testing::service();
        let session = testing::session(&service, "someone@elsewhere.example")
            .await
            .reveal();
        let body = draft(&["other@extern.example"]);
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            TRANSFERS_PATH,
            Some(&session),
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(answer.json["code"], "no_internal_party");
    }

    #[tokio::test]
    async fn without_a_session_it_is_401() {
        let service = testing::service();
        let body = draft(&["partner@extern.example"]);
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            TRANSFERS_PATH,
            None,
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        let forged = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            TRANSFERS_PATH,
            Some("AAAA"),
            Some(draft(&[])),
        )
        .await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    }
}
