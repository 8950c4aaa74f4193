//! AWS adapters for the kluis ports: a DynamoDB state store, an S3 object
//! store and an SESv2 mailer, configured from the standard AWS environment
//! (including `AWS_ENDPOINT_URL`, so moto, LocalStack and AWS all work).
//!
//! Each adapter holds its SDK client and its table, bucket or address; the
//! mapping between items and domain records stays inside the adapter.
#![forbid(unsafe_code)]

pub mod config;
pub mod dynamodb;
mod error;
pub mod s3;
pub mod ses;

pub use config::{ConfigError, Settings, load_sdk_config};
pub use dynamodb::DynamoStateStore;
pub use dynamodb::table::create_table;
pub use error::AwsError;
pub use s3::S3ObjectStore;
pub use ses::SesMailer;

/// The SDK types a caller needs to build the adapters.
pub use aws_config::SdkConfig;
pub use aws_sdk_dynamodb::Client as DynamoClient;
