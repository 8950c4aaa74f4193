//! Retrieval: the full happy path, wrong passwords and the lock, receipts.

use super::*;
use crate::error::DomainError;
use crate::service::manage::Download;
use crate::service::retrieval::{RecordDownload, Unlock};
use crate::transfer::TransferState;

#[tokio::test]
async fn two_recipients_unlock_and_download_two_files_and_the_sender_gets_one_receipt_per_file() {
    let service = service();
    let (_, transfer) = sent_transfer(
        &service,
        "jan@example.nl",
        &["a@extern.example", "b@extern.example"],
        &[1000, 3 * 1024 * 1024],
        true,
    )
    .await;
    let (_, manage) = link_for(&service, "jan@example.nl");
    let mails_before = service.mailer().sent_to("jan@example.nl").len();
    for recipient in ["a@extern.example", "b@extern.example"] {
        let (id, token) = link_for(&service, recipient);
        let info = service.public_info(id, &token).await.expect("public info");
        assert_eq!(info.sender.email.as_str(), "jan@example.nl");
        assert_eq!(info.state, TransferState::Sent);
        assert_eq!(info.file_count, 2);
        assert_eq!(
            info.kdf,
            KdfParams::MINIMUM,
            "what the browser needs to derive the key"
        );
        let unlocked = service
            .unlock(id, &token, Unlock { auth_key: RIGHT_KEY })
            .await
            .expect("the right key unlocks");
        assert_eq!(unlocked.recipient.as_str(), recipient);
        assert_eq!(unlocked.wrapped_key, WrappedKey::from_bytes([1; 61]));
        assert_eq!(unlocked.files.len(), 2);
        for file in &unlocked.files {
            assert!(file.download.url.starts_with("memory://download/"));
            let report = RecordDownload {
                auth_key: RIGHT_KEY,
                file_id: file.file_id,
            };
            let recorded = service
                .record_download(id, &token, report.clone())
                .await
                .expect("recorded");
            assert!(recorded.receipt_sent);
            let again = service.record_download(id, &token, report).await.expect("retry");
            assert!(!again.receipt_sent, "at most one receipt per recipient and file");
        }
    }
    let receipts = service.mailer().sent_to("jan@example.nl").len() - mails_before;
    assert_eq!(receipts, 4, "two recipients times two files");
    let status = service.status(transfer, &manage).await.expect("status");
    assert_eq!(status.state, TransferState::Sent);
    assert_eq!(status.files.len(), 2);
    for recipient in &status.recipients {
        assert_eq!(recipient.first_download_at, Some(NOW));
        let files: Vec<FileId> = recipient.downloads.iter().map(|d: &Download| d.file_id).collect();
        assert_eq!(files, status.files.iter().map(|f| f.file_id).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn without_receipts_asked_a_download_mails_nothing() {
    let service = service();
    sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let (id, token) = link_for(&service, "a@extern.example");
    let unlocked = service
        .unlock(id, &token, Unlock { auth_key: RIGHT_KEY })
        .await
        .expect("unlocked");
    let before = service.mailer().sent().len();
    let recorded = service
        .record_download(
            id,
            &token,
            RecordDownload {
                auth_key: RIGHT_KEY,
                file_id: unlocked.files[0].file_id,
            },
        )
        .await
        .expect("recorded");
    assert!(!recorded.receipt_sent);
    assert_eq!(service.mailer().sent().len(), before);
}

#[tokio::test]
async fn wrong_passwords_are_counted_and_the_last_allowed_one_locks_and_tells_the_sender_once() {
    let service = service();
    sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let (id, token) = link_for(&service, "a@extern.example");
    let sender_mails = service.mailer().sent_to("jan@example.nl").len();
    for attempt in 1..=9u32 {
        let wrong = service.unlock(id, &token, Unlock { auth_key: WRONG_KEY }).await;
        assert_eq!(
            domain(wrong),
            DomainError::WrongPassword {
                remaining: 10 - attempt
            }
        );
    }
    let tenth = service.unlock(id, &token, Unlock { auth_key: WRONG_KEY }).await;
    assert_eq!(domain(tenth), DomainError::TransferLocked);
    let notices = service.mailer().sent_to("jan@example.nl");
    assert_eq!(notices.len(), sender_mails + 1, "one lockout notice");
    assert!(notices[sender_mails].subject.as_str().contains("locked"));
    let right = service.unlock(id, &token, Unlock { auth_key: RIGHT_KEY }).await;
    assert_eq!(
        domain(right),
        DomainError::TransferLocked,
        "the right key no longer helps"
    );
    assert_eq!(
        domain(service.public_info(id, &token).await),
        DomainError::TransferLocked
    );
    assert_eq!(
        service.mailer().sent_to("jan@example.nl").len(),
        sender_mails + 1,
        "no second notice"
    );
}

#[tokio::test]
async fn a_successful_unlock_does_not_reset_the_count_of_wrong_passwords() {
    let service = service();
    sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let (id, token) = link_for(&service, "a@extern.example");
    let wrong = service.unlock(id, &token, Unlock { auth_key: WRONG_KEY }).await;
    assert_eq!(domain(wrong), DomainError::WrongPassword { remaining: 9 });
    service
        .unlock(id, &token, Unlock { auth_key: RIGHT_KEY })
        .await
        .expect("the right key unlocks");
    let again = service.unlock(id, &token, Unlock { auth_key: WRONG_KEY }).await;
    assert_eq!(
        domain(again),
        DomainError::WrongPassword { remaining: 8 },
        "the limit is on wrong passwords over the transfer's life"
    );
}

#[tokio::test]
async fn a_download_report_with_a_wrong_key_counts_as_a_wrong_password() {
    let service = service();
    sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], true).await;
    let (id, token) = link_for(&service, "a@extern.example");
    let file = service.transfer(id).await.expect("stored").files()[0].id;
    let refused = service
        .record_download(
            id,
            &token,
            RecordDownload {
                auth_key: WRONG_KEY,
                file_id: file,
            },
        )
        .await;
    assert_eq!(domain(refused), DomainError::WrongPassword { remaining: 9 });
}

#[tokio::test]
async fn a_wrong_token_or_an_unsent_transfer_is_not_found() {
    let service = service();
    let (_, transfer) = sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let stranger = Token::from_bytes([9; 32]);
    assert_eq!(
        domain(service.public_info(transfer, &stranger).await),
        DomainError::TransferNotFound
    );
    assert_eq!(
        domain(
            service
                .unlock(transfer, &stranger, Unlock { auth_key: RIGHT_KEY })
                .await
        ),
        DomainError::TransferNotFound
    );
    let session = sign_in(&service, "jan@example.nl").await;
    let unsent = draft(&service, &session, &["a@extern.example"], false).await;
    assert_eq!(
        domain(service.public_info(unsent, &stranger).await),
        DomainError::TransferNotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_fifteen_racing_wrong_passwords_exactly_one_locks_and_mails_the_sender() {
    let service = std::sync::Arc::new(service());
    sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
    let (id, token) = link_for(&service, "a@extern.example");
    let sender_mails = service.mailer().sent_to("jan@example.nl").len();
    let tasks: Vec<_> = (0..15)
        .map(|_| {
            let service = std::sync::Arc::clone(&service);
            let token = token.clone();
            // Spawning proves the service's futures are Send, as handlers
            // on a multi-threaded runtime need.
            tokio::spawn(async move { service.unlock(id, &token, Unlock { auth_key: WRONG_KEY }).await })
        })
        .collect();
    let mut locked = 0;
    for task in tasks {
        if domain(task.await.expect("no panic")) == DomainError::TransferLocked {
            locked += 1;
        }
    }
    assert_eq!(locked, 6, "nine counted misses, then locked");
    assert_eq!(
        service.mailer().sent_to("jan@example.nl").len(),
        sender_mails + 1,
        "exactly one lockout notice"
    );
    assert_eq!(
        service.transfer(id).await.expect("stored").state(),
        TransferState::Locked
    );
}
