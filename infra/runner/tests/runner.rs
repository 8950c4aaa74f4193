//! The runner in-process on a port-0 loopback socket, spoken to over HTTP:
//! pages, content types, traversal refusals, the dev mailbox, health and
//! the object store's mount.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use kluis_core::error::Field;
use kluis_core::mail::{RenderedMail, Subject};
use kluis_core::ports::Mailer;
use kluis_core::validate::EmailAddress;
use kluis_runner::options::Options;
use serde_json::Value;
use tokio::sync::oneshot;

struct Running {
    base: String,
    address: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    mailer: kluis_embedded::OutboxMailer,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server stopped cleanly");
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("a folder");
    }
    std::fs::write(path, bytes).expect("a file");
}

async fn start() -> Running {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // A secret beside the pages folder: the traversal target.
    write(&dir.path().join("Cargo.toml"), b"SECRET-OUTSIDE-WEB");
    let web = dir.path().join("web");
    write(&web.join("index.html"), b"<!doctype html><title>kluis</title>");
    write(&web.join("pkg/kluis_crypto_wasm_bg.wasm"), b"\0asm\x01\0\0\0");
    write(&web.join("lib/chunks.js"), b"export const x = 1;");
    write(&web.join(".hidden"), b"hidden");
    std::fs::create_dir_all(web.join("empty")).expect("a folder");
    let options = Options {
        address: "127.0.0.1:0".parse().expect("an address"),
        data: dir.path().join("data"),
        web,
        ..Options::default()
    };
    let bound = kluis_runner::bind(&options).await.expect("the runner starts");
    let base = bound.base_url();
    let address = bound.public;
    assert_eq!(
        bound.banner(),
        format!("kluis is running: pages {base}/ · dev mailbox {base}/dev/mail")
    );
    // A second writer on the runner's outbox folder, as the service's mailer is.
    let from = EmailAddress::parse(kluis_runner::data::SERVICE_ADDRESS, Field::SenderEmail).expect("valid");
    let mailer = kluis_embedded::OutboxMailer::open(options.data.join("outbox"), "kluis", &from)
        .await
        .expect("the outbox opens");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve(async {
        let _ = stopped.await;
    }));
    Running {
        base,
        address,
        stop: Some(stop),
        server: Some(server),
        mailer,
        _dir: dir,
    }
}

/// Status, headers and body of a POST of JSON through ureq.
async fn post(url: String, cookie: Option<String>, json: Value) -> (u16, http::HeaderMap, Value) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = agent.post(&url).header("content-type", "application/json");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let mut answer = request.send(json.to_string()).expect("an answer");
        let body = answer.body_mut().read_to_string().unwrap_or_default();
        let value = serde_json::from_str(&body).unwrap_or(Value::Null);
        (answer.status().as_u16(), answer.headers().clone(), value)
    })
    .await
    .expect("the client did not panic")
}

/// Status, headers and body of a GET through ureq.
async fn get(url: String) -> (u16, http::HeaderMap, String) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut answer = agent.get(&url).call().expect("an answer");
        let body = answer.body_mut().read_to_string().unwrap_or_default();
        (answer.status().as_u16(), answer.headers().clone(), body)
    })
    .await
    .expect("the client did not panic")
}

/// A request line sent byte for byte, so no client normalises the path.
async fn raw_get(address: std::net::SocketAddr, target: &'static str) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).expect("a connection");
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .expect("sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("an answer");
        answer
    })
    .await
    .expect("the client did not panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_is_served_at_the_root_with_the_strict_policy() {
    let r = start().await;
    let (status, headers, body) = get(format!("{}/", r.base)).await;
    assert_eq!(status, 200);
    assert_eq!(body, "<!doctype html><title>kluis</title>");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("script-src 'self' 'wasm-unsafe-eval'")
    );
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasm_and_javascript_have_their_content_types() {
    let r = start().await;
    let (status, headers, _) = get(format!("{}/pkg/kluis_crypto_wasm_bg.wasm", r.base)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/wasm");
    let (status, headers, body) = get(format!("{}/lib/chunks.js", r.base)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(body, "export const x = 1;");
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_hidden_files_and_listings_are_refused() {
    let r = start().await;
    for target in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/lib/%2e%2e/%2e%2e/Cargo.toml",
        "/lib/..%2f..%2fCargo.toml",
        "/.hidden",
        "/empty/",
        "/nothing.js",
    ] {
        let answer = raw_get(r.address, target).await;
        let status = answer.lines().next().unwrap_or_default();
        assert!(status.starts_with("HTTP/1.1 4"), "{target} answered {status}");
        assert!(!answer.contains("SECRET-OUTSIDE-WEB"), "{target} leaked the file");
        assert!(
            !answer.contains("hidden\r\n") && !answer.ends_with("hidden"),
            "{target}"
        );
    }
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_ok() {
    let r = start().await;
    let (status, headers, body) = get(format!("{}/api/health", r.base)).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON"),
        serde_json::json!({ "status": "ok" })
    );
    assert_eq!(headers["cache-control"], "no-store");
    let (status, _, body) = get(format!("{}/api/nothing", r.base)).await;
    assert_eq!(status, 404);
    assert!(body.contains("not_found"));
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_object_store_answers_under_its_mount() {
    let r = start().await;
    let (status, headers, body) = get(format!("{}/objects/t/nope/nope?expires=1&sig=x", r.base)).await;
    assert!(status == 400 || status == 403, "{status}");
    assert!(body.contains("\"code\""));
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_mailbox_lists_a_sent_mail_and_shows_its_body_safely() {
    let r = start().await;
    let address = |text| EmailAddress::parse(text, Field::RecipientEmail).expect("an address");
    let mail = RenderedMail {
        to: address("partner@example.org"),
        reply_to: Some(address("sender@example.nl")),
        subject: Subject::new("Files from Ada").expect("a subject"),
        text: "Open http://127.0.0.1:8080/r/abc#token to retrieve.".to_owned(),
        html: "<p>Open <a href=\"http://127.0.0.1:8080/r/abc\">the link</a></p><script>alert(1)</script>"
            .to_owned(),
    };
    r.mailer.send(&mail).await.expect("the outbox takes the mail");

    let (status, _, json) = get(format!("{}/dev/mail.json", r.base)).await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(list[0]["to"][0], "partner@example.org");
    assert_eq!(list[0]["subject"], "Files from Ada");
    let id = list[0]["id"].as_str().expect("an id").to_owned();

    let (status, headers, page) = get(format!("{}/dev/mail", r.base)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(page.contains("Files from Ada") && page.contains("partner@example.org"));
    assert!(page.contains(&format!("/dev/mail/{id}")));

    let (status, headers, page) = get(format!("{}/dev/mail/{id}", r.base)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Open <a href=\"http://127.0.0.1:8080/r/abc#token\""),
        "{page}"
    );
    assert!(page.contains("<iframe sandbox=\"allow-popups allow-popups-to-escape-sandbox\""));
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
    assert!(!page.contains("<script>"));
    let policy = headers["content-security-policy"].to_str().expect("ascii");
    assert!(policy.contains("default-src 'none'") && !policy.contains("script-src"));

    let (status, _, _) = get(format!("{}/dev/mail/..%2fsigning", r.base)).await;
    assert_eq!(status, 404);

    // An over-long target gets the JSON 414 on every path the runner serves.
    for path in ["/objects/", "/dev/mail/", "/retrieve/", "/api/"] {
        let long = format!("{}{path}{}", r.base, "a".repeat(kluis_http::MAX_TARGET_LEN));
        let (status, headers, body) = get(long).await;
        assert_eq!(status, 414, "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(body.contains("\"uri_too_long\""), "{path}: {body}");
    }
    r.stop().await;
}

/// Asks for a code for `email`, reads it from the dev mailbox and types it
/// back; returns the `kluis_session=…` cookie pair.
async fn verified_cookie(r: &Running, email: &str, request_id: &str) -> String {
    let details = serde_json::json!({ "request_id": request_id, "name": "Ada Lovelace", "email": email });
    let (status, _, requested) = post(format!("{}/api/sender/code", r.base), None, details).await;
    assert_eq!(status, 200, "{requested}");
    let challenge = requested["challenge_id"]
        .as_str()
        .expect("a challenge")
        .to_owned();

    let (_, _, mails) = get(format!("{}/dev/mail.json", r.base)).await;
    let mails: Value = serde_json::from_str(&mails).expect("JSON");
    assert_eq!(mails[0]["to"][0], email);
    let text = mails[0]["text"].as_str().expect("a text body");
    let code: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .expect("a six-digit code in the mail")
        .to_owned();

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let wrong = serde_json::json!({ "challenge_id": challenge, "code": wrong });
    let (status, _, refused) = post(format!("{}/api/sender/verify", r.base), None, wrong).await;
    assert_eq!(status, 401);
    assert_eq!(refused["code"], "wrong_code");

    let right = serde_json::json!({ "challenge_id": challenge, "code": code });
    let (status, headers, opened) = post(format!("{}/api/sender/verify", r.base), None, right).await;
    assert_eq!(status, 200, "{opened}");
    let cookie = headers["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(
        cookie.contains("HttpOnly; Secure; SameSite=Strict; Path=/api"),
        "{cookie}"
    );
    cookie.split(';').next().expect("name=value").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_is_verified_by_the_mailed_code_and_starts_a_draft_with_the_cookie() {
    let r = start().await;
    let cookie = verified_cookie(&r, "ada@example.nl", "AAAAAAAAAAAAAAAAAAAAAA").await;
    let draft =
        serde_json::json!({ "request_id": "BBBBBBBBBBBBBBBBBBBBBA", "recipients": ["partner@example.org"] });
    let (status, _, refused) = post(format!("{}/api/transfers", r.base), None, draft.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(refused["code"], "session_invalid");
    let (status, _, created) = post(format!("{}/api/transfers", r.base), Some(cookie), draft).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["transfer_id"].is_string());
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_sending_to_a_stranger_is_refused_by_policy() {
    let r = start().await;
    let cookie = verified_cookie(&r, "eve@example.com", "CCCCCCCCCCCCCCCCCCCCCA").await;
    let draft =
        serde_json::json!({ "request_id": "DDDDDDDDDDDDDDDDDDDDDA", "recipients": ["bob@example.org"] });
    let (status, _, refused) = post(format!("{}/api/transfers", r.base), Some(cookie), draft).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["code"], "no_internal_party");
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_the_wrong_shape_is_400_malformed_json() {
    let r = start().await;
    let (status, _, body) = post(
        format!("{}/api/sender/code", r.base),
        None,
        serde_json::json!({ "name": 1 }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "malformed_json");
    r.stop().await;
}

/// PUTs `bytes` to a presigned part URL with its headers; returns the ETag.
async fn put_part(part: Value, bytes: Vec<u8>) -> (u16, Option<String>) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = agent
            .put(part["url"].as_str().expect("a url"))
            .header("content-type", "application/octet-stream");
        for pair in part["headers"].as_array().into_iter().flatten() {
            request = request.header(
                pair[0].as_str().expect("a name"),
                pair[1].as_str().expect("a value"),
            );
        }
        let answer = request.send(&bytes[..]).expect("an answer");
        let etag = answer
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (answer.status().as_u16(), etag)
    })
    .await
    .expect("the client did not panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_uploaded_through_the_presigned_urls_the_runner_serves() {
    let r = start().await;
    let cookie = verified_cookie(&r, "ada@example.nl", "EEEEEEEEEEEEEEEEEEEEEA").await;
    let draft =
        serde_json::json!({ "request_id": "FFFFFFFFFFFFFFFFFFFFFA", "recipients": ["partner@example.org"] });
    let (_, _, created) = post(format!("{}/api/transfers", r.base), Some(cookie.clone()), draft).await;
    let transfer = created["transfer_id"].as_str().expect("a transfer id").to_owned();

    let size = kluis_crypto::ciphertext_len(1000).expect("a valid size");
    let file = "AAAAAAAAAAAAAAAAAAAAAQ";
    let add = serde_json::json!({ "file_id": file, "ciphertext_bytes": size });
    let (status, _, upload) = post(
        format!("{}/api/transfers/{transfer}/files", r.base),
        Some(cookie.clone()),
        add,
    )
    .await;
    assert_eq!(status, 201, "{upload}");
    let parts = upload["parts"].as_array().expect("parts").clone();
    assert_eq!(parts.len(), 1);
    assert!(
        parts[0]["url"]
            .as_str()
            .expect("a url")
            .starts_with(&format!("{}/objects/", r.base))
    );

    let (status, etag) = put_part(parts[0].clone(), vec![7; usize::try_from(size).expect("small")]).await;
    assert_eq!(status, 200);
    let etag = etag.expect("an ETag");

    let complete = serde_json::json!({ "parts": [{ "number": 1, "etag": etag }] });
    let url = format!("{}/api/transfers/{transfer}/files/{file}/complete", r.base);
    let (status, _, completed) = post(url, Some(cookie), complete).await;
    assert_eq!(status, 200, "{completed}");
    assert_eq!(completed["ciphertext_bytes"], size);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_mailbox_is_off_unless_bound_to_loopback() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = Options {
        address: "0.0.0.0:0".parse().expect("an address"),
        data: dir.path().join("data"),
        web: dir.path().join("web"),
        ..Options::default()
    };
    let bound = kluis_runner::bind(&options).await.expect("the runner starts");
    assert!(bound.banner().contains("dev mailbox off"), "{}", bound.banner());
    let base = bound.base_url();
    assert!(base.starts_with("http://127.0.0.1:"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve(async {
        let _ = stopped.await;
    }));
    let (status, _, _) = get(format!("{base}/dev/mail.json")).await;
    assert_eq!(status, 404);
    let _ = stop.send(());
    server.await.expect("the server stopped cleanly");
}
