//! The ports' conformance against the AWS adapters on a moto server that
//! this test binary starts itself: the core's suites for the state store
//! (DynamoDB, races included), the object store (S3) and the mailer
//! (SESv2), one fresh table or bucket per check, plus a few checks of our
//! own. moto does not verify presigned signatures or expiry, so the core's
//! opt-in signature check is not run here (the embedded store runs it).

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use kluis_core::ids::{FileId, TransferId};
use kluis_core::ports::conformance::object_store::MIN_PART_BYTES;
use kluis_core::ports::conformance::{self, mailer, object_store};
use kluis_core::ports::{ByteRange, Mailer, ObjectKey, ObjectStore, PortError, StateStore};
use support::moto;

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
async fn dynamodb_deletes_a_session_once_and_only_that_one() {
    let env = moto::shared().env().await;
    conformance::sessions_are_deleted_once_and_alone(&env.state).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_counter_keeps_its_first_ttl_so_a_window_does_not_slide() {
    let env = moto::shared().env().await;
    let key = kluis_core::ports::CounterKey::CodeAttempts(kluis_core::ids::ChallengeId::from_bytes([8; 16]));
    let first = conformance::NOW.plus_seconds(60);
    assert_eq!(
        env.state.increment_counter(&key, 5, first).await.expect("first"),
        1
    );
    let later = conformance::NOW.plus_seconds(3600);
    assert_eq!(
        env.state.increment_counter(&key, 5, later).await.expect("second"),
        2
    );
    let item = env
        .state
        .client()
        .get_item()
        .table_name(env.state.table())
        .key("PK", AttributeValue::S(format!("N#{key}")))
        .key("SK", AttributeValue::S("COUNTER".to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("read the counter item")
        .item
        .expect("the counter exists");
    assert_eq!(
        item.get(kluis_aws::dynamodb::table::TTL),
        Some(&AttributeValue::N(first.unix_seconds().to_string()))
    );
}

// --- object store: the core's suite on S3 -------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_passes_the_cores_multipart_round_trip() {
    let env = moto::shared().env().await;
    object_store::a_multipart_upload_round_trips_through_presigned_urls(&env.objects).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_aborts_uploads_idempotently() {
    let env = moto::shared().env().await;
    object_store::aborting_an_upload_is_idempotent(&env.objects).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_deletes_every_object_and_unfinished_upload_of_a_transfer_and_nothing_else() {
    let env = moto::shared().env().await;
    object_store::deleting_a_transfer_removes_only_its_objects(&env.objects).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_deletes_one_object_idempotently_and_nothing_else() {
    let env = moto::shared().env().await;
    object_store::deleting_an_object_removes_only_it(&env.objects).await;
}

/// The core's round trip, but for its last step: it wants completing a
/// completed upload to be `NotFound`, while moto (like S3, which treats a
/// retried completion as done) answers 200. The adapter passes either on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_multipart_upload_through_presigned_parts_reads_back_whole_and_by_range() {
    let env = moto::shared().env().await;
    let store = &env.objects;
    let key = object_store::sample_key(40, 1);
    assert!(matches!(store.object_size(&key).await, Err(PortError::NotFound)));
    let parts = [
        object_store::sample_bytes(MIN_PART_BYTES, 1),
        object_store::sample_bytes(MIN_PART_BYTES, 2),
        object_store::sample_bytes(1000, 3),
    ];
    let whole: Vec<u8> = parts.concat();
    let slices: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    object_store::upload_object(store, &key, &slices).await;
    assert_eq!(store.object_size(&key).await.expect("size"), whole.len() as u64);

    let full = store
        .presign_download(&key, None, VALID)
        .await
        .expect("presign GET");
    let answer = object_store::perform("GET", &full, None).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body == whole, "the whole object reads back unchanged");

    // A range across the second part boundary.
    let (first, last) = (2 * MIN_PART_BYTES - 10, 2 * MIN_PART_BYTES + 9);
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
    let answer = object_store::perform("GET", &ranged, None).await;
    assert_eq!(answer.status, 206);
    assert_eq!(answer.body, whole[first..=last]);
}

/// moto ignores it, S3 does not: a checksum signed into a part URL (some SDK
/// releases signed one of an empty body) would refuse the browser's bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_part_urls_carry_no_checksum_the_browser_cannot_match() {
    let env = moto::shared().env().await;
    let store = &env.objects;
    let key = object_store::sample_key(41, 1);
    let upload = store.create_multipart_upload(&key).await.expect("create upload");
    let number = kluis_core::file::PartNumber::new(1).expect("valid part number");
    let urls = store
        .presign_part_uploads(&key, &upload, &[number], VALID)
        .await
        .expect("presign");
    let url = urls[0].url.to_ascii_lowercase();
    assert!(!url.contains("checksum"), "no checksum in {url}");
    assert!(
        urls[0]
            .headers
            .iter()
            .all(|(name, _)| !name.to_ascii_lowercase().contains("checksum")),
        "no checksum header in {:?}",
        urls[0].headers
    );
    assert!(url.contains("x-amz-signature="), "the URL is presigned: {url}");
    store.abort_multipart_upload(&key, &upload).await.expect("abort");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_deletes_more_objects_than_one_listing_page_holds() {
    let env = moto::shared().env().await;
    let store = &env.objects;
    let transfer = TransferId::from_bytes([5; 16]);
    // Put objects directly: 1 001 keys need two listing pages and two
    // batches. A few at a time: moto serves one request at a time, and a
    // thousand waiting connections would overflow its listen queue.
    let client = store.client().clone();
    let bucket = store.bucket().to_owned();
    let numbers: Vec<u32> = (0..1001).collect();
    for chunk in numbers.chunks(8) {
        let puts: Vec<_> = chunk
            .iter()
            .map(|&n| {
                let mut file = [0u8; 16];
                file[..4].copy_from_slice(&n.to_be_bytes());
                let object = ObjectKey {
                    transfer,
                    file: FileId::from_bytes(file),
                };
                client
                    .put_object()
                    .bucket(&bucket)
                    .key(object.to_string())
                    .body(vec![1u8].into())
                    .send()
            })
            .collect();
        for put in puts {
            put.await.expect("put a small object");
        }
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

// --- mailer: the core's suite on SESv2 ------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ses_delivers_a_message_with_recipient_subject_body_and_reply_to() {
    let env = moto::shared().env().await;
    mailer::a_sent_message_is_read_back_with_its_headers(&env.mailer, &moto::SentOnMoto(moto::shared()))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ses_adds_no_reply_to_when_none_is_asked_for() {
    let env = moto::shared().env().await;
    mailer::a_message_without_reply_to_has_none(&env.mailer, &moto::SentOnMoto(moto::shared())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ses_sends_from_the_service_address_with_both_bodies() {
    let env = moto::shared().env().await;
    let marker = "kluis-aws-from-and-bodies";
    let mail = mailer::sample_mail(marker, None);
    env.mailer.send(&mail).await.expect("SESv2 accepts the mail");
    let sent = moto::shared().sent_mail().expect("read moto's record");
    let ours: Vec<_> = sent
        .iter()
        .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains(marker)))
        .collect();
    assert_eq!(ours.len(), 1, "exactly one such mail: {sent:?}");
    assert_eq!(ours[0]["source"], moto::MAIL_FROM);
    assert_eq!(ours[0]["body"], mail.html.as_str());
    assert_eq!(ours[0]["text_body"], mail.text.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ses_refuses_a_sender_outside_any_verified_identity() {
    let sdk = moto::shared().sdk_config().await;
    let stranger = kluis_aws::SesMailer::new(&sdk, "someone@not-verified.example");
    let mail = mailer::sample_mail("kluis-aws-unverified", None);
    assert!(matches!(stranger.send(&mail).await, Err(PortError::Backend(_))));
}
