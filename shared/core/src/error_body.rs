//! The JSON body of every refusal, `{"code", "message"}` plus `field`,
//! `attempts_left` or `reason` when they apply (`docs/api.yaml`, `Error`).
//!
//! Built here and nowhere else: the API (`kluis-http`), the embedded object
//! store's signed-URL handler and the runner all answer with it, and the
//! command-line client reads it back with the same type.

use serde::{Deserialize, Serialize};

/// One refusal as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code (snake_case).
    pub code: String,
    /// For people; never repeats input.
    pub message: String,
    /// The input field the refusal is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With `wrong_password` and `wrong_code`: tries left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// With `transfer_gone`, for a holder of the transfer's link: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ErrorBody {
    /// The body for `code` and `message`, with no optional member.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            field: None,
            attempts_left: None,
            reason: None,
        }
    }

    /// The JSON bytes. Serialising strings and a number cannot fail; the
    /// fallback keeps this total.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self)
            .unwrap_or_else(|_| br#"{"code":"internal","message":"internal error"}"#.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_members_appear_only_when_set_and_read_back() {
        let plain = ErrorBody::new("not_found", "no such thing");
        assert_eq!(
            plain.to_json(),
            br#"{"code":"not_found","message":"no such thing"}"#.to_vec()
        );
        let full = ErrorBody {
            field: Some("manifest".into()),
            attempts_left: Some(2),
            reason: Some("expired".into()),
            ..ErrorBody::new("x", "y")
        };
        let back: ErrorBody = serde_json::from_slice(&full.to_json()).expect("round trip");
        assert_eq!(back, full);
    }
}
