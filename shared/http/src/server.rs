//! The plain HTTP/1 server (hyper 1) and [`run`], the one entry point of
//! every function binary: `lambda_http` when on Lambda, this server on
//! `$KLUIS_BIND:$PORT` otherwise. Shutdown on SIGTERM or Ctrl-C lets
//! requests in flight finish (up to [`DRAIN`]).

use core::convert::Infallible;
use core::future::Future;
use core::net::SocketAddr;
use core::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::api::Api;
use crate::config::{Config, ConfigError};
use crate::request::ClientIp;
use crate::{lambda, log};

/// How long shutdown waits for requests in flight.
pub const DRAIN: Duration = Duration::from_secs(10);

/// Why a function binary stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The configuration is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listening socket could not be opened.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// The Lambda runtime stopped with an error.
    #[error("the Lambda runtime failed: {0}")]
    Lambda(lambda_http::Error),
}

/// Serves a plain `async fn(Request<Bytes>) -> Response<Bytes>`; see
/// [`run_api`].
pub async fn run<H, F>(handler: H) -> Result<(), RunError>
where
    H: Fn(Request<Bytes>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Bytes>> + Send + 'static,
{
    run_api(Api::new(handler)).await
}

/// Installs the JSON logs, then serves `api` under `lambda_http` when
/// `AWS_LAMBDA_RUNTIME_API` is set, else as plain HTTP on
/// [`Config::bind_address`] until SIGTERM or Ctrl-C.
pub async fn run_api(api: impl Into<Api>) -> Result<(), RunError> {
    log::init();
    let api = api.into();
    if lambda::on_lambda() {
        return lambda::serve(api).await.map_err(RunError::Lambda);
    }
    let address = Config::from_process().bind_address()?;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| RunError::Bind { address, source })?;
    tracing::info!(address = %address, "listening");
    serve(listener, buffered(api), shutdown_signal()).await;
    Ok(())
}

/// `api` as a handler of raw hyper requests, for [`serve`].
pub fn buffered(api: Api) -> impl Fn(Request<Incoming>) -> BoxedAnswer + Clone + Send + Sync + 'static {
    move |request| {
        let api = api.clone();
        Box::pin(async move { api.call_body(request).await.map(Full::new) })
    }
}

/// The answer future of [`buffered`].
pub type BoxedAnswer = core::pin::Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>;

/// Accepts connections on `listener` and answers each request with
/// `handler` until `shutdown` completes; then stops accepting and waits up
/// to [`DRAIN`] for open connections. The runner passes its own handler
/// (it streams object bodies); functions pass [`buffered`].
pub async fn serve<H, F, B>(listener: TcpListener, handler: H, shutdown: impl Future<Output = ()>)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let mut shutdown = core::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off
                        // instead of spinning; the listener stays usable.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let handler = handler.clone();
                let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                    request.extensions_mut().insert(ClientIp(peer.ip()));
                    let answer = handler(request);
                    async move { Ok::<_, Infallible>(answer.await) }
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "connection closed with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => tracing::warn!("connections still open after the drain time"),
    }
}

/// Completes on SIGTERM (what container platforms send) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            core::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => core::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = core::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
