//! The client's one error type, and the exit code each kind of failure maps
//! to, so scripts can tell "the server said no" from "the file is damaged".

use std::path::PathBuf;

/// Why a command did not complete. Messages never contain a code, token,
/// key or password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad input on the command line (an address, a link, an option).
    #[error("{0}")]
    Usage(String),
    /// The API refused the request with its `{code, message}`.
    #[error("the server refused ({status} {code}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's stable machine-readable code.
        code: String,
        /// The API's human-readable message.
        message: String,
    },
    /// The password does not unlock the transfer.
    #[error("the password does not open this transfer: {0}")]
    WrongPassword(String),
    /// The network or the server failed (after retries where they apply).
    #[error("network error: {0}")]
    Transport(String),
    /// The server's answer is not what the API promises.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// Something downloaded failed to decrypt or does not match the manifest:
    /// nothing was written for it.
    #[error("integrity check failed for {what}: {reason}")]
    Integrity {
        /// The file (its manifest name) or "manifest".
        what: String,
        /// What failed.
        reason: String,
    },
    /// A manifest file name that would escape the output folder or is not a
    /// plain file name; the file is not written.
    #[error("refusing unsafe file name {0:?}")]
    UnsafeName(String),
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading from the terminal failed.
    #[error("terminal: {0}")]
    Terminal(#[source] std::io::Error),
    /// The crypto crate refused (e.g. no randomness).
    #[error("encryption error: {0}")]
    Crypto(#[from] kluis_crypto::Error),
}

impl Error {
    /// The process exit code for this error (see the crate README).
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            Self::Api { .. } => 3,
            Self::WrongPassword(_) => 4,
            Self::Integrity { .. } | Self::UnsafeName(_) => 5,
            Self::File { .. } | Self::Terminal(_) => 6,
            Self::Transport(_) | Self::Protocol(_) => 7,
            Self::Crypto(_) => 1,
        }
    }

    /// Wraps an I/O error on `path`.
    pub(crate) fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::File {
            path: path.into(),
            source,
        }
    }

    /// Whether retrying the same request may succeed: transport failures and
    /// the server's "try again" statuses, never a refusal.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Api { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
