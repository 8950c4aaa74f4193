//! Unit tests of the disk store's error paths, calling `serve` directly
//! with in-memory requests (the happy paths run in the conformance suite).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use kluis_core::file::{CompletedPart, ETag, PartNumber, UploadId};
use kluis_core::ids::{FileId, TransferId};
use kluis_core::ports::{ByteRange, FixedClock, ObjectKey, ObjectStore, PortError, PresignedUrl};
use kluis_core::timestamp::Timestamp;

use super::{DiskObjectStore, MIN_PART_BYTES, OpenError, SigningKey};

const START: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);
const MINUTE: Duration = Duration::from_secs(60);

struct Fixture {
    _dir: tempfile::TempDir,
    store: DiskObjectStore,
    clock: Arc<FixedClock>,
}

async fn fixture(max_part_bytes: u64) -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let clock = Arc::new(FixedClock::at(START));
    let store = DiskObjectStore::open_with(
        dir.path(),
        "http://127.0.0.1:9/objects/",
        SigningKey::from_bytes([3; 32]),
        max_part_bytes,
        clock.clone(),
    )
    .await
    .expect("open the store");
    Fixture {
        _dir: dir,
        store,
        clock,
    }
}

fn key(file: u8) -> ObjectKey {
    ObjectKey {
        transfer: TransferId::from_bytes([1; 16]),
        file: FileId::from_bytes([file; 16]),
    }
}

fn part(n: u32) -> PartNumber {
    PartNumber::new(n).expect("valid part number")
}

struct Answer {
    status: StatusCode,
    code: Option<String>,
    etag: Option<String>,
    body: Bytes,
}

async fn send(
    store: &DiskObjectStore,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("a valid request");
    let response = store.serve(request).await;
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().collect().await.expect("the body").to_bytes();
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned));
    Answer {
        status,
        code,
        etag,
        body,
    }
}

async fn put(store: &DiskObjectStore, url: &PresignedUrl, body: &[u8]) -> Answer {
    send(store, Method::PUT, &url.url, &[], body).await
}

async fn get(store: &DiskObjectStore, url: &PresignedUrl) -> Answer {
    let headers: Vec<(&str, &str)> = url
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    send(store, Method::GET, &url.url, &headers, b"").await
}

fn assert_refused(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "body: {:?}", answer.body);
    assert_eq!(answer.code.as_deref(), Some(code));
}

/// Uploads `parts` to `key` and returns what completing needs.
async fn upload_parts(
    store: &DiskObjectStore,
    key: &ObjectKey,
    parts: &[&[u8]],
) -> (UploadId, Vec<CompletedPart>) {
    let upload = store.create_multipart_upload(key).await.expect("create");
    let numbers: Vec<PartNumber> = (1..=parts.len() as u32).map(part).collect();
    let urls = store
        .presign_part_uploads(key, &upload, &numbers, MINUTE)
        .await
        .expect("presign");
    let mut completed = Vec::new();
    for ((url, bytes), number) in urls.iter().zip(parts).zip(numbers) {
        let answer = put(store, url, bytes).await;
        assert_eq!(answer.status, StatusCode::OK);
        let etag = ETag::parse(&answer.etag.expect("an ETag")).expect("a valid tag");
        completed.push(CompletedPart { number, etag });
    }
    (upload, completed)
}

async fn stored_object(fixture: &Fixture, file: u8, bytes: &[u8]) -> ObjectKey {
    let key = key(file);
    let (upload, parts) = upload_parts(&fixture.store, &key, &[bytes]).await;
    fixture
        .store
        .complete_multipart_upload(&key, &upload, &parts)
        .await
        .expect("complete");
    key
}

#[tokio::test]
async fn a_url_with_a_changed_signature_is_refused_with_403() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"secret").await;
    let mut url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    let last = url.url.pop().expect("a non-empty URL");
    url.url.push(if last == 'A' { 'B' } else { 'A' });
    assert_refused(
        &get(&f.store, &url).await,
        StatusCode::FORBIDDEN,
        "signature_invalid",
    );
}

#[tokio::test]
async fn a_url_with_a_changed_expiry_is_refused_with_403() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"secret").await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    let later = (START.unix_seconds() + 3600).to_string();
    let expires = (START.unix_seconds() + 60).to_string();
    let extended = PresignedUrl {
        url: url.url.replace(&expires, &later),
        ..url.clone()
    };
    assert_ne!(extended.url, url.url);
    assert_refused(
        &get(&f.store, &extended).await,
        StatusCode::FORBIDDEN,
        "signature_invalid",
    );
}

#[tokio::test]
async fn an_expired_url_is_refused_with_403_and_a_fresh_one_works() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"secret").await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    f.clock.advance(60);
    assert_eq!(
        get(&f.store, &url).await.body.as_ref(),
        b"secret",
        "valid up to its expiry second"
    );
    f.clock.advance(1);
    assert_refused(&get(&f.store, &url).await, StatusCode::FORBIDDEN, "url_expired");
    let part_url = {
        let upload = f.store.create_multipart_upload(&key).await.expect("create");
        f.store
            .presign_part_uploads(&key, &upload, &[part(1)], MINUTE)
            .await
            .expect("presign")
            .remove(0)
    };
    f.clock.advance(61);
    assert_refused(
        &put(&f.store, &part_url, b"x").await,
        StatusCode::FORBIDDEN,
        "url_expired",
    );
}

#[tokio::test]
async fn a_part_url_cannot_be_replayed_for_another_part_number() {
    let f = fixture(1024).await;
    let key = key(1);
    let upload = f.store.create_multipart_upload(&key).await.expect("create");
    let url = f
        .store
        .presign_part_uploads(&key, &upload, &[part(1)], MINUTE)
        .await
        .expect("presign")
        .remove(0);
    let moved = PresignedUrl {
        url: url.url.replace("part=1&", "part=2&"),
        ..url
    };
    assert_refused(
        &put(&f.store, &moved, b"x").await,
        StatusCode::FORBIDDEN,
        "signature_invalid",
    );
}

#[tokio::test]
async fn completing_with_parts_out_of_order_or_repeated_is_a_condition_failure() {
    let f = fixture(MIN_PART_BYTES + 10).await;
    let key = key(1);
    let big = vec![7; MIN_PART_BYTES as usize];
    let (upload, parts) = upload_parts(&f.store, &key, &[&big, b"tail"]).await;
    let reversed: Vec<CompletedPart> = parts.iter().rev().cloned().collect();
    let repeated = vec![parts[0].clone(), parts[0].clone()];
    for bad in [reversed, repeated, Vec::new()] {
        assert!(matches!(
            f.store.complete_multipart_upload(&key, &upload, &bad).await,
            Err(PortError::ConditionFailed)
        ));
    }
    assert!(matches!(
        f.store.object_size(&key).await,
        Err(PortError::NotFound)
    ));
    f.store
        .complete_multipart_upload(&key, &upload, &parts)
        .await
        .expect("the right order still completes");
    assert_eq!(f.store.object_size(&key).await.expect("size"), MIN_PART_BYTES + 4);
}

#[tokio::test]
async fn completing_with_an_unknown_etag_or_a_small_middle_part_is_a_condition_failure() {
    let f = fixture(1024).await;
    let key = key(1);
    let (upload, parts) = upload_parts(&f.store, &key, &[b"small", b"tail"]).await;
    let wrong_tag = vec![CompletedPart {
        number: part(1),
        etag: ETag::parse(&format!("\"{}\"", "0".repeat(64))).expect("valid"),
    }];
    let foreign_tag = vec![CompletedPart {
        number: part(1),
        etag: ETag::parse("\"not-ours\"").expect("valid"),
    }];
    let missing_part = vec![CompletedPart {
        number: part(3),
        ..parts[0].clone()
    }];
    for bad in [wrong_tag, foreign_tag, missing_part, parts] {
        assert!(matches!(
            f.store.complete_multipart_upload(&key, &upload, &bad).await,
            Err(PortError::ConditionFailed)
        ));
    }
}

#[tokio::test]
async fn a_part_uploaded_again_replaces_the_first_version() {
    let f = fixture(1024).await;
    let key = key(1);
    let upload = f.store.create_multipart_upload(&key).await.expect("create");
    let url = f
        .store
        .presign_part_uploads(&key, &upload, &[part(1)], MINUTE)
        .await
        .expect("presign")
        .remove(0);
    let first = put(&f.store, &url, b"first").await.etag.expect("an ETag");
    let second = put(&f.store, &url, b"second").await.etag.expect("an ETag");
    let with = |tag: &str| {
        vec![CompletedPart {
            number: part(1),
            etag: ETag::parse(tag).expect("valid"),
        }]
    };
    assert!(matches!(
        f.store
            .complete_multipart_upload(&key, &upload, &with(&first))
            .await,
        Err(PortError::ConditionFailed)
    ));
    f.store
        .complete_multipart_upload(&key, &upload, &with(&second))
        .await
        .expect("complete with the latest version");
    let download = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    assert_eq!(get(&f.store, &download).await.body.as_ref(), b"second");
}

#[tokio::test]
async fn an_unknown_upload_is_not_found_everywhere() {
    let f = fixture(1024).await;
    let key = key(1);
    let never_made = UploadId::parse("AAAAAAAAAAAAAAAAAAAAAA").expect("valid");
    let url = f
        .store
        .presign_part_uploads(&key, &never_made, &[part(1)], MINUTE)
        .await
        .expect("presigning does not look at the disk")
        .remove(0);
    assert_refused(
        &put(&f.store, &url, b"x").await,
        StatusCode::NOT_FOUND,
        "no_such_upload",
    );
    assert!(matches!(
        f.store.complete_multipart_upload(&key, &never_made, &[]).await,
        Err(PortError::NotFound)
    ));
    let foreign = UploadId::parse("../../../../etc").expect("visible ASCII");
    assert!(matches!(
        f.store
            .presign_part_uploads(&key, &foreign, &[part(1)], MINUTE)
            .await,
        Err(PortError::NotFound)
    ));
    assert!(matches!(
        f.store.complete_multipart_upload(&key, &foreign, &[]).await,
        Err(PortError::NotFound)
    ));
    f.store
        .abort_multipart_upload(&key, &foreign)
        .await
        .expect("aborting a foreign id is a no-op");
}

#[tokio::test]
async fn path_traversal_in_keys_is_refused_before_any_file_is_touched() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"secret").await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    let query = url.url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let t = key.transfer.to_string();
    for path in [
        "/objects/t/../../../etc/passwd".to_owned(),
        format!("/objects/t/{t}/../{}", key.file),
        format!("/objects/t/{t}/%2e%2e%2f%2e%2e"),
        format!("/objects/t/{t}/{}/extra", key.file),
        "/objects/".to_owned(),
    ] {
        let answer = send(
            &f.store,
            Method::GET,
            &format!("http://127.0.0.1:9{path}?{query}"),
            &[],
            b"",
        )
        .await;
        assert_refused(&answer, StatusCode::BAD_REQUEST, "malformed_key");
    }
    let outside = send(
        &f.store,
        Method::GET,
        &format!("http://127.0.0.1:9/etc/passwd?{query}"),
        &[],
        b"",
    )
    .await;
    assert_refused(&outside, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_oversized_part_is_refused_with_413_and_leaves_nothing() {
    let f = fixture(16).await;
    let key = key(1);
    let upload = f.store.create_multipart_upload(&key).await.expect("create");
    let url = f
        .store
        .presign_part_uploads(&key, &upload, &[part(1)], MINUTE)
        .await
        .expect("presign")
        .remove(0);
    // Full sets no Content-Length, so this is caught while streaming.
    assert_refused(
        &put(&f.store, &url, &[0; 17]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "part_too_large",
    );
    let declared = send(
        &f.store,
        Method::PUT,
        &url.url,
        &[("content-length", "17")],
        &[0; 17],
    )
    .await;
    assert_refused(&declared, StatusCode::PAYLOAD_TOO_LARGE, "part_too_large");
    assert_eq!(
        put(&f.store, &url, &[0; 16]).await.status,
        StatusCode::OK,
        "the limit itself is accepted"
    );
    let tmp = std::fs::read_dir(f._dir.path().join("tmp"))
        .expect("the tmp folder")
        .count();
    assert_eq!(tmp, 0, "refused bodies leave no temporary file");
}

#[tokio::test]
async fn a_range_header_must_be_the_signed_one() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"0123456789").await;
    let whole = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    let unsigned = send(&f.store, Method::GET, &whole.url, &[("range", "bytes=0-1")], b"").await;
    assert_refused(&unsigned, StatusCode::FORBIDDEN, "range_not_signed");

    let range = ByteRange::new(2, 4, 10).expect("valid");
    let ranged = f
        .store
        .presign_download(&key, Some(range), MINUTE)
        .await
        .expect("presign");
    assert_eq!(get(&f.store, &ranged).await.body.as_ref(), b"234");
    let other = send(&f.store, Method::GET, &ranged.url, &[("range", "bytes=0-9")], b"").await;
    assert_refused(&other, StatusCode::FORBIDDEN, "range_not_signed");
    let missing = send(&f.store, Method::GET, &ranged.url, &[], b"").await;
    assert_refused(&missing, StatusCode::FORBIDDEN, "range_not_signed");

    // A range signed for a larger object than the one stored.
    let beyond = ByteRange::new(5, 50, 100).expect("valid");
    let too_far = f
        .store
        .presign_download(&key, Some(beyond), MINUTE)
        .await
        .expect("presign");
    assert_refused(
        &get(&f.store, &too_far).await,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
    );
}

#[tokio::test]
async fn malformed_queries_and_methods_are_refused_with_4xx() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"secret").await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    let (path, query) = url.url.split_once('?').expect("a query");
    for bad in [
        format!("{path}?{query}&extra=1"),
        format!("{path}?{query}&expires=1"),
        format!("{path}?novalue&{query}"),
    ] {
        let answer = send(&f.store, Method::GET, &bad, &[], b"").await;
        assert_refused(&answer, StatusCode::BAD_REQUEST, "malformed_url");
    }
    let unsigned = send(&f.store, Method::GET, path, &[], b"").await;
    assert_refused(&unsigned, StatusCode::FORBIDDEN, "signature_invalid");
    let delete = send(&f.store, Method::DELETE, &url.url, &[], b"").await;
    assert_refused(&delete, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let as_put = send(&f.store, Method::PUT, &url.url, &[], b"x").await;
    // The method is signed: a download URL cannot be used to write.
    assert_refused(&as_put, StatusCode::FORBIDDEN, "signature_invalid");
    let preflight = send(&f.store, Method::OPTIONS, &url.url, &[], b"").await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_download_of_a_deleted_object_is_not_found() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"secret").await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    f.store
        .delete_transfer_objects(key.transfer)
        .await
        .expect("delete");
    assert_refused(
        &get(&f.store, &url).await,
        StatusCode::NOT_FOUND,
        "no_such_object",
    );
}

#[tokio::test]
async fn base_urls_must_be_plain_http_origins_with_an_optional_path() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for bad in [
        "",
        "ftp://host/x",
        "http://",
        "http:///objects",
        "http://h/o?x=1",
        "http://h/o#f",
        "http://h o/",
    ] {
        let opened = DiskObjectStore::open(dir.path(), bad, SigningKey::from_bytes([1; 32])).await;
        assert!(
            matches!(opened, Err(OpenError::BaseUrl)),
            "{bad:?} must be refused"
        );
    }
    for good in ["http://127.0.0.1:8080", "https://files.example.nl/objects/"] {
        DiskObjectStore::open(dir.path(), good, SigningKey::from_bytes([1; 32]))
            .await
            .expect("a valid base URL");
    }
}
