//! Behaviour tests of the service against the in-memory store, object store
//! and mailer: the whole wizard and retrieval, every refusal, retries.
//! Helpers here walk the steps the way a client does, reading codes and
//! links from the recorded mail.

mod lifecycle;
mod removal;
mod retrieval;
mod sender;
mod sending;
mod wire;

pub(super) use super::testing::walk::*;

use super::transfer::{SendOptions, SetKey};
use super::upload::{AddFile, CompleteFile};
use crate::envelope::{AuthKey, KdfParams, WrappedKey};
use crate::error::Field;
use crate::ids::{FileId, Token};
use crate::policy::Policy;
use crate::ports::StateStore;
use crate::service::sender::{RequestCode, VerifyCode};
use crate::timestamp::Timestamp;
use crate::validate::PersonName;

/// The domain error a refused step gave.
pub(super) fn domain<T: core::fmt::Debug>(
    result: Result<T, crate::service::ServiceError>,
) -> crate::error::DomainError {
    match result {
        Err(crate::service::ServiceError::Domain(error)) => error,
        other => panic!("expected a domain error, got {other:?}"),
    }
}
