//! After sending: expiry, revoking, replying, and the expiry job.

use super::*;
use crate::error::{DomainError, GoneReason};
use crate::service::reply::Reply;
use crate::service::retrieval::Unlock;
use crate::service::testing::address;
use crate::transfer::TransferState;

#[tokio::test]
async fn after_its_retention_a_transfer_is_gone_and_the_expiry_job_deletes_its_objects_once() {
    let service = service();
    let (_, transfer) = sent_transfer(
        &service,
        "jan@example.nl",
        &["a@extern.example"],
        &[10, 20],
        false,
    )
    .await;
    let (id, token) = link_for(&service, "a@extern.example");
    assert_eq!(service.objects().object_count(), 2);
    service.clock().advance(7 * Timestamp::DAY);
    assert_eq!(
        domain(service.public_info(id, &token).await),
        DomainError::TransferGone {
            reason: Some(GoneReason::Expired)
        },
        "time decides, even before the job runs"
    );
    let report = service.expire().await.expect("expiry run");
    assert_eq!((report.expired, report.purged), (1, 1));
    assert_eq!(service.objects().object_count(), 0);
    let stored = service.transfer(transfer).await.expect("the record stays");
    assert_eq!(stored.state(), TransferState::Expired);
    assert!(stored.is_purged());
    assert_eq!(
        domain(service.unlock(id, &token, Unlock { auth_key: RIGHT_KEY }).await),
        DomainError::TransferGone {
            reason: Some(GoneReason::Expired)
        }
    );
    let again = service.expire().await.expect("second run");
    assert_eq!((again.expired, again.purged), (0, 0), "idempotent");
}

#[tokio::test]
async fn the_expiry_job_leaves_live_transfers_alone() {
    let service = service();
    sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    service.clock().advance(7 * Timestamp::DAY - 1);
    let report = service.expire().await.expect("expiry run");
    assert_eq!((report.expired, report.purged), (0, 0));
    assert_eq!(service.objects().object_count(), 1);
}

#[tokio::test]
async fn a_stale_draft_is_purged_with_its_unfinished_uploads() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["a@extern.example"], false).await;
    upload(&service, &session, transfer, 10).await;
    service
        .add_file(
            &session,
            transfer,
            AddFile {
                file_id: FileId::from_bytes([5; 16]),
                ciphertext_bytes: ciphertext(10),
            },
        )
        .await
        .expect("an upload left unfinished");
    assert_eq!(
        (service.objects().object_count(), service.objects().upload_count()),
        (1, 1)
    );
    service.clock().advance(24 * Timestamp::HOUR);
    let report = service.expire().await.expect("expiry run");
    assert_eq!((report.expired, report.purged), (1, 1));
    assert_eq!(
        (service.objects().object_count(), service.objects().upload_count()),
        (0, 0)
    );
}

#[tokio::test]
async fn a_revoked_transfer_is_gone_its_objects_deleted_and_its_recipients_told_once() {
    let service = service();
    let (_, transfer) = sent_transfer(
        &service,
        "jan@example.nl",
        &["a@extern.example", "b@extern.example"],
        &[10],
        false,
    )
    .await;
    let (_, manage) = link_for(&service, "jan@example.nl");
    let (id, token) = link_for(&service, "a@extern.example");
    let revoked = service.revoke(transfer, &manage).await.expect("revoked");
    assert!(revoked.undelivered.is_empty());
    assert_eq!(service.objects().object_count(), 0);
    assert!(service.transfer(transfer).await.expect("stored").is_purged());
    assert_eq!(
        domain(service.public_info(id, &token).await),
        DomainError::TransferGone {
            reason: Some(GoneReason::Revoked)
        }
    );
    let notices = service.mailer().sent_to("b@extern.example");
    assert_eq!(notices.len(), 2, "the notification and the revoke notice");
    let mails = service.mailer().sent().len();
    assert_eq!(
        domain(service.revoke(transfer, &manage).await),
        DomainError::GONE,
        "a retried revoke answers gone"
    );
    assert_eq!(service.mailer().sent().len(), mails, "and mails nothing");
    assert_eq!(domain(service.status(transfer, &manage).await), DomainError::GONE);
}

#[tokio::test]
async fn a_wrong_manage_token_neither_shows_nor_revokes() {
    let service = service();
    let (_, transfer) = sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let (_, retrieval) = link_for(&service, "a@extern.example");
    assert_eq!(
        domain(service.revoke(transfer, &retrieval).await),
        DomainError::TransferNotFound
    );
    assert_eq!(
        domain(service.status(transfer, &retrieval).await),
        DomainError::TransferNotFound
    );
    assert_eq!(
        service.transfer(transfer).await.expect("stored").state(),
        TransferState::Sent
    );
}

fn reply_request(auth_key: AuthKey) -> Reply {
    Reply {
        request_id: request_id(),
        auth_key,
        name: PersonName::parse("Anna Partner", Field::SenderName).expect("valid"),
        phone: None,
        language: None,
        download_receipts: false,
        notification_text: None,
    }
}

#[tokio::test]
async fn a_recipient_replies_with_files_to_the_sender_without_a_new_verification() {
    let service = service();
    let (_, original) = sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let (id, token) = link_for(&service, "a@extern.example");
    let request = reply_request(RIGHT_KEY);
    let started = service
        .reply(id, &token, request.clone())
        .await
        .expect("reply started");
    let retried = service.reply(id, &token, request).await.expect("retry");
    assert_eq!(started.transfer_id, retried.transfer_id, "one reply transfer");
    let session = Token::parse(&started.session.session_token, Field::SessionToken).expect("a token");
    assert_eq!(started.session.sender.email, address("a@extern.example"));
    let reply = started.transfer_id;
    upload(&service, &session, reply, 500).await;
    service
        .set_key(&session, reply, key_request(&RIGHT_KEY))
        .await
        .expect("keyed");
    let jan_before = service.mailer().sent_to("jan@example.nl").len();
    service
        .send(&session, reply, SendOptions::default())
        .await
        .expect("sent");
    let to_jan = service.mailer().sent_to("jan@example.nl");
    assert_eq!(to_jan.len(), jan_before + 1, "the reply notice");
    let notice = &to_jan[jan_before];
    assert!(notice.subject.as_str().contains("replied"));
    assert_eq!(notice.reply_to, Some(address("a@extern.example")));
    let (reply_id, reply_token) = crate::service::testing::link_in(notice).expect("a link");
    assert_eq!(reply_id, reply);
    let info = service.public_info(reply_id, &reply_token).await.expect("info");
    assert_eq!(info.in_reply_to, Some(original));
    service
        .unlock(reply_id, &reply_token, Unlock { auth_key: RIGHT_KEY })
        .await
        .expect("the sender opens the reply");
}

#[tokio::test]
async fn a_reply_session_may_only_finish_its_reply() {
    let service = service();
    sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let (id, token) = link_for(&service, "a@extern.example");
    let started = service
        .reply(id, &token, reply_request(RIGHT_KEY))
        .await
        .expect("reply started");
    let session = Token::parse(&started.session.session_token, Field::SessionToken).expect("a token");
    let info = service.session_info(&session).await.expect("a live session");
    assert!(info.reply_only, "a page can tell it is a reply's");
    assert_eq!(info.sender.email.as_str(), "a@extern.example");
    let own_draft = service
        .create_draft(&session, draft_request(&["jan@example.nl"], false))
        .await;
    assert_eq!(domain(own_draft), DomainError::ReplySessionOnly);
    // A draft the same address started after verifying its own code is
    // not the reply's: the reply's session cannot touch it.
    let verified = sign_in(&service, "a@extern.example").await;
    let other = draft(&service, &verified, &["jan@example.nl"], false).await;
    let add = service
        .add_file(
            &session,
            other,
            crate::service::upload::AddFile {
                file_id: FileId::from_bytes([3; 16]),
                ciphertext_bytes: ciphertext(10),
            },
        )
        .await;
    assert_eq!(domain(add), DomainError::TransferNotFound);
    upload(&service, &session, started.transfer_id, 10).await;
    service
        .set_key(&session, started.transfer_id, key_request(&RIGHT_KEY))
        .await
        .expect("keyed");
    let elsewhere: SendOptions =
        serde_json::from_str(r#"{"recipients": ["jan@example.nl"]}"#).expect("valid send options");
    assert_eq!(
        domain(service.send(&session, started.transfer_id, elsewhere).await),
        DomainError::ReplySessionOnly,
        "a reply goes to the sender it answers, and nowhere else"
    );
    let later: SendOptions = serde_json::from_str(r#"{"retention_days": 2}"#).expect("valid send options");
    let sent = service
        .send(&session, started.transfer_id, later)
        .await
        .expect("a reply takes the other choices");
    assert_eq!(sent.expires_at, NOW.plus_seconds(2 * Timestamp::DAY));
}

#[tokio::test]
async fn a_reply_needs_the_password_and_a_wrong_one_is_counted() {
    let service = service();
    sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let (id, token) = link_for(&service, "a@extern.example");
    let refused = service.reply(id, &token, reply_request(WRONG_KEY)).await;
    assert_eq!(domain(refused), DomainError::WrongPassword { remaining: 9 });
    let stranger = Token::from_bytes([9; 32]);
    assert_eq!(
        domain(service.reply(id, &stranger, reply_request(RIGHT_KEY)).await),
        DomainError::TransferNotFound
    );
}

#[tokio::test]
async fn a_reply_between_two_strangers_is_refused_by_policy() {
    // A partner who received from a partner (possible only if a staff
    // member was the sender before the policy changed) cannot use reply
    // as a relay: the same open-relay rule applies.
    let service = crate::service::testing::memory_service(
        Policy {
            internal_domains: vec!["example.nl".into(), "extern.example".into()],
            ..policy()
        },
        NOW,
    );
    sent_transfer(&service, "x@extern.example", &["a@other.example"], &[10], false).await;
    let (id, token) = link_for(&service, "a@other.example");
    let strict = crate::service::testing::memory_service(policy(), NOW);
    // The same records under a stricter policy: copy the transfer over.
    let stored = service.transfer(id).await.expect("stored");
    strict.store().create_transfer(&stored).await.expect("copied");
    let refused = strict.reply(id, &token, reply_request(RIGHT_KEY)).await;
    assert_eq!(domain(refused), DomainError::NoInternalParty);
}
