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
    /// Status of a failed backend: it may recover, so 503. The one rule for
    /// every layer that answers a port failure: the core's use cases
    /// ([`crate::service::ServiceError`]), a handler meeting a port directly
    /// (`kluis-http`'s `ApiError`), the embedded store's signed URLs.
    pub const BACKEND_STATUS: u16 = 503;
    /// Code of a failed backend.
    pub const BACKEND_CODE: &'static str = "backend_unavailable";
    /// What a client is told about a failed backend (its cause stays in the log).
    pub const BACKEND_MESSAGE: &'static str = "a backend is unavailable; try again";

    /// The HTTP status when this failure ends a request: 503 for a backend
    /// that may recover; 500 for an outcome the caller should have decided
    /// on and did not (a bug).
    pub const fn http_status(&self) -> u16 {
        match self {
            Self::Backend(_) => Self::BACKEND_STATUS,
            Self::ConditionFailed | Self::NotFound => 500,
        }
    }

    /// The stable code when this failure ends a request.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Backend(_) => Self::BACKEND_CODE,
            Self::ConditionFailed | Self::NotFound => "internal",
        }
    }

    /// What a client is told when this failure ends a request.
    pub const fn public_message(&self) -> &'static str {
        match self {
            Self::Backend(_) => Self::BACKEND_MESSAGE,
            Self::ConditionFailed | Self::NotFound => "internal error",
        }
    }

    /// Wraps an adapter's own error (an SDK or I/O error) as a backend failure.
    pub fn backend(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(source))
    }
}
