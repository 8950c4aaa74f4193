//! The HTTP client: JSON calls to the kluis API and the presigned object
//! requests, over one blocking `ureq` agent.
//!
//! Error answers are turned into [`Error::Api`] with the API's own
//! `{code, message}`; transport failures never quote a URL, because a
//! presigned URL is a capability and an API URL may sit next to a token.

use std::time::Duration;

use kluis_core::error_body::ErrorBody;
use kluis_core::service::SignedRequest;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::retry::Retry;

/// Largest JSON answer read (the biggest, `unlock`, holds a ≤ 1 MiB sealed
/// manifest in base64 and one URL per file).
const MAX_JSON: u64 = 8 << 20;

/// A client of one kluis deployment. Cheap to clone (the agent is shared).
#[derive(Clone)]
pub struct Api {
    base: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).finish()
    }
}

impl Api {
    /// A client for the API at `base` (e.g. `https://kluis.example.nl`).
    pub fn new(base: &str) -> Result<Self> {
        let base = base.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.contains(['#', '?']) {
            return Err(Error::Usage(format!(
                "--api must be an http(s) address without query or fragment, not {base:?}"
            )));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            // A part is 8 MiB: generous for a slow uplink, but a dead
            // server is noticed and the part retried.
            .timeout_send_body(Some(Duration::from_secs(600)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_recv_body(Some(Duration::from_secs(600)))
            .user_agent(concat!("kluis-cli/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            base: base.to_owned(),
            agent: config.into(),
        })
    }

    /// The base address.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST {base}{path}` with a JSON body and an optional bearer token.
    pub(crate) fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: &B,
    ) -> Result<T> {
        let json = to_json(body)?;
        retrying(|| {
            let mut request = self
                .agent
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json");
            if let Some(token) = bearer {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            json_answer(request.send(&json[..]), path)
        })
    }

    /// `PUT {base}{path}` with a JSON body and a bearer token.
    pub(crate) fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        bearer: &str,
        body: &B,
    ) -> Result<T> {
        let json = to_json(body)?;
        retrying(|| {
            let request = self
                .agent
                .put(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {bearer}"));
            json_answer(request.send(&json[..]), path)
        })
    }

    /// `GET {base}{path}` with a bearer token.
    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str, bearer: &str) -> Result<T> {
        retrying(|| {
            let request = self
                .agent
                .get(format!("{}{path}", self.base))
                .header("authorization", format!("Bearer {bearer}"));
            json_answer(request.call(), path)
        })
    }

    /// PUTs one part to its presigned URL; returns the part's ETag.
    pub(crate) fn put_part(&self, part: &SignedRequest, body: &[u8]) -> Result<String> {
        let mut request = self.agent.put(&part.url);
        for (name, value) in &part.headers {
            request = request.header(name, value);
        }
        let mut answer = request.send(body).map_err(transport("uploading a part"))?;
        if !answer.status().is_success() {
            return Err(refusal(&mut answer));
        }
        let etag = answer
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| Error::Protocol("a part upload was answered without an ETag".into()))?;
        // Read the (empty) body to the end so the connection goes back to the pool.
        let _ = answer.body_mut().read_to_vec();
        Ok(etag)
    }

    /// GETs a presigned download; returns the body as a reader and its
    /// declared length.
    pub(crate) fn download(
        &self,
        download: &SignedRequest,
    ) -> Result<(ureq::BodyReader<'static>, Option<u64>)> {
        let mut request = self.agent.get(&download.url);
        for (name, value) in &download.headers {
            request = request.header(name, value);
        }
        let mut answer = request.call().map_err(transport("downloading a file"))?;
        if !answer.status().is_success() {
            return Err(refusal(&mut answer));
        }
        let length = answer.body().content_length();
        Ok((answer.into_body().into_reader(), length))
    }
}

/// Tries of one API call (see [`crate::retry`]).
const API_RETRY: Retry = Retry {
    attempts: 3,
    first_wait: Duration::from_millis(500),
};

fn retrying<T>(call: impl FnMut() -> Result<T>) -> Result<T> {
    API_RETRY.run(call, || true, |_, _| {})
}

/// The JSON body; wiped after use, since it may hold a code or an auth key.
fn to_json<B: Serialize>(body: &B) -> Result<Zeroizing<Vec<u8>>> {
    serde_json::to_vec(body)
        .map(Zeroizing::new)
        .map_err(|e| Error::Protocol(e.to_string()))
}

fn transport(what: &'static str) -> impl Fn(ureq::Error) -> Error {
    move |error| Error::Transport(format!("{what}: {}", describe(&error)))
}

/// A transport error in words, without any URL it may carry.
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(what) => format!("timed out ({what})"),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Tls(what) => format!("TLS: {what}"),
        ureq::Error::BadUri(_) => "invalid address".into(),
        _ => "the connection failed".into(),
    }
}

/// Reads a JSON answer, or the API's refusal.
fn json_answer<T: DeserializeOwned>(
    answer: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    path: &str,
) -> Result<T> {
    // The path names the route only; tokens never go in paths.
    let mut answer = answer.map_err(|e| Error::Transport(format!("{path}: {}", describe(&e))))?;
    if !answer.status().is_success() {
        return Err(refusal(&mut answer));
    }
    let bytes = answer
        .body_mut()
        .with_config()
        .limit(MAX_JSON)
        .read_to_vec()
        .map_err(|e| Error::Transport(format!("{path}: {}", describe(&e))))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Protocol(format!("{path}: {e}")))
}

/// The API's `{code, message}`, or the bare status when the body is not one.
fn refusal(answer: &mut ureq::http::Response<ureq::Body>) -> Error {
    let status = answer.status().as_u16();
    let body = answer
        .body_mut()
        .with_config()
        .limit(64 << 10)
        .read_to_vec()
        .unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(ErrorBody { code, message, .. }) => Error::Api {
            status,
            code,
            message,
        },
        Err(_) => Error::Api {
            status,
            code: format!("http_{status}"),
            message: answer
                .status()
                .canonical_reason()
                .unwrap_or("no details")
                .to_owned(),
        },
    }
}
