//! kluis-runner: the whole of kluis on one machine and one port, with data
//! in one folder and no service to install.
//!
//! - [`options`]: `--port`, `--data`, `--web`;
//! - [`backend`]: embedded adapters (default) or AWS ones (`KLUIS_BACKEND=aws`);
//! - [`data`]: the data folder and the embedded adapters in it;
//! - [`routes`]: the routing table of `/api`: every function's routes;
//! - [`clock`]: the service's clock, which tests can move forward;
//! - [`app`]: [`Runner`], one handler for every path;
//! - [`statics`]: the pages under `web/`;
//! - [`mailbox`]: `/dev/mail`, the mails that would have been sent.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod backend;
pub mod clock;
pub mod data;
pub mod mailbox;
pub mod options;
pub mod routes;
pub mod statics;

use core::future::Future;
use core::net::SocketAddr;
use core::time::Duration;

use app::Parts;
pub use app::Runner;
use backend::{Backend, BackendError, expire_job};
use clock::DevClock;
use data::{DataError, Deps};
use kluis_http::config::Config;
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
    /// The backend is misconfigured.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The policy or the settings are refused.
    #[error(transparent)]
    Settings(#[from] kluis_function::settings::SettingsError),
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
        let expiry = tokio::spawn(expire_periodically(runner.clone()));
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

/// The scheduled job: the `expire` function's run (batch after batch
/// while they come back full). A failure is logged and retried next time.
async fn expire_periodically(runner: Runner) {
    let mut tick = tokio::time::interval(EXPIRY_EVERY);
    loop {
        tick.tick().await;
        match runner.expire_now().await {
            Ok(report) if report.expired + report.purged > 0 => {
                tracing::info!(expired = report.expired, purged = report.purged, "expiry run");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "expiry run failed"),
        }
    }
}

/// Binds the port and opens the backend the environment names
/// (`KLUIS_BACKEND`; the embedded one by default).
pub async fn bind(options: &Options) -> Result<Bound, StartError> {
    let backend = Backend::from_env(&Config::from_process()).await?;
    bind_on(options, backend).await
}

/// Binds the port first (port 0 picks one), so object URLs and mail links
/// carry the real address; then opens `backend`.
pub async fn bind_on(options: &Options, backend: Backend) -> Result<Bound, StartError> {
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
    let base_url = format!("http://{public}");
    let domains: Vec<&str> = options.internal_domains.iter().map(String::as_str).collect();
    let mut policy = kluis_function::settings::policy(&Config::from_process(), &domains)?;
    policy.internal_domains = options.internal_domains.clone();
    policy
        .validate()
        .map_err(kluis_function::settings::SettingsError::Refused)?;
    let clock = DevClock::default();
    // The mailbox shows verification codes and retrieval links: only a
    // runner reachable from this machine alone may serve it.
    let loopback = options.address.ip().is_loopback();
    if !loopback {
        tracing::warn!("not bound to loopback: the dev mailbox is off");
    }
    let parts = match backend {
        Backend::Embedded => {
            let deps = Deps::open(&options.data, &base_url, policy, clock.clone()).await?;
            Parts {
                api: routes::api::<backend::EmbeddedPorts>(&deps.service),
                web: options.web.clone(),
                outbox: loopback.then(|| deps.mailer.folder().to_path_buf()),
                objects: Some(deps.objects.clone()),
                clock,
                expire: expire_job::<backend::EmbeddedPorts>(&deps.service),
            }
        }
        #[cfg(feature = "aws")]
        Backend::Aws { settings, sdk } => {
            let base = kluis_core::mail::PublicBaseUrl::parse(&base_url).map_err(DataError::Settings)?;
            let settings_of_service = kluis_core::service::Settings::new(policy, base);
            let service =
                kluis_function::aws::service_on(&settings, &sdk, settings_of_service, clock.clone())
                    .map_err(DataError::Settings)?;
            let expire: backend::ExpireJob = expire_job::<backend::AwsRunnerPorts>(&service);
            Parts {
                api: routes::api::<backend::AwsRunnerPorts>(&service),
                web: options.web.clone(),
                outbox: None,
                objects: None,
                clock,
                expire,
            }
        }
    };
    Ok(Bound {
        listener,
        public,
        runner: Runner::new(parts),
    })
}
