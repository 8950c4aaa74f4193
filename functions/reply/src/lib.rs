//! The `reply` function: a recipient who can unlock a transfer (they prove
//! it with the auth key) starts a transfer back to its sender without a new
//! verification: the answer is a reply draft and a session for the upload,
//! key and send steps, with the same format and limits as any transfer. A
//! browser gets the session as the HttpOnly cookie, the CLI
//! (`"bearer": true`) in the body.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::error::Field;
use kluis_core::ids::TransferId;
use kluis_core::ports::Clock;
use kluis_core::service::Ports;
use kluis_core::timestamp::Timestamp;
use kluis_function::Shared;
use kluis_http::extract::{SessionAnswer, SessionTransport, bearer, transfer_id, with_session};
use kluis_http::{ApiError, Router, response};
use serde::Serialize;

/// `POST` (retrieval token): start a reply.
pub const REPLY_PATH: &str = "/api/retrieve/{id}/reply";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let service = Arc::clone(service);
    Router::new().route(Method::POST, REPLY_PATH, move |request| {
        reply::<P>(Arc::clone(&service), request)
    })
}

/// The answer: the reply draft and its session as the client asked for it.
#[derive(Debug, Serialize)]
struct ReplyAnswer<'a, S: Serialize> {
    transfer_id: TransferId,
    expires_at: Timestamp,
    session: SessionAnswer<'a, S>,
}

/// `POST /api/retrieve/{id}/reply`: 201 `{transfer_id, expires_at, session}`.
pub async fn reply<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome: Result<_, ApiError> = async {
        let token = bearer(&request, Field::RetrievalToken)?;
        let id = transfer_id(&request)?;
        let (transport, answer) = SessionTransport::split(&request)?;
        Ok((transport, service.reply(id, &token, answer).await?))
    }
    .await;
    match outcome {
        Ok((transport, started)) => {
            let session = &started.session;
            let answer = ReplyAnswer {
                transfer_id: started.transfer_id,
                expires_at: started.expires_at,
                session: SessionAnswer {
                    session_token: transport.bearer.then_some(session.session_token.as_str()),
                    expires_at: session.expires_at,
                    sender: &session.sender,
                },
            };
            let now = service.clock().now();
            let token = &session.session_token;
            with_session(
                &answer,
                transport,
                token,
                session.expires_at,
                now,
                StatusCode::CREATED,
            )
        }
        Err(error) => response::error(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::SET_COOKIE;
    use kluis_core::service::testing::MemoryPorts;
    use kluis_core::service::testing::walk;
    use kluis_function::testing::{self, call, request_id};
    use serde_json::json;

    fn body(auth: &kluis_core::envelope::AuthKey, bearer: bool) -> serde_json::Value {
        json!({
            "request_id": request_id().to_string(),
            "auth_key": serde_json::to_value(auth).expect("json"),
            "name": "Anna Partner",
            "bearer": bearer,
        })
    }

    #[tokio::test]
    async fn a_recipient_with_the_key_starts_a_reply_with_a_session() {
        let service = testing::service();
        walk::sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
        let (id, token) = walk::link_for(&service, "a@extern.example");
        let path = format!("/api/retrieve/{id}/reply");
        let routes = routes::<MemoryPorts>(&service);
        let cookie = call(
            &routes,
            Method::POST,
            &path,
            Some(&token.reveal()),
            Some(body(&walk::RIGHT_KEY, false)),
        )
        .await;
        assert_eq!(cookie.status, StatusCode::CREATED, "{}", cookie.json);
        assert!(cookie.headers.get(SET_COOKIE).is_some());
        assert!(cookie.json["session"].get("session_token").is_none());
        assert_eq!(cookie.json["session"]["sender"]["email"], "a@extern.example");
        let cli = call(
            &routes,
            Method::POST,
            &path,
            Some(&token.reveal()),
            Some(body(&walk::RIGHT_KEY, true)),
        )
        .await;
        assert_eq!(cli.status, StatusCode::CREATED, "{}", cli.json);
        assert!(cli.json["session"]["session_token"].is_string());
    }

    #[tokio::test]
    async fn a_wrong_key_starts_no_reply() {
        let service = testing::service();
        walk::sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
        let (id, token) = walk::link_for(&service, "a@extern.example");
        let path = format!("/api/retrieve/{id}/reply");
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&token.reveal()),
            Some(body(&walk::WRONG_KEY, true)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.json);
        assert!(answer.headers.get(SET_COOKIE).is_none());
    }
}
