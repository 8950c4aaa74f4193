//! Audit events: what happened to a transfer, when. They name recipients
//! and files by position and id only (no addresses, names or content), so
//! the trail can be kept and shown without widening who sees personal data.

use serde::{Deserialize, Serialize};

use crate::ids::{EventId, FileId, TransferId};
use crate::timestamp::Timestamp;

/// One audit event. The store appends it create-if-absent on
/// `(transfer, id)`, so a retried request cannot record it twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Fresh random id.
    pub id: EventId,
    /// The transfer it is about.
    pub transfer: TransferId,
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub kind: AuditKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditKind {
    /// Draft created.
    Created {
        /// Number of recipients.
        recipients: usize,
    },
    /// A file upload started.
    FileAdded {
        /// The file.
        file: FileId,
        /// Its ciphertext size.
        ciphertext_bytes: u64,
    },
    /// A file upload completed.
    FileCompleted {
        /// The file.
        file: FileId,
    },
    /// A file was removed from the draft (its upload or object freed).
    FileRemoved {
        /// The file.
        file: FileId,
    },
    /// Key envelope stored.
    Keyed,
    /// Recipients notified.
    Sent,
    /// A recipient unlocked with the right password.
    Unlocked {
        /// Recipient position.
        recipient: usize,
    },
    /// A wrong password was presented.
    UnlockFailed {
        /// Recipient position.
        recipient: usize,
        /// Failures so far.
        failures: u32,
    },
    /// Locked after too many wrong passwords.
    Locked,
    /// A recipient downloaded a file.
    Downloaded {
        /// Recipient position.
        recipient: usize,
        /// The file.
        file: FileId,
    },
    /// Revoked by the sender.
    Revoked,
    /// Expired.
    Expired,
    /// Objects and keys deleted.
    Purged,
    /// A recipient replied with a new transfer.
    Replied {
        /// The reply transfer.
        reply: TransferId,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_stored_as_ids_counts_and_times_only() {
        let event = AuditEvent {
            id: EventId::from_bytes([1; 16]),
            transfer: TransferId::from_bytes([2; 16]),
            at: Timestamp::from_unix_seconds(1_800_000_000),
            kind: AuditKind::UnlockFailed {
                recipient: 1,
                failures: 3,
            },
        };
        let json = serde_json::to_string(&event).expect("serializable");
        assert_eq!(
            json,
            format!(
                r#"{{"id":"{}","transfer":"{}","at":1800000000,"kind":{{"event":"unlock_failed","recipient":1,"failures":3}}}}"#,
                event.id, event.transfer
            )
        );
        let back: AuditEvent = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, event);
    }
}
