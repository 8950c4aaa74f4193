//! kluis-runner: the whole of kluis on one machine and one port, with data
//! in one folder and no service to install.
//!
//! - [`options`]: `--port`, `--data`, `--web`;
//! - [`data`]: the data folder and the embedded adapters in it;
//! - [`handlers`]: the HTTP translation of the core's use cases;
//! - [`routes`]: the routing table of `/api` (where functions are mounted);
//! - [`app`]: [`Runner`], one handler for every path;
//! - [`statics`]: the pages under `web/`;
//! - [`mailbox`]: `/dev/mail`, the mails that would have been sent.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod data;
pub mod handlers;
pub mod mailbox;
pub mod options;
pub mod routes;
pub mod statics;

use core::future::Future;
use core::net::SocketAddr;
use core::time::Duration;

pub use app::Runner;
use data::{DataError, Deps};
use handlers::Svc;
use kluis_core::policy::Policy;
use options::Options;
use tokio::net::TcpListener;

/// Why the runner did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The port could not be opened.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// The data folder could not be used.
    #[error(transparent)]
    Data(#[from] DataError),
}

/// A runner bound to its port, ready to serve.
#[derive(Debug)]
pub struct Bound {
    /// The listening socket.
    pub listener: TcpListener,
    /// The address a browser opens: loopback when bound to every interface
    /// (the pages' WebCrypto needs a secure context, which 127.0.0.1 is).
    pub public: SocketAddr,
    /// The handler.
    pub runner: Runner,
}

impl Bound {
    /// `http://<public address>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.public)
    }

    /// The line printed at start.
    pub fn banner(&self) -> String {
        let base = self.base_url();
        if self.runner.has_mailbox() {
            format!("kluis is running: pages {base}/ · dev mailbox {base}/dev/mail")
        } else {
            format!("kluis is running: pages {base}/ (dev mailbox off: not bound to loopback)")
        }
    }

    /// Serves until `shutdown` completes, running the expiry job each
    /// [`EXPIRY_EVERY`] meanwhile.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let runner = self.runner;
        let expiry = tokio::spawn(expire_periodically(runner.deps().service.clone()));
        let handler = move |request| {
            let runner = runner.clone();
            async move { runner.handle(request).await }
        };
        kluis_http::server::serve(self.listener, handler, shutdown).await;
        expiry.abort();
    }
}

/// How often the runner expires and purges transfers (on AWS a schedule
/// runs the `expire` function).
pub const EXPIRY_EVERY: Duration = Duration::from_secs(60);

/// The scheduled job: expire and purge what is due, batch after batch while
/// batches come back full. A failure is logged and retried next time.
async fn expire_periodically(service: Svc) {
    let mut tick = tokio::time::interval(EXPIRY_EVERY);
    loop {
        tick.tick().await;
        loop {
            match service.expire().await {
                Ok(report) => {
                    if report.expired + report.purged > 0 {
                        tracing::info!(expired = report.expired, purged = report.purged, "expiry run");
                    }
                    if !report.more {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "expiry run failed");
                    break;
                }
            }
        }
    }
}

/// Binds the port first (port 0 picks one), so the object store's URLs
/// carry the real address; then opens the data folder.
pub async fn bind(options: &Options) -> Result<Bound, StartError> {
    let listener = TcpListener::bind(options.address)
        .await
        .map_err(|source| StartError::Bind {
            address: options.address,
            source,
        })?;
    let mut public = listener.local_addr().map_err(|source| StartError::Bind {
        address: options.address,
        source,
    })?;
    if public.ip().is_unspecified() {
        public.set_ip(core::net::Ipv4Addr::LOCALHOST.into());
    }
    let policy = Policy {
        internal_domains: options.internal_domains.clone(),
        ..Policy::default()
    };
    let deps = Deps::open(&options.data, &format!("http://{public}"), policy).await?;
    // The mailbox shows verification codes and retrieval links: only a
    // runner reachable from this machine alone may serve it.
    let outbox = options
        .address
        .ip()
        .is_loopback()
        .then(|| deps.mailer.folder().to_path_buf());
    if outbox.is_none() {
        tracing::warn!("not bound to loopback: the dev mailbox is off");
    }
    let runner = Runner::new(deps, options.web.clone(), outbox);
    Ok(Bound {
        listener,
        public,
        runner,
    })
}
