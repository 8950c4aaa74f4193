//! The conformance suite every [`ObjectStore`] adapter runs. It performs the
//! presigned requests exactly as a browser would, with a real HTTP client
//! (`ureq`, blocking, so on tokio's blocking pool), and compares bytes.
//!
//! The client speaks plain HTTP only: point it at a loopback endpoint (moto,
//! the embedded store's test server), never at a remote service.
//!
//! [`run_all`] is the contract every adapter meets. Signature checks are
//! opt-in ([`presigned_urls_are_refused_when_tampered_or_expired`]) because
//! moto's S3 does not verify signatures; adapters whose backend does MUST run it.

use core::time::Duration;

use crate::file::{CompletedPart, ETag, PartNumber, UploadId};
use crate::ids::{FileId, TransferId};
use crate::ports::{ByteRange, ObjectKey, ObjectStore, PortError, PresignedUrl};

/// S3's smallest part (all but the last part of an upload).
pub const MIN_PART_BYTES: usize = 5 * 1024 * 1024;

/// How long the suite's presigned URLs are valid.
const VALID_FOR: Duration = Duration::from_secs(15 * 60);

/// The key of file `file` of transfer `transfer` (id bytes all that number).
pub fn sample_key(transfer: u8, file: u8) -> ObjectKey {
    ObjectKey {
        transfer: TransferId::from_bytes([transfer; 16]),
        file: FileId::from_bytes([file; 16]),
    }
}

/// `len` deterministic, non-repeating-looking bytes, different per `seed`,
/// so a part written at the wrong offset or twice is noticed.
pub fn sample_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let x = (i as u32).wrapping_add(u32::from(seed) << 24);
            (x.wrapping_mul(2_654_435_761) >> 24) as u8
        })
        .collect()
}

fn part(number: u32) -> PartNumber {
    PartNumber::new(number).expect("the suite's part numbers are in 1..=10000")
}

/// What a presigned request answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        // The suite judges statuses itself, including the refusals.
        .http_status_as_error(false)
        // Loopback only: an environment proxy must not intercept the requests.
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(60)))
        .build();
    ureq::Agent::new_with_config(config)
}

fn check_plain_http(url: &str) {
    assert!(
        url.starts_with("http://"),
        "the suite fetches over plain HTTP on loopback only, got {url}"
    );
}

/// Performs a presigned request (`PUT` with `body`, or `GET`) with the
/// headers it carries, on the blocking pool.
pub async fn perform(method: &'static str, presigned: &PresignedUrl, body: Option<Vec<u8>>) -> Answer {
    check_plain_http(&presigned.url);
    let presigned = presigned.clone();
    tokio::task::spawn_blocking(move || {
        let agent = agent();
        let result = match (method, body) {
            ("PUT", Some(body)) => {
                let mut request = agent.put(&presigned.url);
                for (name, value) in &presigned.headers {
                    request = request.header(name, value);
                }
                request.send(&body[..])
            }
            ("GET", None) => {
                let mut request = agent.get(&presigned.url);
                for (name, value) in &presigned.headers {
                    request = request.header(name, value);
                }
                request.call()
            }
            _ => panic!("the suite only PUTs with a body and GETs without"),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {} failed: {e}", presigned.url));
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("reading the answer to {method} failed: {e}"));
        Answer { status, etag, body }
    })
    .await
    .expect("the HTTP request did not panic")
}

/// Uploads `parts` (in order, numbered from 1) to a new multipart upload of
/// `key` and completes it; returns the upload and its completed parts.
pub async fn upload_object<S: ObjectStore>(
    store: &S,
    key: &ObjectKey,
    parts: &[&[u8]],
) -> (UploadId, Vec<CompletedPart>) {
    let upload = store
        .create_multipart_upload(key)
        .await
        .expect("create a multipart upload");
    let completed = put_parts(store, key, &upload, parts).await;
    store
        .complete_multipart_upload(key, &upload, &completed)
        .await
        .expect("complete the upload");
    (upload, completed)
}

/// Presigns and PUTs `parts` (numbered from 1) of `upload`; returns them
/// as the completion needs them.
pub async fn put_parts<S: ObjectStore>(
    store: &S,
    key: &ObjectKey,
    upload: &UploadId,
    parts: &[&[u8]],
) -> Vec<CompletedPart> {
    let numbers: Vec<PartNumber> = (1..=parts.len() as u32).map(part).collect();
    let urls = store
        .presign_part_uploads(key, upload, &numbers, VALID_FOR)
        .await
        .expect("presign the part uploads");
    assert_eq!(urls.len(), parts.len(), "one presigned URL per part, in order");
    let mut completed = Vec::new();
    for ((number, url), bytes) in numbers.iter().zip(&urls).zip(parts) {
        let answer = perform("PUT", url, Some(bytes.to_vec())).await;
        assert_eq!(answer.status, 200, "PUT of part {} must succeed", number.get());
        let etag = answer.etag.expect("a part upload answers with an ETag header");
        completed.push(CompletedPart {
            number: *number,
            etag: ETag::parse(&etag).expect("the ETag header is a valid tag"),
        });
    }
    completed
}

/// The full life of an object: create, presign and PUT two parts (5 MiB and
/// 1 KiB), complete, measure, download whole and ranged (across the part
/// boundary) with bytes compared; completing again is harmless.
pub async fn a_multipart_upload_round_trips_through_presigned_urls<S: ObjectStore>(store: &S) {
    let key = sample_key(30, 1);
    assert!(
        matches!(store.object_size(&key).await, Err(PortError::NotFound)),
        "an object never uploaded must be NotFound"
    );
    let data = sample_bytes(MIN_PART_BYTES + 1024, 1);
    let (first, second) = data.split_at(MIN_PART_BYTES);
    let (upload, parts) = upload_object(store, &key, &[first, second]).await;
    assert_eq!(
        store
            .object_size(&key)
            .await
            .expect("size of the completed object"),
        data.len() as u64
    );

    let whole = store
        .presign_download(&key, None, VALID_FOR)
        .await
        .expect("presign a download");
    let answer = perform("GET", &whole, None).await;
    assert_eq!(answer.status, 200, "the whole download must succeed");
    assert!(answer.body == data, "the download must return the uploaded bytes");

    let boundary = MIN_PART_BYTES as u64;
    let range = ByteRange::new(boundary - 10, boundary + 99, data.len() as u64).expect("valid range");
    let ranged = store
        .presign_download(&key, Some(range), VALID_FOR)
        .await
        .expect("presign a ranged download");
    let answer = perform("GET", &ranged, None).await;
    assert_eq!(
        answer.status, 206,
        "a ranged download is a partial content answer"
    );
    assert!(
        answer.body[..] == data[MIN_PART_BYTES - 10..MIN_PART_BYTES + 100],
        "the ranged download must return exactly bytes {}..={}",
        range.first(),
        range.last()
    );

    // A retried completion (the client never saw the first answer) must do
    // no harm: S3 and moto accept it, the disk store answers NotFound. Either
    // way the object stays exactly as completed.
    let again = store.complete_multipart_upload(&key, &upload, &parts).await;
    assert!(
        matches!(again, Ok(()) | Err(PortError::NotFound)),
        "completing a completed upload must succeed again or be NotFound, got {again:?}"
    );
    let answer = perform("GET", &whole, None).await;
    assert!(
        answer.status == 200 && answer.body == data,
        "a repeated completion must leave the object intact"
    );
}

/// Abort frees an upload and is idempotent; an unknown upload aborts `Ok`;
/// a completion after an abort is `NotFound`.
pub async fn aborting_an_upload_is_idempotent<S: ObjectStore>(store: &S) {
    let key = sample_key(31, 1);
    let upload = store
        .create_multipart_upload(&key)
        .await
        .expect("create a multipart upload");
    let parts = put_parts(store, &key, &upload, &[&sample_bytes(1024, 2)]).await;

    store
        .abort_multipart_upload(&key, &upload)
        .await
        .expect("abort an upload");
    store
        .abort_multipart_upload(&key, &upload)
        .await
        .expect("a second abort must be Ok");
    let unknown = UploadId::parse("no-such-upload").expect("a valid id");
    store
        .abort_multipart_upload(&key, &unknown)
        .await
        .expect("aborting an unknown upload must be Ok");
    let late = store.complete_multipart_upload(&key, &upload, &parts).await;
    assert!(
        matches!(late, Err(PortError::NotFound)),
        "completing an aborted upload must be NotFound, got {late:?}"
    );
    assert!(
        matches!(store.object_size(&key).await, Err(PortError::NotFound)),
        "an aborted upload leaves no object"
    );
}

/// Deleting a transfer's objects removes its completed objects and its
/// unfinished uploads, leaves other transfers alone, and is idempotent.
pub async fn deleting_a_transfer_removes_only_its_objects<S: ObjectStore>(store: &S) {
    let doomed = [sample_key(32, 1), sample_key(32, 2)];
    let other = sample_key(33, 1);
    for (i, key) in doomed.iter().chain([&other]).enumerate() {
        upload_object(store, key, &[&sample_bytes(100 + i, 3)]).await;
    }
    let unfinished_key = sample_key(32, 3);
    let unfinished = store
        .create_multipart_upload(&unfinished_key)
        .await
        .expect("create a multipart upload");
    let unfinished_parts = put_parts(store, &unfinished_key, &unfinished, &[b"unfinished"]).await;

    store
        .delete_transfer_objects(doomed[0].transfer)
        .await
        .expect("delete a transfer's objects");
    for key in &doomed {
        assert!(
            matches!(store.object_size(key).await, Err(PortError::NotFound)),
            "{key} must be gone after the delete"
        );
    }
    let late = store
        .complete_multipart_upload(&unfinished_key, &unfinished, &unfinished_parts)
        .await;
    assert!(
        matches!(late, Err(PortError::NotFound)),
        "the delete must abort unfinished uploads too, got {late:?}"
    );
    assert_eq!(
        store
            .object_size(&other)
            .await
            .expect("another transfer's object survives"),
        102
    );
    store
        .delete_transfer_objects(doomed[0].transfer)
        .await
        .expect("a second delete must be Ok");
    store
        .delete_transfer_objects(TransferId::from_bytes([34; 16]))
        .await
        .expect("deleting a transfer with no objects must be Ok");
}

/// Deleting one object removes it and nothing else: the transfer's other
/// objects and an unfinished upload of the same key stay. A download URL
/// handed out before the delete finds nothing after it. Idempotent, and
/// `Ok` for a key that never held an object.
pub async fn deleting_an_object_removes_only_it<S: ObjectStore>(store: &S) {
    let doomed = sample_key(36, 1);
    let sibling = sample_key(36, 2);
    let data = sample_bytes(200, 7);
    upload_object(store, &doomed, &[&data]).await;
    upload_object(store, &sibling, &[&sample_bytes(300, 8)]).await;
    let download = store
        .presign_download(&doomed, None, VALID_FOR)
        .await
        .expect("presign a download");

    store.delete_object(&doomed).await.expect("delete an object");
    assert!(
        matches!(store.object_size(&doomed).await, Err(PortError::NotFound)),
        "a deleted object must be NotFound"
    );
    let answer = perform("GET", &download, None).await;
    assert!(
        (400..500).contains(&answer.status) && answer.body != data,
        "a download of a deleted object must be refused, got {}",
        answer.status
    );
    assert_eq!(
        store
            .object_size(&sibling)
            .await
            .expect("the transfer's other object survives"),
        300
    );
    store
        .delete_object(&doomed)
        .await
        .expect("a second delete must be Ok");
    store
        .delete_object(&sample_key(36, 3))
        .await
        .expect("deleting a key that never held an object must be Ok");

    // An unfinished upload of the key is the caller's to abort.
    let pending = sample_key(36, 4);
    let upload = store
        .create_multipart_upload(&pending)
        .await
        .expect("create a multipart upload");
    let parts = put_parts(store, &pending, &upload, &[&sample_bytes(50, 9)]).await;
    store
        .delete_object(&pending)
        .await
        .expect("deleting a key with only an unfinished upload must be Ok");
    store
        .complete_multipart_upload(&pending, &upload, &parts)
        .await
        .expect("the upload survives a delete of its key's object");
    assert_eq!(store.object_size(&pending).await.expect("completed"), 50);
    store
        .delete_transfer_objects(pending.transfer)
        .await
        .expect("clean up");
}

/// A completion whose parts do not match what was uploaded (a wrong ETag,
/// a part never put) is `ConditionFailed` — the client's mistake, which the
/// core answers with 409 — and leaves no object; the upload can still be
/// completed with the right parts.
pub async fn completing_with_parts_that_do_not_match_is_condition_failed<S: ObjectStore>(store: &S) {
    let key = sample_key(33, 1);
    let upload = store
        .create_multipart_upload(&key)
        .await
        .expect("create a multipart upload");
    let data = sample_bytes(1024, 3);
    let parts = put_parts(store, &key, &upload, &[&data]).await;
    let wrong = vec![CompletedPart {
        number: parts[0].number,
        etag: ETag::parse("\"0123456789abcdef0123456789abcdef\"").expect("a valid tag"),
    }];
    let refused = store.complete_multipart_upload(&key, &upload, &wrong).await;
    assert!(
        matches!(refused, Err(PortError::ConditionFailed)),
        "a wrong ETag must be ConditionFailed, got {refused:?}"
    );
    let missing = vec![CompletedPart {
        number: part(2),
        etag: parts[0].etag.clone(),
    }];
    let refused = store.complete_multipart_upload(&key, &upload, &missing).await;
    assert!(
        matches!(refused, Err(PortError::ConditionFailed)),
        "a part never put must be ConditionFailed, got {refused:?}"
    );
    assert!(
        matches!(store.object_size(&key).await, Err(PortError::NotFound)),
        "a refused completion leaves no object"
    );
    store
        .complete_multipart_upload(&key, &upload, &parts)
        .await
        .expect("the right parts still complete the upload");
}

/// Runs every check above (not the signature checks) against `store`,
/// which may be shared: each check uses its own transfer ids.
pub async fn run_all<S: ObjectStore>(store: &S) {
    a_multipart_upload_round_trips_through_presigned_urls(store).await;
    completing_with_parts_that_do_not_match_is_condition_failed(store).await;
    aborting_an_upload_is_idempotent(store).await;
    deleting_a_transfer_removes_only_its_objects(store).await;
    deleting_an_object_removes_only_it(store).await;
}

fn is_refused(answer: &Answer) -> bool {
    (400..500).contains(&answer.status) && answer.status != 404
}

/// Opt-in: a presigned URL is refused (4xx, not 404, no bytes of another
/// object) when it has expired, when its path names another object than the
/// one it was signed for, or when its query (the signature) is removed.
/// Takes a few seconds: it waits for a 1-second URL to expire.
pub async fn presigned_urls_are_refused_when_tampered_or_expired<S: ObjectStore>(store: &S) {
    let signed_for = sample_key(35, 1);
    let other = sample_key(35, 2);
    upload_object(store, &signed_for, &[&sample_bytes(300, 4)]).await;
    upload_object(store, &other, &[&sample_bytes(300, 5)]).await;

    let download = store
        .presign_download(&signed_for, None, VALID_FOR)
        .await
        .expect("presign a download");
    let swapped = PresignedUrl {
        url: download
            .url
            .replace(&signed_for.file.to_string(), &other.file.to_string()),
        ..download.clone()
    };
    assert_ne!(swapped.url, download.url, "the URL names the object's key");
    let answer = perform("GET", &swapped, None).await;
    assert!(
        is_refused(&answer),
        "a URL moved to another object must be refused, got {}",
        answer.status
    );

    let unsigned = PresignedUrl {
        url: download.url.split('?').next().unwrap_or_default().to_owned(),
        ..download.clone()
    };
    let answer = perform("GET", &unsigned, None).await;
    assert!(
        is_refused(&answer),
        "a URL without its query must be refused, got {}",
        answer.status
    );

    let upload = store
        .create_multipart_upload(&other)
        .await
        .expect("create a multipart upload");
    let put = store
        .presign_part_uploads(&other, &upload, &[part(1)], VALID_FOR)
        .await
        .expect("presign a part upload")
        .remove(0);
    let moved = PresignedUrl {
        url: put
            .url
            .replace(&other.file.to_string(), &signed_for.file.to_string()),
        ..put
    };
    let answer = perform("PUT", &moved, Some(sample_bytes(10, 6))).await;
    assert!(
        is_refused(&answer),
        "a part URL moved to another object must be refused, got {}",
        answer.status
    );

    let short = store
        .presign_download(&signed_for, None, Duration::from_secs(1))
        .await
        .expect("presign a short download");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let answer = perform("GET", &short, None).await;
    assert!(
        is_refused(&answer),
        "an expired URL must be refused, got {}",
        answer.status
    );
    store
        .abort_multipart_upload(&other, &upload)
        .await
        .expect("abort an upload");
}
