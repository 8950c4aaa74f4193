//! The access log names method, route template, status and latency, and
//! nothing a request carries: no path ids, query, cookie or token.

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_http::{Router, log, response};
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn retrieve(_: Request<Bytes>) -> Response<Bytes> {
    response::json(StatusCode::OK, &json!({ "ok": true }))
}

#[test]
fn tokens_in_headers_paths_and_queries_never_reach_the_log() {
    const SECRET: &str = "S3CR3T-t0ken-value";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = log::subscriber(move || writer.clone());
    let api = Router::new()
        .route(Method::GET, "/api/retrieve/{id}", retrieve)
        .into_api();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let statuses = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let mut statuses = Vec::new();
            for uri in [
                format!("/api/retrieve/{SECRET}?token={SECRET}#{SECRET}"),
                format!("/api/missing?code={SECRET}"),
            ] {
                let request = Request::get(uri)
                    .header("authorization", format!("Bearer {SECRET}"))
                    .header("cookie", format!("kluis_session={SECRET}"))
                    .header("x-anything", SECRET)
                    .body(Bytes::from(SECRET))
                    .expect("a valid request");
                statuses.push(api.call(request).await.status());
            }
            statuses
        })
    });
    assert_eq!(statuses, [StatusCode::OK, StatusCode::NOT_FOUND]);
    let text = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("UTF-8 logs");
    assert!(!text.contains(SECRET), "the log leaked a secret:\n{text}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["method"], "GET");
    assert_eq!(lines[0]["route"], "/api/retrieve/{id}");
    assert_eq!(lines[0]["status"], 200);
    assert!(lines[0]["latency_ms"].is_number());
    assert_eq!(lines[1]["route"], "(unmatched)");
    assert_eq!(lines[1]["status"], 404);
}

#[test]
fn a_deferred_port_failure_is_one_warning_with_its_causes() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = log::subscriber(move || writer.clone());
    let failure = kluis_core::ports::PortError::backend(std::io::Error::other("S3.DeleteObject: SlowDown"));
    tracing::subscriber::with_default(subscriber, || {
        log::deferred_failure("left for the expiry job", &failure);
    });
    let text = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("UTF-8 logs");
    let line: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
    assert_eq!(line["level"], "WARN", "{text}");
    assert_eq!(line["message"], "left for the expiry job");
    assert_eq!(line["error"], "backend failure: S3.DeleteObject: SlowDown");
}
