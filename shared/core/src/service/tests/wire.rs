//! The request and response structs as JSON bodies, and how service errors
//! map to statuses: what the HTTP layer relies on.

use super::*;
use crate::error::DomainError;
use crate::ports::PortError;
use crate::service::ServiceError;
use crate::service::sender::SessionOpened;
use crate::transfer::Sender;
use crate::validate::Language;

#[test]
fn a_code_request_body_deserializes_with_defaults_and_normalised_address() {
    let id = request_id();
    let body = format!(r#"{{"request_id":"{id}","name":"Jan","email":"Jan@Example.NL"}}"#);
    let request: RequestCode = serde_json::from_str(&body).expect("valid body");
    assert_eq!(request.email.as_str(), "jan@example.nl");
    assert_eq!(request.language, Language::Nl);
    assert_eq!(request.phone, None);
}

#[test]
fn a_body_with_a_malformed_field_is_refused_without_echoing_it() {
    let body = r#"{"challenge_id":"AAAAAAAAAAAAAAAAAAAAAA","code":"12a456"}"#;
    let error = serde_json::from_str::<VerifyCode>(body).expect_err("a malformed code");
    assert!(!error.to_string().contains("12a456"));
}

#[test]
fn a_key_body_round_trips_as_base64url_json() {
    let request = key_request(&RIGHT_KEY);
    let json = serde_json::to_string(&request).expect("serializable");
    assert!(json.contains(r#""kdf":{"m_kib":65536,"t":3,"p":1}"#));
    let back: SetKey = serde_json::from_str(&json).expect("round trip");
    assert_eq!(back, request);
}

#[test]
fn a_session_token_never_shows_in_debug_output() {
    let opened = SessionOpened {
        session_token: "secret-token-text".into(),
        expires_at: NOW,
        sender: Sender {
            name: PersonName::parse("Jan", Field::SenderName).expect("valid"),
            email: crate::service::testing::address("jan@example.nl"),
            phone: None,
        },
    };
    assert!(!format!("{opened:?}").contains("secret-token-text"));
}

#[test]
fn service_errors_map_to_the_domain_status_or_a_5xx() {
    let refused = ServiceError::from(DomainError::GONE);
    assert_eq!((refused.http_status(), refused.code()), (410, "transfer_gone"));
    let backend = ServiceError::from(PortError::backend(std::io::Error::other("down")));
    assert_eq!(
        (backend.http_status(), backend.code()),
        (503, "backend_unavailable")
    );
    assert_eq!(ServiceError::Busy.http_status(), 503);
    let bug = ServiceError::from(PortError::ConditionFailed);
    assert_eq!((bug.http_status(), bug.code()), (500, "internal"));
}
