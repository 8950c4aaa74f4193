//! The HTTP side of the disk store: answers the URLs it signed. Framework
//! agnostic (`http::Request` in, `http::Response` out), so the
//! single-machine runner mounts it under the base URL's path and tests
//! serve it with hyper.
//!
//! - `PUT <mount>/<key>?upload=…&part=…&expires=…&sig=…` stores one part,
//!   streamed to disk and hashed on the way; answers 200 with its `ETag`;
//! - `GET <mount>/<key>?[range=a-b&]expires=…&sig=…` streams the object's
//!   parts in order, or (with the signed range, which the `Range` header
//!   MUST repeat) 206 with `Content-Range` and only the parts the range
//!   touches; a URL without a signed range also honours the client's own
//!   `Range: bytes=first-[last]`, so a broken-off download resumes;
//! - `OPTIONS` answers CORS preflights: the pages live on another origin.
//!
//! Every refusal is a 4xx with a JSON `{"code", "message"}`; only a failing
//! disk is a 5xx: 503 `backend_unavailable`, as the API answers a failing port.

use std::path::Path;

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    RANGE,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::BodyExt as _;
use kluis_core::error_body::ErrorBody;
use kluis_core::file::PartNumber;
use kluis_core::ports::{ObjectKey, PortError};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use super::body::Segment;
use super::layout::{is_upload_id, parse_key, part_prefix};
use super::signing::SignedFields;
use super::{DiskObjectStore, ObjectBody, StoredPart, is_not_found, object_parts};

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The path is not under the store's mount.
    #[error("no such path")]
    NotMounted,
    /// Neither GET, PUT nor OPTIONS.
    #[error("method not allowed")]
    Method,
    /// The path does not name an object key.
    #[error("the path does not name an object")]
    MalformedKey,
    /// The query is missing a field, repeats one or has an unknown one.
    #[error("the URL's query is malformed")]
    MalformedUrl,
    /// The signature does not cover this request.
    #[error("the URL's signature is not valid for this request")]
    BadSignature,
    /// The URL has expired.
    #[error("the URL has expired")]
    Expired,
    /// The `Range` header differs from the signed range (or none was signed).
    #[error("the Range header is not the one signed")]
    RangeNotSigned,
    /// The signed range lies outside the object.
    #[error("the range lies outside the object")]
    RangeNotSatisfiable,
    /// No such upload (never made, completed or aborted).
    #[error("no such upload")]
    NoSuchUpload,
    /// No such object.
    #[error("no such object")]
    NoSuchObject,
    /// The part is larger than the store accepts.
    #[error("the part is too large")]
    TooLarge,
    /// The request body could not be read.
    #[error("the request body could not be read")]
    Body,
    /// The disk failed.
    #[error("object store I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl ServeError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotMounted | Self::NoSuchUpload | Self::NoSuchObject => StatusCode::NOT_FOUND,
            Self::Method => StatusCode::METHOD_NOT_ALLOWED,
            Self::MalformedKey | Self::MalformedUrl | Self::Body => StatusCode::BAD_REQUEST,
            Self::BadSignature | Self::Expired | Self::RangeNotSigned => StatusCode::FORBIDDEN,
            Self::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            // A failing disk is a failing backend, answered as the API
            // answers one (kluis-core's one rule), not as a bug.
            Self::Io(_) => {
                StatusCode::from_u16(PortError::BACKEND_STATUS).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotMounted => "not_found",
            Self::Method => "method_not_allowed",
            Self::MalformedKey => "malformed_key",
            Self::MalformedUrl => "malformed_url",
            Self::BadSignature => "signature_invalid",
            Self::Expired => "url_expired",
            Self::RangeNotSigned => "range_not_signed",
            Self::RangeNotSatisfiable => "range_not_satisfiable",
            Self::NoSuchUpload => "no_such_upload",
            Self::NoSuchObject => "no_such_object",
            Self::TooLarge => "part_too_large",
            Self::Body => "body_unreadable",
            Self::Io(_) => PortError::BACKEND_CODE,
        }
    }
}

/// The query of a signed URL, each field at most once.
#[derive(Debug, Default)]
struct Query<'a> {
    upload: Option<&'a str>,
    part: Option<&'a str>,
    range: Option<&'a str>,
    expires: Option<&'a str>,
    sig: Option<&'a str>,
}

fn parse_query(query: &str) -> Result<Query<'_>, ServeError> {
    let mut parsed = Query::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').ok_or(ServeError::MalformedUrl)?;
        let slot = match name {
            "upload" => &mut parsed.upload,
            "part" => &mut parsed.part,
            "range" => &mut parsed.range,
            "expires" => &mut parsed.expires,
            "sig" => &mut parsed.sig,
            _ => return Err(ServeError::MalformedUrl),
        };
        if slot.replace(value).is_some() {
            return Err(ServeError::MalformedUrl);
        }
    }
    Ok(parsed)
}

/// Adds the CORS headers every answer carries: signed URLs are bearer
/// capabilities, so any origin may use one (as with S3 presigned URLs).
fn with_cors(mut response: Response<ObjectBody>) -> Response<ObjectBody> {
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("etag, content-range, content-length"),
    );
    response
}

fn refusal(error: &ServeError) -> Response<ObjectBody> {
    // The disk's own error names paths: the client gets the fixed text.
    let message = match error {
        ServeError::Io(_) => PortError::BACKEND_MESSAGE.to_owned(),
        other => other.to_string(),
    };
    let body = ErrorBody::new(error.code(), message).to_json();
    let mut response = Response::new(ObjectBody::bytes(body));
    *response.status_mut() = error.status();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A request that passed the signature and expiry checks.
struct Authorised<'a> {
    key: ObjectKey,
    query: Query<'a>,
}

impl DiskObjectStore {
    /// Answers one request for a signed URL of this store. Never panics on
    /// input; refusals are 4xx with a JSON code (see [`ServeError`]).
    pub async fn serve<B>(&self, request: Request<B>) -> Response<ObjectBody>
    where
        B: Body<Data = Bytes> + Send + Unpin,
    {
        let answer = match *request.method() {
            Method::OPTIONS => Ok(preflight()),
            Method::PUT => self.put_part(request).await,
            Method::GET => self.get_object(&request).await,
            _ => Err(ServeError::Method),
        };
        with_cors(answer.unwrap_or_else(|e| refusal(&e)))
    }

    /// Checks the path, the query, the signature and the expiry.
    fn authorise<'a, B>(&self, request: &'a Request<B>) -> Result<Authorised<'a>, ServeError> {
        let path = request.uri().path();
        let key_text = path
            .strip_prefix(self.inner.mount.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or(ServeError::NotMounted)?;
        let key = parse_key(key_text).ok_or(ServeError::MalformedKey)?;
        let query = parse_query(request.uri().query().unwrap_or(""))?;
        let (Some(expires), Some(sig)) = (query.expires, query.sig) else {
            return Err(ServeError::BadSignature);
        };
        let fields = SignedFields {
            method: request.method().as_str(),
            path,
            upload: query.upload.unwrap_or(""),
            part: query.part.unwrap_or(""),
            range: query.range.unwrap_or(""),
            expires,
        };
        if !self.inner.key.verify(&fields, sig) {
            return Err(ServeError::BadSignature);
        }
        let expires: u64 = expires.parse().map_err(|_| ServeError::MalformedUrl)?;
        if self.inner.clock.now().unix_seconds() > expires {
            return Err(ServeError::Expired);
        }
        Ok(Authorised { key, query })
    }

    async fn put_part<B>(&self, request: Request<B>) -> Result<Response<ObjectBody>, ServeError>
    where
        B: Body<Data = Bytes> + Send + Unpin,
    {
        let (key, upload, part) = {
            let authorised = self.authorise(&request)?;
            let (Some(upload), Some(part), None) = (
                authorised.query.upload,
                authorised.query.part,
                authorised.query.range,
            ) else {
                return Err(ServeError::MalformedUrl);
            };
            let part = part
                .parse::<u32>()
                .ok()
                .and_then(|n| PartNumber::new(n).ok())
                .ok_or(ServeError::MalformedUrl)?;
            if !is_upload_id(upload) {
                return Err(ServeError::MalformedUrl);
            }
            let upload = kluis_core::file::UploadId::parse(upload).map_err(|_| ServeError::MalformedUrl)?;
            (authorised.key, upload, part)
        };
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.inner.max_part_bytes) {
            return Err(ServeError::TooLarge);
        }
        let folder = self
            .inner
            .layout
            .upload(&key, &upload)
            .ok_or(ServeError::NoSuchUpload)?;
        if !tokio::fs::try_exists(&folder).await? {
            return Err(ServeError::NoSuchUpload);
        }
        let temp = self
            .temp_path()
            .map_err(|_| ServeError::Io(std::io::ErrorKind::Other.into()))?;
        let hex = match self.receive(request.into_body(), &temp).await {
            Ok(hex) => hex,
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(e);
            }
        };
        let prefix = part_prefix(part);
        let name = format!("{prefix}{hex}");
        if let Err(e) = tokio::fs::rename(&temp, folder.join(&name)).await {
            let _ = tokio::fs::remove_file(&temp).await;
            // The upload was completed or aborted while the part streamed in.
            return Err(if is_not_found(&e) {
                ServeError::NoSuchUpload
            } else {
                e.into()
            });
        }
        // A part uploaded again replaces the earlier one, as in S3.
        remove_other_versions(&folder, &prefix, &name).await?;
        let mut response = Response::new(ObjectBody::empty());
        let etag = HeaderValue::from_str(&format!("\"{hex}\"")).map_err(|_| ServeError::Body)?;
        response.headers_mut().insert(ETAG, etag);
        Ok(response)
    }

    /// Streams a request body into `temp`, refusing it past the part limit;
    /// returns the hex SHA-256 of what was written (the part's ETag).
    async fn receive<B>(&self, mut body: B, temp: &Path) -> Result<String, ServeError>
    where
        B: Body<Data = Bytes> + Send + Unpin,
    {
        let mut file = tokio::fs::File::create(temp).await?;
        let mut hasher = Sha256::new();
        let mut total: u64 = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| ServeError::Body)?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers carry nothing we store
            };
            total = total.saturating_add(data.len() as u64);
            if total > self.inner.max_part_bytes {
                return Err(ServeError::TooLarge);
            }
            hasher.update(&data);
            file.write_all(&data).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }

    async fn get_object<B>(&self, request: &Request<B>) -> Result<Response<ObjectBody>, ServeError> {
        let authorised = self.authorise(request)?;
        if authorised.query.upload.is_some() || authorised.query.part.is_some() {
            return Err(ServeError::MalformedUrl);
        }
        let header = request.headers().get(RANGE).map(|v| v.as_bytes());
        let signed = authorised.query.range;
        let parts = match object_parts(self.inner.layout.object(&authorised.key)).await {
            Ok(parts) => parts,
            Err(e) if is_not_found(&e) => return Err(ServeError::NoSuchObject),
            Err(e) => return Err(e.into()),
        };
        let size: u64 = parts.iter().map(|p| p.len).sum();
        let range = match (signed, header) {
            (None, None) => None,
            (Some(signed), Some(header)) if header == format!("bytes={signed}").as_bytes() => {
                let (first, last) = signed.split_once('-').ok_or(ServeError::MalformedUrl)?;
                let first: u64 = first.parse().map_err(|_| ServeError::MalformedUrl)?;
                let last: u64 = last.parse().map_err(|_| ServeError::MalformedUrl)?;
                Some((first, last))
            }
            // A whole-object URL already grants every byte, so, as S3 does
            // for a presigned GET, it honours a plain `Range` header: an
            // interrupted download resumes where it broke off. A header
            // that is not one `bytes=first-[last]` range is ignored, as
            // RFC 9110 says, and the whole object is served.
            (None, Some(header)) => resume_range(header, size),
            _ => return Err(ServeError::RangeNotSigned),
        };
        let Some((first, last)) = range else {
            let mut response = Response::new(ObjectBody::segments(window(&parts, 0, size)));
            let headers = response.headers_mut();
            headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            return Ok(response);
        };
        if first > last || last >= size {
            let mut response = refusal(&ServeError::RangeNotSatisfiable);
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(CONTENT_RANGE, value);
            }
            return Ok(response);
        }
        let len = last - first + 1;
        let mut response = Response::new(ObjectBody::segments(window(&parts, first, len)));
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let headers = response.headers_mut();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        let content_range = HeaderValue::from_str(&format!("bytes {first}-{last}/{size}"))
            .map_err(|_| ServeError::MalformedUrl)?;
        headers.insert(CONTENT_RANGE, content_range);
        Ok(response)
    }
}

/// The range a client's own `Range: bytes=first-[last]` header asks of an
/// object of `size` bytes (`last` clamped to the end); `None` for any other
/// form, which is then ignored. A `first` beyond the end stays, so the
/// answer is 416 as RFC 9110 says.
fn resume_range(header: &[u8], size: u64) -> Option<(u64, u64)> {
    let spec = core::str::from_utf8(header).ok()?.strip_prefix("bytes=")?;
    let (first, last) = spec.split_once('-')?;
    let first: u64 = first.parse().ok()?;
    let last = match last {
        "" => size.saturating_sub(1).max(first),
        last => last.parse::<u64>().ok()?.min(size.saturating_sub(1).max(first)),
    };
    Some((first, last))
}

/// The pieces of `parts` (laid end to end) that hold the `len` bytes from
/// byte `first`: parts before `first` are skipped, the first one used from
/// inside, the last one cut short.
fn window(parts: &[StoredPart], first: u64, len: u64) -> Vec<Segment> {
    let end = first.saturating_add(len);
    let mut segments = Vec::new();
    let mut start = 0;
    for part in parts {
        let stop = start + part.len;
        if stop > first && start < end {
            let skip = first.saturating_sub(start);
            segments.push(Segment {
                path: part.path.clone(),
                skip,
                len: stop.min(end) - start - skip,
            });
        }
        if stop >= end {
            break;
        }
        start = stop;
    }
    segments
}

fn preflight() -> Response<ObjectBody> {
    let mut response = Response::new(ObjectBody::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, PUT"));
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("range, content-type"),
    );
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// Removes the files of the same part but another content.
async fn remove_other_versions(folder: &Path, prefix: &str, keep: &str) -> Result<(), ServeError> {
    let mut entries = tokio::fs::read_dir(folder).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) && name != keep {
            match tokio::fs::remove_file(entry.path()).await {
                Err(e) if !is_not_found(&e) => return Err(e.into()),
                _ => {}
            }
        }
    }
    Ok(())
}
