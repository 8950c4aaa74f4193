//! kluis-function: what every function binary under `functions/` shares,
//! so each one's `main` is a line and its crate holds only its handlers.
//!
//! - [`settings`]: the policy and the public base URL from the environment
//!   (the runner reads the same variables);
//! - [`aws`]: [`aws::AwsPorts`], the service over DynamoDB, S3 and SESv2;
//! - [`entry`]: `main` for an HTTP function ([`entry::serve_http`]) and for
//!   a scheduled one ([`entry::serve_scheduled`]);
//! - `testing` (feature `testing`): an in-memory service and a request
//!   helper for the handlers' tests.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod entry;
pub mod settings;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::sync::Arc;

use kluis_core::service::ServiceOf;

/// The service every handler of one process shares.
pub type Shared<P> = Arc<ServiceOf<P>>;
