//! A small router: method + path template (`/api/transfers/{id}/files`) to
//! handler. Unknown paths are 404, known paths with another method 405 with
//! `Allow`. The matched template travels in the answer's extensions so the
//! access log names the route, never the path (paths hold ids).

use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response};

use crate::error::ApiError;
use crate::response;

/// The answer of a boxed handler.
pub type BoxFuture = Pin<Box<dyn Future<Output = Response<Bytes>> + Send>>;

/// A handler behind a pointer, so routes of different handlers share a table.
pub type BoxHandler = Arc<dyn Fn(Request<Bytes>) -> BoxFuture + Send + Sync>;

/// Boxes a plain `async fn(Request<Bytes>) -> Response<Bytes>`.
pub fn boxed<H, F>(handler: H) -> BoxHandler
where
    H: Fn(Request<Bytes>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Bytes>> + Send + 'static,
{
    Arc::new(move |request| Box::pin(handler(request)))
}

/// The template of the route that answered, in the answer's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTemplate(pub &'static str);

/// The `{name}` segments of the matched template, in the request's
/// extensions: `params.get("id")`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathParams(Vec<(&'static str, String)>);

impl PathParams {
    /// The segment matched by `{name}`, as sent (ids are base64url, so no
    /// percent-decoding is needed; anything else fails their parsers).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Literal(&'static str),
    Param(&'static str),
}

#[derive(Clone)]
struct Route {
    method: Method,
    template: &'static str,
    segments: Vec<Segment>,
    handler: BoxHandler,
}

/// A table of routes. Build it once in `main`; clones share it.
#[derive(Clone, Default)]
pub struct Router {
    routes: Arc<Vec<Route>>,
}

impl core::fmt::Debug for Router {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list()
            .entries(self.routes.iter().map(|r| (r.method.as_str(), r.template)))
            .finish()
    }
}

fn parse_template(template: &'static str) -> Vec<Segment> {
    template
        .trim_start_matches('/')
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => Segment::Param(name),
            None => Segment::Literal(s),
        })
        .collect()
}

fn matches(segments: &[Segment], path: &str) -> Option<PathParams> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (segment, part) in segments.iter().zip(parts) {
        match segment {
            Segment::Literal(l) if *l == part => {}
            Segment::Param(name) if !part.is_empty() => params.push((*name, part.to_owned())),
            _ => return None,
        }
    }
    Some(PathParams(params))
}

impl Router {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `method template → handler`. Templates are literal segments and
    /// `{name}` segments, e.g. `/api/transfers/{id}`.
    #[must_use]
    pub fn route<H, F>(self, method: Method, template: &'static str, handler: H) -> Self
    where
        H: Fn(Request<Bytes>) -> F + Send + Sync + 'static,
        F: Future<Output = Response<Bytes>> + Send + 'static,
    {
        self.route_boxed(method, template, boxed(handler))
    }

    /// [`Router::route`] with a handler already boxed.
    #[must_use]
    pub fn route_boxed(self, method: Method, template: &'static str, handler: BoxHandler) -> Self {
        let mut routes = Arc::unwrap_or_clone(self.routes);
        routes.push(Route {
            method,
            template,
            segments: parse_template(template),
            handler,
        });
        Self {
            routes: Arc::new(routes),
        }
    }

    /// This table followed by every route of `other` (each function brings
    /// its own routes; the runner merges them into one table).
    #[must_use]
    pub fn merge(self, other: Router) -> Self {
        let mut routes = Arc::unwrap_or_clone(self.routes);
        routes.extend(other.routes.iter().cloned());
        Self {
            routes: Arc::new(routes),
        }
    }

    /// Every `(method, template)` in the table, for listings and tests.
    pub fn templates(&self) -> impl Iterator<Item = (&Method, &'static str)> {
        self.routes.iter().map(|r| (&r.method, r.template))
    }

    /// Answers `request` with the route that matches it.
    pub async fn dispatch(&self, mut request: Request<Bytes>) -> Response<Bytes> {
        let path = request.uri().path().to_owned();
        let mut allowed: Vec<&Method> = Vec::new();
        let mut found: Option<(&Route, PathParams)> = None;
        for route in self.routes.iter() {
            if let Some(params) = matches(&route.segments, &path) {
                if route.method == request.method()
                    || (route.method == Method::GET && request.method() == Method::HEAD)
                {
                    found = Some((route, params));
                    break;
                }
                allowed.push(&route.method);
            }
        }
        let mut response = match found {
            Some((route, params)) => {
                request.extensions_mut().insert(params);
                let mut response = (route.handler)(request).await;
                response.extensions_mut().insert(RouteTemplate(route.template));
                return response;
            }
            None if allowed.is_empty() => response::error(&ApiError::NotFound),
            None => {
                let mut response = response::error(&ApiError::MethodNotAllowed);
                let list: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
                if let Ok(value) = HeaderValue::from_str(&list.join(", ")) {
                    response.headers_mut().insert(http::header::ALLOW, value);
                }
                response
            }
        };
        response.extensions_mut().insert(RouteTemplate("(unmatched)"));
        response
    }
}

impl Router {
    /// The table as an [`crate::Api`] (default body limit).
    pub fn into_api(self) -> crate::Api {
        crate::Api::from(self)
    }
}
