//! [`Runner`]: one handler for the whole port. Signed object URLs stream
//! straight to and from the disk store; `/api` goes to the routing table;
//! `/dev/mail` to the mailbox; everything else to the static pages.

use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{Either, Full};
use hyper::body::Body;
use kluis_embedded::ObjectBody;
use kluis_http::{Api, response};

use crate::data::Deps;
use crate::{mailbox, routes, statics};

/// Where the object store's signed URLs are mounted.
pub const OBJECTS_PATH: &str = "/objects";

/// The body of any answer: a streamed object or bytes in memory.
pub type RunnerBody = Either<ObjectBody, Full<Bytes>>;

/// Everything the runner serves.
#[derive(Debug, Clone)]
pub struct Runner {
    deps: Deps,
    pages: Api,
    mailbox: bool,
}

impl Runner {
    /// The runner over `deps`, serving the pages in `web` and, when
    /// `outbox` is given, the dev mailbox over that folder.
    pub fn new(deps: Deps, web: PathBuf, outbox: Option<PathBuf>) -> Self {
        let api = routes::api(&deps.service);
        let mailbox = outbox.is_some();
        let pages = Api::new(move |request: Request<Bytes>| {
            let (api, web, outbox) = (api.clone(), web.clone(), outbox.clone());
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
                statics::serve(&web, &request).await
            }
        });
        Self { deps, pages, mailbox }
    }

    /// Whether `/dev/mail` is served.
    pub const fn has_mailbox(&self) -> bool {
        self.mailbox
    }

    /// The adapters the runner serves from.
    pub fn deps(&self) -> &Deps {
        &self.deps
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<RunnerBody>
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = request.uri().path();
        if path == OBJECTS_PATH || path.starts_with("/objects/") {
            let started = Instant::now();
            let method = request.method().clone();
            let mut answer = self.deps.objects.serve(request).await;
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
