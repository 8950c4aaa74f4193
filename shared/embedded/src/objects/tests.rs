//! Unit tests of the disk store, calling `serve` directly with in-memory
//! requests: the error paths, and the layout of an object as a folder of
//! linked parts (completion, ranged reads across parts, parts vanishing
//! mid-download). The plain happy paths run in the conformance suite.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use kluis_core::file::{CompletedPart, ETag, PartNumber, UploadId};
use kluis_core::ids::{FileId, TransferId};
use kluis_core::ports::conformance::object_store::sample_bytes;
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
    content_range: Option<String>,
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
    let content_range = response
        .headers()
        .get("content-range")
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
        content_range,
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
async fn a_signed_range_must_be_repeated_and_a_whole_url_honours_any_resume_range() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"0123456789").await;
    let whole = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    // A whole-object URL grants every byte: its holder may resume by range.
    let resumed = send(&f.store, Method::GET, &whole.url, &[("range", "bytes=3-")], b"").await;
    assert_eq!(resumed.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(resumed.body.as_ref(), b"3456789");
    assert_eq!(resumed.content_range.as_deref(), Some("bytes 3-9/10"));
    let inner = send(&f.store, Method::GET, &whole.url, &[("range", "bytes=0-1")], b"").await;
    assert_eq!(
        (inner.status, inner.body.as_ref()),
        (StatusCode::PARTIAL_CONTENT, &b"01"[..])
    );
    let clamped = send(&f.store, Method::GET, &whole.url, &[("range", "bytes=8-99")], b"").await;
    assert_eq!(
        clamped.body.as_ref(),
        b"89",
        "a last byte past the end is the end"
    );
    let beyond_end = send(&f.store, Method::GET, &whole.url, &[("range", "bytes=10-")], b"").await;
    assert_refused(
        &beyond_end,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
    );
    for ignored in ["bytes=-3", "bytes=0-1,4-5", "items=0-1", "bytes=x-"] {
        let whole_again = send(&f.store, Method::GET, &whole.url, &[("range", ignored)], b"").await;
        assert_eq!(
            (whole_again.status, whole_again.body.as_ref()),
            (StatusCode::OK, &b"0123456789"[..]),
            "{ignored} is not a range this store serves: the whole object"
        );
    }

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

/// Uploads `parts` with the given part numbers (ascending, maybe sparse)
/// and returns what completing needs.
async fn upload_numbered(
    store: &DiskObjectStore,
    key: &ObjectKey,
    parts: &[(u32, &[u8])],
) -> (UploadId, Vec<CompletedPart>) {
    let upload = store.create_multipart_upload(key).await.expect("create");
    let numbers: Vec<PartNumber> = parts.iter().map(|(n, _)| part(*n)).collect();
    let urls = store
        .presign_part_uploads(key, &upload, &numbers, MINUTE)
        .await
        .expect("presign");
    let mut completed = Vec::new();
    for ((url, (_, bytes)), number) in urls.iter().zip(parts).zip(numbers) {
        let answer = put(store, url, bytes).await;
        assert_eq!(answer.status, StatusCode::OK);
        let etag = ETag::parse(&answer.etag.expect("an ETag")).expect("a valid tag");
        completed.push(CompletedPart { number, etag });
    }
    (upload, completed)
}

/// Two minimum-size parts and a short tail, each with its own bytes, so a
/// part served at the wrong offset or twice shows.
fn three_parts() -> [Vec<u8>; 3] {
    let min = MIN_PART_BYTES as usize;
    [sample_bytes(min, 1), sample_bytes(min, 2), sample_bytes(1000, 3)]
}

async fn stored_three_part_object(f: &Fixture, file: u8) -> (ObjectKey, Vec<u8>) {
    let key = key(file);
    let parts = three_parts();
    let (upload, completed) = upload_parts(&f.store, &key, &[&parts[0], &parts[1], &parts[2]]).await;
    f.store
        .complete_multipart_upload(&key, &upload, &completed)
        .await
        .expect("complete");
    (key, parts.concat())
}

fn object_folder(f: &Fixture, key: &ObjectKey) -> std::path::PathBuf {
    f._dir.path().join("objects").join(key.to_string())
}

fn tmp_entries(f: &Fixture) -> usize {
    std::fs::read_dir(f._dir.path().join("tmp"))
        .expect("the tmp folder")
        .count()
}

async fn get_range(f: &Fixture, key: &ObjectKey, first: u64, last: u64, size: u64) -> Answer {
    let range = ByteRange::new(first, last, size).expect("a valid range");
    let url = f
        .store
        .presign_download(key, Some(range), MINUTE)
        .await
        .expect("presign");
    get(&f.store, &url).await
}

#[tokio::test]
async fn completion_hard_links_the_listed_parts_into_the_object_folder_renumbered_in_order() {
    use std::os::unix::fs::MetadataExt as _;

    let f = fixture(MIN_PART_BYTES + 10).await;
    let key = key(1);
    let parts = three_parts();
    // Sparse numbers, and a part 7 uploaded but left out of the completion.
    let (upload, mut completed) = upload_numbered(
        &f.store,
        &key,
        &[(2, &parts[0]), (5, &parts[1]), (7, b"unused"), (9, &parts[2])],
    )
    .await;
    completed.remove(2);
    let upload_folder = f
        ._dir
        .path()
        .join("uploads")
        .join(key.transfer.to_string())
        .join(key.file.to_string())
        .join(upload.as_str());
    let inode_of = |number: u32| {
        let prefix = format!("{number:05}.");
        std::fs::read_dir(&upload_folder)
            .expect("the upload folder")
            .map(|e| e.expect("an entry"))
            .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.metadata().expect("metadata").ino())
            .expect("the part file")
    };
    let inodes = [inode_of(2), inode_of(5), inode_of(9)];

    f.store
        .complete_multipart_upload(&key, &upload, &completed)
        .await
        .expect("complete");

    let folder = object_folder(&f, &key);
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("the object is a folder")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["00001", "00002", "00003"],
        "one file per listed part, renumbered densely"
    );
    for ((name, bytes), inode) in names.iter().zip(&parts).zip(inodes) {
        let meta = std::fs::metadata(folder.join(name)).expect("metadata");
        assert_eq!(
            meta.ino(),
            inode,
            "{name} is the uploaded part file itself, not a copy"
        );
        assert_eq!(meta.len(), bytes.len() as u64);
    }
    assert!(!upload_folder.exists(), "the upload is consumed");
    assert_eq!(tmp_entries(&f), 0, "nothing is left in tmp");
    let size: usize = parts.iter().map(Vec::len).sum();
    assert_eq!(f.store.object_size(&key).await.expect("size"), size as u64);
    assert!(matches!(
        f.store.complete_multipart_upload(&key, &upload, &completed).await,
        Err(PortError::NotFound)
    ));
}

#[tokio::test]
async fn a_whole_download_of_a_three_part_object_streams_the_parts_in_order() {
    let f = fixture(MIN_PART_BYTES + 10).await;
    let (key, data) = stored_three_part_object(&f, 1).await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    let answer = get(&f.store, &url).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body == data, "the parts' bytes, in order");
}

#[tokio::test]
async fn ranged_downloads_return_exactly_the_bytes_asked_across_part_boundaries() {
    let f = fixture(MIN_PART_BYTES + 10).await;
    let (key, data) = stored_three_part_object(&f, 1).await;
    let size = data.len() as u64;
    let b = MIN_PART_BYTES;
    for (first, last, what) in [
        (0, 0, "the first byte"),
        (size - 1, size - 1, "the last byte"),
        (b - 1, b, "the two bytes either side of a boundary"),
        (b, 2 * b - 1, "exactly the second part"),
        (b, size - 1, "from a boundary to the end"),
        (0, b - 1, "from the start to a boundary"),
        (b - 10, 2 * b + 9, "across three parts"),
        (10, size - 11, "nearly everything"),
        (2 * b + 1, 2 * b + 998, "inside the tail"),
    ] {
        let answer = get_range(&f, &key, first, last, size).await;
        assert_eq!(answer.status, StatusCode::PARTIAL_CONTENT, "{what}");
        assert!(
            answer.body[..] == data[first as usize..=last as usize],
            "{what}: bytes {first}..={last}, got {} bytes",
            answer.body.len()
        );
    }
}

#[tokio::test]
async fn a_ranged_download_says_which_bytes_of_how_many_it_holds() {
    let f = fixture(MIN_PART_BYTES + 10).await;
    let (key, data) = stored_three_part_object(&f, 1).await;
    let size = data.len() as u64;
    let range = ByteRange::new(MIN_PART_BYTES, 2 * MIN_PART_BYTES - 1, size).expect("valid");
    let url = f
        .store
        .presign_download(&key, Some(range), MINUTE)
        .await
        .expect("presign");
    let mut request = Request::builder().method(Method::GET).uri(&url.url);
    for (name, value) in &url.headers {
        request = request.header(name, value);
    }
    let response = f
        .store
        .serve(request.body(Full::new(Bytes::new())).expect("a valid request"))
        .await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-length"), Some(MIN_PART_BYTES.to_string()));
    assert_eq!(
        header("content-range"),
        Some(format!(
            "bytes {}-{}/{size}",
            MIN_PART_BYTES,
            2 * MIN_PART_BYTES - 1
        ))
    );
}

#[tokio::test]
async fn a_completion_that_fails_halfway_leaves_the_upload_completable() {
    let f = fixture(MIN_PART_BYTES + 10).await;
    let key = key(1);
    let parts = three_parts();
    let (upload, completed) = upload_parts(&f.store, &key, &[&parts[0], &parts[1], &parts[2]]).await;
    let mut wrong_tag = completed.clone();
    wrong_tag[1].etag = ETag::parse(&format!("\"{}\"", "0".repeat(64))).expect("valid");
    assert!(matches!(
        f.store.complete_multipart_upload(&key, &upload, &wrong_tag).await,
        Err(PortError::ConditionFailed)
    ));
    // A file where the transfer's objects folder belongs: the parts are
    // linked, then placing the object fails.
    let transfer_objects = f
        ._dir
        .path()
        .join("objects")
        .join("t")
        .join(key.transfer.to_string());
    std::fs::create_dir_all(transfer_objects.parent().expect("a parent")).expect("the objects folder");
    std::fs::write(&transfer_objects, b"in the way").expect("an obstacle");
    assert!(matches!(
        f.store.complete_multipart_upload(&key, &upload, &completed).await,
        Err(PortError::Backend(_))
    ));
    assert_eq!(tmp_entries(&f), 0, "the half-built object is cleared");
    std::fs::remove_file(&transfer_objects).expect("remove the obstacle");
    assert!(matches!(
        f.store.object_size(&key).await,
        Err(PortError::NotFound)
    ));

    f.store
        .complete_multipart_upload(&key, &upload, &completed)
        .await
        .expect("the upload is intact and completes");
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    assert!(get(&f.store, &url).await.body == parts.concat());
}

#[tokio::test]
async fn a_part_deleted_under_a_download_ends_it_with_an_error_not_a_short_body() {
    let f = fixture(MIN_PART_BYTES + 10).await;
    let (key, _) = stored_three_part_object(&f, 1).await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    let request = Request::builder()
        .method(Method::GET)
        .uri(&url.url)
        .body(Full::new(Bytes::new()))
        .expect("a valid request");
    let response = f.store.serve(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    std::fs::remove_file(object_folder(&f, &key).join("00002")).expect("delete a part");
    assert!(
        response.into_body().collect().await.is_err(),
        "the body must fail, not end early"
    );
}

#[tokio::test]
async fn a_part_truncated_under_a_download_ends_it_with_an_error_not_a_short_body() {
    let f = fixture(MIN_PART_BYTES + 10).await;
    let (key, _) = stored_three_part_object(&f, 1).await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    let request = Request::builder()
        .method(Method::GET)
        .uri(&url.url)
        .body(Full::new(Bytes::new()))
        .expect("a valid request");
    let response = f.store.serve(request).await;
    std::fs::OpenOptions::new()
        .write(true)
        .open(object_folder(&f, &key).join("00003"))
        .and_then(|file| file.set_len(10))
        .expect("truncate the tail");
    assert!(response.into_body().collect().await.is_err());
}

#[tokio::test]
async fn uploading_a_key_again_replaces_its_object() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"first version").await;
    stored_object(&f, 1, b"second").await;
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    assert_eq!(get(&f.store, &url).await.body.as_ref(), b"second");
    assert_eq!(f.store.object_size(&key).await.expect("size"), 6);
    assert_eq!(tmp_entries(&f), 0, "the replaced object is removed");
}

#[tokio::test]
async fn an_object_stored_as_one_file_by_the_earlier_layout_is_still_served() {
    let f = fixture(1024).await;
    let key = key(1);
    let path = object_folder(&f, &key);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("the transfer's folder");
    std::fs::write(&path, b"0123456789").expect("an old object");
    assert_eq!(f.store.object_size(&key).await.expect("size"), 10);
    assert_eq!(get_range(&f, &key, 3, 5, 10).await.body.as_ref(), b"345");
    // Uploading the key again replaces the file with a folder.
    stored_object(&f, 1, b"new").await;
    assert_eq!(f.store.object_size(&key).await.expect("size"), 3);
    f.store
        .delete_transfer_objects(key.transfer)
        .await
        .expect("delete");
    assert!(!path.exists());
}

#[tokio::test]
async fn a_damaged_object_folder_is_a_failure_not_another_object() {
    let f = fixture(1024).await;
    let key = stored_object(&f, 1, b"secret").await;
    std::fs::write(object_folder(&f, &key).join("00003"), b"stray").expect("a stray part");
    assert!(matches!(
        f.store.object_size(&key).await,
        Err(PortError::Backend(_))
    ));
    let url = f
        .store
        .presign_download(&key, None, MINUTE)
        .await
        .expect("presign");
    // The same failure answers alike through the port and the signed URL.
    let answer = get(&f.store, &url).await;
    assert_refused(&answer, StatusCode::SERVICE_UNAVAILABLE, "backend_unavailable");
}

#[tokio::test]
async fn deleting_a_transfer_removes_its_object_folders() {
    let f = fixture(MIN_PART_BYTES + 10).await;
    let (key, _) = stored_three_part_object(&f, 1).await;
    f.store
        .delete_transfer_objects(key.transfer)
        .await
        .expect("delete");
    assert!(!object_folder(&f, &key).parent().expect("a parent").exists());
    assert!(matches!(
        f.store.object_size(&key).await,
        Err(PortError::NotFound)
    ));
}
