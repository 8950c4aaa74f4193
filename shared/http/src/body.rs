//! Reading request bodies: under a limit enforced while reading (a client
//! cannot make the server buffer more than the limit by lying about or
//! omitting `Content-Length`), and parsing JSON bodies.

use core::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// Reads `body` whole, refusing it with 413 as soon as the declared length
/// or the bytes received pass `limit`, and with 408 when it has not
/// arrived whole within `deadline` (a client trickling bytes would
/// otherwise hold a connection and its buffer for as long as it likes).
pub async fn read_limited<B>(
    headers: &HeaderMap,
    body: B,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let read = tokio::time::timeout(deadline, Limited::new(body, limit).collect());
    match read.await.map_err(|_| ApiError::BodyTimeout)? {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(ApiError::PayloadTooLarge { limit }),
        Err(_) => Err(ApiError::BodyUnreadable),
    }
}

/// Whether the request declares a JSON body (`application/json`, with any
/// parameters such as `charset=utf-8`).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses a JSON body: 415 unless it is declared as JSON, 400
/// `malformed_json` unless it is a JSON object that parses into `T`.
///
/// Every body in `docs/api.yaml` is an object. serde would also read a
/// struct from an array of its fields in order (`["id", "Ada", …]`), which
/// no document allows, so anything but an object is refused first.
///
/// A number with a zero fraction (`3.0`) counts as the integer it equals,
/// as JSON Schema's `integer` says (`docs/api.yaml`): JSON has one number
/// type, and a client's serializer may write either form.
pub fn json<T: DeserializeOwned>(request: &http::Request<Bytes>) -> Result<T, ApiError> {
    match json_value(request)? {
        members @ Value::Object(_) => serde_json::from_value(members).map_err(|_| ApiError::MalformedJson),
        _ => Err(ApiError::MalformedJson),
    }
}

/// Any JSON value (415 unless declared as JSON), with integral numbers.
fn json_value(request: &http::Request<Bytes>) -> Result<Value, ApiError> {
    if !is_json(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let mut value: Value = serde_json::from_slice(request.body()).map_err(|_| ApiError::MalformedJson)?;
    integral_numbers(&mut value);
    Ok(value)
}

/// Parses a JSON object a route takes optionally (one added to a route
/// after clients were written): no body at all (zero bytes, whatever type
/// is declared) or JSON `null` is `T::default()`, so a client that sends
/// nothing, or serialises "nothing" as `null` (the CLI does), keeps
/// working; any other body is parsed as [`json`] parses it (415 unless
/// declared as JSON, 400 `malformed_json` unless it is an object that
/// parses into `T`).
pub fn optional_json<T: DeserializeOwned + Default>(request: &http::Request<Bytes>) -> Result<T, ApiError> {
    if request.body().is_empty() {
        return Ok(T::default());
    }
    match json_value(request)? {
        Value::Null => Ok(T::default()),
        members @ Value::Object(_) => serde_json::from_value(members).map_err(|_| ApiError::MalformedJson),
        // `[]` would otherwise pass for "every member absent" (see [`json`]).
        _ => Err(ApiError::MalformedJson),
    }
}

/// The largest integer every JSON number can carry exactly (2^53).
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Rewrites every number with a zero fraction, within the exactly
/// representable range, as that integer. (Nesting is bounded by the
/// parser's recursion limit.)
fn integral_numbers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && float.abs() <= EXACT_INTEGERS
            {
                // Exact: the value is an integer within ±2^53.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let integer = if float >= 0.0 {
                    Value::from(float as u64)
                } else {
                    Value::from(float as i64)
                };
                *value = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(members) => members.values_mut().for_each(integral_numbers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Part {
        number: u32,
        offset: i64,
    }

    fn request(body: &str) -> http::Request<Bytes> {
        http::Request::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(Bytes::from(body.to_owned()))
            .expect("a request")
    }

    #[test]
    fn integral_floats_are_the_integers_they_equal() {
        let part: Part = json(&request(r#"{"number": 9385.0, "offset": -2.0}"#)).expect("integers");
        assert_eq!(
            part,
            Part {
                number: 9385,
                offset: -2
            }
        );
        #[derive(serde::Deserialize)]
        struct List {
            items: Vec<u32>,
        }
        let list: List = json(&request(r#"{"items": [1e2, 3, 0.0]}"#)).expect("integers");
        assert_eq!(list.items, [100, 3, 0]);
    }

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Choices {
        #[serde(default)]
        days: Option<u32>,
    }

    #[test]
    fn an_optional_body_that_is_absent_is_the_default_and_one_that_is_there_must_be_json() {
        let none = http::Request::builder().body(Bytes::new()).expect("a request");
        assert_eq!(
            optional_json::<Choices>(&none).expect("no body"),
            Choices::default()
        );
        let empty_json = request("");
        assert_eq!(
            optional_json::<Choices>(&empty_json).expect("an empty JSON body"),
            Choices::default()
        );
        assert_eq!(
            optional_json::<Choices>(&request("null")).expect("null: nothing"),
            Choices::default()
        );
        assert_eq!(
            optional_json::<Choices>(&request(r#"{"days": 3}"#)).expect("a body"),
            Choices { days: Some(3) }
        );
        let text = http::Request::builder()
            .header(CONTENT_TYPE, "text/plain")
            .body(Bytes::from_static(b"{}"))
            .expect("a request");
        assert!(matches!(
            optional_json::<Choices>(&text),
            Err(ApiError::UnsupportedMediaType)
        ));
        for body in [" ", "[]", "0", r#"{"weeks": 1}"#] {
            assert!(
                matches!(
                    optional_json::<Choices>(&request(body)),
                    Err(ApiError::MalformedJson)
                ),
                "{body:?}"
            );
        }
    }

    #[test]
    fn a_body_must_be_an_object_not_the_fields_in_order() {
        let fields: Result<Part, _> = json(&request(r#"{"number": 1, "offset": -2}"#));
        assert!(fields.is_ok(), "{fields:?}");
        for body in [r#"[1, -2]"#, "null", "1", r#""x""#] {
            let refused: Result<Part, _> = json(&request(body));
            assert!(
                matches!(refused, Err(ApiError::MalformedJson)),
                "{body}: {refused:?}"
            );
        }
    }

    #[test]
    fn fractions_and_huge_floats_stay_refused() {
        for body in [
            r#"{"number": 1.5, "offset": 0}"#,
            r#"{"number": 1e300, "offset": 0}"#,
            r#"{"number": 1, "offset": 1e999999}"#,
        ] {
            let refused = json::<Part>(&request(body)).expect_err(body);
            assert!(matches!(refused, ApiError::MalformedJson), "{body}");
        }
    }
}
