//! The plain server on a port-0 loopback socket, spoken to with `ureq`.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_http::{Router, body, response, server};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

async fn echo(request: Request<Bytes>) -> Response<Bytes> {
    let outcome = body::json::<Value>(&request);
    response::result(StatusCode::OK, outcome)
}

async fn health(_: Request<Bytes>) -> Response<Bytes> {
    response::json(StatusCode::OK, &json!({ "status": "ok" }))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plain_server_answers_over_loopback_and_stops_on_shutdown() {
    let api = Router::new()
        .route(Method::GET, "/api/health", health)
        .route(Method::POST, "/api/echo", echo)
        .into_api()
        .body_limit(1024);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, server::buffered(api), async {
        let _ = stopped.await;
    }));

    let client = tokio::task::spawn_blocking(move || {
        let agent = agent();
        let mut health = agent.get(format!("{base}/api/health")).call().expect("an answer");
        assert_eq!(health.status(), 200);
        assert_eq!(health.headers()["cache-control"], "no-store");
        let text = health.body_mut().read_to_string().expect("a body");
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("JSON"),
            json!({ "status": "ok" })
        );

        let mut echoed = agent
            .post(format!("{base}/api/echo"))
            .header("content-type", "application/json")
            .send(r#"{"a":[1,2]}"#)
            .expect("an answer");
        assert_eq!(echoed.status(), 200);
        assert_eq!(
            echoed.body_mut().read_to_string().expect("a body"),
            r#"{"a":[1,2]}"#
        );

        let big = vec![b'x'; 4096];
        let mut refused = agent
            .post(format!("{base}/api/echo"))
            .header("content-type", "application/json")
            .send(&big[..])
            .expect("an answer");
        assert_eq!(refused.status(), 413);
        assert!(
            refused
                .body_mut()
                .read_to_string()
                .expect("a body")
                .contains("payload_too_large")
        );

        let missing = agent.get(format!("{base}/nowhere")).call().expect("an answer");
        assert_eq!(missing.status(), 404);
    });
    client.await.expect("the client checks passed");
    stop.send(()).expect("the server is running");
    tokio::time::timeout(std::time::Duration::from_secs(5), server)
        .await
        .expect("the server stops after shutdown")
        .expect("the server task did not panic");
}

/// Sends `request` as raw bytes and reads until the server closes.
fn raw(address: std::net::SocketAddr, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("a timeout");
    // A server that answers before reading everything may reset the rest.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// What the plain server answers to requests that break HTTP/1 framing,
/// spoken over a raw socket. A target longer than the API reads gets the
/// JSON contract (414 `uri_too_long`, security headers); what hyper refuses
/// while parsing the request head (a target over 65 534 bytes, a malformed
/// or doubled `Content-Length`, a head over hyper's buffer) never reaches
/// our code: hyper answers with a bare status line, and that is pinned here
/// so a hyper upgrade that changes it is noticed (`docs/design.md`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing_errors_get_the_json_contract_where_hyper_lets_them_reach_us() {
    let api = Router::new()
        .route(Method::GET, "/api/health", health)
        .route(Method::POST, "/api/echo", echo)
        .into_api();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("bound");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, server::buffered(api), async {
        let _ = stopped.await;
    }));

    let client = tokio::task::spawn_blocking(move || {
        // Over our limit, under hyper's: our 414, as JSON, with the headers.
        let long = format!("/api/health/{}", "a".repeat(kluis_http::MAX_TARGET_LEN));
        let answer = raw(
            address,
            format!("GET {long} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        println!("--- target of {} bytes:\n{answer}", long.len());
        let lower = answer.to_ascii_lowercase();
        assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{answer}");
        assert!(lower.contains("content-type: application/json\r\n"), "{answer}");
        assert!(lower.contains("x-content-type-options: nosniff\r\n"), "{answer}");
        assert!(lower.contains("content-security-policy: "), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).expect("a body");
        let json: Value = serde_json::from_str(body).expect("a JSON body");
        assert_eq!(json["code"], "uri_too_long");
        // At the limit the route is looked up as usual (404: no such path).
        let at = format!("/api/x{}", "a".repeat(kluis_http::MAX_TARGET_LEN - 6));
        let answer = raw(
            address,
            format!("GET {at} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");

        // What hyper answers itself: a status line, no body, no headers of ours.
        let hyper_only = [
            (
                "a target over hyper's 65 534 bytes",
                format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(65_534)),
                "HTTP/1.1 414 URI Too Long\r\n",
            ),
            (
                "a Content-Length that is not a number",
                "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1x\r\n\r\n{}"
                    .to_owned(),
                "HTTP/1.1 400 Bad Request\r\n",
            ),
            (
                "two different Content-Lengths",
                "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
                    .to_owned(),
                "HTTP/1.1 400 Bad Request\r\n",
            ),
            (
                "a head larger than hyper's read buffer",
                format!("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(500_000)),
                "HTTP/1.1 431 Request Header Fields Too Large\r\n",
            ),
        ];
        for (what, request, status) in hyper_only {
            let answer = raw(address, request.as_bytes());
            println!("--- {what}:\n{answer}");
            assert!(answer.starts_with(status), "{what}: {answer}");
            let lower = answer.to_ascii_lowercase();
            assert!(lower.contains("content-length: 0\r\n"), "{what}: {answer}");
            assert!(!lower.contains("content-type"), "{what}: {answer}");
        }
    });
    client.await.expect("the client checks passed");
    let _ = stop.send(());
    server.await.expect("the server stopped");
}
