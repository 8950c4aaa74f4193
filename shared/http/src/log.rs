//! Structured JSON logs. The access-log line holds the method, the route
//! *template*, the status and the latency — never the path (it holds ids),
//! the query, the fragment, a body, a cookie or an `Authorization` header:
//! those carry tokens, codes and personal data (invariant 1).

use core::time::Duration;

use http::{Method, StatusCode};
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the JSON subscriber (filter from `RUST_LOG`, default `info`) and
/// a panic hook that logs where a panic happened but not its message (it
/// may quote data). Calling it again does nothing.
pub fn init() {
    if tracing::subscriber::set_global_default(subscriber(std::io::stdout)).is_ok() {
        std::panic::set_hook(Box::new(|info| {
            let location = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
            tracing::error!(location = location.as_deref().unwrap_or("unknown"), "panic");
        }));
    }
}

/// The subscriber [`init`] installs, writing to `writer` (tests capture it).
pub fn subscriber<W>(writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// Logs one answered request.
pub fn access(method: &Method, route: &str, status: StatusCode, latency: Duration) {
    let latency_ms = latency.as_secs_f64() * 1000.0;
    tracing::info!(
        target: "kluis::access",
        method = method.as_str(),
        route,
        status = status.as_u16(),
        latency_ms,
        "request"
    );
}

/// Logs, as a warning, a port failure a request got past: its answer was a
/// success, and a later job finishes the work (`what` says which, as fixed
/// text). Like every port failure, the error is logged by kind and sources
/// only; adapter errors name operations and SDK codes, never request data.
pub fn deferred_failure(what: &'static str, error: &dyn std::error::Error) {
    tracing::warn!(error = %chain(error), "{what}");
}

/// An error and its sources, `outer: inner: root`. Adapter errors name
/// tables, paths and SDK codes, never request data.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
