//! [`Runner`]: one handler for the whole port. Signed object URLs (embedded
//! backend) stream straight to and from the disk store; `/api` goes to the
//! functions' routing table; `/dev/mail` to the mailbox; everything else to
//! the static pages.

use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{Either, Full};
use hyper::body::Body;
use kluis_core::link::LinkKind;
use kluis_core::service::ServiceError;
use kluis_core::service::expiry::ExpiryReport;
use kluis_embedded::{DiskObjectStore, ObjectBody};
use kluis_http::{Api, Router, response};

use crate::backend::ExpireJob;
use crate::clock::DevClock;
use crate::{mailbox, statics};

/// Where the object store's signed URLs are mounted.
pub const OBJECTS_PATH: &str = "/objects";

/// The body of any answer: a streamed object or bytes in memory.
pub type RunnerBody = Either<ObjectBody, Full<Bytes>>;

/// What a runner is made of, whichever backend it has.
#[derive(Clone)]
pub struct Parts {
    /// The `/api` routing table (see [`crate::routes::api`]).
    pub api: Router,
    /// The static pages.
    pub web: PathBuf,
    /// The outbox folder the dev mailbox shows, if it is served.
    pub outbox: Option<PathBuf>,
    /// The disk object store whose signed URLs the runner serves (the
    /// embedded backend; on AWS the URLs point at S3 itself).
    pub objects: Option<DiskObjectStore>,
    /// The service's clock.
    pub clock: DevClock,
    /// One run of the `expire` function.
    pub expire: ExpireJob,
}

/// Everything the runner serves.
#[derive(Clone)]
pub struct Runner {
    api: Router,
    pages: Api,
    objects: Option<DiskObjectStore>,
    mailbox: bool,
    clock: DevClock,
    expire: ExpireJob,
}

impl core::fmt::Debug for Runner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Runner")
            .field("api", &self.api)
            .field("mailbox", &self.mailbox)
            .finish_non_exhaustive()
    }
}

/// The page a link's path opens: `/retrieve/<id>` and `/manage/<id>` are
/// the pages of those folders (the id is the page's to read; the token is
/// in the fragment, which never arrives here).
fn page_path(path: &str) -> Option<&'static str> {
    let (page, rest) = [LinkKind::Retrieve, LinkKind::Manage]
        .into_iter()
        .find_map(|kind| Some((kind.segment(), path.strip_prefix(kind.segment())?)))?;
    let id_like = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    id_like.then_some(page)
}

impl Runner {
    /// The runner over `parts`.
    pub fn new(parts: Parts) -> Self {
        let Parts {
            api,
            web,
            outbox,
            objects,
            clock,
            expire,
        } = parts;
        let mailbox = outbox.is_some();
        let table = api.clone();
        let pages = Api::new(move |mut request: Request<Bytes>| {
            let (api, web, outbox) = (table.clone(), web.clone(), outbox.clone());
            async move {
                let path = request.uri().path();
                if path == "/api" || path.starts_with("/api/") {
                    return api.dispatch(request).await;
                }
                if let Some(outbox) = &outbox
                    && let Some(answer) = mailbox::serve(outbox, path).await
                {
                    return answer;
                }
                if let Some(page) = page_path(path) {
                    *request.uri_mut() = Uri::from_static(page);
                }
                statics::serve(&web, &request).await
            }
        });
        Self {
            api,
            pages,
            objects,
            mailbox,
            clock,
            expire,
        }
    }

    /// Whether `/dev/mail` is served.
    pub const fn has_mailbox(&self) -> bool {
        self.mailbox
    }

    /// The `/api` routing table.
    pub fn api(&self) -> &Router {
        &self.api
    }

    /// The service's clock: tests move it forward to let time pass.
    pub fn clock(&self) -> &DevClock {
        &self.clock
    }

    /// Runs the `expire` function once now (the runner also runs it every
    /// [`crate::EXPIRY_EVERY`]).
    pub async fn expire_now(&self) -> Result<ExpiryReport, ServiceError> {
        (self.expire)().await
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<RunnerBody>
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = request.uri().path();
        // An over-long target is left to the pages' `Api`, which answers it
        // with the JSON 414.
        if let Some(objects) = &self.objects
            && (path == OBJECTS_PATH || path.starts_with("/objects/"))
            && kluis_http::check_target(request.uri()).is_ok()
        {
            let started = Instant::now();
            let method = request.method().clone();
            let mut answer = objects.serve(request).await;
            response::add_security_headers(answer.headers_mut());
            response::add_no_store(answer.headers_mut());
            kluis_http::log::access(&method, "/objects/{key}", answer.status(), started.elapsed());
            return answer.map(Either::Left);
        }
        self.pages
            .call_body(request)
            .await
            .map(|b| Either::Right(Full::new(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_paths_open_their_pages_and_nothing_else_is_rewritten() {
        assert_eq!(page_path("/retrieve/AbC-_9"), Some("/retrieve/"));
        assert_eq!(page_path("/manage/AbC"), Some("/manage/"));
        assert_eq!(page_path("/retrieve/"), None);
        assert_eq!(page_path("/retrieve/../x"), None);
        assert_eq!(page_path("/retrieve/a/b"), None);
        assert_eq!(page_path("/pkg/x.js"), None);
    }
}
