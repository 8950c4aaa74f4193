//! The use cases: one [`Service`] over the ports, one method per step of the
//! wizard and of retrieval, so a function's handler only translates HTTP
//! (parse the body into the request struct, call the method, map the
//! response or [`ServiceError`] to a status and JSON).
//!
//! | area | methods |
//! | --- | --- |
//! | [`sender`] | `request_code`, `verify_code` |
//! | [`session`] | `session_info`, `end_session` |
//! | [`transfer`](mod@transfer) | `create_draft`, `set_key`, `send` |
//! | [`upload`] | `add_file`, `complete_file`, `remove_file` |
//! | [`retrieval`] | `public_info`, `unlock`, `record_download` |
//! | [`manage`] | `status`, `revoke` |
//! | [`reply`] | `reply` |
//! | [`expiry`] | `expire` |
//! | (here) | `public_policy` |
//!
//! Retries (invariant 7): every step that creates something takes the
//! client's [`crate::ids::RequestId`] and derives the new record's id from
//! it, so a retry meets the first try's record in a create-if-absent write;
//! every transition is a conditional replace, and a mail goes out only from
//! the request that won the write (or a limit-1 claim) that decides it.

pub mod expiry;
pub mod manage;
pub mod reply;
pub mod retrieval;
pub mod sender;
pub mod session;
pub mod transfer;
pub mod upload;

#[cfg(any(test, feature = "conformance"))]
pub mod testing;
#[cfg(test)]
mod tests;

use core::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{AuditEvent, AuditKind};
use crate::error::DomainError;
use crate::ids::{EventId, Token, TransferId};
use crate::mail::{MailError, PublicBaseUrl, RenderedMail};
use crate::policy::{Policy, PublicPolicy};
use crate::ports::{Clock, Generate, Mailer, ObjectStore, PortError, PresignedUrl, RandomSource, StateStore};
use crate::timestamp::Timestamp;
use crate::transfer::{Sender, Transfer};
use crate::verification::SenderSession;

/// Why a use case did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The client's request was refused (4xx; see [`DomainError::http_status`]).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A port failed (5xx; the platform or the client may retry).
    #[error("a port failed")]
    Port(#[from] PortError),
    /// A mail template failed to render (a bug; 5xx).
    #[error("a mail could not be rendered")]
    Render(#[source] MailError),
    /// Concurrent changes to one transfer kept winning over this request
    /// (5xx, retry later).
    #[error("the transfer is changing concurrently; try again")]
    Busy,
}

impl From<MailError> for ServiceError {
    fn from(error: MailError) -> Self {
        match error {
            MailError::Domain(domain) => Self::Domain(domain),
            other => Self::Render(other),
        }
    }
}

impl ServiceError {
    /// The HTTP status: the domain error's 4xx, the port failure's own
    /// ([`PortError::http_status`]: 503 for a backend that may recover), 503
    /// for contention, 500 for anything else (a bug).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Domain(error) => error.http_status(),
            Self::Port(error) => error.http_status(),
            Self::Busy => 503,
            Self::Render(_) => 500,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Domain(error) => error.code(),
            Self::Busy => "busy",
            Self::Port(error) => error.code(),
            Self::Render(_) => "internal",
        }
    }

    /// The domain error, if this is one.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            Self::Domain(error) => Some(error),
            _ => None,
        }
    }
}

/// The service's own settings beside the policy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The operator's policy (validated by [`Service::new`]).
    pub policy: Policy,
    /// Where the pages live; links in mail are built on it.
    pub base_url: PublicBaseUrl,
    /// How long presigned part uploads stay valid.
    pub upload_url_valid_for: Duration,
    /// How long presigned downloads stay valid (short: they are bearer URLs).
    pub download_url_valid_for: Duration,
    /// Most transfers one [`Service::expire`] run handles.
    pub expiry_batch: usize,
}

impl Settings {
    /// The policy and base URL with the default URL lifetimes: an hour for
    /// part uploads (a slow upload of a large part), ten minutes for downloads.
    pub fn new(policy: Policy, base_url: PublicBaseUrl) -> Self {
        Self {
            policy,
            base_url,
            upload_url_valid_for: Duration::from_secs(3600),
            download_url_valid_for: Duration::from_secs(600),
            expiry_batch: 100,
        }
    }
}

/// A presigned request for the browser or CLI to perform, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRequest {
    /// The URL, signature included.
    pub url: String,
    /// Headers to send exactly as given.
    pub headers: Vec<(String, String)>,
    /// When the signature stops working.
    pub expires_at: Timestamp,
}

impl From<PresignedUrl> for SignedRequest {
    fn from(url: PresignedUrl) -> Self {
        Self {
            url: url.url,
            headers: url.headers,
            expires_at: url.expires_at,
        }
    }
}

/// The five ports as one type: code generic over "a service" (a function's
/// handlers, the runner) names one parameter instead of five. Each
/// deployment declares one: the AWS adapters, the embedded ones, fakes.
pub trait Ports: Send + Sync + 'static {
    /// The state store.
    type Store: StateStore + 'static;
    /// The object store.
    type Objects: ObjectStore + 'static;
    /// The mailer.
    type Mailer: Mailer + 'static;
    /// The clock.
    type Clock: Clock + 'static;
    /// The source of ids, tokens and codes.
    type Random: RandomSource + 'static;
}

/// The service over the ports of `P` (the name code outside the core has
/// always used; the same type as [`Service<P>`]).
pub type ServiceOf<P> = Service<P>;

/// Every use case of kluis, over the five ports of `P`. Every `impl` block
/// of the use cases (one file per area) names the one bound `P: Ports`.
pub struct Service<P: Ports> {
    store: P::Store,
    objects: P::Objects,
    mailer: P::Mailer,
    clock: P::Clock,
    random: P::Random,
    settings: Settings,
}

impl<P: Ports> core::fmt::Debug for Service<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Service")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How often a transition is recomputed after losing a conditional write
/// before giving up with [`ServiceError::Busy`]; each loss means another
/// request changed the transfer, so a few tries settle any real contention.
const TRANSITION_TRIES: usize = 5;

impl<P: Ports> Service<P> {
    /// A service over the given ports. Refuses an invalid policy: a function
    /// MUST NOT serve with one.
    pub fn new(
        store: P::Store,
        objects: P::Objects,
        mailer: P::Mailer,
        clock: P::Clock,
        random: P::Random,
        settings: Settings,
    ) -> Result<Self, DomainError> {
        settings.policy.validate()?;
        Ok(Self {
            store,
            objects,
            mailer,
            clock,
            random,
            settings,
        })
    }

    /// The state store.
    pub const fn store(&self) -> &P::Store {
        &self.store
    }
    /// The object store.
    pub const fn objects(&self) -> &P::Objects {
        &self.objects
    }
    /// The mailer.
    pub const fn mailer(&self) -> &P::Mailer {
        &self.mailer
    }
    /// The clock.
    pub const fn clock(&self) -> &P::Clock {
        &self.clock
    }
    /// The settings.
    pub const fn settings(&self) -> &Settings {
        &self.settings
    }

    /// What the send wizard shows and checks before the server does: the
    /// sender's limits and the rules for an own password (public).
    pub fn public_policy(&self) -> PublicPolicy {
        PublicPolicy::from(self.policy())
    }

    fn policy(&self) -> &Policy {
        &self.settings.policy
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The live session, or [`DomainError::SessionInvalid`].
    async fn live_session(&self, session: &Token) -> Result<SenderSession, ServiceError> {
        let stored = match self.store.get_session(session.hash()).await {
            Ok(stored) => stored,
            Err(PortError::NotFound) => return Err(DomainError::SessionInvalid.into()),
            Err(other) => return Err(other.into()),
        };
        stored.check_live(self.now())?;
        Ok(stored)
    }

    /// The sender of a live session that may start a transfer: a session
    /// opened by a reply may only finish that reply
    /// ([`DomainError::ReplySessionOnly`]).
    async fn session_sender(&self, session: &Token) -> Result<Sender, ServiceError> {
        let stored = self.live_session(session).await?;
        if stored.reply.is_some() {
            return Err(DomainError::ReplySessionOnly.into());
        }
        Ok(stored.sender)
    }

    /// Reads a transfer; an absent one is [`DomainError::TransferNotFound`].
    async fn transfer(&self, id: TransferId) -> Result<Transfer, ServiceError> {
        match self.store.get_transfer(id).await {
            Ok(transfer) => Ok(transfer),
            Err(PortError::NotFound) => Err(DomainError::TransferNotFound.into()),
            Err(other) => Err(other.into()),
        }
    }

    /// Reads a transfer the session may work on: its sender's, and for a
    /// reply's session only that reply. Any other transfer is "not found",
    /// so ids cannot be probed through a session.
    async fn owned_transfer(
        &self,
        id: TransferId,
        session: &SenderSession,
    ) -> Result<Transfer, ServiceError> {
        let transfer = self.transfer(id).await?;
        let outside_the_reply = session.reply.is_some_and(|reply| reply != id);
        if transfer.sender().email != session.sender.email || outside_the_reply {
            return Err(DomainError::TransferNotFound.into());
        }
        Ok(transfer)
    }

    /// Reads the transfer, computes the next value with `step` and writes it
    /// conditionally, recomputing from a fresh read when another request won
    /// the write. `step` returns `None` when there is nothing to write (a
    /// retried request whose change is already stored). Returns the value
    /// the step started from and the value written, if any.
    async fn transition<F>(
        &self,
        id: TransferId,
        mut step: F,
    ) -> Result<(Transfer, Option<Transfer>), ServiceError>
    where
        F: FnMut(&Transfer) -> Result<Option<Transfer>, ServiceError> + Send,
    {
        for _ in 0..TRANSITION_TRIES {
            let current = self.transfer(id).await?;
            let Some(next) = step(&current)? else {
                return Ok((current, None));
            };
            match self.store.replace_transfer(&next, current.precondition()).await {
                Ok(()) => return Ok((current, Some(next))),
                Err(PortError::ConditionFailed) => continue,
                Err(PortError::NotFound) => return Err(DomainError::TransferNotFound.into()),
                Err(other) => return Err(other.into()),
            }
        }
        Err(ServiceError::Busy)
    }

    /// Appends an audit event with a fresh id. Losing the race to an equal
    /// id is success (the event is recorded).
    async fn audit(&self, transfer: TransferId, kind: AuditKind) -> Result<(), ServiceError> {
        let id = self.random.event_id()?;
        self.audit_with_id(id, transfer, kind).await
    }

    /// Appends an audit event under an id derived from what it records, so
    /// a retried request cannot record it twice.
    async fn audit_with_id(
        &self,
        id: EventId,
        transfer: TransferId,
        kind: AuditKind,
    ) -> Result<(), ServiceError> {
        let event = AuditEvent {
            id,
            transfer,
            at: self.now(),
            kind,
        };
        match self.store.append_audit(&event).await {
            Ok(()) | Err(PortError::ConditionFailed) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Sends one mail.
    async fn send_mail(&self, mail: Result<RenderedMail, MailError>) -> Result<(), ServiceError> {
        let mail = mail?;
        self.mailer.send(&mail).await?;
        Ok(())
    }
}

/// 16 bytes of SHA-256 over a label and length-prefixed parts: how ids are
/// derived from a client's request id, so retries land on the same record.
/// The label separates the kinds of derived id from one another.
pub(crate) fn derive_id(label: &str, parts: &[&[u8]]) -> [u8; 16] {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    for part in parts {
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}
