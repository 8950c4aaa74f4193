//! The service over the AWS adapters: DynamoDB state, S3 objects, SESv2
//! mail, the system clock and the operating system's randomness. Built once
//! per process (a Lambda execution environment reuses it across events).

use std::ffi::OsString;
use std::sync::Arc;

use kluis_aws::{DynamoStateStore, S3ObjectStore, SesMailer};
use kluis_core::ports::{OsRandom, SystemClock};
use kluis_core::service::{Ports, Service, Settings};
use kluis_http::config::Config;

use crate::Shared;
use crate::settings::{self, SettingsError};

/// The ports of a deployment on AWS (or moto, or LocalStack: the SDK reads
/// `AWS_ENDPOINT_URL`).
#[derive(Debug)]
pub struct AwsPorts;

impl Ports for AwsPorts {
    type Store = DynamoStateStore;
    type Objects = S3ObjectStore;
    type Mailer = SesMailer;
    type Clock = SystemClock;
    type Random = OsRandom;
}

/// Why the AWS service cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsStartError {
    /// The service settings are missing or refused.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The table, bucket or sender address is missing.
    #[error(transparent)]
    Aws(#[from] kluis_aws::ConfigError),
    /// The policy is refused by the core.
    #[error("the settings are refused: {0}")]
    Refused(#[from] kluis_core::error::DomainError),
}

/// The service over the AWS adapters named by `aws` (table, bucket, From
/// address) with `settings`, on the SDK configuration of the environment.
pub async fn service(
    aws: &kluis_aws::Settings,
    settings: Settings,
) -> Result<Shared<AwsPorts>, AwsStartError> {
    let sdk = kluis_aws::load_sdk_config().await;
    let dynamodb = kluis_aws::DynamoClient::new(&sdk);
    let store = DynamoStateStore::new(dynamodb, aws.table.clone(), settings.policy.clone());
    let objects = S3ObjectStore::new(&sdk, aws.bucket.clone(), aws.force_path_style);
    let mailer = SesMailer::new(&sdk, aws.mail_from.clone());
    let service = Service::new(store, objects, mailer, SystemClock, OsRandom, settings)?;
    Ok(Arc::new(service))
}

/// The service of a function binary: everything from the environment.
pub async fn service_from_env<L: Fn(&str) -> Option<OsString>>(
    env: &Config<L>,
) -> Result<Shared<AwsPorts>, AwsStartError> {
    let settings = settings::from_env(env)?;
    let aws = kluis_aws::Settings::from_env()?;
    service(&aws, settings).await
}
