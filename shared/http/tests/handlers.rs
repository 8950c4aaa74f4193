//! Handler-level tests: real `http::Request`s through a [`Router`] in an
//! [`Api`], asserting status, JSON and headers.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use kluis_core::error::{DomainError, Field};
use kluis_core::ports::PortError;
use kluis_http::{Api, ApiError, PathParams, Router, body, response};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Greeting {
    name: String,
}

async fn health(_: Request<Bytes>) -> Response<Bytes> {
    response::json(StatusCode::OK, &json!({ "status": "ok" }))
}

async fn greet(request: Request<Bytes>) -> Response<Bytes> {
    let outcome = body::json::<Greeting>(&request).map(|g| json!({ "hello": g.name }));
    response::result(StatusCode::CREATED, outcome)
}

async fn transfer(request: Request<Bytes>) -> Response<Bytes> {
    let id = request
        .extensions()
        .get::<PathParams>()
        .and_then(|p| p.get("id"))
        .unwrap_or_default()
        .to_owned();
    match id.as_str() {
        "locked" => response::error(&DomainError::TransferLocked.into()),
        "nameless" => response::error(
            &DomainError::Missing {
                field: Field::SenderName,
            }
            .into(),
        ),
        "broken" => response::error(&ApiError::Port(PortError::backend(std::io::Error::other(
            "disk on fire",
        )))),
        _ => response::json(StatusCode::OK, &json!({ "id": id })),
    }
}

async fn forget(request: Request<Bytes>) -> Response<Bytes> {
    let id = request
        .extensions()
        .get::<PathParams>()
        .and_then(|p| p.get("id"))
        .unwrap_or_default()
        .to_owned();
    let outcome = match id.as_str() {
        "locked" => Err(DomainError::TransferLocked.into()),
        _ => Ok(()),
    };
    response::empty_result(StatusCode::NO_CONTENT, outcome)
}

async fn explode(_: Request<Bytes>) -> Response<Bytes> {
    panic!("secret detail that must not reach the client")
}

fn api() -> Api {
    Router::new()
        .route(Method::GET, "/api/health", health)
        .route(Method::POST, "/api/greet", greet)
        .route(Method::GET, "/api/transfers/{id}", transfer)
        .route(Method::DELETE, "/api/transfers/{id}", transfer)
        .route(Method::GET, "/api/explode", explode)
        .route(Method::DELETE, "/api/memories/{id}", forget)
        .into_api()
        .body_limit(64)
}

fn request(method: Method, uri: &str, content_type: Option<&str>, body: &str) -> Request<Bytes> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(t) = content_type {
        builder = builder.header("content-type", t);
    }
    builder
        .body(Bytes::from(body.to_owned()))
        .expect("a valid request")
}

async fn send(request: Request<Bytes>) -> (StatusCode, Value, http::HeaderMap) {
    let response = api().call(request).await;
    let (parts, body) = response.into_parts();
    let value = serde_json::from_slice(&body).expect("every answer is JSON");
    (parts.status, value, parts.headers)
}

#[tokio::test]
async fn health_answers_ok_with_security_headers() {
    let (status, body, headers) = send(request(Method::GET, "/api/health", None, "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "status": "ok" }));
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn an_empty_answer_has_no_body_and_no_type_but_the_usual_headers() {
    let answer = api()
        .call(request(Method::DELETE, "/api/memories/old", None, ""))
        .await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert!(answer.body().is_empty());
    let headers = answer.headers();
    assert!(!headers.contains_key("content-type"), "{headers:?}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (status, body, _) = send(request(Method::DELETE, "/api/memories/locked", None, "")).await;
    assert_eq!(status, StatusCode::LOCKED);
    assert_eq!(body["code"], "transfer_locked", "a refusal is JSON as ever");
}

#[tokio::test]
async fn an_unknown_route_is_404_not_found() {
    let (status, body, headers) = send(request(Method::GET, "/api/nothing", None, "")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn a_known_route_with_another_method_is_405_with_allow() {
    let (status, body, headers) = send(request(Method::PUT, "/api/transfers/abc", None, "")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], "method_not_allowed");
    assert_eq!(headers["allow"], "GET, DELETE");
}

#[tokio::test]
async fn json_is_parsed_and_answered() {
    let r = request(
        Method::POST,
        "/api/greet",
        Some("application/json; charset=utf-8"),
        r#"{"name":"Ada"}"#,
    );
    let (status, body, _) = send(r).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body, json!({ "hello": "Ada" }));
}

#[tokio::test]
async fn a_body_not_declared_as_json_is_415() {
    let r = request(
        Method::POST,
        "/api/greet",
        Some("text/plain"),
        r#"{"name":"Ada"}"#,
    );
    let (status, body, _) = send(r).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["code"], "unsupported_media_type");
    let (status, _, _) = send(request(Method::POST, "/api/greet", None, "{}")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn malformed_json_is_400_and_does_not_echo_the_input() {
    for text in [r#"{"name":"#, r#"{"name": 5}"#, "[]", r#"{"nom":"secret-input"}"#] {
        let (status, body, _) = send(request(
            Method::POST,
            "/api/greet",
            Some("application/json"),
            text,
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert_eq!(body["code"], "malformed_json");
        assert!(!body.to_string().contains("secret-input"));
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let big = "x".repeat(65);
    let (status, body, _) = send(request(
        Method::POST,
        "/api/greet",
        Some("application/json"),
        &big,
    ))
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn a_streamed_body_is_refused_once_it_passes_the_limit() {
    // No Content-Length: the limit is enforced on the bytes as they come.
    let streamed = Request::post("/api/greet")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(vec![b' '; 65])))
        .expect("a valid request");
    let response = api().call_body(streamed).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A declared length over the limit is refused before reading anything.
    let declared = Request::post("/api/greet")
        .header("content-type", "application/json")
        .header("content-length", "1000000")
        .body(Full::new(Bytes::from_static(b"{}")))
        .expect("a valid request");
    assert_eq!(
        api().call_body(declared).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Under the limit the streamed body reaches the handler.
    let fine = Request::post("/api/greet")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"name":"Bo"}"#)))
        .expect("a valid request");
    assert_eq!(api().call_body(fine).await.status(), StatusCode::CREATED);
}

/// A body that sends `{` and then nothing, never ending.
struct Stalled {
    sent: bool,
}

impl hyper::body::Body for Stalled {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.sent {
            return std::task::Poll::Pending;
        }
        self.sent = true;
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from_static(b"{")))))
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_past_the_deadline_is_cut_off_with_408() {
    let request = Request::post("/api/greet")
        .header("content-type", "application/json")
        .body(Stalled { sent: false })
        .expect("a valid request");
    let api = api().body_deadline(std::time::Duration::from_secs(5));
    let response = api.call_body(request).await;
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let body: Value = serde_json::from_slice(response.body()).expect("JSON");
    assert_eq!(body["code"], "body_timeout");
    assert!(response.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn domain_errors_keep_the_cores_status_and_code() {
    let (status, body, _) = send(request(Method::GET, "/api/transfers/locked", None, "")).await;
    assert_eq!(status, StatusCode::LOCKED);
    assert_eq!(body["code"], "transfer_locked");
    assert!(body["message"].is_string());
    let (status, body, _) = send(request(Method::GET, "/api/transfers/nameless", None, "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "code": "field_missing", "message": "sender_name is required", "field": "sender_name" })
    );
}

#[tokio::test]
async fn path_parameters_reach_the_handler() {
    let (status, body, _) = send(request(Method::DELETE, "/api/transfers/AbC_-1", None, "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "id": "AbC_-1" }));
}

#[tokio::test]
async fn a_failed_backend_is_503_backend_unavailable_without_details() {
    // As the core maps a use case's failed port: one status in every layer.
    let (status, body, _) = send(request(Method::GET, "/api/transfers/broken", None, "")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({ "code": "backend_unavailable", "message": "a backend is unavailable; try again" })
    );
}

#[tokio::test]
async fn a_panicking_handler_is_500_internal_without_details() {
    let (status, body, headers) = send(request(Method::GET, "/api/explode", None, "")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({ "code": "internal", "message": "internal error" }));
    assert_eq!(headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_plain_async_fn_is_an_api() {
    let response = Api::new(health)
        .call(request(Method::GET, "/anything", None, ""))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn service_errors_map_to_their_status_and_code() {
    use kluis_core::service::ServiceError;
    let cases = [
        (ServiceError::Busy, 503, "busy"),
        (
            ServiceError::Port(PortError::backend(std::io::Error::other("x"))),
            503,
            "backend_unavailable",
        ),
        (ServiceError::Port(PortError::NotFound), 500, "internal"),
        (
            ServiceError::Domain(DomainError::CodeExpired),
            410,
            "code_expired",
        ),
    ];
    for (error, status, code) in cases {
        let answer = response::error(&ApiError::Service(error));
        assert_eq!(answer.status().as_u16(), status);
        let body: Value = serde_json::from_slice(answer.body()).expect("JSON");
        assert_eq!(body["code"], code);
        assert!(!body.to_string().contains("\"x\""));
    }
}
