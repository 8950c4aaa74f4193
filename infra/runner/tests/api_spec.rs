//! The API against its contract, `docs/api.yaml`: fails when the runner's
//! `/api` routing table and the spec's paths differ, when an answer's
//! status is not documented for its operation, or when a body does not
//! validate against the documented schema (`additionalProperties: false`
//! and `required` make a new, renamed or missing field fail).
//!
//! Every operation is exercised against the real runner, in-process on a
//! port-0 loopback socket: the public policy, sessions asked about and
//! ended, a transfer driven through the whole wizard with real keys,
//! wrapped key and sealed manifest from `kluis-crypto` (and a second file
//! declared, half uploaded and removed again on the way) and sent with the
//! sender's last choices, then retrieved, answered with a reply (itself
//! sent, then locked by wrong passwords), managed and revoked, with error
//! answers along the way. At
//! the end every operation must have been seen with each status this test
//! means to cover, so the spec cannot list a route that is never checked.

#[path = "api_spec/spec.rs"]
mod spec;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::sync::Mutex;

use kluis_core::envelope::{AuthHash, AuthKey, KdfParams, Salt, SealedManifest, WrappedKey};
use kluis_core::error::Field;
use kluis_core::file::{CompletedPart, ETag, PartNumber};
use kluis_core::ids::{FileId, RequestId, Token};
use kluis_core::service::retrieval::{RecordDownload, Unlock};
use kluis_core::service::sender::RequestCode;
use kluis_core::service::transfer::{CreateDraft, SendOptions, SetKey};
use kluis_core::service::upload::{AddFile, CompleteFile};
use kluis_core::validate::{EmailAddress, Language, NotificationText, PersonName, PhoneNumber};
use kluis_runner::options::Options;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use spec::{Operation, Spec, path_matches};
use tokio::sync::oneshot;

const SENDER: &str = "ada@example.nl";
const PARTNER: &str = "partner@example.org";
/// Outside the internal domains, like the partner: the two cannot exchange.
const STRANGER: &str = "eve@example.com";
/// A second recipient, added at the send.
const COLLEAGUE: &str = "colleague@example.org";
const PASSWORD: &str = "k7m-2pq-x9z-4hw-c3t-vn8-r5j";

/// The `/api` routing table of a runner: every function's routes, merged
/// (`kluis_runner::routes::api`), as the runner mounts them.
fn routing_table(bound: &kluis_runner::Bound) -> BTreeSet<Operation> {
    bound
        .runner
        .api()
        .templates()
        .map(|(method, template)| (method.as_str().to_owned(), template.to_owned()))
        .collect()
}

/// How a request proves who it is.
enum Auth {
    None,
    Cookie(String),
    Bearer(String),
}

/// What a request carries.
enum Body {
    None,
    /// A body the spec's request schema must accept.
    Json(Value),
    /// A deliberately wrong body (for 4xx answers): not checked against the spec.
    BadJson(Value),
    /// A body declared as something other than JSON.
    Text(&'static str),
    /// A body declared longer than any route takes, and not sent: the
    /// server refuses it from the header (a client sending it would meet
    /// a closed connection).
    Oversized,
}

/// An answer: status, headers and the JSON body (`Null` when empty).
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    json: Value,
    /// Whether the body was empty (a 204 has none).
    empty: bool,
}

impl Answer {
    /// The body, after asserting the status.
    fn expect(self, status: u16, what: &str) -> Value {
        assert_eq!(self.status, status, "{what}: {}", self.json);
        self.json
    }

    /// Asserts an error answer's status and code.
    fn refused(self, status: u16, code: &str, what: &str) {
        assert_eq!(
            (self.status, self.json["code"].as_str()),
            (status, Some(code)),
            "{what}: {}",
            self.json
        );
    }

    fn set_cookie(&self) -> Option<String> {
        self.headers
            .get(http::header::SET_COOKIE)
            .map(|v| v.to_str().expect("ASCII").to_owned())
    }
}

/// The runner, the spec, and what was exercised.
struct Harness {
    base: String,
    spec: Spec,
    seen: Mutex<BTreeSet<(String, String, u16)>>,
    /// Breaches of the session-transport contract (`bearer` flag), kept
    /// apart so the report names this one check.
    transport: Mutex<Vec<String>>,
}

impl Harness {
    /// Performs one exchange and checks it against the spec: the operation
    /// is documented, a JSON request body fits its schema, the status is
    /// documented, the body validates, and a `Set-Cookie` is documented.
    async fn call(&self, method: &str, template: &str, path: &str, auth: Auth, body: Body) -> Answer {
        let operation: Operation = (method.to_owned(), template.to_owned());
        assert!(
            self.spec.operation(&operation).is_some(),
            "{method} {template} is not in docs/api.yaml"
        );
        assert!(
            path_matches(template, path),
            "{path} is not an instance of {template}"
        );
        if let Body::Json(value) = &body {
            let schema = self
                .spec
                .request_schema(&operation)
                .unwrap_or_else(|| panic!("{method} {template} documents no request body"));
            if let Err(e) = self.spec.validate(schema, value) {
                panic!("{method} {template}: the request body does not fit the spec: {e}\n{value}");
            }
        }
        let answer = perform(method.to_owned(), format!("{}{path}", self.base), auth, body).await;
        let Some(response) = self.spec.response(&operation, answer.status) else {
            panic!(
                "{method} {template} answered {} which docs/api.yaml does not document: {}",
                answer.status, answer.json
            );
        };
        if response.get("content").is_none() {
            // The spec documents no body (204): none may come, nor a type for one.
            assert!(
                answer.empty && !answer.headers.contains_key(http::header::CONTENT_TYPE),
                "{method} {template} {}: docs/api.yaml documents no body, got {:?} {}",
                answer.status,
                answer.headers.get(http::header::CONTENT_TYPE),
                answer.json
            );
        } else {
            let schema = &response["content"]["application/json"]["schema"];
            assert!(
                schema.is_object(),
                "{method} {template} {}: no JSON schema",
                answer.status
            );
            if let Err(e) = self.spec.validate(schema, &answer.json) {
                panic!(
                    "{method} {template} {}: the body does not fit docs/api.yaml: {e}\n{}",
                    answer.status, answer.json
                );
            }
        }
        // Other documented headers (Cache-Control, Allow) fit their schema when sent.
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let Some(value) = answer.headers.get(name.as_str()) else {
                continue;
            };
            if name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let value = Value::String(value.to_str().expect("ASCII").to_owned());
            if let Err(e) = self.spec.validate(&header["schema"], &value) {
                panic!("{method} {template}: {name} does not fit docs/api.yaml: {e}");
            }
        }
        if let Some(cookie) = answer.set_cookie() {
            let documented = &response["headers"]["Set-Cookie"]["schema"];
            assert!(
                documented.is_object(),
                "{method} {template} {} sets a cookie the spec does not document",
                answer.status
            );
            if let Err(e) = self.spec.validate(documented, &Value::String(cookie)) {
                panic!("{method} {template}: Set-Cookie does not fit docs/api.yaml: {e}");
            }
        }
        self.seen.lock().expect("not poisoned").insert((
            method.to_owned(),
            template.to_owned(),
            answer.status,
        ));
        answer
    }

    /// The new session contract: with `bearer: true` the token is in the
    /// body and no cookie is set; without, the cookie is set and the body
    /// holds no token.
    fn check_session_transport(&self, what: &str, answer: &Answer, session: &Value, bearer: bool) {
        let token_in_body = session.get("session_token").is_some();
        let cookie = answer.set_cookie().is_some();
        if token_in_body != bearer || cookie == bearer {
            self.transport.lock().expect("not poisoned").push(format!(
                "{what} (bearer: {bearer}): session_token in body: {token_in_body}, Set-Cookie: {cookie}"
            ));
        }
    }

    /// The mails of the dev mailbox, newest first.
    async fn mails(&self) -> Vec<Value> {
        let answer = perform(
            "GET".into(),
            format!("{}/dev/mail.json", self.base),
            Auth::None,
            Body::None,
        )
        .await;
        assert_eq!(answer.status, 200);
        answer.json.as_array().expect("a list of mails").clone()
    }

    /// The newest mail to `to` whose text contains `needle`.
    async fn mail_text(&self, to: &str, needle: &str) -> String {
        self.mails()
            .await
            .into_iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|list| list.iter().any(|a| a == to))
            })
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .find(|text| text.contains(needle))
            .unwrap_or_else(|| panic!("no mail to {to} containing {needle}"))
    }

    /// The newest six-digit code mailed to `to`.
    async fn code_for(&self, to: &str) -> String {
        let text = self.mail_text(to, "").await;
        text.split(|c: char| !c.is_ascii_digit())
            .find(|run| run.len() == 6)
            .expect("a six-digit code in the mail")
            .to_owned()
    }

    /// `(transfer id, token)` of the newest `{base}/{page}/{id}#{token}`
    /// link mailed to `to`.
    async fn link(&self, to: &str, page: &str) -> (String, String) {
        let prefix = format!("{}/{page}/", self.base);
        let text = self.mail_text(to, &prefix).await;
        let rest = &text[text.find(&prefix).expect("the link") + prefix.len()..];
        let (id, tail) = rest.split_once('#').expect("a fragment");
        let token: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert_eq!((id.len(), token.len()), (22, 43), "link {page}/{id}#{token}");
        (id.to_owned(), token)
    }
}

/// One HTTP exchange through ureq (blocking, so on the blocking pool).
async fn perform(method: String, url: String, auth: Auth, body: Body) -> Answer {
    if matches!(body, Body::Oversized) {
        return oversized(method, url).await;
    }
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = http::Request::builder().method(method.as_str()).uri(&url);
        request = match &auth {
            Auth::None => request,
            Auth::Cookie(pair) => request.header("cookie", pair),
            Auth::Bearer(token) => request.header("authorization", format!("Bearer {token}")),
        };
        let (content_type, bytes) = match body {
            Body::None => (None, Vec::new()),
            Body::Json(value) | Body::BadJson(value) => (Some("application/json"), value.to_string().into()),
            Body::Text(text) => (Some("text/plain"), text.as_bytes().to_vec()),
            Body::Oversized => unreachable!("sent raw above"),
        };
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(bytes).expect("a well-formed request");
        let mut answer = agent.run(request).expect("an answer");
        let text = answer.body_mut().read_to_string().unwrap_or_default();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {url}: not JSON: {text}"))
        };
        Answer {
            status: answer.status().as_u16(),
            headers: answer.headers().clone(),
            json,
            empty: text.is_empty(),
        }
    })
    .await
    .expect("the client did not panic")
}

/// A request line and headers declaring a 1 MiB JSON body, sent byte for
/// byte with no body; the answer read until the server closes.
async fn oversized(method: String, url: String) -> Answer {
    tokio::task::spawn_blocking(move || {
        let rest = url.strip_prefix("http://").expect("an http URL");
        let (host, path) = rest.split_at(rest.find('/').expect("a path"));
        let mut stream = std::net::TcpStream::connect(host).expect("a connection");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: 1048576\r\nConnection: close\r\n\r\n"
        )
        .expect("sent");
        let mut answer = String::new();
        // The server may reset rather than close after answering; what was read counts.
        let _ = stream.read_to_string(&mut answer);
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        Answer {
            status,
            headers: http::HeaderMap::new(),
            json: serde_json::from_str(body).unwrap_or_else(|_| panic!("{method} {url}: not JSON: {body}")),
            empty: body.is_empty(),
        }
    })
    .await
    .expect("the client did not panic")
}

/// PUTs a part to its presigned URL with the headers it names; returns the ETag.
async fn put_part(part: Value, bytes: Vec<u8>) -> String {
    let (status, etag) = try_put_part(part, bytes).await;
    assert_eq!(status, 200, "the part upload");
    etag.expect("an ETag")
}

/// PUTs a part as [`put_part`] does; returns the status and the ETag, if any.
async fn try_put_part(part: Value, bytes: Vec<u8>) -> (u16, Option<String>) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = agent.put(part["url"].as_str().expect("a url"));
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
            .map(|v| v.to_str().expect("ASCII").to_owned());
        (answer.status().as_u16(), etag)
    })
    .await
    .expect("the client did not panic")
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("the core's request types serialise")
}

fn request_id(byte: u8) -> RequestId {
    RequestId::from_bytes([byte; 16])
}

fn email(text: &str) -> EmailAddress {
    EmailAddress::parse(text, Field::RecipientEmail).expect("an address")
}

/// A well-formed token that opens nothing.
fn stranger_token() -> String {
    Token::from_bytes([0x5a; 32]).reveal()
}

/// A well-formed id that names nothing.
fn unknown_id() -> String {
    FileId::from_bytes([0x77; 16]).to_string()
}

/// A transfer's content as the client prepares it: one encrypted file and
/// the key step's body, from the real format.
struct Prepared {
    file_id: String,
    object: Vec<u8>,
    set_key: SetKey,
    auth_key: String,
}

fn prepare(transfer: &str, message: &str) -> Prepared {
    let t = kluis_crypto::TransferId::parse(transfer).expect("the server's transfer id");
    let file = kluis_crypto::FileId::random().expect("randomness");
    let content = kluis_crypto::ContentKey::generate().expect("randomness");
    let plaintext = b"the quarterly figures, strictly confidential\n".repeat(40);
    let mut object = Vec::new();
    kluis_crypto::io::encrypt(
        &content.file_key(&t, &file),
        &t,
        &file,
        &plaintext[..],
        &mut object,
    )
    .expect("encrypted");
    let salt = kluis_crypto::generate_salt().expect("randomness");
    let kdf = kluis_crypto::KdfParams::DEFAULT;
    let keys = kluis_crypto::derive_password_keys(PASSWORD, &salt, kdf, &t).expect("the password keys");
    let mut manifest = kluis_crypto::Manifest {
        message: message.to_owned(),
        files: vec![kluis_crypto::FileEntry {
            id: file,
            name: "figures.txt".to_owned(),
            size: plaintext.len() as u64,
            media_type: "text/plain".to_owned(),
            sha256: Sha256::digest(&plaintext).into(),
        }],
    };
    // The message fills the manifest to the format's maximum, so every step
    // that stores or hands back the sealed manifest carries the largest one.
    let fill = kluis_crypto::manifest::MAX_MANIFEST_LEN - kluis_crypto::manifest::to_json(&manifest).len();
    manifest.message.push_str(&".".repeat(fill));
    let sealed = manifest.seal(&content.manifest_key(&t), &t).expect("sealed");
    assert_eq!(sealed.len(), kluis_crypto::manifest::MAX_SEALED_MANIFEST_LEN);
    let set_key = SetKey {
        wrapped_key: WrappedKey::from_bytes(
            kluis_crypto::wrap::wrap(&keys.kek, &content, &t).expect("wrapped"),
        ),
        salt: Salt::from_bytes(salt),
        kdf: KdfParams {
            m_kib: kdf.m_kib,
            t: kdf.t,
            p: kdf.p,
        },
        auth_hash: AuthHash::from_bytes(kluis_crypto::auth_hash(&keys.auth)),
        manifest: SealedManifest::new(sealed).expect("a manifest of sane size"),
    };
    let auth_key = to_json(&AuthKey::from_bytes(*keys.auth.expose_secret()));
    Prepared {
        file_id: FileId::from(file).to_string(),
        object,
        set_key,
        auth_key: auth_key.as_str().expect("base64url text").to_owned(),
    }
}

async fn start() -> (
    Harness,
    BTreeSet<Operation>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = Options {
        address: "127.0.0.1:0".parse().expect("an address"),
        data: dir.path().join("data"),
        web: dir.path().join("web"),
        ..Options::default()
    };
    let bound = kluis_runner::bind(&options).await.expect("the runner starts");
    let table = routing_table(&bound);
    let harness = Harness {
        base: bound.base_url(),
        spec: Spec::load(),
        seen: Mutex::default(),
        transport: Mutex::default(),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        // The folder lives as long as the server.
        let _dir = dir;
        bound
            .serve(async {
                let _ = stopped.await;
            })
            .await;
    });
    (harness, table, stop, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_as_docs_api_yaml_documents() {
    let (api, table, stop, server) = start().await;

    let documented = api.spec.operations();
    let undocumented: Vec<_> = table.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&table).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes not in docs/api.yaml: {undocumented:?}; documented but not routed: {unrouted:?}"
    );

    api.call("GET", "/api/health", "/api/health", Auth::None, Body::None)
        .await
        .expect(200, "health");

    policy_step(&api).await;
    let sessions = sender_steps(&api).await;
    session_steps(&api, &sessions).await;
    let original = wizard(&api, &sessions).await;
    let (retrieval, reply_session) = retrieve_steps(&api, &original).await;
    reply_wizard_and_lock(&api, &reply_session).await;
    manage_steps(&api, &original, &retrieval).await;
    wrong_methods(&api).await;

    let _ = stop.send(());
    server.await.expect("the server stopped cleanly");
    assert_everything_exercised(&api);

    let transport = api.transport.lock().expect("not poisoned");
    assert!(
        transport.is_empty(),
        "THE SESSION TRANSPORT CHECK (bearer flag of verify and reply) failed: {transport:#?}"
    );
}

/// The sessions the sender steps open.
struct Sessions {
    /// The internal sender's cookie pair, `kluis_session=…`.
    cookie: String,
    /// The internal sender's bearer token.
    bearer: String,
    /// An external sender's cookie pair.
    stranger: String,
    /// The internal sender's cookie pair of a session that is ended.
    spare: String,
}

/// Sender and verify: rate limit, bad and oversized bodies, wrong and
/// exhausted codes, then cookie and bearer sessions.
async fn sender_steps(api: &Harness) -> Sessions {
    let code = |id: u8, address: &str| {
        Body::Json(to_json(&RequestCode {
            request_id: request_id(id),
            name: PersonName::parse("Ada Lovelace", Field::SenderName).expect("a name"),
            email: email(address),
            phone: Some(PhoneNumber::parse("+31 6 1234 5678").expect("a phone")),
            language: Language::En,
        }))
    };
    let path = "/api/sender/code";
    api.call(
        "POST",
        path,
        path,
        Auth::None,
        Body::BadJson(json!({ "name": 1 })),
    )
    .await
    .refused(400, "malformed_json", "a body of the wrong shape");
    api.call("POST", path, path, Auth::None, Body::Oversized)
        .await
        .refused(413, "payload_too_large", "a body over the limit");
    api.call("POST", path, path, Auth::None, Body::Text("hello"))
        .await
        .refused(415, "unsupported_media_type", "a body that is not JSON");
    for id in 1..=5 {
        api.call("POST", path, path, Auth::None, code(id, "busy@example.nl"))
            .await
            .expect(200, "a code within the limit");
    }
    api.call("POST", path, path, Auth::None, code(6, "busy@example.nl"))
        .await
        .refused(429, "rate_limited", "a sixth code within the hour");

    let verify = "/api/sender/verify";
    api.call(
        "POST",
        verify,
        verify,
        Auth::None,
        Body::Json(json!({ "challenge_id": unknown_id(), "code": "123456" })),
    )
    .await
    .refused(410, "code_expired", "an unknown challenge");
    api.call(
        "POST",
        verify,
        verify,
        Auth::None,
        Body::BadJson(json!({ "code": "12" })),
    )
    .await
    .refused(400, "malformed_json", "a verify body of the wrong shape");

    // A challenge whose attempts run out.
    let challenge = api
        .call("POST", path, path, Auth::None, code(10, SENDER))
        .await
        .expect(200, "a code")["challenge_id"]
        .clone();
    let right = api.code_for(SENDER).await;
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let guess = json!({ "challenge_id": challenge, "code": wrong });
    for _ in 1..5 {
        api.call("POST", verify, verify, Auth::None, Body::Json(guess.clone()))
            .await
            .refused(401, "wrong_code", "a wrong code");
    }
    api.call("POST", verify, verify, Auth::None, Body::Json(guess))
        .await
        .refused(429, "code_attempts_exhausted", "the last wrong code");

    Sessions {
        cookie: verified(api, SENDER, code(11, SENDER), false).await,
        bearer: verified(api, SENDER, code(12, SENDER), true).await,
        stranger: verified(api, STRANGER, code(13, STRANGER), false).await,
        spare: verified(api, SENDER, code(14, SENDER), false).await,
    }
}

/// The public policy: the runner's (the core's defaults, `example.nl`
/// internal), cacheable for five minutes, without any credential.
async fn policy_step(api: &Harness) {
    let path = "/api/policy";
    let answer = api.call("GET", path, path, Auth::None, Body::None).await;
    let cache = answer
        .headers
        .get(http::header::CACHE_CONTROL)
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let policy = answer.expect(200, "the policy");
    assert_eq!(cache.as_deref(), Some("public, max-age=300"));
    assert_eq!(policy["max_recipients"], 20);
    assert_eq!(
        policy["own_password"],
        json!({ "min_length": 12, "min_score": 3 })
    );
    assert!(
        policy["internal_domains"]
            .as_array()
            .is_some_and(|domains| domains.iter().any(|d| d == "example.nl")),
        "{policy}"
    );
}

/// What a page learns of its session, and ending it: the spare session is
/// described by cookie, ended (the cookie cleared), and then opens nothing;
/// ending again, or without a session, answers the same.
async fn session_steps(api: &Harness, sessions: &Sessions) {
    let path = "/api/session";
    api.call("GET", path, path, Auth::None, Body::None)
        .await
        .refused(401, "session_invalid", "no session");
    api.call("GET", path, path, Auth::Bearer(stranger_token()), Body::None)
        .await
        .refused(401, "session_invalid", "an unknown session");
    let by_bearer = api
        .call(
            "GET",
            path,
            path,
            Auth::Bearer(sessions.bearer.clone()),
            Body::None,
        )
        .await
        .expect(200, "a bearer session");
    assert_eq!(by_bearer["sender"]["email"], SENDER);
    assert_eq!(by_bearer["reply_only"], false);
    let spare = || Auth::Cookie(sessions.spare.clone());
    let described = api
        .call("GET", path, path, spare(), Body::None)
        .await
        .expect(200, "a cookie session");
    assert_eq!(described["sender"]["email"], SENDER);
    assert!(described.get("session_token").is_none(), "never the token");

    let ended = api.call("DELETE", path, path, spare(), Body::None).await;
    assert_eq!(ended.status, 204, "{}", ended.json);
    assert_eq!(
        ended.set_cookie().as_deref(),
        Some("kluis_session=; HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age=0")
    );
    api.call("GET", path, path, spare(), Body::None).await.refused(
        401,
        "session_invalid",
        "an ended session",
    );
    let drafts = "/api/transfers";
    let draft = to_json(&CreateDraft {
        request_id: request_id(50),
        recipients: vec![email(PARTNER)],
        language: Language::En,
        download_receipts: false,
        retention_days: None,
        notification_text: None,
    });
    api.call("POST", drafts, drafts, spare(), Body::Json(draft))
        .await
        .refused(401, "session_invalid", "a draft with an ended session");
    for auth in [spare(), Auth::None] {
        let again = api.call("DELETE", path, path, auth, Body::None).await;
        assert_eq!(again.status, 204, "ending again, or nothing: {}", again.json);
    }
    api.call(
        "GET",
        path,
        path,
        Auth::Cookie(sessions.cookie.clone()),
        Body::None,
    )
    .await
    .expect(200, "the sender's other sessions stay");
}

/// Asks for a code, types it back with `bearer`; returns the cookie pair
/// (`kluis_session=…`) or the bearer token.
async fn verified(api: &Harness, address: &str, details: Body, bearer: bool) -> String {
    let path = "/api/sender/code";
    let requested = api
        .call("POST", path, path, Auth::None, details)
        .await
        .expect(200, "a code");
    let code = api.code_for(address).await;
    let mut body = json!({ "challenge_id": requested["challenge_id"], "code": code });
    if bearer {
        body["bearer"] = json!(true);
    }
    let verify = "/api/sender/verify";
    let answer = api
        .call("POST", verify, verify, Auth::None, Body::Json(body))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    api.check_session_transport("verify", &answer, &answer.json, bearer);
    assert_eq!(answer.json["sender"]["email"], address);
    if bearer {
        // A server that ignores the flag is reported by the transport
        // check; the flow goes on with the cookie's token, the same one.
        match answer.json["session_token"].as_str() {
            Some(token) => token.to_owned(),
            None => cookie_value(&answer),
        }
    } else {
        format!("kluis_session={}", cookie_value(&answer))
    }
}

fn cookie_value(answer: &Answer) -> String {
    let cookie = answer.set_cookie().expect("a session cookie");
    let pair = cookie.split(';').next().expect("name=value");
    pair.trim_start_matches("kluis_session=").to_owned()
}

/// The sent transfer the retrieve and manage steps work on.
struct Original {
    transfer: String,
    prepared: Prepared,
}

/// Recipients, files, password and transfer with the cookie session (the
/// bearer session for some steps), errors first where they leave no trace.
async fn wizard(api: &Harness, sessions: &Sessions) -> Original {
    let session = || Auth::Cookie(sessions.cookie.clone());
    let drafts = "/api/transfers";
    let draft = |recipients: &[&str]| {
        to_json(&CreateDraft {
            request_id: request_id(20),
            recipients: recipients.iter().map(|r| email(r)).collect(),
            language: Language::En,
            download_receipts: true,
            retention_days: Some(3),
            notification_text: None,
        })
    };
    api.call("POST", drafts, drafts, Auth::None, Body::Json(draft(&[PARTNER])))
        .await
        .refused(401, "session_invalid", "a draft without a session");
    api.call(
        "POST",
        drafts,
        drafts,
        session(),
        Body::Json(draft(&[PARTNER, PARTNER])),
    )
    .await
    .refused(422, "duplicate_recipient", "a recipient twice");
    let stranger = Auth::Cookie(sessions.stranger.clone());
    api.call("POST", drafts, drafts, stranger, Body::Json(draft(&[PARTNER])))
        .await
        .refused(403, "no_internal_party", "a stranger sending to a stranger");
    api.call(
        "POST",
        drafts,
        drafts,
        session(),
        Body::BadJson(json!({ "recipients": "x" })),
    )
    .await
    .refused(400, "malformed_json", "a draft body of the wrong shape");
    let created = api
        .call("POST", drafts, drafts, session(), Body::Json(draft(&[PARTNER])))
        .await
        .expect(201, "a draft");
    let transfer = created["transfer_id"].as_str().expect("an id").to_owned();
    let prepared = prepare(&transfer, "Dear partner, the figures.");

    let files_t = "/api/transfers/{id}/files";
    let files = format!("/api/transfers/{transfer}/files");
    let add = |bytes: u64| {
        Body::Json(to_json(&AddFile {
            file_id: prepared.file_id.parse().expect("an id"),
            ciphertext_bytes: bytes,
        }))
    };
    let size = prepared.object.len() as u64;
    // In the schema's range, but a last chunk of 5 bytes is shorter than
    // its tag: the one gap the schema documents instead of excluding.
    let gap = 14 + 262_160 + 5;
    api.call("POST", files_t, &files, session(), add(gap))
        .await
        .refused(400, "malformed", "a size the format cannot produce");
    api.call(
        "POST",
        files_t,
        &files,
        session(),
        Body::BadJson(json!({
            "file_id": prepared.file_id, "ciphertext_bytes": 29
        })),
    )
    .await
    .refused(400, "malformed", "a size below the smallest object");
    let elsewhere = format!("/api/transfers/{}/files", unknown_id());
    api.call("POST", files_t, &elsewhere, session(), add(size))
        .await
        .refused(404, "transfer_not_found", "a file for an unknown transfer");
    api.call("POST", files_t, &files, Auth::None, add(size))
        .await
        .refused(401, "session_invalid", "a file without a session");
    let upload = api
        .call(
            "POST",
            files_t,
            &files,
            Auth::Bearer(sessions.bearer.clone()),
            add(size),
        )
        .await
        .expect(201, "a file (bearer session)");
    let parts = upload["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 1, "a small file is one part");

    let key_t = "/api/transfers/{id}/key";
    let key = format!("/api/transfers/{transfer}/key");
    api.call(
        "PUT",
        key_t,
        &key,
        session(),
        Body::Json(to_json(&prepared.set_key)),
    )
    .await
    .refused(409, "upload_incomplete", "a key before the upload is complete");

    // A second file the sender drops again, half uploaded.
    let dropped = FileId::from_bytes([0x66; 16]).to_string();
    let second = api
        .call(
            "POST",
            files_t,
            &files,
            session(),
            Body::Json(to_json(&AddFile {
                file_id: dropped.parse().expect("an id"),
                ciphertext_bytes: size,
            })),
        )
        .await
        .expect(201, "a second file");
    let second_part = second["parts"][0].clone();
    put_part(second_part.clone(), prepared.object.clone()).await;
    let file_t = "/api/transfers/{id}/files/{file}";
    let file = format!("/api/transfers/{transfer}/files/{dropped}");
    api.call("DELETE", file_t, &file, Auth::None, Body::None)
        .await
        .refused(401, "session_invalid", "a removal without a session");
    let stray_file = format!("/api/transfers/{transfer}/files/not-an-id");
    api.call("DELETE", file_t, &stray_file, session(), Body::None)
        .await
        .refused(400, "malformed", "a malformed file id");
    let stray_transfer = format!("/api/transfers/nonsense/files/{dropped}");
    api.call("DELETE", file_t, &stray_transfer, session(), Body::None)
        .await
        .refused(400, "malformed", "a malformed transfer id");
    let unknown_transfer = format!("/api/transfers/{}/files/{dropped}", unknown_id());
    api.call("DELETE", file_t, &unknown_transfer, session(), Body::None)
        .await
        .refused(404, "transfer_not_found", "a removal from an unknown transfer");
    api.call("DELETE", file_t, &file, session(), Body::None)
        .await
        .expect(204, "the half-uploaded file removed");
    let (status, _) = try_put_part(second_part, prepared.object.clone()).await;
    assert_eq!(status, 404, "the removed file's upload is aborted in the store");
    api.call(
        "DELETE",
        file_t,
        &file,
        Auth::Bearer(sessions.bearer.clone()),
        Body::None,
    )
    .await
    .expect(204, "a retried removal (bearer session)");

    let etag = put_part(parts[0].clone(), prepared.object.clone()).await;
    let complete_t = "/api/transfers/{id}/files/{file}/complete";
    let complete = format!("/api/transfers/{transfer}/files/{}/complete", prepared.file_id);
    let part = |number: u32| {
        Body::Json(to_json(&CompleteFile {
            parts: vec![CompletedPart {
                number: PartNumber::new(number).expect("a part number"),
                etag: ETag::parse(&etag).expect("an ETag"),
            }],
        }))
    };
    api.call("POST", complete_t, &complete, session(), part(2))
        .await
        .refused(422, "parts_mismatch", "parts not numbered from 1");
    api.call(
        "POST",
        complete_t,
        &complete,
        session(),
        Body::BadJson(json!({ "parts": "x" })),
    )
    .await
    .refused(400, "malformed_json", "parts that are not a list");
    let stray = format!("/api/transfers/{transfer}/files/{}/complete", unknown_id());
    api.call("POST", complete_t, &stray, session(), part(1))
        .await
        .refused(404, "unknown_file", "an unknown file");
    let completed = api
        .call("POST", complete_t, &complete, session(), part(1))
        .await
        .expect(200, "the file completed");
    assert_eq!(completed["ciphertext_bytes"], size);

    let send_t = "/api/transfers/{id}/send";
    let send = format!("/api/transfers/{transfer}/send");
    // `null`, as the CLI sends it: no choices.
    api.call("POST", send_t, &send, session(), Body::Json(Value::Null))
        .await
        .refused(409, "invalid_transition", "sending a draft");
    // One byte over the largest sealed manifest: base64url of 131 108 zero
    // bytes is 174 811 `A`s (the schema's maxLength is 174 810, so the
    // request is one the spec itself refuses).
    let mut too_long = to_json(&prepared.set_key);
    too_long["manifest"] = json!("A".repeat(174_811));
    api.call("PUT", key_t, &key, session(), Body::BadJson(too_long))
        .await
        .refused(
            400,
            "malformed_json",
            "a sealed manifest one byte over the maximum",
        );
    let mut weak = prepared.set_key.clone();
    weak.kdf.m_kib = 1024;
    api.call("PUT", key_t, &key, session(), Body::Json(to_json(&weak)))
        .await
        .refused(422, "kdf_too_weak", "KDF parameters under the floor");
    api.call(
        "PUT",
        key_t,
        &key,
        session(),
        Body::Json(to_json(&prepared.set_key)),
    )
    .await
    .expect(200, "keyed");
    let kept = format!("/api/transfers/{transfer}/files/{}", prepared.file_id);
    api.call("DELETE", file_t, &kept, session(), Body::None)
        .await
        .refused(409, "invalid_transition", "a removal once keyed");

    api.call("POST", send_t, &send, Auth::None, Body::None)
        .await
        .refused(401, "session_invalid", "sending without a session");
    // The last choices, refused, each before anything is sent.
    let refusals = [
        (Body::BadJson(json!({ "recipients": [] })), 400, "field_missing"),
        (Body::BadJson(json!({ "language": null })), 400, "malformed_json"),
        (Body::Text("{}"), 415, "unsupported_media_type"),
        (
            Body::Json(json!({ "recipients": [PARTNER, PARTNER] })),
            422,
            "duplicate_recipient",
        ),
        (
            Body::Json(json!({ "retention_days": 31 })),
            422,
            "retention_too_long",
        ),
    ];
    for (body, status, code) in refusals {
        api.call("POST", send_t, &send, session(), body).await.refused(
            status,
            code,
            "a last choice against the rules",
        );
    }
    let choices = SendOptions {
        recipients: Some(vec![email(PARTNER), email(COLLEAGUE)]),
        language: Some(Language::En),
        download_receipts: Some(true),
        retention_days: Some(Some(5)),
        notification_text: Some(NotificationText::parse("Dear partner, the figures.").expect("a text")),
    };
    let sent = api
        .call("POST", send_t, &send, session(), Body::Json(to_json(&choices)))
        .await
        .expect(200, "sent with the last choices");
    assert_eq!(sent["sent_now"], true);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let expires = sent["expires_at"].as_u64().expect("a time");
    assert!(
        expires.abs_diff(now + 5 * 86_400) < 120,
        "the retention chosen at the send: {expires} vs now {now}"
    );
    let notice = api.mail_text(COLLEAGUE, "/retrieve/").await;
    assert!(notice.contains("Dear partner, the figures."), "{notice}");
    let again = api
        .call(
            "POST",
            send_t,
            &send,
            session(),
            Body::Json(json!({ "retention_days": 1 })),
        )
        .await
        .expect(200, "a retried send");
    assert_eq!(again["sent_now"], false);
    assert_eq!(
        again["expires_at"], sent["expires_at"],
        "a retry ignores its choices"
    );
    Original { transfer, prepared }
}

/// Retrieve as the partner: public info, unlock, download receipt, and a
/// reply (bearer and cookie forms). Returns the retrieval token, and the
/// reply's transfer id and bearer session.
async fn retrieve_steps(api: &Harness, original: &Original) -> (String, (String, String)) {
    let (id, token) = api.link(PARTNER, "retrieve").await;
    assert_eq!(id, original.transfer);
    let link = || Auth::Bearer(token.clone());
    let auth_key = &original.prepared.auth_key;

    let info_t = "/api/retrieve/{id}";
    let info = format!("/api/retrieve/{id}");
    api.call("GET", info_t, &info, Auth::None, Body::None)
        .await
        .refused(401, "token_invalid", "no retrieval token");
    let over_long = format!("/api/retrieve/{}", "a".repeat(kluis_http::MAX_TARGET_LEN));
    api.call("GET", info_t, &over_long, Auth::None, Body::None)
        .await
        .refused(414, "uri_too_long", "a request target over 8 KiB");
    api.call(
        "GET",
        info_t,
        &info,
        Auth::Bearer("not a token".to_owned()),
        Body::None,
    )
    .await
    .refused(401, "token_invalid", "a malformed retrieval token");
    api.call("GET", info_t, &info, Auth::Bearer(stranger_token()), Body::None)
        .await
        .refused(404, "transfer_not_found", "someone else's token");
    api.call("GET", info_t, "/api/retrieve/nonsense", link(), Body::None)
        .await
        .refused(400, "malformed", "a malformed transfer id");
    let public = api
        .call("GET", info_t, &info, link(), Body::None)
        .await
        .expect(200, "public info");
    assert_eq!(public["salt"], to_json(&original.prepared.set_key.salt));

    let unlock_t = "/api/retrieve/{id}/unlock";
    let unlock = format!("/api/retrieve/{id}/unlock");
    let proof = |key: &str| {
        Body::Json(to_json(&Unlock {
            auth_key: parse_auth(key),
        }))
    };
    api.call("POST", unlock_t, &unlock, link(), proof(&stranger_token()))
        .await
        .refused(401, "wrong_password", "a wrong auth key");
    api.call("POST", unlock_t, &unlock, link(), Body::Text("password"))
        .await
        .refused(415, "unsupported_media_type", "an unlock that is not JSON");
    let unlocked = api
        .call("POST", unlock_t, &unlock, link(), proof(auth_key))
        .await
        .expect(200, "unlocked");
    assert_eq!(
        unlocked["wrapped_key"],
        to_json(&original.prepared.set_key.wrapped_key)
    );
    assert_eq!(
        unlocked["files"][0]["file_id"],
        original.prepared.file_id.as_str()
    );

    let downloads_t = "/api/retrieve/{id}/downloads";
    let downloads = format!("/api/retrieve/{id}/downloads");
    let report = |file: &str| {
        Body::Json(to_json(&RecordDownload {
            auth_key: parse_auth(auth_key),
            file_id: file.parse().expect("an id"),
        }))
    };
    api.call("POST", downloads_t, &downloads, link(), report(&unknown_id()))
        .await
        .refused(404, "unknown_file", "a download of an unknown file");
    let recorded = api
        .call(
            "POST",
            downloads_t,
            &downloads,
            link(),
            report(&original.prepared.file_id),
        )
        .await
        .expect(200, "a download recorded");
    assert_eq!(recorded["receipt_sent"], true);

    let reply_t = "/api/retrieve/{id}/reply";
    let reply = format!("/api/retrieve/{id}/reply");
    // Built as JSON, not as the core's `Reply`: the `bearer` field is new.
    let answer = |bearer: Option<bool>, key: &str| {
        let mut body = json!({
            "request_id": request_id(30).to_string(),
            "auth_key": key,
            "name": "Pat Partner",
            "phone": "+44 20 7946 0000",
        });
        if let Some(bearer) = bearer {
            body["bearer"] = json!(bearer);
        }
        Body::Json(body)
    };
    api.call("POST", reply_t, &reply, link(), answer(None, &stranger_token()))
        .await
        .refused(401, "wrong_password", "a reply with a wrong auth key");
    api.call("POST", reply_t, &reply, Auth::None, answer(None, auth_key))
        .await
        .refused(401, "token_invalid", "a reply without a retrieval token");
    api.call(
        "POST",
        reply_t,
        &reply,
        link(),
        Body::BadJson(json!({ "request_id": 1 })),
    )
    .await
    .refused(400, "malformed_json", "a reply body of the wrong shape");
    let by_cookie = api
        .call("POST", reply_t, &reply, link(), answer(None, auth_key))
        .await;
    assert_eq!(by_cookie.status, 201, "{}", by_cookie.json);
    api.check_session_transport("reply", &by_cookie, &by_cookie.json["session"], false);
    let by_bearer = api
        .call("POST", reply_t, &reply, link(), answer(Some(true), auth_key))
        .await;
    assert_eq!(by_bearer.status, 201, "{}", by_bearer.json);
    api.check_session_transport("reply", &by_bearer, &by_bearer.json["session"], true);
    assert_eq!(
        by_bearer.json["transfer_id"], by_cookie.json["transfer_id"],
        "a retry finds the draft"
    );
    let session = match by_bearer.json["session"]["session_token"].as_str() {
        Some(token) => token.to_owned(),
        None => cookie_value(&by_bearer),
    };
    let transfer = by_bearer.json["transfer_id"].as_str().expect("an id").to_owned();
    (token, (transfer, session))
}

fn parse_auth(text: &str) -> AuthKey {
    AuthKey::parse(text).expect("a well-formed auth key")
}

/// The reply finished with its bearer session (files, password, transfer),
/// then retrieved by the original sender with wrong passwords until it
/// locks.
async fn reply_wizard_and_lock(api: &Harness, (transfer, session): &(String, String)) {
    let bearer = || Auth::Bearer(session.clone());
    let own = to_json(&CreateDraft {
        request_id: request_id(40),
        recipients: vec![email(SENDER)],
        language: Language::En,
        download_receipts: false,
        retention_days: None,
        notification_text: None,
    });
    api.call(
        "POST",
        "/api/transfers",
        "/api/transfers",
        bearer(),
        Body::Json(own),
    )
    .await
    .refused(403, "reply_session_only", "a reply's session starting a transfer");
    let prepared = prepare(transfer, "Signed and returned.");
    let files = format!("/api/transfers/{transfer}/files");
    let upload = api
        .call(
            "POST",
            "/api/transfers/{id}/files",
            &files,
            bearer(),
            Body::Json(to_json(&AddFile {
                file_id: prepared.file_id.parse().expect("an id"),
                ciphertext_bytes: prepared.object.len() as u64,
            })),
        )
        .await
        .expect(201, "a reply file");
    let etag = put_part(upload["parts"][0].clone(), prepared.object.clone()).await;
    let complete = format!("/api/transfers/{transfer}/files/{}/complete", prepared.file_id);
    let parts = CompleteFile {
        parts: vec![CompletedPart {
            number: PartNumber::new(1).expect("part 1"),
            etag: ETag::parse(&etag).expect("an ETag"),
        }],
    };
    api.call(
        "POST",
        "/api/transfers/{id}/files/{file}/complete",
        &complete,
        bearer(),
        Body::Json(to_json(&parts)),
    )
    .await
    .expect(200, "the reply file completed");
    let key = format!("/api/transfers/{transfer}/key");
    api.call(
        "PUT",
        "/api/transfers/{id}/key",
        &key,
        bearer(),
        Body::Json(to_json(&prepared.set_key)),
    )
    .await
    .expect(200, "the reply keyed");
    let send = format!("/api/transfers/{transfer}/send");
    let elsewhere = to_json(&SendOptions {
        recipients: Some(vec![email(SENDER)]),
        ..SendOptions::default()
    });
    api.call(
        "POST",
        "/api/transfers/{id}/send",
        &send,
        bearer(),
        Body::Json(elsewhere),
    )
    .await
    .refused(403, "reply_session_only", "a reply to other recipients");
    let described = api
        .call("GET", "/api/session", "/api/session", bearer(), Body::None)
        .await
        .expect(200, "the reply's session");
    assert_eq!(described["reply_only"], true, "{described}");
    api.call("POST", "/api/transfers/{id}/send", &send, bearer(), Body::None)
        .await
        .expect(200, "the reply sent");

    let (id, token) = api.link(SENDER, "retrieve").await;
    assert_eq!(&id, transfer, "the reply notice links the reply");
    let link = || Auth::Bearer(token.clone());
    let info = format!("/api/retrieve/{id}");
    let public = api
        .call("GET", "/api/retrieve/{id}", &info, link(), Body::None)
        .await
        .expect(200, "the reply's public info");
    assert!(public["in_reply_to"].is_string());

    let unlock = format!("/api/retrieve/{id}/unlock");
    let wrong = || {
        Body::Json(to_json(&Unlock {
            auth_key: parse_auth(&stranger_token()),
        }))
    };
    let mut locked = false;
    for _ in 0..12 {
        let answer = api
            .call("POST", "/api/retrieve/{id}/unlock", &unlock, link(), wrong())
            .await;
        match (answer.status, answer.json["code"].as_str()) {
            (401, Some("wrong_password")) => {}
            (423, Some("transfer_locked")) => {
                locked = true;
                break;
            }
            other => panic!("a wrong password answered {other:?}"),
        }
    }
    assert!(locked, "wrong passwords lock the transfer");
    api.call("GET", "/api/retrieve/{id}", &info, link(), Body::None)
        .await
        .refused(423, "transfer_locked", "a locked transfer's public info");
    let (managed, manage_token) = api.link(PARTNER, "manage").await;
    assert_eq!(&managed, transfer);
    let status = format!("/api/manage/{managed}");
    api.call(
        "GET",
        "/api/manage/{id}",
        &status,
        Auth::Bearer(manage_token),
        Body::None,
    )
    .await
    .refused(423, "transfer_locked", "a locked transfer's status");
}

/// Manage the original: status, revoke, and what is left after.
async fn manage_steps(api: &Harness, original: &Original, retrieval: &str) {
    let (id, token) = api.link(SENDER, "manage").await;
    assert_eq!(id, original.transfer);
    let manage = || Auth::Bearer(token.clone());
    let status_t = "/api/manage/{id}";
    let status = format!("/api/manage/{id}");
    api.call("GET", status_t, &status, Auth::None, Body::None)
        .await
        .refused(401, "token_invalid", "no manage token");
    api.call(
        "GET",
        status_t,
        &status,
        Auth::Bearer(stranger_token()),
        Body::None,
    )
    .await
    .refused(404, "transfer_not_found", "a wrong manage token");
    let seen = api
        .call("GET", status_t, &status, manage(), Body::None)
        .await
        .expect(200, "the status");
    assert_eq!(
        seen["recipients"][0]["downloads"][0]["file_id"],
        original.prepared.file_id.as_str()
    );

    let revoke_t = "/api/manage/{id}/revoke";
    let revoke = format!("/api/manage/{id}/revoke");
    api.call(
        "POST",
        revoke_t,
        &revoke,
        Auth::Bearer(stranger_token()),
        Body::None,
    )
    .await
    .refused(404, "transfer_not_found", "a revoke with a wrong token");
    api.call("POST", revoke_t, &revoke, manage(), Body::None)
        .await
        .expect(200, "revoked");
    api.call("POST", revoke_t, &revoke, manage(), Body::None)
        .await
        .refused(410, "transfer_gone", "a second revoke");
    api.call("GET", status_t, &status, manage(), Body::None)
        .await
        .refused(410, "transfer_gone", "a revoked transfer's status");

    let link = || Auth::Bearer(retrieval.to_owned());
    let gone = api
        .call(
            "GET",
            "/api/retrieve/{id}",
            &format!("/api/retrieve/{id}"),
            link(),
            Body::None,
        )
        .await;
    assert_eq!(
        gone.json["reason"], "revoked",
        "a link holder is told why: {}",
        gone.json
    );
    gone.refused(410, "transfer_gone", "a revoked transfer's public info");
    let stranger = api
        .call(
            "GET",
            "/api/retrieve/{id}",
            &format!("/api/retrieve/{id}"),
            Auth::Bearer(stranger_token()),
            Body::None,
        )
        .await;
    assert!(
        stranger.json.get("reason").is_none(),
        "anyone else is not: {}",
        stranger.json
    );
    stranger.refused(
        410,
        "transfer_gone",
        "a revoked transfer, asked with another token",
    );
    let unlock = Body::Json(to_json(&Unlock {
        auth_key: parse_auth(&original.prepared.auth_key),
    }));
    let path = format!("/api/retrieve/{id}/unlock");
    api.call("POST", "/api/retrieve/{id}/unlock", &path, link(), unlock)
        .await
        .refused(410, "transfer_gone", "unlocking a revoked transfer");
}

/// Every documented path answered with a method it does not take: 405
/// `method_not_allowed` with `Allow`, as each operation documents.
async fn wrong_methods(api: &Harness) {
    for operation in api.spec.operations() {
        let (method, template) = &operation;
        assert!(
            api.spec.statuses(&operation).contains(&405),
            "{method} {template} does not document 405"
        );
        let schema = api
            .spec
            .response(&operation, 405)
            .and_then(|r| r["content"]["application/json"].get("schema"))
            .unwrap_or_else(|| panic!("{method} {template}: 405 has no JSON schema"))
            .clone();
        let path = template
            .replace("{id}", &unknown_id())
            .replace("{file}", &unknown_id());
        let url = format!("{}{path}", api.base);
        let answer = perform("PATCH".to_owned(), url, Auth::None, Body::None).await;
        assert_eq!(answer.status, 405, "PATCH {template}: {}", answer.json);
        let allow = answer
            .headers
            .get(http::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            allow.contains(method.as_str()),
            "PATCH {template}: Allow is {allow:?}"
        );
        if let Err(e) = api.spec.validate(&schema, &answer.json) {
            panic!("PATCH {template}: the 405 body does not fit the spec: {e}");
        }
    }
}

/// What this test means to cover: every operation with these statuses.
const EXERCISED: &[(&str, &str, &[u16])] = &[
    ("GET", "/api/health", &[200]),
    ("GET", "/api/policy", &[200]),
    ("POST", "/api/sender/code", &[200, 400, 413, 415, 429]),
    ("POST", "/api/sender/verify", &[200, 400, 401, 410, 429]),
    ("GET", "/api/session", &[200, 401]),
    ("DELETE", "/api/session", &[204]),
    ("POST", "/api/transfers", &[201, 400, 401, 403, 422]),
    ("POST", "/api/transfers/{id}/files", &[201, 400, 401, 404]),
    (
        "POST",
        "/api/transfers/{id}/files/{file}/complete",
        &[200, 400, 404, 422],
    ),
    (
        "DELETE",
        "/api/transfers/{id}/files/{file}",
        &[204, 400, 401, 404, 409],
    ),
    ("PUT", "/api/transfers/{id}/key", &[200, 409, 422]),
    (
        "POST",
        "/api/transfers/{id}/send",
        &[200, 400, 401, 403, 409, 415, 422],
    ),
    ("GET", "/api/retrieve/{id}", &[200, 400, 401, 404, 410, 423]),
    ("POST", "/api/retrieve/{id}/unlock", &[200, 401, 410, 415, 423]),
    ("POST", "/api/retrieve/{id}/downloads", &[200, 404]),
    ("POST", "/api/retrieve/{id}/reply", &[201, 400, 401]),
    ("GET", "/api/manage/{id}", &[200, 401, 404, 410, 423]),
    ("POST", "/api/manage/{id}/revoke", &[200, 404, 410]),
];

/// Every documented operation was exercised with each status meant, and
/// its documented success status among them.
fn assert_everything_exercised(api: &Harness) {
    let seen = api.seen.lock().expect("not poisoned");
    let meant: BTreeSet<Operation> = EXERCISED
        .iter()
        .map(|(m, t, _)| ((*m).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(
        meant,
        api.spec.operations(),
        "EXERCISED and docs/api.yaml list other operations"
    );
    for (method, template, statuses) in EXERCISED {
        let operation = ((*method).to_owned(), (*template).to_owned());
        let success: Vec<u16> = api
            .spec
            .statuses(&operation)
            .into_iter()
            .filter(|s| (200..300).contains(s))
            .collect();
        for status in success.iter().chain(statuses.iter()) {
            assert!(
                seen.contains(&((*method).to_owned(), (*template).to_owned(), *status)),
                "{method} {template} was never answered with {status}"
            );
        }
    }
}
