//! Which adapters the runner serves from: the embedded ones in the data
//! folder (the default), or the AWS adapters — DynamoDB, S3, SESv2 on real
//! AWS, moto or LocalStack — when `KLUIS_BACKEND=aws`. Either way the same
//! function handlers answer; only the ports differ.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `KLUIS_BACKEND` | `embedded` (default) or `aws` |
//! | `KLUIS_TABLE`, `KLUIS_BUCKET`, `KLUIS_MAIL_FROM`, `KLUIS_S3_FORCE_PATH_STYLE` | the AWS adapters' settings (see `kluis-aws`) |
//! | `AWS_ENDPOINT_URL`, `AWS_REGION`, credentials | the SDK's own, e.g. moto at `http://127.0.0.1:5000` |

use core::future::Future;
use core::pin::Pin;
use std::ffi::OsString;
use std::sync::Arc;

#[cfg(feature = "aws")]
use kluis_aws::SdkConfig;
use kluis_core::ports::OsRandom;
use kluis_core::service::expiry::ExpiryReport;
use kluis_core::service::{Ports, ServiceError};
use kluis_embedded::{DiskObjectStore, OutboxMailer, RedbStateStore};
use kluis_function::Shared;
use kluis_http::config::Config;

use crate::clock::DevClock;

/// The embedded ports: everything in the data folder.
#[derive(Debug)]
pub struct EmbeddedPorts;

impl Ports for EmbeddedPorts {
    type Store = RedbStateStore;
    type Objects = DiskObjectStore;
    type Mailer = OutboxMailer;
    type Clock = DevClock;
    type Random = OsRandom;
}

/// The AWS ports with the runner's [`DevClock`].
#[cfg(feature = "aws")]
pub type AwsRunnerPorts = kluis_function::aws::AwsPorts<DevClock>;

/// The adapters to serve from.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The embedded adapters in the data folder.
    Embedded,
    /// The AWS adapters on `sdk` (endpoint, region, credentials).
    #[cfg(feature = "aws")]
    Aws {
        /// Table, bucket and From address.
        settings: kluis_aws::Settings,
        /// The SDK configuration (boxed: it is large, and read once).
        sdk: Box<SdkConfig>,
    },
}

/// The backend variable.
pub const BACKEND_VAR: &str = "KLUIS_BACKEND";

/// Why the backend cannot be chosen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// `KLUIS_BACKEND` names no backend.
    #[error("{BACKEND_VAR} must be `embedded` or `aws`, not {0:?}")]
    Unknown(String),
    /// A variable is unreadable.
    #[error(transparent)]
    Config(#[from] kluis_http::config::ConfigError),
    /// The AWS settings are incomplete.
    #[cfg(feature = "aws")]
    #[error(transparent)]
    Aws(#[from] kluis_aws::ConfigError),
    /// `KLUIS_BACKEND=aws`, but this runner was built without the AWS adapters.
    #[cfg(not(feature = "aws"))]
    #[error(
        "{BACKEND_VAR}=aws needs the runner built with the AWS adapters: cargo run -p kluis-runner --features aws"
    )]
    AwsNotBuilt,
}

impl Backend {
    /// The backend the environment names (the AWS SDK reads its own variables).
    pub async fn from_env<L: Fn(&str) -> Option<OsString>>(env: &Config<L>) -> Result<Self, BackendError> {
        match env.optional(BACKEND_VAR)?.as_deref().map(str::trim) {
            None | Some("embedded") => Ok(Self::Embedded),
            #[cfg(feature = "aws")]
            Some("aws") => Ok(Self::Aws {
                settings: kluis_aws::Settings::from_env()?,
                sdk: Box::new(kluis_aws::load_sdk_config().await),
            }),
            #[cfg(not(feature = "aws"))]
            Some("aws") => Err(BackendError::AwsNotBuilt),
            Some(other) => Err(BackendError::Unknown(other.to_owned())),
        }
    }
}

/// One expiry run of whichever service the runner has.
pub type ExpireJob =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<ExpiryReport, ServiceError>> + Send>> + Send + Sync>;

/// The expiry job of `service`: the `expire` function's run.
pub fn expire_job<P: Ports>(service: &Shared<P>) -> ExpireJob {
    let service = Arc::clone(service);
    Arc::new(move || Box::pin(kluis_expire::run::<P>(Arc::clone(&service))))
}
