//! The `verify` function, step 2 of the wizard: the mailed code → the
//! sender's session. A browser gets it as an HttpOnly, Secure,
//! SameSite=Strict cookie that no script can read; the CLI asks with
//! `"bearer": true` and gets the token in the body instead.
//!
//! Because no script reads the cookie, the page asks `GET /api/session`
//! whether a verification is still valid (and skips steps 1–2), and
//! `DELETE /api/session` ends it ("not you?"): the record is deleted, so
//! the token is dead everywhere, and the cookie is cleared.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::ports::Clock;
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::{SessionAnswer, SessionTransport, session_token, with_session};
use kluis_http::{ApiError, Router, response, session};

/// `POST`: the code → a session.
pub const VERIFY_PATH: &str = "/api/sender/verify";

/// `GET` (session): the live session described; `DELETE`: ended.
pub const SESSION_PATH: &str = "/api/session";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let (verify, info, end) = (Arc::clone(service), Arc::clone(service), Arc::clone(service));
    Router::new()
        .route(Method::POST, VERIFY_PATH, move |request| {
            verify_code::<P>(Arc::clone(&verify), request)
        })
        .route(Method::GET, SESSION_PATH, move |request| {
            session_info::<P>(Arc::clone(&info), request)
        })
        .route(Method::DELETE, SESSION_PATH, move |request| {
            end_session::<P>(Arc::clone(&end), request)
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

/// `GET /api/session` (cookie or bearer): 200 `{expires_at, sender,
/// reply_only}` for a live session, else 401 `session_invalid`.
pub async fn session_info<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        Ok(service.session_info(&session).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

/// `DELETE /api/session`: 204 and the cookie cleared, whatever the request
/// carries. A request without a session, or with one that is not a token
/// at all, has nothing to end server-side; "signed out" is true for it too.
pub async fn end_session<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    if let Ok(token) = session_token(&request)
        && let Err(error) = service.end_session(&token).await
    {
        return response::error(&ApiError::from(error));
    }
    let mut answer = response::no_content();
    answer
        .headers_mut()
        .insert(http::header::SET_COOKIE, session::clear_session_cookie());
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::SET_COOKIE;
    use kluis_core::service::sender::RequestCode;
    use kluis_core::service::testing::{MemoryPorts, code_in, walk};
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

    /// Calls `method /api/session` with the session as a cookie.
    async fn with_cookie(
        service: &Shared<MemoryPorts>,
        method: Method,
        cookie: Option<&str>,
    ) -> Response<Bytes> {
        let mut request = Request::builder().method(method).uri(SESSION_PATH);
        if let Some(token) = cookie {
            request = request.header(http::header::COOKIE, format!("kluis_session={token}"));
        }
        let request = request.body(Bytes::new()).expect("a request");
        kluis_http::Api::from(routes::<MemoryPorts>(service))
            .call(request)
            .await
    }

    #[tokio::test]
    async fn a_live_session_is_described_by_cookie_or_bearer_and_never_cached() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await.reveal();
        let routes = routes::<MemoryPorts>(&service);
        let answer = call(&routes, Method::GET, SESSION_PATH, Some(&session), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(answer.json["sender"]["email"], "jan@example.nl");
        assert_eq!(answer.json["reply_only"], false);
        assert!(answer.json["expires_at"].is_u64());
        assert!(answer.json.get("session_token").is_none(), "never the token");
        assert_eq!(answer.headers[http::header::CACHE_CONTROL], "no-store");
        let by_cookie = with_cookie(&service, Method::GET, Some(&session)).await;
        assert_eq!(by_cookie.status(), StatusCode::OK);
        for token in [
            None,
            Some("not-a-token"),
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ] {
            let answer = with_cookie(&service, Method::GET, token).await;
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{token:?}");
            let json: serde_json::Value = serde_json::from_slice(answer.body()).expect("JSON");
            assert_eq!(json["code"], "session_invalid");
        }
    }

    #[tokio::test]
    async fn a_replys_session_says_it_is_one() {
        let service = testing::service();
        walk::sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
        let (id, token) = walk::link_for(&service, "a@extern.example");
        let reply: kluis_core::service::reply::Reply = serde_json::from_value(json!({
            "request_id": testing::request_id().to_string(),
            "auth_key": serde_json::to_value(walk::RIGHT_KEY).expect("json"),
            "name": "Anna Partner",
        }))
        .expect("a reply");
        let started = service.reply(id, &token, reply).await.expect("a reply");
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::GET,
            SESSION_PATH,
            Some(&started.session.session_token),
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(answer.json["reply_only"], true);
        assert_eq!(answer.json["sender"]["email"], "a@extern.example");
    }

    #[tokio::test]
    async fn ending_a_session_deletes_it_clears_the_cookie_and_may_be_repeated() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await.reveal();
        let ended = with_cookie(&service, Method::DELETE, Some(&session)).await;
        assert_eq!(ended.status(), StatusCode::NO_CONTENT);
        assert!(ended.body().is_empty(), "no body");
        assert!(ended.headers().get(http::header::CONTENT_TYPE).is_none());
        assert_eq!(
            ended.headers()[http::header::SET_COOKIE],
            "kluis_session=; HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age=0"
        );
        let routes = routes::<MemoryPorts>(&service);
        let after = call(&routes, Method::GET, SESSION_PATH, Some(&session), None).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.json);
        let refused = service
            .create_draft(
                &kluis_core::ids::Token::parse(&session, kluis_core::error::Field::SessionToken)
                    .expect("a token"),
                walk::draft_request(&["a@extern.example"], false),
            )
            .await;
        assert_eq!(refused.expect_err("ended").code(), "session_invalid");
        for token in [Some(session.as_str()), None, Some("not-a-token")] {
            let again = with_cookie(&service, Method::DELETE, token).await;
            assert_eq!(again.status(), StatusCode::NO_CONTENT, "{token:?}");
            assert!(again.headers().contains_key(http::header::SET_COOKIE));
        }
        let bearer = testing::session(&service, "jan@example.nl").await.reveal();
        let ended = call(&routes, Method::DELETE, SESSION_PATH, Some(&bearer), None).await;
        assert_eq!(ended.status, StatusCode::NO_CONTENT);
        let after = call(&routes, Method::GET, SESSION_PATH, Some(&bearer), None).await;
        assert_eq!(
            after.status,
            StatusCode::UNAUTHORIZED,
            "a bearer session ends too"
        );
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
