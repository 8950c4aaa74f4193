//! The `files` function, step 4 of the wizard: a file's ciphertext goes
//! from the client straight to object storage by presigned multipart
//! upload. Declaring a file checks its exact ciphertext size against the
//! format and the policy; completing it checks the stored size against the
//! declaration (a client cannot store more, or other, than it declared).
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
use kluis_http::{Router, body, response};

/// `POST` (session): declare a file → presigned part uploads.
pub const FILES_PATH: &str = "/api/transfers/{id}/files";
/// `POST` (session): the parts' ETags → the file is complete.
pub const COMPLETE_PATH: &str = "/api/transfers/{id}/files/{file}/complete";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let (add, complete) = (Arc::clone(service), Arc::clone(service));
    Router::new()
        .route(Method::POST, FILES_PATH, move |request| {
            add_file::<P>(Arc::clone(&add), request)
        })
        .route(Method::POST, COMPLETE_PATH, move |request| {
            complete_file::<P>(Arc::clone(&complete), request)
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
