//! [`ApiError`]: every refusal an HTTP answer can carry, each mapped once to
//! its status and stable machine-readable `code`. Domain refusals keep the
//! status and code `kluis_core` gives them; a port failure maps as the
//! core maps it in a [`ServiceError`] (one rule, [`PortError::http_status`]):
//! a backend that may recover is 503 `backend_unavailable`, anything else
//! 500 `internal`.

use http::StatusCode;
use kluis_core::error::DomainError;
use kluis_core::ports::PortError;
use kluis_core::service::ServiceError;

/// Why a request was refused. Messages MUST NOT hold user input: they are
/// shown to clients and may be logged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A rule of the domain refused the request (always 4xx).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A port (state store, object store, mailer) failed.
    #[error("{}", .0.public_message())]
    Port(#[from] PortError),
    /// A use case of `kluis_core::service` did not complete: its domain
    /// refusal, or 503 `busy` / `backend_unavailable`, or 500 `internal`.
    #[error("{}", service_message(.0))]
    Service(#[from] ServiceError),
    /// No route has this path.
    #[error("no such route")]
    NotFound,
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is larger than the route accepts.
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request target (path and query) is longer than the API reads.
    #[error("the request target is longer than {limit} bytes")]
    UriTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The route takes JSON and the body was declared as something else.
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    /// The body is not the JSON the route takes. The parser's own message is
    /// not repeated: it can quote the input.
    #[error("the body is not valid JSON for this request")]
    MalformedJson,
    /// The body did not arrive whole in time.
    #[error("the body did not arrive in time")]
    BodyTimeout,
    /// The body broke off while it was read.
    #[error("the body could not be read")]
    BodyUnreadable,
    /// Something that should not happen did (a handler panicked, an answer
    /// could not be serialised). No details reach the client.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Domain(e) => StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            Self::Port(e) => {
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Service(e) => {
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MalformedJson | Self::BodyUnreadable => StatusCode::BAD_REQUEST,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Domain(e) => e.code(),
            Self::Port(e) => e.code(),
            Self::Internal => "internal",
            Self::Service(e) => e.code(),
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UriTooLong { .. } => "uri_too_long",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::MalformedJson => "malformed_json",
            Self::BodyUnreadable => "body_unreadable",
            Self::BodyTimeout => "body_timeout",
        }
    }

    /// Why a transfer is gone (`expired`, `revoked`), when the asker holds
    /// one of its links: pages say which instead of a vaguer "gone".
    pub fn gone_reason(&self) -> Option<&'static str> {
        let domain = match self {
            Self::Domain(e) => e,
            Self::Service(e) => e.domain()?,
            _ => return None,
        };
        domain.gone_reason().map(|r| r.as_str())
    }

    /// Tries left before a lock, for a wrong password or code: pages say
    /// it in the reader's language instead of parsing the message.
    pub fn attempts_left(&self) -> Option<u32> {
        let domain = match self {
            Self::Domain(e) => e,
            Self::Service(e) => e.domain()?,
            _ => return None,
        };
        match domain {
            DomainError::WrongPassword { remaining } | DomainError::WrongCode { remaining } => {
                Some(*remaining)
            }
            _ => None,
        }
    }

    /// The input field the refusal is about, if any (forms point at it).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Domain(e) => e.field().map(|f| f.as_str()),
            Self::Service(e) => e.domain().and_then(DomainError::field).map(|f| f.as_str()),
            _ => None,
        }
    }
}

/// What a client is told about a failed use case: the domain's message, or
/// a fixed text for the operator's failures (their sources stay in the log).
fn service_message(error: &ServiceError) -> String {
    match error {
        ServiceError::Domain(domain) => domain.to_string(),
        ServiceError::Busy => "the transfer is changing concurrently; try again".to_owned(),
        ServiceError::Port(port) => port.public_message().to_owned(),
        _ => "internal error".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port failure answers the same whether a handler meets it directly
    /// or through a use case of the core.
    #[test]
    fn a_port_failure_has_one_status_and_code_in_every_layer() {
        let backend = || PortError::backend(std::io::Error::other("down"));
        for port in [backend(), PortError::NotFound, PortError::ConditionFailed] {
            let direct = ApiError::Port(match &port {
                PortError::Backend(_) => backend(),
                PortError::NotFound => PortError::NotFound,
                _ => PortError::ConditionFailed,
            });
            let through_the_core = ApiError::Service(ServiceError::Port(port));
            assert_eq!(direct.status(), through_the_core.status());
            assert_eq!(direct.code(), through_the_core.code());
            assert_eq!(direct.to_string(), through_the_core.to_string());
        }
        assert_eq!(
            ApiError::Port(backend()).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
