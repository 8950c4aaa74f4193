//! The adapters' own errors, and their mapping onto [`PortError`].
//!
//! SDK errors keep their source (for operators reading a trace) but the
//! `Display` text names only the operation: SDK messages can echo request
//! parameters, and logs must not carry addresses, tokens or file names.

use std::error::Error as StdError;

use kluis_core::ports::PortError;

/// Why an AWS adapter could not do its job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// An SDK call failed for a reason the port does not model.
    #[error("{operation} failed")]
    Sdk {
        /// The AWS operation, e.g. `DynamoDB.PutItem`.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: Box<dyn StdError + Send + Sync + 'static>,
    },
    /// A stored item or a service answer lacks an attribute or has a bad one.
    #[error("malformed {what}")]
    Malformed {
        /// Which item or attribute.
        what: &'static str,
    },
    /// A stored record's JSON body does not decode into its domain type.
    #[error("stored record does not decode")]
    Decode(#[from] serde_json::Error),
    /// A presign request was refused before signing (e.g. too long a validity).
    #[error("presigning refused")]
    Presign(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

impl AwsError {
    /// A failed SDK call of `operation`.
    pub(crate) fn sdk(operation: &'static str, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::Sdk {
            operation,
            source: Box::new(source),
        }
    }
}

impl From<AwsError> for PortError {
    fn from(error: AwsError) -> Self {
        PortError::backend(error)
    }
}

/// A malformed-item error as a [`PortError`], for `?` in mapping code.
pub(crate) fn malformed(what: &'static str) -> PortError {
    AwsError::Malformed { what }.into()
}

/// A failed SDK call of `operation` as a backend [`PortError`].
pub(crate) fn backend(operation: &'static str, source: impl StdError + Send + Sync + 'static) -> PortError {
    AwsError::sdk(operation, source).into()
}
