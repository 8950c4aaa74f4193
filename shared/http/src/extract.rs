//! What every function's handler takes out of a request before it calls
//! the core: path parameters parsed into the core's id types, the sender's
//! session (cookie or bearer), a link's token (bearer), and the transport
//! choice `"bearer": true` of the steps that open a session.
//!
//! Credentials: the sender's session as the `kluis_session` cookie or a
//! bearer token; the retrieval and manage tokens (from the link's fragment,
//! which never reaches a server by itself) as bearer tokens.

use core::str::FromStr;
use core::time::Duration;

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{Request, Response, StatusCode};
use kluis_core::error::{DomainError, Field};
use kluis_core::ids::{Token, TransferId};
use kluis_core::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::router::PathParams;
use crate::{response, session};

/// The path parameter `name`, parsed by the core's parser for `field`.
pub fn param<T: FromStr<Err = DomainError>>(
    request: &Request<Bytes>,
    name: &str,
    field: Field,
) -> Result<T, ApiError> {
    let text = request
        .extensions()
        .get::<PathParams>()
        .and_then(|p| p.get(name))
        .ok_or(DomainError::Missing { field })?;
    Ok(text.parse()?)
}

/// The `{id}` of a transfer route.
pub fn transfer_id(request: &Request<Bytes>) -> Result<TransferId, ApiError> {
    param(request, "id", Field::TransferId)
}

/// The sender's session; absent or malformed is an invalid session (401),
/// never a hint at which.
pub fn session_token(request: &Request<Bytes>) -> Result<Token, ApiError> {
    let text = session::session_token(request.headers()).ok_or(DomainError::SessionInvalid)?;
    Token::parse(text, Field::SessionToken).map_err(|_| DomainError::SessionInvalid.into())
}

/// A retrieval or manage token from `Authorization: Bearer`; absent or
/// malformed is 401 `token_invalid` (a client without a credential is
/// unauthenticated, not malformed).
pub fn bearer(request: &Request<Bytes>, field: Field) -> Result<Token, ApiError> {
    let invalid = DomainError::TokenInvalid { field };
    let text = session::bearer_token(request.headers()).ok_or(invalid.clone())?;
    Token::parse(text, field).map_err(|_| invalid.into())
}

/// How a client wants a new session: the page gets an HttpOnly cookie that
/// no script can read; the CLI asks with `"bearer": true` in the body and
/// gets the token in the answer instead (and no cookie).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct SessionTransport {
    /// `true`: the token in the body; `false` (the default): the cookie.
    #[serde(default)]
    pub bearer: bool,
}

impl SessionTransport {
    /// The choice in a JSON body (the body's other fields are the core's).
    pub fn of(request: &Request<Bytes>) -> Result<Self, ApiError> {
        crate::body::json(request)
    }
}

/// A new session as the client sees it: the token only for a bearer client.
#[derive(Debug, Serialize)]
pub struct SessionAnswer<'a, S: Serialize> {
    /// The token, for a client that asked for it in the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<&'a str>,
    /// When the session ends.
    pub expires_at: Timestamp,
    /// Who the session is for.
    pub sender: &'a S,
}

/// Answers `value` with `status`, and for a cookie client sets the session
/// cookie for `token` until `expires_at` (seen from `now`).
pub fn with_session<T: Serialize>(
    value: &T,
    transport: SessionTransport,
    token: &str,
    expires_at: Timestamp,
    now: Timestamp,
    status: StatusCode,
) -> Response<Bytes> {
    let mut ok = response::json(status, value);
    if transport.bearer {
        return ok;
    }
    let max_age = Duration::from_secs(expires_at.unix_seconds().saturating_sub(now.unix_seconds()));
    match session::set_session_cookie(token, max_age) {
        Ok(cookie) => {
            ok.headers_mut().insert(SET_COOKIE, cookie);
            ok
        }
        Err(_) => response::error(&ApiError::Internal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> Request<Bytes> {
        Request::builder()
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Bytes::from(body.to_owned()))
            .expect("a valid request")
    }

    #[test]
    fn the_transport_defaults_to_the_cookie() {
        let plain = SessionTransport::of(&request(r#"{"code":"123456"}"#)).expect("parses");
        assert!(!plain.bearer);
        let cli = SessionTransport::of(&request(r#"{"code":"123456","bearer":true}"#)).expect("parses");
        assert!(cli.bearer);
    }

    #[test]
    fn a_bearer_that_is_not_a_boolean_is_a_bad_request() {
        let error = SessionTransport::of(&request(r#"{"bearer":"yes"}"#)).expect_err("refused");
        assert_eq!(response::error(&error).status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_cookie_client_gets_the_cookie_and_a_bearer_client_none() {
        let now = Timestamp::from_unix_seconds(1_000);
        let later = Timestamp::from_unix_seconds(4_600);
        let cookie = with_session(
            &"x",
            SessionTransport::default(),
            "tok",
            later,
            now,
            StatusCode::OK,
        );
        let set = cookie
            .headers()
            .get(SET_COOKIE)
            .expect("a cookie")
            .to_str()
            .expect("ascii");
        assert!(
            set.starts_with("kluis_session=tok;") && set.contains("Max-Age=3600"),
            "{set}"
        );
        let bearer = with_session(
            &"x",
            SessionTransport { bearer: true },
            "tok",
            later,
            now,
            StatusCode::OK,
        );
        assert!(bearer.headers().get(SET_COOKIE).is_none());
    }
}
