//! The `verify` function, step 2 of the wizard: the mailed code → the
//! sender's session. A browser gets it as an HttpOnly, Secure,
//! SameSite=Strict cookie that no script can read; the CLI asks with
//! `"bearer": true` and gets the token in the body instead.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::ports::Clock;
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::{SessionAnswer, SessionTransport, with_session};
use kluis_http::{ApiError, Router, response};

/// `POST`: the code → a session.
pub const VERIFY_PATH: &str = "/api/sender/verify";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let service = Arc::clone(service);
    Router::new().route(Method::POST, VERIFY_PATH, move |request| {
        verify_code::<P>(Arc::clone(&service), request)
    })
}

/// `POST /api/sender/verify`: 200 `{expires_at, sender}` with the cookie,
/// or with `session_token` in the body for a bearer client.
pub async fn verify_code<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome: Result<_, ApiError> = async {
        let (transport, code) = SessionTransport::split(&request)?;
        Ok((transport, service.verify_code(code).await?))
    }
    .await;
    match outcome {
        Ok((transport, opened)) => {
            let answer = SessionAnswer {
                session_token: transport.bearer.then_some(opened.session_token.as_str()),
                expires_at: opened.expires_at,
                sender: &opened.sender,
            };
            let now = service.clock().now();
            with_session(
                &answer,
                transport,
                &opened.session_token,
                opened.expires_at,
                now,
                StatusCode::OK,
            )
        }
        Err(error) => response::error(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::SET_COOKIE;
    use kluis_core::service::sender::RequestCode;
    use kluis_core::service::testing::{MemoryPorts, code_in};
    use kluis_function::testing::{self, call};
    use serde_json::json;

    /// Asks a code through the core; returns the challenge id and the code.
    async fn challenge(service: &Shared<MemoryPorts>) -> (String, String) {
        let request: RequestCode = serde_json::from_value(json!({
            "request_id": "AAAAAAAAAAAAAAAAAAAAAA",
            "name": "Jan de Vries",
            "email": "jan@example.nl",
            "language": "en",
        }))
        .expect("a valid request");
        let requested = service.request_code("test", request).await.expect("a code");
        let mail = service.mailer().sent_to("jan@example.nl").pop().expect("a mail");
        let code = code_in(&mail).expect("a code in the mail");
        (requested.challenge_id.to_string(), code.reveal().to_owned())
    }

    #[tokio::test]
    async fn the_right_code_sets_an_http_only_cookie_and_keeps_the_token_out_of_the_body() {
        let service = testing::service();
        let (challenge_id, code) = challenge(&service).await;
        let body = json!({ "challenge_id": challenge_id, "code": code });
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            VERIFY_PATH,
            None,
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        let cookie = answer
            .headers
            .get(SET_COOKIE)
            .expect("a cookie")
            .to_str()
            .expect("ascii");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Strict")
        );
        assert!(answer.json.get("session_token").is_none(), "{}", answer.json);
        assert_eq!(answer.json["sender"]["email"], "jan@example.nl");
    }

    #[tokio::test]
    async fn a_bearer_client_gets_the_token_in_the_body_and_no_cookie() {
        let service = testing::service();
        let (challenge_id, code) = challenge(&service).await;
        let body = json!({ "challenge_id": challenge_id, "code": code, "bearer": true });
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            VERIFY_PATH,
            None,
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert!(answer.headers.get(SET_COOKIE).is_none());
        assert!(
            answer.json["session_token"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
    }

    #[tokio::test]
    async fn a_wrong_code_is_401_without_a_cookie() {
        let service = testing::service();
        let (challenge_id, code) = challenge(&service).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let body = json!({ "challenge_id": challenge_id, "code": wrong });
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            VERIFY_PATH,
            None,
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.json);
        assert!(answer.headers.get(SET_COOKIE).is_none());
    }

    #[tokio::test]
    async fn an_unknown_field_beside_the_code_is_refused_and_uses_no_attempt() {
        let service = testing::service();
        let (challenge_id, code) = challenge(&service).await;
        let routes = routes::<MemoryPorts>(&service);
        let body = json!({ "challenge_id": challenge_id, "code": code, "bearer": true, "remember": 1 });
        let answer = call(&routes, Method::POST, VERIFY_PATH, None, Some(body)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.json);
        assert_eq!(answer.json["code"], "malformed_json");
        let body = json!({ "challenge_id": challenge_id, "code": code, "bearer": true });
        let answer = call(&routes, Method::POST, VERIFY_PATH, None, Some(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    }
}
