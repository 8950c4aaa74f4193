//! The `retrieve` function: what a recipient's page or CLI asks with the
//! link's retrieval token (from the URL fragment, sent as a bearer token):
//! the public info shown before the password; the unlock with the auth key
//! derived from the password (wrong keys are counted; at the policy's limit
//! the transfer locks and the sender gets one mail), which returns the
//! wrapped key, the sealed manifest and short-lived presigned downloads;
//! and download receipts (one mail per recipient and file at most).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::error::Field;
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::{bearer, transfer_id};
use kluis_http::{Router, body, response};

/// `GET` (retrieval token): what the page shows before the password.
pub const INFO_PATH: &str = "/api/retrieve/{id}";
/// `POST` (retrieval token): auth key → wrapped key, manifest, downloads.
pub const UNLOCK_PATH: &str = "/api/retrieve/{id}/unlock";
/// `POST` (retrieval token): a download receipt.
pub const DOWNLOADS_PATH: &str = "/api/retrieve/{id}/downloads";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let (info, unlocking, recording) = (Arc::clone(service), Arc::clone(service), Arc::clone(service));
    Router::new()
        .route(Method::GET, INFO_PATH, move |request| {
            public_info::<P>(Arc::clone(&info), request)
        })
        .route(Method::POST, UNLOCK_PATH, move |request| {
            unlock::<P>(Arc::clone(&unlocking), request)
        })
        .route(Method::POST, DOWNLOADS_PATH, move |request| {
            record_download::<P>(Arc::clone(&recording), request)
        })
}

/// `GET /api/retrieve/{id}`: 200 with the sender, expiry, state, file
/// count and the KDF salt and parameters.
pub async fn public_info<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::RetrievalToken)?;
        Ok(service.public_info(transfer_id(&request)?, &token).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

/// `POST /api/retrieve/{id}/unlock`: 200 with the wrapped key, the sealed
/// manifest and one presigned download per file.
pub async fn unlock<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::RetrievalToken)?;
        let id = transfer_id(&request)?;
        Ok(service.unlock(id, &token, body::json(&request)?).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

/// `POST /api/retrieve/{id}/downloads`: 200 `{receipt_sent}`.
pub async fn record_download<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::RetrievalToken)?;
        let id = transfer_id(&request)?;
        Ok(service.record_download(id, &token, body::json(&request)?).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kluis_core::service::testing::{MemoryPorts, walk};
    use kluis_function::testing::{self, call};

    /// A sent transfer; the recipient's (path prefix, token).
    async fn sent(service: &Shared<MemoryPorts>) -> (String, String) {
        walk::sent_transfer(service, "jan@example.nl", &["a@extern.example"], &[1000], true).await;
        let (id, token) = walk::link_for(service, "a@extern.example");
        (format!("/api/retrieve/{id}"), token.reveal())
    }

    fn key(auth: &kluis_core::envelope::AuthKey) -> serde_json::Value {
        serde_json::to_value(kluis_core::service::retrieval::Unlock {
            auth_key: auth.clone(),
        })
        .expect("json")
    }

    #[tokio::test]
    async fn the_right_key_unlocks_and_a_download_is_receipted_once() {
        let service = testing::service();
        let (base, token) = sent(&service).await;
        let routes = routes::<MemoryPorts>(&service);
        let info = call(&routes, Method::GET, &base, Some(&token), None).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.json);
        assert_eq!(info.json["file_count"], 1);
        let unlocked = call(
            &routes,
            Method::POST,
            &format!("{base}/unlock"),
            Some(&token),
            Some(key(&walk::RIGHT_KEY)),
        )
        .await;
        assert_eq!(unlocked.status, StatusCode::OK, "{}", unlocked.json);
        let file_id = unlocked.json["files"][0]["file_id"].clone();
        let mut receipt = key(&walk::RIGHT_KEY);
        receipt["file_id"] = file_id;
        let path = format!("{base}/downloads");
        let first = call(&routes, Method::POST, &path, Some(&token), Some(receipt.clone())).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.json);
        assert_eq!(first.json["receipt_sent"], true);
        let again = call(&routes, Method::POST, &path, Some(&token), Some(receipt)).await;
        assert_eq!(
            again.json["receipt_sent"], false,
            "one receipt per recipient and file"
        );
    }

    #[tokio::test]
    async fn wrong_keys_are_refused_and_lock_the_transfer_at_the_limit() {
        let service = testing::service();
        let (base, token) = sent(&service).await;
        let routes = routes::<MemoryPorts>(&service);
        let path = format!("{base}/unlock");
        let limit = service.settings().policy.unlock_attempts;
        for tried in 1..limit {
            let wrong = call(
                &routes,
                Method::POST,
                &path,
                Some(&token),
                Some(key(&walk::WRONG_KEY)),
            )
            .await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.json);
            assert_eq!(
                wrong.json["attempts_left"],
                limit - tried,
                "the page says how many tries are left: {}",
                wrong.json
            );
        }
        let last = call(
            &routes,
            Method::POST,
            &path,
            Some(&token),
            Some(key(&walk::WRONG_KEY)),
        )
        .await;
        assert_eq!(last.status, StatusCode::LOCKED, "{}", last.json);
        let right = call(
            &routes,
            Method::POST,
            &path,
            Some(&token),
            Some(key(&walk::RIGHT_KEY)),
        )
        .await;
        assert_eq!(right.status, StatusCode::LOCKED, "{}", right.json);
        assert_eq!(right.json["code"], "transfer_locked");
        let lock_mail = service.mailer().sent_to("jan@example.nl");
        assert!(lock_mail.len() >= 3, "code, summary and the lock notice");
    }

    #[tokio::test]
    async fn without_or_with_a_wrong_token_nothing_is_shown() {
        let service = testing::service();
        let (base, _) = sent(&service).await;
        let routes = routes::<MemoryPorts>(&service);
        let missing = call(&routes, Method::GET, &base, None, None).await;
        assert_eq!(missing.status, StatusCode::UNAUTHORIZED, "{}", missing.json);
        assert_eq!(missing.json["code"], "token_invalid");
        let other = kluis_core::ids::Token::from_bytes([5; 32]).reveal();
        let wrong = call(&routes, Method::GET, &base, Some(&other), None).await;
        assert!(
            wrong.status == StatusCode::NOT_FOUND || wrong.status == StatusCode::UNAUTHORIZED,
            "{}",
            wrong.json
        );
        assert!(wrong.json.get("sender").is_none());
    }
}
