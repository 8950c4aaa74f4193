//! The one error type every port returns.

/// Why a port operation did not do what was asked.
///
/// `ConditionFailed` and `NotFound` are outcomes the core decides on (a lost
/// race, a limit reached, a missing record); `Backend` is a failure of the
/// service behind the port (5xx, retried by the caller or the platform).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    /// The write's condition did not hold: the record already exists, is in
    /// another state or revision, or the counter is at its limit.
    #[error("the condition of a conditional write did not hold")]
    ConditionFailed,
    /// No such record or object.
    #[error("not found")]
    NotFound,
    /// The backend failed (network, throttling, permissions, corrupt data…).
    #[error("backend failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl PortError {
    /// Wraps an adapter's own error (an SDK or I/O error) as a backend failure.
    pub fn backend(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(source))
    }
}
