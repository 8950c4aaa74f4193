//! The `files` function, step 4 of the wizard: a file's ciphertext goes
//! from the client straight to object storage by presigned multipart
//! upload. Declaring a file checks its exact ciphertext size against the
//! format and the policy; completing it checks the stored size against the
//! declaration (a client cannot store more, or other, than it declared).
//! Until the key is set, a file can be removed again, half uploaded or
//! complete.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::error::Field;
use kluis_core::ids::FileId;
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::{param, session_token, transfer_id};
use kluis_http::{Router, body, log, response};

/// `POST` (session): declare a file → presigned part uploads.
pub const FILES_PATH: &str = "/api/transfers/{id}/files";
/// `POST` (session): the parts' ETags → the file is complete.
pub const COMPLETE_PATH: &str = "/api/transfers/{id}/files/{file}/complete";
/// `DELETE` (session): the file leaves the draft, its upload or object is freed.
pub const FILE_PATH: &str = "/api/transfers/{id}/files/{file}";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let (add, complete, remove) = (Arc::clone(service), Arc::clone(service), Arc::clone(service));
    Router::new()
        .route(Method::POST, FILES_PATH, move |request| {
            add_file::<P>(Arc::clone(&add), request)
        })
        .route(Method::POST, COMPLETE_PATH, move |request| {
            complete_file::<P>(Arc::clone(&complete), request)
        })
        .route(Method::DELETE, FILE_PATH, move |request| {
            remove_file::<P>(Arc::clone(&remove), request)
        })
}

/// `POST /api/transfers/{id}/files`: 201 `{file_id, part_bytes, parts}`.
pub async fn add_file<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        let id = transfer_id(&request)?;
        Ok(service.add_file(&session, id, body::json(&request)?).await?)
    };
    response::result(StatusCode::CREATED, outcome.await)
}

/// `POST /api/transfers/{id}/files/{file}/complete`: 200 `{file_id, ciphertext_bytes}`.
pub async fn complete_file<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        let id = transfer_id(&request)?;
        let file: FileId = param(&request, "file", Field::FileId)?;
        Ok(service
            .complete_file(&session, id, file, body::json(&request)?)
            .await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

/// `DELETE /api/transfers/{id}/files/{file}`: 204, no body, also when the
/// draft holds no such file (removed already: a retry). Should the object
/// store fail after the file left the draft, the answer is still 204 and
/// the failure is logged: the expiry job deletes what is left.
pub async fn remove_file<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        let id = transfer_id(&request)?;
        let file: FileId = param(&request, "file", Field::FileId)?;
        let removed = service.remove_file(&session, id, file).await?;
        if let Some(error) = removed.left_for_expiry {
            log::deferred_failure(
                "a removed file's upload or object is left for the expiry job",
                &error,
            );
        }
        Ok(())
    };
    response::empty_result(StatusCode::NO_CONTENT, outcome.await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kluis_core::ids::FileId;
    use kluis_core::service::testing::MemoryPorts;
    use kluis_core::service::testing::walk;
    use kluis_function::testing::{self, call, request_id};
    use serde_json::json;

    #[tokio::test]
    async fn a_declared_file_is_uploaded_by_parts_and_completed() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &session, &["p@extern.example"], false).await;
        let file = FileId::from_bytes(*request_id().as_bytes());
        let size = walk::ciphertext(20 * 1024 * 1024);
        let routes = routes::<MemoryPorts>(&service);
        let path = format!("/api/transfers/{transfer}/files");
        let body = json!({ "file_id": file.to_string(), "ciphertext_bytes": size });
        let added = call(&routes, Method::POST, &path, Some(&session.reveal()), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.json);
        let urls: Vec<_> = serde_json::from_value(added.json["parts"].clone()).expect("signed requests");
        assert_eq!(urls.len(), 3, "20 MiB in 8 MiB parts");
        let parts = walk::put_parts(&service, &urls, &walk::part_sizes(size, urls.len()));
        let path = format!("/api/transfers/{transfer}/files/{file}/complete");
        let body = json!({ "parts": parts });
        let done = call(&routes, Method::POST, &path, Some(&session.reveal()), Some(body)).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.json);
        assert_eq!(done.json["ciphertext_bytes"], size);
    }

    #[tokio::test]
    async fn completing_with_an_etag_that_was_not_uploaded_is_409_not_500() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &session, &["p@extern.example"], false).await;
        let file = FileId::from_bytes(*request_id().as_bytes());
        let size = walk::ciphertext(1000);
        let routes = routes::<MemoryPorts>(&service);
        let path = format!("/api/transfers/{transfer}/files");
        let body = json!({ "file_id": file.to_string(), "ciphertext_bytes": size });
        let added = call(&routes, Method::POST, &path, Some(&session.reveal()), Some(body)).await;
        let urls: Vec<_> = serde_json::from_value(added.json["parts"].clone()).expect("signed requests");
        walk::put_parts(&service, &urls, &[size]);
        let path = format!("/api/transfers/{transfer}/files/{file}/complete");
        let body = json!({ "parts": [{ "number": 1, "etag": "\"not-the-etag\"" }] });
        let answer = call(&routes, Method::POST, &path, Some(&session.reveal()), Some(body)).await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.json);
        assert_eq!(answer.json["code"], "upload_incomplete");
    }

    #[tokio::test]
    async fn a_size_the_format_cannot_produce_is_refused_before_any_upload() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &session, &["p@extern.example"], false).await;
        let file = FileId::from_bytes(*request_id().as_bytes());
        let path = format!("/api/transfers/{transfer}/files");
        let body = json!({ "file_id": file.to_string(), "ciphertext_bytes": 15 });
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session.reveal()),
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.json);
        assert_eq!(service.objects().upload_count(), 0);
    }

    /// Declares a file of `plaintext` bytes through the route, without
    /// uploading it: an upload the browser is still busy with.
    async fn declared(
        routes: &Router,
        session: &kluis_core::ids::Token,
        transfer: kluis_core::ids::TransferId,
        plaintext: u64,
    ) -> FileId {
        let file = FileId::from_bytes(*request_id().as_bytes());
        let path = format!("/api/transfers/{transfer}/files");
        let body = json!({ "file_id": file.to_string(), "ciphertext_bytes": walk::ciphertext(plaintext) });
        let added = call(routes, Method::POST, &path, Some(&session.reveal()), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.json);
        file
    }

    #[tokio::test]
    async fn a_half_uploaded_file_is_removed_with_204_and_no_longer_blocks_the_key() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &session, &["p@extern.example"], false).await;
        walk::upload(&service, &session, transfer, 1000).await;
        let routes = routes::<MemoryPorts>(&service);
        let file = declared(&routes, &session, transfer, 2000).await;
        assert_eq!(service.objects().upload_count(), 1);

        let path = format!("/api/transfers/{transfer}/files/{file}");
        let removed = call(&routes, Method::DELETE, &path, Some(&session.reveal()), None).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
        assert_eq!(removed.json, serde_json::Value::Null, "no body");
        assert!(!removed.headers.contains_key(http::header::CONTENT_TYPE));
        assert_eq!(removed.headers["cache-control"], "no-store");
        assert_eq!(service.objects().upload_count(), 0, "the upload is aborted");
        assert_eq!(service.objects().object_count(), 1, "the other file stays");

        let again = call(&routes, Method::DELETE, &path, Some(&session.reveal()), None).await;
        assert_eq!(again.status, StatusCode::NO_CONTENT, "a retry: {}", again.json);
        service
            .set_key(&session, transfer, walk::key_request(&walk::RIGHT_KEY))
            .await
            .expect("the key is set once the half-uploaded file is gone");
    }

    #[tokio::test]
    async fn a_complete_file_is_removed_with_its_object_and_its_place_freed() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &session, &["p@extern.example"], false).await;
        let file = walk::upload(&service, &session, transfer, 1000).await;
        assert_eq!(service.objects().object_count(), 1);
        let routes = routes::<MemoryPorts>(&service);
        let path = format!("/api/transfers/{transfer}/files/{file}");
        let removed = call(&routes, Method::DELETE, &path, Some(&session.reveal()), None).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
        assert_eq!(service.objects().object_count(), 0, "the object is deleted");
        let never = format!("/api/transfers/{transfer}/files/{}", FileId::from_bytes([3; 16]));
        let unknown = call(&routes, Method::DELETE, &never, Some(&session.reveal()), None).await;
        assert_eq!(
            unknown.status,
            StatusCode::NO_CONTENT,
            "a file id the draft does not hold: {}",
            unknown.json
        );
    }

    #[tokio::test]
    async fn a_removal_the_object_store_fails_after_the_write_is_still_204() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &session, &["p@extern.example"], false).await;
        let file = walk::upload(&service, &session, transfer, 1000).await;
        service.objects().set_failing_removals(true);
        let path = format!("/api/transfers/{transfer}/files/{file}");
        let removed = call(
            &routes::<MemoryPorts>(&service),
            Method::DELETE,
            &path,
            Some(&session.reveal()),
            None,
        )
        .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
        assert_eq!(
            service.objects().object_count(),
            1,
            "left for the expiry job, which deletes the transfer's prefix"
        );
    }

    #[tokio::test]
    async fn removing_is_refused_once_keyed_for_others_and_without_a_session() {
        let service = testing::service();
        let owner = testing::session(&service, "jan@example.nl").await;
        let other = testing::session(&service, "piet@example.nl").await;
        let transfer = walk::draft(&service, &owner, &["p@extern.example"], false).await;
        let file = walk::upload(&service, &owner, transfer, 1000).await;
        let routes = routes::<MemoryPorts>(&service);
        let path = format!("/api/transfers/{transfer}/files/{file}");
        let refusals = [
            (
                Some(other.reveal()),
                path.clone(),
                StatusCode::NOT_FOUND,
                "transfer_not_found",
            ),
            (None, path.clone(), StatusCode::UNAUTHORIZED, "session_invalid"),
            (
                Some(owner.reveal()),
                format!("/api/transfers/{transfer}/files/not-an-id"),
                StatusCode::BAD_REQUEST,
                "malformed",
            ),
            (
                Some(owner.reveal()),
                format!("/api/transfers/nonsense/files/{file}"),
                StatusCode::BAD_REQUEST,
                "malformed",
            ),
        ];
        for (session, path, status, code) in refusals {
            let answer = call(&routes, Method::DELETE, &path, session.as_deref(), None).await;
            assert_eq!(
                (answer.status, answer.json["code"].as_str()),
                (status, Some(code)),
                "{path}"
            );
        }
        service
            .set_key(&owner, transfer, walk::key_request(&walk::RIGHT_KEY))
            .await
            .expect("keyed");
        let keyed = call(&routes, Method::DELETE, &path, Some(&owner.reveal()), None).await;
        assert_eq!(keyed.status, StatusCode::CONFLICT, "{}", keyed.json);
        assert_eq!(keyed.json["code"], "invalid_transition");
        assert_eq!(
            service.objects().object_count(),
            1,
            "the keyed file keeps its object"
        );
    }

    #[tokio::test]
    async fn a_malformed_file_id_in_the_path_is_400_and_someone_elses_transfer_404() {
        let service = testing::service();
        let owner = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &owner, &["p@extern.example"], false).await;
        let other = testing::session(&service, "piet@example.nl").await;
        let path = format!("/api/transfers/{transfer}/files/not-an-id/complete");
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&owner.reveal()),
            Some(json!({"parts": []})),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.json);
        let path = format!("/api/transfers/{transfer}/files");
        let body = json!({ "file_id": FileId::from_bytes([9; 16]).to_string(), "ciphertext_bytes": walk::ciphertext(1) });
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&other.reveal()),
            Some(body),
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.json);
    }
}
