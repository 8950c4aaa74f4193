//! The names of a transfer's states and of the actions on it: plain
//! vocabulary, apart from [`crate::transfer`] (which holds the state machine
//! itself), so that [`crate::error`] can name them without depending on the
//! transfer module.

use core::fmt;

use serde::{Deserialize, Serialize};

/// The state of a transfer, without the data each state carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    /// Recipients chosen; files being uploaded.
    Draft,
    /// Files uploaded and the key envelope stored; not yet announced.
    Keyed,
    /// Recipients notified; retrievable until expiry.
    Sent,
    /// Past its expiry (terminal).
    Expired,
    /// Withdrawn by the sender (terminal).
    Revoked,
    /// Too many wrong passwords (terminal).
    Locked,
}

impl TransferState {
    /// The snake_case name, as stored and as shown to clients.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Keyed => "keyed",
            Self::Sent => "sent",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Locked => "locked",
        }
    }

    /// Whether no transition leaves this state.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Expired | Self::Revoked | Self::Locked)
    }
}

impl fmt::Display for TransferState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was attempted, for [`DomainError::InvalidTransition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Add a file.
    AddFile,
    /// Complete a file's upload.
    CompleteFile,
    /// Remove a file again.
    RemoveFile,
    /// Store the key envelope.
    SetKey,
    /// Notify the recipients.
    Send,
    /// Expire.
    Expire,
    /// Revoke.
    Revoke,
    /// Lock after wrong passwords.
    Lock,
    /// Record that objects and keys are deleted.
    Purge,
    /// Record a download.
    RecordDownload,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AddFile => "add a file to",
            Self::CompleteFile => "complete a file of",
            Self::RemoveFile => "remove a file from",
            Self::SetKey => "set the key of",
            Self::Send => "send",
            Self::Expire => "expire",
            Self::Revoke => "revoke",
            Self::Lock => "lock",
            Self::Purge => "purge",
            Self::RecordDownload => "record a download of",
        })
    }
}
