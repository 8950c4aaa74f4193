//! No input makes the API panic or answer 5xx: every route of the merged
//! `/api` table (every function's handlers) is called with hostile paths,
//! credentials and bodies, and must refuse each with a 4xx JSON
//! `{code, message}`; the two routes that answer anyone (the public policy,
//! ending a session) must give their ordinary answer. The calls go through
//! the same `Api` wrapper the servers use (body limit, panic containment),
//! so a panic would surface as a 500 here and fail the test.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use http::{Method, Request};
use kluis_http::Api;
use kluis_runner::options::Options;
use serde_json::Value;

/// Bodies a client could send: wrong types, huge numbers, deep nesting,
/// broken UTF-8, and JSON that is almost right.
fn bodies() -> Vec<Bytes> {
    let mut nested = String::new();
    for _ in 0..200 {
        nested.push('[');
    }
    let texts = [
        "",
        "null",
        "{}",
        "[]",
        "\"text\"",
        "1e999999",
        "{\"request_id\": 1}",
        "{\"request_id\": \"AAAAAAAAAAAAAAAAAAAAAA\", \"email\": \"\\u0000@x\"}",
        "{\"challenge_id\": \"AAAAAAAAAAAAAAAAAAAAAA\", \"code\": \"12345678901234567890\"}",
        "{\"recipients\": [\"a@b\"], \"request_id\": \"AAAAAAAAAAAAAAAAAAAAAA\", \"language\": \"xx\"}",
        "{\"file_id\": \"AAAAAAAAAAAAAAAAAAAAAA\", \"ciphertext_bytes\": 18446744073709551615}",
        "{\"parts\": [{\"number\": 0, \"etag\": \"\"}]}",
        "{\"auth_key\": \"////\", \"file_id\": null}",
        "{\"kdf\": {\"m_kib\": 4294967295, \"t\": 4294967295, \"p\": 4294967295}}",
        "{\"bearer\": \"yes\"}",
        &nested,
    ];
    let mut all: Vec<Bytes> = texts.iter().map(|t| Bytes::from(t.to_string())).collect();
    all.push(Bytes::from_static(&[0xff, 0xfe, b'{', 0x00]));
    all
}

/// Whether `template` takes a retrieval or manage token as its credential.
fn link_route(template: &str) -> bool {
    template.starts_with("/api/retrieve/") || template.starts_with("/api/manage/")
}

/// Whether `method template` answers anyone, whatever the request holds:
/// the public policy, and ending a session (idempotent: a request with no
/// session to end is answered as one whose session ended). Hostile input
/// gets their ordinary answer there, never a 5xx.
fn open_route(method: &Method, template: &str) -> bool {
    matches!(
        (method.as_str(), template),
        ("GET", "/api/policy") | ("DELETE", "/api/session")
    )
}

/// Whether `credential` is a bearer header holding a well-formed token.
fn carries_a_token(credential: Option<&(http::HeaderName, &str)>) -> bool {
    credential.is_some_and(|(name, value)| {
        *name == AUTHORIZATION
            && value
                .strip_prefix("Bearer ")
                .is_some_and(|token| token.len() == 43)
    })
}

/// A path for `template` with every `{param}` replaced by `value`.
fn fill(template: &str, value: &str) -> String {
    template
        .split('/')
        .map(|segment| if segment.starts_with('{') { value } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn hostile_requests_to_every_route_get_a_4xx_json_refusal() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = Options {
        address: "127.0.0.1:0".parse().expect("an address"),
        data: dir.path().join("data"),
        web: dir.path().join("web"),
        ..Options::default()
    };
    let bound = kluis_runner::bind(&options).await.expect("the runner starts");
    let table = bound.runner.api().clone();
    let api = Api::from(table.clone());
    let ids = [
        "AAAAAAAAAAAAAAAAAAAAAA",
        "%2e%2e",
        "x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ];
    let credentials = [
        None,
        Some((AUTHORIZATION, "Bearer AAAA")),
        Some((
            AUTHORIZATION,
            "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )),
        Some((AUTHORIZATION, "Basic Zm9vOmJhcg==")),
        Some((COOKIE, "kluis_session=\"; other=1")),
    ];
    let mut calls = 0;
    for (method, template) in table.templates() {
        if template == "/api/health" {
            continue;
        }
        for id in ids {
            for credential in &credentials {
                for body in bodies() {
                    let mut request = Request::builder()
                        .method(method.clone())
                        .uri(fill(template, id))
                        .header(CONTENT_TYPE, "application/json");
                    if let Some((name, value)) = credential {
                        request = request.header(name, *value);
                    }
                    let request = request.body(body.clone()).expect("a request");
                    let answer = api.call(request).await;
                    let status = answer.status();
                    let what = format!("{method} {template} id={id} body={body:?}: {status}");
                    calls += 1;
                    if open_route(method, template) {
                        assert!(status.is_success(), "{what}");
                        continue;
                    }
                    assert!(status.is_client_error(), "{what}");
                    let json: Value = serde_json::from_slice(answer.body()).expect("a JSON refusal");
                    assert!(
                        json["code"].is_string() && json["message"].is_string(),
                        "{what}: {json}"
                    );
                    if link_route(template) && !carries_a_token(credential.as_ref()) {
                        assert_eq!(
                            (status.as_u16(), json["code"].as_str()),
                            (401, Some("token_invalid")),
                            "{what}: a link route without a well-formed token"
                        );
                    }
                }
            }
        }
    }
    assert!(calls > 1000, "every route was called ({calls} calls)");
    // Wrong methods too: 405 with Allow, never a handler.
    let wrong = Request::builder()
        .method(Method::DELETE)
        .uri("/api/transfers")
        .body(Bytes::new())
        .expect("a request");
    let answer = api.call(wrong).await;
    assert_eq!(answer.status(), http::StatusCode::METHOD_NOT_ALLOWED);
    assert!(answer.headers().contains_key(http::header::ALLOW));
}
