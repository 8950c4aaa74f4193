//! The ports' conformance against the AWS adapters on a moto server that
//! this test binary starts itself: the core's state-store suite on
//! DynamoDB (races included), and object-store and mailer checks on S3
//! and SESv2. moto does not verify presigned signatures or expiry, so those
//! are proven on the embedded store, not here.

mod support;

use std::sync::Arc;
use std::time::Duration;

use kluis_core::error::Field;
use kluis_core::file::{CompletedPart, ETag, PartNumber};
use kluis_core::ids::{FileId, TransferId};
use kluis_core::mail::{RenderedMail, Subject};
use kluis_core::ports::conformance;
use kluis_core::ports::{ByteRange, Mailer, ObjectKey, ObjectStore, PortError, PresignedUrl, StateStore};
use kluis_core::validate::EmailAddress;
use support::moto;

const MIB: usize = 1024 * 1024;
const VALID: Duration = Duration::from_secs(600);

// --- state store: the core's suite, one fresh table per check ------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_creates_transfers_once_and_replaces_them_conditionally() {
    let env = moto::shared().env().await;
    conformance::transfers_are_created_once_and_replaced_conditionally(&env.state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_lets_exactly_one_of_twenty_racing_transitions_win() {
    let env = moto::shared().env().await;
    conformance::of_twenty_racing_transitions_exactly_one_wins(Arc::new(env.state)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_lets_exactly_ten_of_fifty_racing_increments_succeed() {
    let env = moto::shared().env().await;
    conformance::of_fifty_racing_increments_exactly_ten_succeed(Arc::new(env.state)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_takes_a_challenge_once_and_puts_a_session_once() {
    let env = moto::shared().env().await;
    conformance::challenges_are_taken_once_and_sessions_put_once(&env.state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_lists_transfers_due_for_purge_earliest_first() {
    let env = moto::shared().env().await;
    conformance::due_transfers_are_listed_earliest_first(&env.state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_appends_audit_events_once_and_lists_them_in_order() {
    let env = moto::shared().env().await;
    conformance::audit_events_are_appended_once_and_listed_in_order(&env.state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_refuses_every_increment_of_a_counter_with_limit_zero() {
    let env = moto::shared().env().await;
    let key = kluis_core::ports::CounterKey::UnlockFailures(TransferId::from_bytes([9; 16]));
    let result = env.state.increment_counter(&key, 0, conformance::NOW).await;
    assert!(
        matches!(result, Err(PortError::ConditionFailed)),
        "got {result:?}"
    );
}

// --- object store: S3 on moto --------------------------------------------

fn key(transfer: u8, file: u8) -> ObjectKey {
    ObjectKey {
        transfer: TransferId::from_bytes([transfer; 16]),
        file: FileId::from_bytes([file; 16]),
    }
}

fn part(n: u32) -> PartNumber {
    PartNumber::new(n).expect("a small part number is valid")
}

/// Bytes that differ at every offset, so a wrong range cannot match.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8))
        .collect()
}

/// PUTs `body` to a presigned part URL as a browser would; returns the ETag.
async fn put_part(url: PresignedUrl, body: Vec<u8>) -> ETag {
    tokio::task::spawn_blocking(move || {
        let mut request = ureq::put(&url.url);
        for (name, value) in &url.headers {
            request = request.header(name, value);
        }
        // moto crashes on a form content type (curl's default): send bytes.
        let response = request
            .header("Content-Type", "application/octet-stream")
            .send(&body[..])
            .expect("the presigned part PUT succeeds");
        let etag = response
            .headers()
            .get("etag")
            .and_then(|value| value.to_str().ok())
            .expect("S3 returns an ETag for a part");
        ETag::parse(etag).expect("an S3 ETag is visible ASCII")
    })
    .await
    .expect("the PUT task did not panic")
}

/// GETs a presigned download URL, sending its headers as given.
async fn get(url: PresignedUrl) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        let mut request = ureq::get(&url.url);
        for (name, value) in &url.headers {
            request = request.header(name, value);
        }
        request
            .call()
            .expect("the presigned GET succeeds")
            .body_mut()
            .with_config()
            .limit(64 * MIB as u64)
            .read_to_vec()
            .expect("read the object")
    })
    .await
    .expect("the GET task did not panic")
}

/// Uploads `parts` as one object through presigned part URLs.
async fn upload(store: &impl ObjectStore, key: &ObjectKey, parts: &[Vec<u8>]) {
    let upload = store.create_multipart_upload(key).await.expect("create upload");
    let numbers: Vec<PartNumber> = (1..=parts.len() as u32).map(part).collect();
    let urls = store
        .presign_part_uploads(key, &upload, &numbers, VALID)
        .await
        .expect("presign parts");
    assert_eq!(urls.len(), parts.len(), "one URL per part");
    let mut completed = Vec::new();
    for ((url, body), number) in urls.into_iter().zip(parts).zip(&numbers) {
        completed.push(CompletedPart {
            number: *number,
            etag: put_part(url, body.clone()).await,
        });
    }
    store
        .complete_multipart_upload(key, &upload, &completed)
        .await
        .expect("complete upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_multipart_upload_through_presigned_parts_reads_back_whole_and_by_range() {
    let env = moto::shared().env().await;
    let store = &env.objects;
    let key = key(1, 1);
    let parts = vec![pattern(5 * MIB, 1), pattern(5 * MIB, 2), pattern(1000, 3)];
    let whole: Vec<u8> = parts.concat();
    upload(store, &key, &parts).await;

    assert_eq!(store.object_size(&key).await.expect("size"), whole.len() as u64);
    let full = store
        .presign_download(&key, None, VALID)
        .await
        .expect("presign GET");
    assert!(full.expires_at > kluis_core::Timestamp::from_unix_seconds(0));
    assert!(get(full).await == whole, "the whole object reads back unchanged");

    // A range across the first part boundary.
    let (first, last) = (5 * MIB - 10, 5 * MIB + 9);
    let range = ByteRange::new(first as u64, last as u64, whole.len() as u64).expect("valid range");
    let ranged = store
        .presign_download(&key, Some(range), VALID)
        .await
        .expect("presign ranged GET");
    assert!(
        ranged
            .headers
            .iter()
            .any(|(name, value)| name.eq_ignore_ascii_case("range") && value == &range.header_value()),
        "the browser is told to send the Range header: {:?}",
        ranged.headers
    );
    assert_eq!(get(ranged).await, whole[first..=last]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_reports_a_missing_object_as_not_found_and_aborts_idempotently() {
    let env = moto::shared().env().await;
    let store = &env.objects;
    let key = key(2, 1);
    assert!(matches!(store.object_size(&key).await, Err(PortError::NotFound)));

    let upload = store.create_multipart_upload(&key).await.expect("create upload");
    store.abort_multipart_upload(&key, &upload).await.expect("abort");
    store
        .abort_multipart_upload(&key, &upload)
        .await
        .expect("a second abort is Ok: abort is idempotent");
    // Completing an unknown upload is `NoSuchUpload` (→ NotFound) on S3, but
    // moto 5.2 answers 500 there, so that mapping is not checked on moto.
    assert!(matches!(store.object_size(&key).await, Err(PortError::NotFound)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_deletes_every_object_and_unfinished_upload_of_a_transfer_and_nothing_else() {
    let env = moto::shared().env().await;
    let store = &env.objects;
    let doomed = [key(3, 1), key(3, 2)];
    let kept = key(4, 1);
    for k in doomed.iter().chain([&kept]) {
        upload(store, k, &[pattern(100, 7)]).await;
    }
    let unfinished = store
        .create_multipart_upload(&key(3, 3))
        .await
        .expect("create upload");

    store
        .delete_transfer_objects(doomed[0].transfer)
        .await
        .expect("delete the transfer's objects");
    for k in &doomed {
        assert!(matches!(store.object_size(k).await, Err(PortError::NotFound)));
    }
    let listed = store
        .client()
        .list_multipart_uploads()
        .bucket(store.bucket())
        .prefix(ObjectKey::transfer_prefix(doomed[0].transfer))
        .send()
        .await
        .expect("list uploads");
    assert!(
        listed
            .uploads()
            .iter()
            .all(|u| u.upload_id() != Some(unfinished.as_str())),
        "the unfinished upload is aborted"
    );
    assert_eq!(store.object_size(&kept).await.expect("other transfer kept"), 100);
    store
        .delete_transfer_objects(doomed[0].transfer)
        .await
        .expect("deleting again is Ok: delete is idempotent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_deletes_more_objects_than_one_listing_page_holds() {
    let env = moto::shared().env().await;
    let store = &env.objects;
    let transfer = TransferId::from_bytes([5; 16]);
    // Put objects directly: 1 001 keys need two listing pages and two batches.
    let client = store.client().clone();
    let bucket = store.bucket().to_owned();
    let puts: Vec<_> = (0..1001u32)
        .map(|n| {
            let mut file = [0u8; 16];
            file[..4].copy_from_slice(&n.to_be_bytes());
            let object = ObjectKey {
                transfer,
                file: FileId::from_bytes(file),
            };
            let client = client.clone();
            let bucket = bucket.clone();
            tokio::spawn(async move {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(object.to_string())
                    .body(vec![1u8].into())
                    .send()
                    .await
                    .expect("put a small object")
            })
        })
        .collect();
    for put in puts {
        put.await.expect("the put task did not panic");
    }
    store.delete_transfer_objects(transfer).await.expect("delete all");
    let left = client
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(ObjectKey::transfer_prefix(transfer))
        .send()
        .await
        .expect("list");
    assert_eq!(left.key_count(), Some(0), "nothing is left under the prefix");
}

// --- mailer: SESv2 on moto ------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ses_sends_from_the_service_address_to_the_recipient_with_subject_and_html() {
    let env = moto::shared().env().await;
    let to = "partner-ses-test@extern.example";
    let mail = RenderedMail {
        to: EmailAddress::parse(to, Field::RecipientEmail).expect("valid address"),
        reply_to: Some(EmailAddress::parse("sender@example.nl", Field::SenderEmail).expect("valid address")),
        subject: Subject::new("Bestanden voor u — kluis").expect("valid subject"),
        text: "Tekst met één link".to_owned(),
        html: "<p>HTML met één link</p>".to_owned(),
    };
    env.mailer.send(&mail).await.expect("SESv2 accepts the mail");

    let sent = moto::shared().sent_mail();
    let ours: Vec<_> = sent
        .iter()
        .filter(|message| message.to_string().contains(to))
        .collect();
    assert_eq!(ours.len(), 1, "exactly one mail to {to}: {sent:?}");
    let message = ours[0];
    assert_eq!(message["source"], moto::MAIL_FROM);
    assert_eq!(message["subject"], "Bestanden voor u — kluis");
    // moto keeps only the HTML body when both are sent.
    assert_eq!(message["body"], "<p>HTML met één link</p>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ses_refuses_a_sender_outside_any_verified_identity() {
    let sdk = moto::shared().sdk_config().await;
    let stranger = kluis_aws::SesMailer::new(&sdk, "someone@not-verified.example");
    let mail = RenderedMail {
        to: EmailAddress::parse("partner@extern.example", Field::RecipientEmail).expect("valid address"),
        reply_to: None,
        subject: Subject::new("s").expect("valid subject"),
        text: "t".to_owned(),
        html: "<p>h</p>".to_owned(),
    };
    assert!(matches!(stranger.send(&mail).await, Err(PortError::Backend(_))));
}
