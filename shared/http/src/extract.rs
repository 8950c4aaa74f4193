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
use serde::de::DeserializeOwned;
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
    /// The choice in a JSON body and the rest of the body as the core's
    /// request `T`. `bearer` is taken out before `T` is parsed, so `T` can
    /// refuse unknown fields (`deny_unknown_fields`) while the transport
    /// flag stays the HTTP layer's business.
    pub fn split<T: DeserializeOwned>(request: &Request<Bytes>) -> Result<(Self, T), ApiError> {
        let mut fields: serde_json::Map<String, serde_json::Value> = crate::body::json(request)?;
        let transport = match fields.remove("bearer") {
            None => Self::default(),
            Some(flag) => Self {
                bearer: flag.as_bool().ok_or(ApiError::MalformedJson)?,
            },
        };
        // Parsed from text again, not from the `Value`, so the core's types
        // see the same deserializer (and limits) as for any other body.
        let rest = serde_json::to_vec(&fields).map_err(|_| ApiError::MalformedJson)?;
        let inner = serde_json::from_slice(&rest).map_err(|_| ApiError::MalformedJson)?;
        Ok((transport, inner))
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

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Code {
        code: String,
    }

    #[test]
    fn the_transport_defaults_to_the_cookie_and_leaves_the_rest_to_the_core() {
        let (plain, rest) =
            SessionTransport::split::<Code>(&request(r#"{"code":"123456"}"#)).expect("parses");
        assert!(!plain.bearer);
        assert_eq!(rest.code, "123456");
        let (cli, rest) =
            SessionTransport::split::<Code>(&request(r#"{"code":"123456","bearer":true}"#)).expect("parses");
        assert!(cli.bearer);
        assert_eq!(rest.code, "123456");
    }

    #[test]
    fn a_bearer_that_is_not_a_boolean_or_an_unknown_field_is_a_bad_request() {
        for body in [
            r#"{"code":"1","bearer":"yes"}"#,
            r#"{"code":"1","bearer":null}"#,
            r#"{"code":"1","bearer":false,"extra":1}"#,
            r#"[]"#,
        ] {
            let error = SessionTransport::split::<Code>(&request(body)).expect_err(body);
            assert!(matches!(error, ApiError::MalformedJson), "{body}: {error:?}");
            assert_eq!(response::error(&error).status(), StatusCode::BAD_REQUEST);
        }
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
