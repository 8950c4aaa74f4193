//! The state store port: typed records with conditional writes.
//!
//! Every operation is specified so that one DynamoDB request (a conditional
//! `PutItem`/`UpdateItem`/`DeleteItem`, or a `Query` on an index) and one
//! transaction of an embedded database implement it exactly. Races are
//! decided by the store, never by read-then-write in the core:
//! - 20 concurrent `replace_transfer` calls from the same revision: exactly
//!   one returns `Ok`, the others `ConditionFailed`;
//! - 50 concurrent `increment_counter` calls with limit 10 on a fresh
//!   counter: exactly 10 return `Ok` (with the counts 1..=10, each once),
//!   the others `ConditionFailed`.
//!
//! Records with an expiry (challenges, sessions, counters, transfers via
//! [`Transfer::record_expires_at`]) are put with a TTL; the store MAY keep
//! them past it (DynamoDB deletes lazily), so the core checks expiry itself.

use core::fmt;
use core::future::Future;

use sha2::{Digest, Sha256};

use super::PortError;
use crate::audit::AuditEvent;
use crate::ids::{ChallengeId, FileId, TokenHash, TransferId};
use crate::timestamp::Timestamp;
use crate::transfer::{Precondition, Transfer};
use crate::validate::EmailAddress;
use crate::verification::{SenderSession, VerificationChallenge};

/// SHA-256 of an identifying string (an address, a client's network
/// address), so rate-limit keys do not store it in the clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of an e-mail address (already lower-cased).
    pub fn of_email(address: &EmailAddress) -> Self {
        Self::of("email", address.as_str())
    }

    /// The fingerprint of a client identity (e.g. its IP address as text).
    pub fn of_client(client: &str) -> Self {
        Self::of("client", client)
    }

    fn of(kind: &str, value: &str) -> Self {
        // The kind is part of the input so an address and a client string
        // can never share a counter.
        let mut hasher = Sha256::new();
        hasher.update(kind.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        Self(hasher.finalize().into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::ids::encode(&self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A counter the store increments atomically against a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterKey {
    /// Wrong passwords presented for a transfer.
    UnlockFailures(TransferId),
    /// Answers given to one verification challenge.
    CodeAttempts(ChallengeId),
    /// Codes requested for one address in the hour starting at `window`.
    CodesForAddress {
        /// The address's fingerprint.
        address: Fingerprint,
        /// Start of the hourly window.
        window: Timestamp,
    },
    /// Codes requested by one client in the hour starting at `window`.
    CodesFromClient {
        /// The client's fingerprint.
        client: Fingerprint,
        /// Start of the hourly window.
        window: Timestamp,
    },
    /// Download receipts mailed for one recipient's download of one file.
    /// Used with limit 1 as a create-if-absent claim taken *before* the mail
    /// is sent, so racing or retried downloads mail at most one receipt.
    DownloadReceipt {
        /// The transfer.
        transfer: TransferId,
        /// The recipient's position in the transfer.
        recipient: u32,
        /// The file.
        file: FileId,
    },
}

impl fmt::Display for CounterKey {
    /// A stable text key for the store (e.g. a DynamoDB sort key).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnlockFailures(transfer) => write!(f, "unlock-failures#{transfer}"),
            Self::CodeAttempts(challenge) => write!(f, "code-attempts#{challenge}"),
            Self::CodesForAddress { address, window } => {
                write!(f, "codes-for-address#{address}#{}", window.unix_seconds())
            }
            Self::CodesFromClient { client, window } => {
                write!(f, "codes-from-client#{client}#{}", window.unix_seconds())
            }
            Self::DownloadReceipt {
                transfer,
                recipient,
                file,
            } => write!(f, "download-receipt#{transfer}#{recipient}#{file}"),
        }
    }
}

/// Typed, conditional storage of the domain's records.
pub trait StateStore: Send + Sync {
    // --- transfers -------------------------------------------------------

    /// Creates a transfer if none with its id exists (else `ConditionFailed`).
    fn create_transfer(&self, transfer: &Transfer) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Reads a transfer (`NotFound` if absent).
    fn get_transfer(&self, id: TransferId) -> impl Future<Output = Result<Transfer, PortError>> + Send;

    /// Replaces a transfer with `next` only if the stored one still has
    /// `expected.revision` and `expected.state` (else `ConditionFailed`;
    /// `NotFound` if absent). This is the transition-if-in-state of every
    /// life-cycle step; `next.revision()` is one above `expected.revision`.
    fn replace_transfer(
        &self,
        next: &Transfer,
        expected: Precondition,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Ids of transfers whose [`Transfer::purge_due_at`] is at or before
    /// `now`, earliest first, at most `limit`. Adapters keep that value as a
    /// sparse, indexed attribute, written with every transfer.
    fn list_due_for_purge(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<TransferId>, PortError>> + Send;

    // --- counters --------------------------------------------------------

    /// Adds one to the counter if it is below `limit`, creating it at 1 with
    /// TTL `expires_at` if absent, and returns the new count. At the limit it
    /// changes nothing and returns `ConditionFailed`. An existing counter
    /// keeps its first TTL (a window does not slide).
    fn increment_counter(
        &self,
        key: &CounterKey,
        limit: u32,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<u32, PortError>> + Send;

    // --- verification and sessions ---------------------------------------

    /// Stores a challenge if its id is new (else `ConditionFailed`), with TTL `expires_at`.
    fn put_challenge(
        &self,
        challenge: &VerificationChallenge,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Reads a challenge (`NotFound` if absent).
    fn get_challenge(
        &self,
        id: ChallengeId,
    ) -> impl Future<Output = Result<VerificationChallenge, PortError>> + Send;

    /// Deletes a challenge and returns it, if it exists (else `NotFound`).
    /// Of concurrent calls exactly one gets it, so one code opens one session.
    fn take_challenge(
        &self,
        id: ChallengeId,
    ) -> impl Future<Output = Result<VerificationChallenge, PortError>> + Send;

    /// Stores a session if its token hash is new (else `ConditionFailed`), with TTL `expires_at`.
    fn put_session(&self, session: &SenderSession) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Reads a session by its token hash (`NotFound` if absent).
    fn get_session(
        &self,
        token_hash: TokenHash,
    ) -> impl Future<Output = Result<SenderSession, PortError>> + Send;

    /// Deletes a session by its token hash (sign-out), so every later
    /// `get_session` of it is `NotFound`; `NotFound` if there was none (never
    /// stored, expired and swept, or deleted before). Other sessions, of the
    /// same sender too, are untouched.
    fn delete_session(&self, token_hash: TokenHash) -> impl Future<Output = Result<(), PortError>> + Send;

    // --- audit -----------------------------------------------------------

    /// Appends an event if `(event.transfer, event.id)` is new (else
    /// `ConditionFailed`, which a retrying caller treats as done).
    fn append_audit(&self, event: &AuditEvent) -> impl Future<Output = Result<(), PortError>> + Send;

    /// A transfer's events, oldest first.
    fn list_audit(
        &self,
        transfer: TransferId,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, PortError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Field;

    #[test]
    fn counter_keys_have_distinct_stable_text_forms() {
        let address = EmailAddress::parse("a@example.nl", Field::SenderEmail).expect("valid");
        let window = Timestamp::from_unix_seconds(3600);
        let keys = [
            CounterKey::UnlockFailures(TransferId::from_bytes([1; 16])),
            CounterKey::CodeAttempts(ChallengeId::from_bytes([1; 16])),
            CounterKey::CodesForAddress {
                address: Fingerprint::of_email(&address),
                window,
            },
            CounterKey::CodesFromClient {
                client: Fingerprint::of_client("a@example.nl"),
                window,
            },
            CounterKey::DownloadReceipt {
                transfer: TransferId::from_bytes([1; 16]),
                recipient: 0,
                file: FileId::from_bytes([1; 16]),
            },
        ];
        let texts: Vec<String> = keys.iter().map(ToString::to_string).collect();
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            texts[0],
            format!("unlock-failures#{}", TransferId::from_bytes([1; 16]))
        );
        assert!(
            !texts[2].contains("example"),
            "the address must not appear in the key"
        );
    }
}
