//! Conformance suites, one per I/O port (feature `conformance`): the ports'
//! contracts as executable checks that every adapter runs against its own
//! backend, so the AWS and the embedded adapters are held to one standard.
//!
//! - [`state_store`]: conditional writes and the two races (also re-exported
//!   here, so `conformance::run_all` is the state-store suite);
//! - [`object_store`]: multipart upload, presigned part PUTs and downloads
//!   performed with a real HTTP client, abort, and delete of one object or
//!   of a whole transfer;
//! - [`mailer`]: one message sent and read back through [`mailer::SentMail`].
//!
//! Every check panics with a message on a violation, like an assertion.

pub mod mailer;
#[cfg(feature = "conformance")]
pub mod object_store;
pub mod state_store;

pub use state_store::*;
