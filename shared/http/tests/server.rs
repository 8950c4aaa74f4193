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
