//! kluis-core: the domain of kluis, a secure file exchange whose files are
//! encrypted in the browser. Every product rule lives here; no AWS, no I/O.
//!
//! - [`transfer`]: the transfer and its life cycle (draft → keyed → sent →
//!   expired | revoked | locked), recipients, options, retrieval;
//! - [`verification`]: one-time codes and sender sessions;
//! - [`unlock`]: counting wrong passwords and locking;
//! - [`policy`]: the operator's settings and the rules built on them;
//! - [`validate`], [`ids`], [`envelope`], [`file`](mod@file): validated input values;
//! - [`audit`]: audit events;
//! - [`error`]: [`DomainError`] with stable codes and 4xx statuses;
//! - [`mail`]: rendered mail and its templates;
//! - [`ports`]: the traits adapters implement (object store, state store,
//!   mailer, clock, random source) and [`ports::PortError`];
//! - [`service`]: the use cases, one method per step, chaining the rules
//!   above with the ports; what every function's handler calls.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
mod bytes;
pub mod envelope;
pub mod error;
pub mod error_body;
pub mod file;
pub mod ids;
pub mod lifecycle;
pub mod link;
pub mod mail;
pub mod policy;
pub mod ports;
pub mod service;
pub mod timestamp;
pub mod transfer;
pub mod unlock;
pub mod validate;
pub mod verification;

pub use error::{DomainError, Field};
pub use timestamp::Timestamp;
