//! kluis-embedded: the ports of `kluis-core` for one machine with no
//! services. Objects live on disk behind HMAC-signed URLs the store serves
//! itself, state lives in a redb file, mail is written as `.eml` files.
//!
//! - [`objects`]: [`DiskObjectStore`] (`ObjectStore`) and its HTTP handler
//!   [`DiskObjectStore::serve`], which the runner mounts under the base URL;
//! - [`state`]: [`RedbStateStore`] (`StateStore`), one write transaction per operation;
//! - [`outbox`]: [`OutboxMailer`] (`Mailer`) and [`read_outbox`] for the dev mailbox.
//!
//! See `README.md` for the disk layout, the URL signing scheme and the limits.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod objects;
pub mod outbox;
pub mod state;

pub use objects::serve::ServeError;
pub use objects::signing::SigningKey;
pub use objects::{DiskObjectStore, ObjectBody, OpenError};
pub use outbox::{OutboxMailer, OutboxMessage, read_outbox};
pub use state::{RedbStateStore, StateError};
