//! The `sender` function, step 1 of the wizard: the sender's name, address
//! (and optional phone) → a six-digit code by mail. The core rate-limits
//! per address and per client address; the answer never says whether an
//! address is known. It also serves the policy the wizard shows and checks
//! before the server does (`GET /api/policy`, public).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::header::CACHE_CONTROL;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::{Router, body, request, response};

/// `POST`: details → a code by mail.
pub const CODE_PATH: &str = "/api/sender/code";

/// `GET` (public): the policy the wizard shows and checks.
pub const POLICY_PATH: &str = "/api/policy";

/// The policy changes only when the functions are redeployed with another,
/// so a page may keep it a few minutes; it holds nothing private.
const POLICY_CACHE: HeaderValue = HeaderValue::from_static("public, max-age=300");

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let (code, shown) = (Arc::clone(service), Arc::clone(service));
    Router::new()
        .route(Method::POST, CODE_PATH, move |request| {
            request_code::<P>(Arc::clone(&code), request)
        })
        .route(Method::GET, POLICY_PATH, move |request| {
            policy::<P>(Arc::clone(&shown), request)
        })
}

/// `GET /api/policy`: 200 `{internal_domains, max_recipients, max_files,
/// max_transfer_bytes, default_retention_days, max_retention_days,
/// session_minutes, code_validity_minutes, own_password: {min_length,
/// min_score}}`. Takes nothing from the request.
pub async fn policy<P: Ports>(service: Shared<P>, _request: Request<Bytes>) -> Response<Bytes> {
    let mut answer = response::json(StatusCode::OK, &service.public_policy());
    answer.headers_mut().insert(CACHE_CONTROL, POLICY_CACHE);
    answer
}

/// `POST /api/sender/code`: 200 `{challenge_id, expires_at}` and a mail.
pub async fn request_code<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let details = body::json(&request)?;
        Ok(service.request_code(&request::client(&request), details).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kluis_core::service::testing::MemoryPorts;
    use kluis_function::testing::{self, call};
    use serde_json::json;

    fn details(email: &str) -> serde_json::Value {
        json!({
            "request_id": "AAAAAAAAAAAAAAAAAAAAAA",
            "name": "Jan de Vries",
            "email": email,
            "language": "nl",
        })
    }

    #[tokio::test]
    async fn valid_details_get_a_challenge_and_a_code_mail() {
        let service = testing::service();
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            CODE_PATH,
            None,
            Some(details("jan@example.nl")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert!(answer.json["challenge_id"].is_string());
        assert!(answer.json["expires_at"].is_string() || answer.json["expires_at"].is_number());
        assert_eq!(service.mailer().sent_to("jan@example.nl").len(), 1);
    }

    #[tokio::test]
    async fn a_malformed_address_is_400_and_sends_nothing() {
        let service = testing::service();
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            CODE_PATH,
            None,
            Some(details("not an address")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.json["code"].is_string() && answer.json["message"].is_string());
        assert!(service.mailer().sent().is_empty());
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_is_refused() {
        let service = testing::service();
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            CODE_PATH,
            None,
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            CODE_PATH,
            None,
            Some(json!([1, 2])),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.json["code"], "malformed_json");
    }

    #[tokio::test]
    async fn a_null_phone_is_no_phone() {
        let service = testing::service();
        let mut body = details("jan@example.nl");
        body["phone"] = serde_json::Value::Null;
        let routes = routes::<MemoryPorts>(&service);
        let answer = call(&routes, Method::POST, CODE_PATH, None, Some(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    }

    #[tokio::test]
    async fn the_policy_is_public_and_may_be_cached_a_few_minutes() {
        let service = testing::service();
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::GET,
            POLICY_PATH,
            None,
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(
            answer.json,
            json!({
                "internal_domains": ["example.nl"],
                "max_recipients": 20,
                "max_files": 100,
                "max_transfer_bytes": 5_368_709_120_u64,
                "default_retention_days": 7,
                "max_retention_days": 30,
                "session_minutes": 120,
                "code_validity_minutes": 15,
                "own_password": { "min_length": 12, "min_score": 3 },
            })
        );
        assert_eq!(answer.headers[CACHE_CONTROL], "public, max-age=300");
    }

    #[tokio::test]
    async fn an_unknown_field_is_refused_as_the_schema_says() {
        let service = testing::service();
        let mut body = details("jan@example.nl");
        body["is_admin"] = json!(true);
        let routes = routes::<MemoryPorts>(&service);
        let answer = call(&routes, Method::POST, CODE_PATH, None, Some(body)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.json);
        assert_eq!(answer.json["code"], "malformed_json");
        assert!(service.mailer().sent().is_empty());
    }
}
