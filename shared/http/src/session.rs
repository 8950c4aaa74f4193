//! The session's two transports: the browser's cookie (`HttpOnly; Secure;
//! SameSite=Strict; Path=/api`: no script reads it, no other site sends it)
//! and the CLI's `Authorization: Bearer <token>`. Helpers only: what a
//! token means, and whether it is valid, is `kluis_core`'s business.

use core::time::Duration;

use http::HeaderMap;
use http::HeaderValue;
use http::header::{AUTHORIZATION, COOKIE};

/// The cookie's name.
pub const SESSION_COOKIE: &str = "kluis_session";

/// A token that cannot be put in a cookie (only base64url, `.` and `~`
/// are allowed, so no value can smuggle an attribute in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the session token holds characters a cookie cannot carry")]
pub struct InvalidToken;

/// The session token the request carries: the bearer token if there is an
/// `Authorization: Bearer` header (the CLI), else the session cookie.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    bearer_token(headers).or_else(|| cookie(headers, SESSION_COOKIE))
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value that stores `token` for `max_age`.
pub fn set_session_cookie(token: &str, max_age: Duration) -> Result<HeaderValue, InvalidToken> {
    let safe = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if !safe {
        return Err(InvalidToken);
    }
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age={}",
        max_age.as_secs()
    ))
    .map_err(|_| InvalidToken)
}

/// A `Set-Cookie` value that deletes the session cookie (sign-out).
pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static("kluis_session=; HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn bearer_wins_over_the_cookie() {
        let h = headers(&[("authorization", "Bearer abc"), ("cookie", "kluis_session=xyz")]);
        assert_eq!(session_token(&h), Some("abc"));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; kluis_session=xyz; b=2")]);
        assert_eq!(session_token(&h), Some("xyz"));
        let h = headers(&[("cookie", "a=1"), ("cookie", "kluis_session=q")]);
        assert_eq!(session_token(&h), Some("q"));
    }

    #[test]
    fn other_schemes_and_empty_values_are_no_token() {
        assert_eq!(session_token(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(session_token(&headers(&[("authorization", "Bearer ")])), None);
        assert_eq!(session_token(&headers(&[("cookie", "kluis_session=")])), None);
        assert_eq!(session_token(&headers(&[("cookie", "xkluis_session=a")])), None);
    }

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_scoped_to_the_api() {
        let v = set_session_cookie("tok_EN-1", Duration::from_secs(7200)).expect("a safe token");
        assert_eq!(
            v.to_str().expect("ascii"),
            "kluis_session=tok_EN-1; HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age=7200"
        );
    }

    #[test]
    fn a_token_cannot_inject_cookie_attributes() {
        for bad in ["", "a; Domain=evil", "a b", "a\r\nb", "a=b"] {
            assert_eq!(set_session_cookie(bad, Duration::from_secs(1)), Err(InvalidToken));
        }
    }
}
