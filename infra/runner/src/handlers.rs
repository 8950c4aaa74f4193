//! The HTTP translation of every use case of `kluis_core::service`: parse
//! the path, the credential and the JSON body, call the service, answer
//! JSON. No rule lives here. (The `functions/` crates will hold these when
//! they land; the runner then mounts theirs in [`crate::routes`].)
//!
//! Credentials: the sender's session as the `kluis_session` cookie or a
//! bearer token; the retrieval and manage tokens (from the link's
//! fragment, which never reaches a server by itself) as bearer tokens.

use core::str::FromStr;
use core::time::Duration;
use std::sync::Arc;

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{Request, Response, StatusCode};
use kluis_core::error::{DomainError, Field};
use kluis_core::ids::{FileId, Token, TransferId};
use kluis_core::ports::{Clock, OsRandom, SystemClock};
use kluis_core::service::Service;
use kluis_core::timestamp::Timestamp;
use kluis_embedded::{DiskObjectStore, OutboxMailer, RedbStateStore};
use kluis_http::{ApiError, PathParams, body, request, response, session};
use serde::Serialize;

/// The service over the embedded adapters.
pub type RunnerService = Service<RedbStateStore, DiskObjectStore, OutboxMailer, SystemClock, OsRandom>;

/// The shared service every handler calls.
pub type Svc = Arc<RunnerService>;

fn param<T: FromStr<Err = DomainError>>(
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

fn transfer_id(request: &Request<Bytes>) -> Result<TransferId, ApiError> {
    param(request, "id", Field::TransferId)
}

/// The sender's session; absent or malformed is an invalid session.
fn session_token(request: &Request<Bytes>) -> Result<Token, ApiError> {
    let text = session::session_token(request.headers()).ok_or(DomainError::SessionInvalid)?;
    Token::parse(text, Field::SessionToken).map_err(|_| DomainError::SessionInvalid.into())
}

/// A retrieval or manage token from `Authorization: Bearer`.
fn bearer(request: &Request<Bytes>, field: Field) -> Result<Token, ApiError> {
    let text = session::bearer_token(request.headers()).ok_or(DomainError::Missing { field })?;
    Ok(Token::parse(text, field)?)
}

fn answer<T: Serialize>(status: StatusCode, outcome: Result<T, ApiError>) -> Response<Bytes> {
    response::result(status, outcome)
}

/// `value` as JSON with a session cookie for `token` until `expires_at`.
fn with_session<T: Serialize>(
    svc: &Svc,
    value: &T,
    token: &str,
    expires_at: Timestamp,
    status: StatusCode,
) -> Response<Bytes> {
    let now = svc.clock().now().unix_seconds();
    let max_age = Duration::from_secs(expires_at.unix_seconds().saturating_sub(now));
    let mut ok = response::json(status, value);
    match session::set_session_cookie(token, max_age) {
        Ok(cookie) => {
            ok.headers_mut().insert(SET_COOKIE, cookie);
            ok
        }
        Err(_) => response::error(&ApiError::Internal),
    }
}

/// `POST /api/sender/code`: details → a code by mail.
pub async fn request_code(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let body = body::json(&request)?;
        Ok(svc.request_code(&request::client(&request), body).await?)
    };
    answer(StatusCode::OK, outcome.await)
}

/// `POST /api/sender/verify`: the code → a session (cookie and body).
pub async fn verify_code(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome: Result<_, ApiError> = async { Ok(svc.verify_code(body::json(&request)?).await?) }.await;
    match outcome {
        Ok(opened) => {
            let (token, expires) = (opened.session_token.clone(), opened.expires_at);
            with_session(&svc, &opened, &token, expires, StatusCode::OK)
        }
        Err(e) => response::error(&e),
    }
}

/// `POST /api/transfers`: recipients and options → a draft.
pub async fn create_draft(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        Ok(svc.create_draft(&session, body::json(&request)?).await?)
    };
    answer(StatusCode::CREATED, outcome.await)
}

/// `POST /api/transfers/{id}/files`: a file → presigned part uploads.
pub async fn add_file(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        let id = transfer_id(&request)?;
        Ok(svc.add_file(&session, id, body::json(&request)?).await?)
    };
    answer(StatusCode::CREATED, outcome.await)
}

/// `POST /api/transfers/{id}/files/{file}/complete`: the parts' ETags.
pub async fn complete_file(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        let id = transfer_id(&request)?;
        let file: FileId = param(&request, "file", Field::FileId)?;
        Ok(svc
            .complete_file(&session, id, file, body::json(&request)?)
            .await?)
    };
    answer(StatusCode::OK, outcome.await)
}

/// `PUT /api/transfers/{id}/key`: wrapped key, KDF parameters, auth hash, manifest.
pub async fn set_key(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        let id = transfer_id(&request)?;
        Ok(svc.set_key(&session, id, body::json(&request)?).await?)
    };
    answer(StatusCode::OK, outcome.await)
}

/// `POST /api/transfers/{id}/send`: seal and notify.
pub async fn send(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        Ok(svc.send(&session, transfer_id(&request)?).await?)
    };
    answer(StatusCode::OK, outcome.await)
}

/// `GET /api/retrieve/{id}` (bearer: retrieval token): what the page shows
/// before the password.
pub async fn public_info(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::RetrievalToken)?;
        Ok(svc.public_info(transfer_id(&request)?, &token).await?)
    };
    answer(StatusCode::OK, outcome.await)
}

/// `POST /api/retrieve/{id}/unlock` (bearer): auth key → wrapped key,
/// manifest, downloads.
pub async fn unlock(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::RetrievalToken)?;
        let id = transfer_id(&request)?;
        Ok(svc.unlock(id, &token, body::json(&request)?).await?)
    };
    answer(StatusCode::OK, outcome.await)
}

/// `POST /api/retrieve/{id}/downloads` (bearer): a download receipt.
pub async fn record_download(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::RetrievalToken)?;
        let id = transfer_id(&request)?;
        Ok(svc.record_download(id, &token, body::json(&request)?).await?)
    };
    answer(StatusCode::OK, outcome.await)
}

/// `POST /api/retrieve/{id}/reply` (bearer): a reply draft and a session.
pub async fn reply(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome: Result<_, ApiError> = async {
        let token = bearer(&request, Field::RetrievalToken)?;
        let id = transfer_id(&request)?;
        Ok(svc.reply(id, &token, body::json(&request)?).await?)
    }
    .await;
    match outcome {
        Ok(started) => {
            let (token, expires) = (started.session.session_token.clone(), started.session.expires_at);
            with_session(&svc, &started, &token, expires, StatusCode::CREATED)
        }
        Err(e) => response::error(&e),
    }
}

/// `GET /api/manage/{id}` (bearer: manage token): the sender's status page.
pub async fn status(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::ManageToken)?;
        Ok(svc.status(transfer_id(&request)?, &token).await?)
    };
    answer(StatusCode::OK, outcome.await)
}

/// `POST /api/manage/{id}/revoke` (bearer: manage token).
pub async fn revoke(svc: Svc, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let token = bearer(&request, Field::ManageToken)?;
        Ok(svc.revoke(transfer_id(&request)?, &token).await?)
    };
    answer(StatusCode::OK, outcome.await)
}
