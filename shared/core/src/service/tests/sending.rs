//! Steps 3 to 6: drafts and the policy, uploads and their sizes, the key,
//! and sending exactly once.

use super::*;
use crate::error::DomainError;
use crate::ids::TransferId;
use crate::service::ServiceError;
use crate::service::testing::{MemoryService, link_in};
use crate::transfer::TransferState;

#[tokio::test]
async fn a_stranger_sending_to_a_stranger_is_refused_by_policy() {
    let service = service();
    let session = sign_in(&service, "eve@extern.example").await;
    let refused = service
        .create_draft(&session, draft_request(&["mallory@elsewhere.example"], false))
        .await;
    assert_eq!(domain(refused), DomainError::NoInternalParty);
    assert_eq!(
        domain(
            service
                .create_draft(
                    &session,
                    draft_request(&["jan@example.nl", "mallory@elsewhere.example"], false)
                )
                .await
        ),
        DomainError::NoInternalParty,
        "one internal recipient among strangers is not enough"
    );
}

#[tokio::test]
async fn an_external_partner_may_send_to_staff() {
    let service = service();
    let session = sign_in(&service, "partner@extern.example").await;
    let transfer = draft(&service, &session, &["jan@example.nl"], false).await;
    let stored = service.transfer(transfer).await.expect("stored");
    assert_eq!(stored.state(), TransferState::Draft);
    assert_eq!(stored.sender().email.as_str(), "partner@extern.example");
}

#[tokio::test]
async fn a_retried_draft_request_creates_one_transfer() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let request = draft_request(&["partner@extern.example"], false);
    let first = service
        .create_draft(&session, request.clone())
        .await
        .expect("first try");
    let retry = service.create_draft(&session, request).await.expect("retry");
    assert_eq!(first, retry);
    let created = service
        .store()
        .list_audit(first.transfer_id)
        .await
        .expect("audit");
    assert_eq!(created.len(), 1, "one creation recorded");
}

#[tokio::test]
async fn another_senders_transfer_is_not_found() {
    let service = service();
    let jan = sign_in(&service, "jan@example.nl").await;
    let piet = sign_in(&service, "piet@example.nl").await;
    let transfer = draft(&service, &jan, &["partner@extern.example"], false).await;
    let refused = service
        .add_file(
            &piet,
            transfer,
            AddFile {
                file_id: FileId::from_bytes([1; 16]),
                ciphertext_bytes: ciphertext(10),
            },
        )
        .await;
    assert_eq!(domain(refused), DomainError::TransferNotFound);
}

#[tokio::test]
async fn a_file_size_the_format_cannot_produce_is_refused_before_any_upload() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    // Too short for a header; an empty last chunk cut short; a last chunk of
    // only 5 bytes after a full one (shorter than its tag).
    for impossible in [0, 13, 14 + 15, 14 + (256 * 1024 + 16) + 5] {
        let refused = service
            .add_file(
                &session,
                transfer,
                AddFile {
                    file_id: FileId::from_bytes([1; 16]),
                    ciphertext_bytes: impossible,
                },
            )
            .await;
        assert_eq!(
            domain(refused),
            DomainError::Malformed {
                field: Field::FileSize
            },
            "{impossible}"
        );
    }
    assert_eq!(service.objects().upload_count(), 0);
}

#[tokio::test]
async fn a_file_beyond_the_transfer_size_limit_is_refused_before_any_upload() {
    let service = crate::service::testing::memory_service(
        Policy {
            max_transfer_bytes: 1024 * 1024,
            ..policy()
        },
        NOW,
    );
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let refused = service
        .add_file(
            &session,
            transfer,
            AddFile {
                file_id: FileId::from_bytes([1; 16]),
                ciphertext_bytes: ciphertext(2 * 1024 * 1024),
            },
        )
        .await;
    assert_eq!(
        domain(refused),
        DomainError::TransferTooLarge {
            max_bytes: 1024 * 1024
        }
    );
    assert_eq!(service.objects().upload_count(), 0);
}

#[tokio::test]
async fn a_large_file_is_uploaded_in_parts_of_thirty_two_chunks() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    // 80 chunks of 256 KiB: parts of 32, 32 and 16 chunks.
    let size = ciphertext(20 * 1024 * 1024);
    let upload = service
        .add_file(
            &session,
            transfer,
            AddFile {
                file_id: FileId::from_bytes([1; 16]),
                ciphertext_bytes: size,
            },
        )
        .await
        .expect("added");
    assert_eq!(upload.parts.len(), 3);
    assert_eq!(upload.part_bytes, 32 * (256 * 1024 + 16));
    let parts = put_parts(&service, &upload.parts, &part_sizes(size, 3));
    let done = service
        .complete_file(&session, transfer, upload.file_id, CompleteFile { parts })
        .await
        .expect("completed");
    assert_eq!(done.ciphertext_bytes, size);
}

#[tokio::test]
async fn a_retried_add_file_reuses_the_upload_and_a_retried_completion_succeeds() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let request = AddFile {
        file_id: FileId::from_bytes([1; 16]),
        ciphertext_bytes: ciphertext(1000),
    };
    let first = service
        .add_file(&session, transfer, request.clone())
        .await
        .expect("added");
    let retry = service
        .add_file(&session, transfer, request.clone())
        .await
        .expect("retry");
    assert_eq!(first.parts[0].url, retry.parts[0].url, "the same upload");
    assert_eq!(service.objects().upload_count(), 1);
    let parts = put_parts(&service, &retry.parts, &[request.ciphertext_bytes]);
    let complete = CompleteFile { parts };
    service
        .complete_file(&session, transfer, request.file_id, complete.clone())
        .await
        .expect("completed");
    service
        .complete_file(&session, transfer, request.file_id, complete)
        .await
        .expect("a retried completion succeeds");
    let stored = service.transfer(transfer).await.expect("stored");
    assert_eq!(stored.files().len(), 1);
    assert!(stored.files()[0].is_complete());
    let other_size = service
        .add_file(
            &session,
            transfer,
            AddFile {
                ciphertext_bytes: ciphertext(2000),
                ..request
            },
        )
        .await;
    assert_eq!(domain(other_size), DomainError::FileAlreadyAdded);
}

#[tokio::test]
async fn a_stored_size_other_than_the_declared_one_is_refused() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let size = ciphertext(1000);
    let upload = service
        .add_file(
            &session,
            transfer,
            AddFile {
                file_id: FileId::from_bytes([1; 16]),
                ciphertext_bytes: size,
            },
        )
        .await
        .expect("added");
    let parts = put_parts(&service, &upload.parts, &[size - 1]);
    let refused = service
        .complete_file(&session, transfer, upload.file_id, CompleteFile { parts })
        .await;
    assert_eq!(domain(refused), DomainError::SizeMismatch);
    let keyed = service.set_key(&session, transfer, key_request(&RIGHT_KEY)).await;
    assert_eq!(
        domain(keyed),
        DomainError::UploadIncomplete,
        "a file of the wrong size cannot be sent"
    );
}

#[tokio::test]
async fn parts_must_be_listed_in_order_and_complete() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let size = ciphertext(20 * 1024 * 1024);
    let upload = service
        .add_file(
            &session,
            transfer,
            AddFile {
                file_id: FileId::from_bytes([1; 16]),
                ciphertext_bytes: size,
            },
        )
        .await
        .expect("added");
    let mut parts = put_parts(&service, &upload.parts, &part_sizes(size, 3));
    parts.swap(0, 1);
    let swapped = service
        .complete_file(
            &session,
            transfer,
            upload.file_id,
            CompleteFile { parts: parts.clone() },
        )
        .await;
    assert_eq!(
        domain(swapped),
        DomainError::PartsMismatch {
            field: Field::PartNumber
        }
    );
    parts.truncate(2);
    let short = service
        .complete_file(&session, transfer, upload.file_id, CompleteFile { parts })
        .await;
    assert!(matches!(
        short,
        Err(ServiceError::Domain(DomainError::PartsMismatch { .. }))
    ));
}

#[tokio::test]
async fn key_derivation_weaker_than_the_policy_is_refused() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    upload(&service, &session, transfer, 100).await;
    let mut weak = key_request(&RIGHT_KEY);
    weak.kdf = KdfParams {
        m_kib: 19_456,
        t: 2,
        p: 1,
    };
    assert_eq!(
        domain(service.set_key(&session, transfer, weak).await),
        DomainError::KdfTooWeak
    );
    service
        .set_key(&session, transfer, key_request(&RIGHT_KEY))
        .await
        .expect("the floor is accepted");
    service
        .set_key(&session, transfer, key_request(&RIGHT_KEY))
        .await
        .expect("a retry with the same key succeeds");
    let other = service.set_key(&session, transfer, key_request(&WRONG_KEY)).await;
    assert!(matches!(domain(other), DomainError::InvalidTransition { .. }));
}

#[tokio::test]
async fn sending_notifies_each_recipient_with_their_own_link_and_summarises_to_the_sender() {
    let service = service();
    let (_, transfer) = sent_transfer(
        &service,
        "jan@example.nl",
        &["a@extern.example", "b@extern.example"],
        &[1000, 2000],
        false,
    )
    .await;
    let (to_a, token_a) = link_for(&service, "a@extern.example");
    let (to_b, token_b) = link_for(&service, "b@extern.example");
    assert_eq!((to_a, to_b), (transfer, transfer));
    assert_ne!(token_a, token_b, "one token per recipient");
    let notice = service
        .mailer()
        .sent_to("a@extern.example")
        .pop()
        .expect("a notice");
    assert_eq!(
        notice.reply_to.as_ref().map(|r| r.as_str()),
        Some("jan@example.nl")
    );
    assert!(
        notice.text.contains(&format!("/retrieve/{transfer}#")),
        "the token is in the fragment"
    );
    let summary = service
        .mailer()
        .sent_to("jan@example.nl")
        .pop()
        .expect("a summary");
    assert!(summary.text.contains(&format!("/manage/{transfer}#")));
    // Nothing secret is stored: the stored transfer holds no token.
    let stored = serde_json::to_string(&service.transfer(transfer).await.expect("stored")).expect("json");
    assert!(!stored.contains(&token_a.reveal()));
}

#[tokio::test]
async fn a_retried_send_mails_one_set_of_notifications() {
    let service = service();
    let (session, transfer) = sent_transfer(
        &service,
        "jan@example.nl",
        &["a@extern.example", "b@extern.example"],
        &[1000],
        false,
    )
    .await;
    let before = service.mailer().sent().len();
    let retry = service
        .send(&session, transfer, SendOptions::default())
        .await
        .expect("a retry succeeds");
    assert!(!retry.sent_now);
    assert_eq!(service.mailer().sent().len(), before, "no second mail");
    assert_eq!(service.mailer().sent_to("a@extern.example").len(), 1);
}

#[tokio::test]
async fn two_racing_sends_mail_one_set_of_notifications() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["a@extern.example"], false).await;
    upload(&service, &session, transfer, 10).await;
    service
        .set_key(&session, transfer, key_request(&RIGHT_KEY))
        .await
        .expect("keyed");
    let (one, two) = tokio::join!(
        service.send(&session, transfer, SendOptions::default()),
        service.send(&session, transfer, SendOptions::default())
    );
    let sent_now = [one.expect("ok"), two.expect("ok")]
        .iter()
        .filter(|s| s.sent_now)
        .count();
    assert_eq!(sent_now, 1);
    assert_eq!(service.mailer().sent_to("a@extern.example").len(), 1);
}

#[tokio::test]
async fn a_notification_the_mailer_refuses_is_reported_not_retried() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["a@extern.example"], false).await;
    upload(&service, &session, transfer, 10).await;
    service
        .set_key(&session, transfer, key_request(&RIGHT_KEY))
        .await
        .expect("keyed");
    service.mailer().set_failing(true);
    let sent = service
        .send(&session, transfer, SendOptions::default())
        .await
        .expect("the transfer is sent");
    assert_eq!(
        sent.undelivered,
        vec![crate::service::testing::address("a@extern.example")]
    );
    assert!(!sent.summary_delivered);
    service.mailer().set_failing(false);
    let retry = service
        .send(&session, transfer, SendOptions::default())
        .await
        .expect("retry");
    assert!(!retry.sent_now);
    assert!(service.mailer().sent().iter().all(|m| link_in(m).is_none()));
}

/// A keyed transfer from jan@example.nl to `recipients`, not yet sent.
async fn keyed_transfer(service: &MemoryService, recipients: &[&str]) -> (Token, TransferId) {
    let session = sign_in(service, "jan@example.nl").await;
    let transfer = draft(service, &session, recipients, false).await;
    upload(service, &session, transfer, 10).await;
    service
        .set_key(&session, transfer, key_request(&RIGHT_KEY))
        .await
        .expect("keyed");
    (session, transfer)
}

fn send_options(json: serde_json::Value) -> SendOptions {
    serde_json::from_value(json).expect("valid send options")
}

#[tokio::test]
async fn the_last_choices_decide_who_is_mailed_in_which_language_and_until_when() {
    let service = service();
    let (session, transfer) = keyed_transfer(&service, &["a@extern.example", "b@extern.example"]).await;
    let choices = send_options(serde_json::json!({
        "recipients": ["c@extern.example", "a@extern.example", "d@extern.example"],
        "language": "nl",
        "download_receipts": true,
        "retention_days": 3,
        "notification_text": "Het contract, getekend.",
    }));
    let sent = service.send(&session, transfer, choices).await.expect("sent");
    assert!(sent.sent_now && sent.undelivered.is_empty());
    assert_eq!(sent.expires_at, NOW.plus_seconds(3 * Timestamp::DAY));
    assert!(
        service.mailer().sent_to("b@extern.example").is_empty(),
        "b was dropped"
    );
    let mut tokens = Vec::new();
    for to in ["c@extern.example", "a@extern.example", "d@extern.example"] {
        let mails = service.mailer().sent_to(to);
        assert_eq!(mails.len(), 1, "one notice to {to}");
        let notice = &mails[0];
        assert!(
            notice.subject.as_str().contains("heeft u bestanden gestuurd"),
            "in Dutch: {}",
            notice.subject.as_str()
        );
        assert!(notice.text.contains("Het contract, getekend."), "{}", notice.text);
        tokens.push(link_in(notice).expect("a link").1);
        service
            .public_info(transfer, tokens.last().expect("a token"))
            .await
            .expect("each new recipient's link opens the transfer");
    }
    assert!(tokens[0] != tokens[1] && tokens[1] != tokens[2] && tokens[0] != tokens[2]);
    let stored = service.transfer(transfer).await.expect("stored");
    assert_eq!(stored.expires_at(), sent.expires_at);
    assert!(stored.options().download_receipts);
    let summary = service
        .mailer()
        .sent_to("jan@example.nl")
        .pop()
        .expect("a summary");
    assert!(summary.text.contains("d@extern.example") && !summary.text.contains("b@extern.example"));
}

#[tokio::test]
async fn last_choices_against_the_policy_are_refused_and_nothing_is_sent() {
    let service = service();
    let (session, transfer) = keyed_transfer(&service, &["a@extern.example"]).await;
    let too_many: Vec<String> = (0..21).map(|i| format!("r{i}@extern.example")).collect();
    let refusals = [
        (serde_json::json!({ "recipients": [] }), "field_missing"),
        (
            serde_json::json!({ "recipients": too_many }),
            "too_many_recipients",
        ),
        (
            serde_json::json!({ "recipients": ["x@extern.example", "X@extern.example"] }),
            "duplicate_recipient",
        ),
        (serde_json::json!({ "retention_days": 0 }), "malformed"),
        (serde_json::json!({ "retention_days": 31 }), "retention_too_long"),
    ];
    for (json, code) in refusals {
        let refused = service.send(&session, transfer, send_options(json.clone())).await;
        assert_eq!(domain(refused).code(), code, "{json}");
    }
    let stranger = sign_in(&service, "eve@extern.example").await;
    let theirs = draft(&service, &stranger, &["jan@example.nl"], false).await;
    upload(&service, &stranger, theirs, 10).await;
    service
        .set_key(&stranger, theirs, key_request(&RIGHT_KEY))
        .await
        .expect("keyed");
    let relay = send_options(serde_json::json!({ "recipients": ["mallory@elsewhere.example"] }));
    assert_eq!(
        domain(service.send(&stranger, theirs, relay).await),
        DomainError::NoInternalParty
    );
    assert_eq!(
        service.transfer(transfer).await.expect("stored").state(),
        TransferState::Keyed
    );
    assert!(
        service.mailer().sent().iter().all(|m| link_in(m).is_none()),
        "nothing mailed"
    );
}

#[tokio::test]
async fn a_retry_after_the_send_ignores_its_choices() {
    let service = service();
    let (session, transfer) = keyed_transfer(&service, &["a@extern.example"]).await;
    let first = service
        .send(&session, transfer, SendOptions::default())
        .await
        .expect("sent");
    let before = service.mailer().sent().len();
    let other = send_options(serde_json::json!({
        "recipients": ["z@extern.example"],
        "retention_days": 31,
        "language": "nl",
    }));
    let retry = service
        .send(&session, transfer, other)
        .await
        .expect("a retry succeeds");
    assert!(!retry.sent_now);
    assert_eq!(retry.expires_at, first.expires_at);
    assert_eq!(service.mailer().sent().len(), before, "no mail");
    let stored = service.transfer(transfer).await.expect("stored");
    assert_eq!(stored.recipients()[0].email.as_str(), "a@extern.example");
    // No first try could have sent these: refused whatever the state.
    let never = send_options(serde_json::json!({ "recipients": [] }));
    assert_eq!(
        domain(service.send(&session, transfer, never).await).code(),
        "field_missing"
    );
    let never = send_options(serde_json::json!({ "retention_days": 0 }));
    assert_eq!(
        domain(service.send(&session, transfer, never).await).code(),
        "malformed"
    );
}

#[tokio::test]
async fn choices_of_a_form_no_transfer_takes_are_refused_before_the_state_is_looked_at() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["a@extern.example"], false).await;
    let empty = send_options(serde_json::json!({ "recipients": [] }));
    assert_eq!(
        domain(service.send(&session, transfer, empty).await).code(),
        "field_missing"
    );
    let too_many: Vec<String> = (0..21).map(|i| format!("r{i}@extern.example")).collect();
    let against_policy = send_options(serde_json::json!({ "recipients": too_many }));
    assert!(
        matches!(
            domain(service.send(&session, transfer, against_policy).await),
            DomainError::InvalidTransition { .. }
        ),
        "a draft is not ready: the policy's limits apply when it is"
    );
}

#[tokio::test]
async fn two_racing_sends_with_other_choices_send_one_of_them_once() {
    let service = service();
    let (session, transfer) = keyed_transfer(&service, &["a@extern.example"]).await;
    let to = |address: &str| send_options(serde_json::json!({ "recipients": [address] }));
    let (one, two) = tokio::join!(
        service.send(&session, transfer, to("b@extern.example")),
        service.send(&session, transfer, to("c@extern.example"))
    );
    let (one, two) = (one.expect("ok"), two.expect("ok"));
    assert!(one.sent_now != two.sent_now, "exactly one sends");
    let mailed: usize = ["a@extern.example", "b@extern.example", "c@extern.example"]
        .iter()
        .map(|to| service.mailer().sent_to(to).len())
        .sum();
    assert_eq!(mailed, 1, "one notice, to the winner's recipient");
    let stored = service.transfer(transfer).await.expect("stored");
    let winner = stored.recipients()[0].email.clone();
    let (_, token) = link_for(&service, winner.as_str());
    service
        .public_info(transfer, &token)
        .await
        .expect("the winner's token opens it");
}

#[tokio::test]
async fn a_transfer_without_files_cannot_be_keyed_or_sent() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["a@extern.example"], false).await;
    assert_eq!(
        domain(service.set_key(&session, transfer, key_request(&RIGHT_KEY)).await),
        DomainError::NoFiles
    );
    assert!(matches!(
        domain(service.send(&session, transfer, SendOptions::default()).await),
        DomainError::InvalidTransition { .. }
    ));
}
