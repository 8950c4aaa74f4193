//! Ports: the small traits through which the core reaches the world.
//! Adapters (AWS: S3, DynamoDB, SESv2; embedded: files, an embedded
//! database, an .eml outbox) implement them; the core never does I/O itself.
//!
//! The I/O ports ([`ObjectStore`], [`StateStore`], [`Mailer`]) are async and
//! written as `fn op(..) -> impl Future<Output = ..> + Send`: adapters just
//! write `async fn` in their impl (no boxing, no extra crate), and the
//! `+ Send` bound lets handlers run on a multi-threaded runtime. Handlers are
//! generic over their `Deps`, so no `dyn` dispatch is needed; should it ever
//! be, wrap a port in an enum rather than reach for `async-trait`.
//!
//! [`Clock`] and [`RandomSource`] are synchronous: reading the time or the
//! OS random generator does not wait on a network.

mod clock;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod error;
mod mailer;
mod memory;
mod object_store;
mod random;
mod state_store;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::PortError;
pub use mailer::Mailer;
pub use memory::MemoryStateStore;
pub use object_store::{ByteRange, ObjectKey, ObjectStore, PresignedUrl};
pub use random::{CounterRandom, Generate, OsRandom, RandomSource};
pub use state_store::{CounterKey, Fingerprint, StateStore};
