//! The service over the AWS adapters: DynamoDB state, S3 objects, SESv2
//! mail, the system clock and the operating system's randomness. Built once
//! per process (a Lambda execution environment reuses it across events).

use core::marker::PhantomData;
use std::ffi::OsString;
use std::sync::Arc;

use kluis_aws::{DynamoStateStore, S3ObjectStore, SdkConfig, SesMailer};
use kluis_core::error::DomainError;
use kluis_core::ports::{Clock, OsRandom, SystemClock};
use kluis_core::service::{Ports, Service, Settings};
use kluis_http::config::Config;

use crate::Shared;
use crate::settings::{self, SettingsError};

/// The ports of a deployment on AWS (or moto, or LocalStack: the SDK reads
/// `AWS_ENDPOINT_URL`), on the system clock unless another is named (the
/// runner's tests move theirs).
#[derive(Debug)]
pub struct AwsPorts<C = SystemClock>(PhantomData<fn() -> C>);

impl<C: Clock + 'static> Ports for AwsPorts<C> {
    type Store = DynamoStateStore;
    type Objects = S3ObjectStore;
    type Mailer = SesMailer;
    type Clock = C;
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
    Refused(#[from] DomainError),
}

/// The service over the AWS adapters named by `aws` (table, bucket, From
/// address) on the SDK configuration `sdk`, with `settings` and `clock`.
pub fn service_on<C: Clock + 'static>(
    aws: &kluis_aws::Settings,
    sdk: &SdkConfig,
    settings: Settings,
    clock: C,
) -> Result<Shared<AwsPorts<C>>, DomainError> {
    let dynamodb = kluis_aws::DynamoClient::new(sdk);
    let store = DynamoStateStore::new(dynamodb, aws.table.clone(), settings.policy.clone());
    let objects = S3ObjectStore::new(sdk, aws.bucket.clone(), aws.force_path_style);
    let mailer = SesMailer::new(sdk, aws.mail_from.clone());
    let service = Service::new(store, objects, mailer, clock, OsRandom, settings)?;
    Ok(Arc::new(service))
}

/// [`service_on`] the SDK configuration of the environment and the system clock.
pub async fn service(
    aws: &kluis_aws::Settings,
    settings: Settings,
) -> Result<Shared<AwsPorts>, AwsStartError> {
    let sdk = kluis_aws::load_sdk_config().await;
    Ok(service_on(aws, &sdk, settings, SystemClock)?)
}

/// The service of a function binary: everything from the environment.
pub async fn service_from_env<L: Fn(&str) -> Option<OsString>>(
    env: &Config<L>,
) -> Result<Shared<AwsPorts>, AwsStartError> {
    let settings = settings::from_env(env)?;
    let aws = kluis_aws::Settings::from_env()?;
    service(&aws, settings).await
}
