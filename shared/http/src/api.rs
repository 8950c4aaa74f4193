//! [`Api`]: a handler plus what every answer needs, whichever way it is
//! served: the body limit, panic containment, security headers,
//! `Cache-Control: no-store` and the access-log line.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Body;

use crate::body::read_limited;
use crate::error::ApiError;
use crate::router::{BoxHandler, RouteTemplate, Router, boxed};
use crate::{log, response};

/// The largest request body without [`Api::body_limit`]: API requests are
/// small JSON documents (ciphertext goes to object storage, never here).
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// How long a request body may take to arrive without
/// [`Api::body_deadline`]: 256 KiB in 30 s is under 9 KB/s, slower than
/// any client that is really sending.
pub const DEFAULT_BODY_DEADLINE: Duration = Duration::from_secs(30);

/// Longest request target (path and query) an [`Api`] reads. Far above any
/// route's (the longest is about 90 characters) and far below hyper's own
/// limit (65 534), so an over-long target gets this API's JSON 414
/// `uri_too_long` with the security headers rather than hyper's bare 414.
pub const MAX_TARGET_LEN: usize = 8 * 1024;

/// Refuses a request target longer than [`MAX_TARGET_LEN`] (414).
pub fn check_target(uri: &http::Uri) -> Result<(), ApiError> {
    let target = uri.path_and_query().map_or(0, |t| t.as_str().len());
    if target > MAX_TARGET_LEN {
        return Err(ApiError::UriTooLong {
            limit: MAX_TARGET_LEN,
        });
    }
    Ok(())
}

/// A handler ready to serve. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    handler: BoxHandler,
    body_limit: usize,
    body_deadline: Duration,
}

impl core::fmt::Debug for Api {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Api")
            .field("body_limit", &self.body_limit)
            .field("body_deadline", &self.body_deadline)
            .finish_non_exhaustive()
    }
}

impl From<Router> for Api {
    fn from(router: Router) -> Self {
        Self::new(move |request| {
            let router = router.clone();
            async move { router.dispatch(request).await }
        })
    }
}

impl Api {
    /// Serves a plain `async fn(Request<Bytes>) -> Response<Bytes>`.
    pub fn new<H, F>(handler: H) -> Self
    where
        H: Fn(Request<Bytes>) -> F + Send + Sync + 'static,
        F: Future<Output = Response<Bytes>> + Send + 'static,
    {
        Self {
            handler: boxed(handler),
            body_limit: DEFAULT_BODY_LIMIT,
            body_deadline: DEFAULT_BODY_DEADLINE,
        }
    }

    /// Refuses bodies over `limit` bytes with 413.
    #[must_use]
    pub const fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Refuses bodies that have not arrived whole within `deadline` with 408.
    #[must_use]
    pub const fn body_deadline(mut self, deadline: Duration) -> Self {
        self.body_deadline = deadline;
        self
    }

    /// Answers a request whose body is still arriving: it is read under the
    /// limit and the deadline first (413 as soon as it passes the limit,
    /// 408 when the deadline passes first).
    pub async fn call_body<B>(&self, request: Request<B>) -> Response<Bytes>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        if let Err(e) = check_target(request.uri()) {
            // The body is not read: the connection closes after the answer.
            return finish(request.method(), response::error(&e), started);
        }
        let (parts, body) = request.into_parts();
        match read_limited(&parts.headers, body, self.body_limit, self.body_deadline).await {
            Ok(bytes) => self.answer(Request::from_parts(parts, bytes), started).await,
            Err(e) => finish(&parts.method, response::error(&e), started),
        }
    }

    /// Answers a request whose body is already in memory (tests, Lambda).
    pub async fn call(&self, request: Request<Bytes>) -> Response<Bytes> {
        let started = Instant::now();
        if let Err(e) = check_target(request.uri()) {
            return finish(request.method(), response::error(&e), started);
        }
        if request.body().len() > self.body_limit {
            let error = ApiError::PayloadTooLarge {
                limit: self.body_limit,
            };
            return finish(request.method(), response::error(&error), started);
        }
        self.answer(request, started).await
    }

    async fn answer(&self, request: Request<Bytes>, started: Instant) -> Response<Bytes> {
        let method = request.method().clone();
        let response = CatchUnwind((self.handler)(request))
            .await
            .unwrap_or_else(|()| response::error(&ApiError::Internal));
        finish(&method, response, started)
    }
}

/// Adds the headers and writes the access-log line.
fn finish(method: &http::Method, mut response: Response<Bytes>, started: Instant) -> Response<Bytes> {
    response::add_security_headers(response.headers_mut());
    response::add_no_store(response.headers_mut());
    let route = response.extensions().get::<RouteTemplate>().map_or("-", |r| r.0);
    log::access(method, route, response.status(), started.elapsed());
    response
}

/// Turns a panic while polling the handler into `Err(())`. The panic hook
/// of [`log::init`] has logged where; the client learns nothing. (Release
/// builds abort on panic: this guards debug builds and tests, and handlers
/// must not panic anyway.)
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(_) => Poll::Ready(Err(())),
        }
    }
}
