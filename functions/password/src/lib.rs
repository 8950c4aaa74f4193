//! The `password` function, step 5 of the wizard: what the browser derived
//! from the password — the wrapped content key, the Argon2id salt and
//! parameters, the SHA-256 of the auth key — and the sealed manifest. The
//! password itself never arrives. Parameters under the policy's floor are
//! refused.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::{session_token, transfer_id};
use kluis_http::{Router, body, response};

/// `PUT` (session): the key envelope and the manifest.
pub const KEY_PATH: &str = "/api/transfers/{id}/key";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let service = Arc::clone(service);
    Router::new().route(Method::PUT, KEY_PATH, move |request| {
        set_key::<P>(Arc::clone(&service), request)
    })
}

/// `PUT /api/transfers/{id}/key`: 200 `{transfer_id}`.
pub async fn set_key<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        let id = transfer_id(&request)?;
        Ok(service.set_key(&session, id, body::json(&request)?).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kluis_core::service::testing::MemoryPorts;
    use kluis_core::service::testing::walk;
    use kluis_function::testing::{self, call};

    async fn uploaded(service: &Shared<kluis_core::service::testing::MemoryPorts>) -> (String, String) {
        let session = testing::session(service, "jan@example.nl").await;
        let transfer = walk::draft(service, &session, &["p@extern.example"], false).await;
        walk::upload(service, &session, transfer, 1000).await;
        (session.reveal(), format!("/api/transfers/{transfer}/key"))
    }

    #[tokio::test]
    async fn the_key_envelope_is_stored() {
        let service = testing::service();
        let (session, path) = uploaded(&service).await;
        let body = serde_json::to_value(walk::key_request(&walk::RIGHT_KEY)).expect("json");
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::PUT,
            &path,
            Some(&session),
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert!(answer.json["transfer_id"].is_string());
    }

    #[tokio::test]
    async fn parameters_under_the_policy_floor_are_refused() {
        let service = testing::service();
        let (session, path) = uploaded(&service).await;
        let mut body = serde_json::to_value(walk::key_request(&walk::RIGHT_KEY)).expect("json");
        body["kdf"]["m_kib"] = serde_json::json!(1024);
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::PUT,
            &path,
            Some(&session),
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.json);
        assert_eq!(answer.json["code"], "kdf_too_weak");
    }

    /// Base64url of `n` zero bytes: a sealed manifest of that length to the
    /// server, which never opens it.
    fn zero_manifest(n: usize) -> serde_json::Value {
        let full = n / 3 * 4;
        let tail = match n % 3 {
            0 => 0,
            1 => 2,
            _ => 3,
        };
        serde_json::json!("A".repeat(full + tail))
    }

    #[tokio::test]
    async fn the_largest_sealed_manifest_is_stored_and_one_byte_more_is_malformed_json() {
        let max = kluis_core::envelope::SealedManifest::MAX_LEN;
        assert_eq!(max, 131_107, "docs/api.yaml names this number");
        for (len, status, code) in [
            (max + 1, StatusCode::BAD_REQUEST, Some("malformed_json")),
            (max, StatusCode::OK, None),
        ] {
            let service = testing::service();
            let (session, path) = uploaded(&service).await;
            let mut body = serde_json::to_value(walk::key_request(&walk::RIGHT_KEY)).expect("json");
            body["manifest"] = zero_manifest(len);
            let answer = call(
                &routes::<MemoryPorts>(&service),
                Method::PUT,
                &path,
                Some(&session),
                Some(body),
            )
            .await;
            assert_eq!(answer.status, status, "{len}: {}", answer.json);
            if let Some(code) = code {
                assert_eq!(answer.json["code"], code);
            }
        }
    }

    #[tokio::test]
    async fn a_wrapped_key_of_the_wrong_length_is_malformed_json() {
        let service = testing::service();
        let (session, path) = uploaded(&service).await;
        let mut body = serde_json::to_value(walk::key_request(&walk::RIGHT_KEY)).expect("json");
        body["wrapped_key"] = serde_json::json!("AAAA");
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::PUT,
            &path,
            Some(&session),
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.json["code"], "malformed_json");
    }
}
