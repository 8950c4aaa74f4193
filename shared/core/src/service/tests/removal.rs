//! Step 4 undone: a file removed from a draft, half uploaded or complete,
//! its upload aborted or object deleted, its place under the policy freed;
//! retries, other senders, later states, and an object store that fails.

use super::*;
use crate::audit::AuditKind;
use crate::error::DomainError;
use crate::file::UploadStatus;
use crate::lifecycle::Action;
use crate::ports::{ObjectKey, ObjectStore};
use crate::service::transfer::SendOptions;
use crate::transfer::TransferState;

/// Declares a file of `plaintext` bytes and PUTs its parts, but does not
/// complete it: an upload the sender's browser is still busy with.
async fn half_uploaded(
    service: &crate::service::testing::MemoryService,
    session: &Token,
    transfer: crate::ids::TransferId,
    plaintext: u64,
) -> (FileId, Vec<crate::file::CompletedPart>) {
    let file = FileId::from_bytes(*request_id().as_bytes());
    let size = ciphertext(plaintext);
    let upload = service
        .add_file(
            session,
            transfer,
            AddFile {
                file_id: file,
                ciphertext_bytes: size,
            },
        )
        .await
        .expect("file added");
    let parts = put_parts(service, &upload.parts, &part_sizes(size, upload.parts.len()));
    (file, parts)
}

async fn removals(
    service: &crate::service::testing::MemoryService,
    transfer: crate::ids::TransferId,
) -> usize {
    service
        .store()
        .list_audit(transfer)
        .await
        .expect("audit")
        .iter()
        .filter(|e| matches!(e.kind, AuditKind::FileRemoved { .. }))
        .count()
}

#[tokio::test]
async fn removing_a_half_uploaded_file_aborts_its_upload_and_lets_the_key_be_set() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let kept = upload(&service, &session, transfer, 10).await;
    let (file, _) = half_uploaded(&service, &session, transfer, 20).await;
    assert_eq!(
        domain(service.set_key(&session, transfer, key_request(&RIGHT_KEY)).await),
        DomainError::UploadIncomplete,
        "the reason for this step: a half-uploaded file blocks the key"
    );
    assert_eq!(service.objects().upload_count(), 1);

    let removed = service
        .remove_file(&session, transfer, file)
        .await
        .expect("removed");
    assert!(removed.removed && removed.left_for_expiry.is_none());
    assert_eq!(service.objects().upload_count(), 0, "the upload is aborted");
    assert_eq!(service.objects().object_count(), 1, "the other file stays");
    let stored = service.transfer(transfer).await.expect("stored");
    assert_eq!(
        stored.files().iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![kept]
    );
    assert_eq!(removals(&service, transfer).await, 1, "audited");

    service
        .set_key(&session, transfer, key_request(&RIGHT_KEY))
        .await
        .expect("every remaining file is complete");
    service
        .send(&session, transfer, SendOptions::default())
        .await
        .expect("sent");
}

#[tokio::test]
async fn removing_a_complete_file_deletes_its_object() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let file = upload(&service, &session, transfer, 10).await;
    let other = upload(&service, &session, transfer, 20).await;
    assert_eq!(service.objects().object_count(), 2);

    let removed = service
        .remove_file(&session, transfer, file)
        .await
        .expect("removed");
    assert!(removed.removed && removed.left_for_expiry.is_none());
    let objects = service.objects();
    let key = |file| ObjectKey { transfer, file };
    assert!(matches!(
        objects.object_size(&key(file)).await,
        Err(crate::ports::PortError::NotFound)
    ));
    assert_eq!(
        objects.object_size(&key(other)).await.expect("kept"),
        ciphertext(20)
    );
    let stored = service.transfer(transfer).await.expect("stored");
    assert_eq!(stored.total_ciphertext_bytes(), ciphertext(20));
}

#[tokio::test]
async fn removing_again_or_a_file_never_added_succeeds_and_writes_nothing() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let file = upload(&service, &session, transfer, 10).await;
    service
        .remove_file(&session, transfer, file)
        .await
        .expect("removed");
    let revision = service.transfer(transfer).await.expect("stored").revision();
    for again in [file, FileId::from_bytes([0x42; 16])] {
        let answer = service
            .remove_file(&session, transfer, again)
            .await
            .expect("nothing to remove is success");
        assert!(!answer.removed && answer.left_for_expiry.is_none());
    }
    assert_eq!(
        service.transfer(transfer).await.expect("stored").revision(),
        revision,
        "no write"
    );
    assert_eq!(removals(&service, transfer).await, 1, "audited once");
}

#[tokio::test]
async fn a_removed_file_frees_its_place_under_the_policy() {
    let service = crate::service::testing::memory_service(
        Policy {
            max_files: 1,
            max_transfer_bytes: ciphertext(1000),
            ..policy()
        },
        NOW,
    );
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let first = upload(&service, &session, transfer, 1000).await;
    let another = AddFile {
        file_id: FileId::from_bytes([0x43; 16]),
        ciphertext_bytes: ciphertext(1000),
    };
    assert_eq!(
        domain(service.add_file(&session, transfer, another.clone()).await),
        DomainError::TooManyFiles { max: 1 }
    );
    service
        .remove_file(&session, transfer, first)
        .await
        .expect("removed");
    service
        .add_file(&session, transfer, another)
        .await
        .expect("the count and the bytes are free again");
}

#[tokio::test]
async fn a_keyed_or_sent_transfer_keeps_its_files() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let file = upload(&service, &session, transfer, 10).await;
    service
        .set_key(&session, transfer, key_request(&RIGHT_KEY))
        .await
        .expect("keyed");
    for state in [TransferState::Keyed, TransferState::Sent] {
        assert_eq!(
            domain(service.remove_file(&session, transfer, file).await),
            DomainError::InvalidTransition {
                state,
                action: Action::RemoveFile
            }
        );
        assert_eq!(service.objects().object_count(), 1, "the object stays");
        if state == TransferState::Keyed {
            service
                .send(&session, transfer, SendOptions::default())
                .await
                .expect("sent");
        }
    }
}

#[tokio::test]
async fn only_the_senders_own_live_session_removes_a_file() {
    let service = service();
    let jan = sign_in(&service, "jan@example.nl").await;
    let piet = sign_in(&service, "piet@example.nl").await;
    let transfer = draft(&service, &jan, &["partner@extern.example"], false).await;
    let file = upload(&service, &jan, transfer, 10).await;
    assert_eq!(
        domain(service.remove_file(&piet, transfer, file).await),
        DomainError::TransferNotFound
    );
    assert_eq!(
        domain(
            service
                .remove_file(&Token::from_bytes([0x44; 32]), transfer, file)
                .await
        ),
        DomainError::SessionInvalid
    );
    assert_eq!(
        domain(
            service
                .remove_file(&jan, crate::ids::TransferId::from_bytes([0x45; 16]), file)
                .await
        ),
        DomainError::TransferNotFound
    );
    assert_eq!(service.objects().object_count(), 1);
    assert_eq!(service.transfer(transfer).await.expect("stored").files().len(), 1);
}

#[tokio::test]
async fn a_completion_racing_the_removal_leaves_no_object_and_is_refused_with_a_4xx() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let (file, parts) = half_uploaded(&service, &session, transfer, 10).await;
    let stored = service.transfer(transfer).await.expect("stored");
    let UploadStatus::InProgress { upload_id } = &stored.files()[0].upload else {
        panic!("in progress");
    };
    // The completing request reached the object store before the removal
    // was written, and its record write comes after.
    let key = ObjectKey { transfer, file };
    service
        .objects()
        .complete_multipart_upload(&key, upload_id, &parts)
        .await
        .expect("completed in the store");
    service
        .remove_file(&session, transfer, file)
        .await
        .expect("removed");
    assert_eq!(
        (service.objects().object_count(), service.objects().upload_count()),
        (0, 0),
        "the object the race made is deleted too"
    );
    assert_eq!(
        domain(
            service
                .complete_file(&session, transfer, file, CompleteFile { parts })
                .await
        ),
        DomainError::UnknownFile
    );
}

#[tokio::test]
async fn when_the_object_store_fails_after_the_removal_the_expiry_job_deletes_what_is_left() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["partner@extern.example"], false).await;
    let complete = upload(&service, &session, transfer, 10).await;
    let (running, _) = half_uploaded(&service, &session, transfer, 20).await;
    service.objects().set_failing_removals(true);
    for file in [complete, running] {
        let removed = service
            .remove_file(&session, transfer, file)
            .await
            .expect("the removal is written whatever the store does");
        assert!(removed.removed);
        assert!(
            matches!(removed.left_for_expiry, Some(crate::ports::PortError::Backend(_))),
            "{:?}",
            removed.left_for_expiry
        );
    }
    assert!(
        service
            .transfer(transfer)
            .await
            .expect("stored")
            .files()
            .is_empty()
    );
    assert_eq!(
        (service.objects().object_count(), service.objects().upload_count()),
        (1, 1),
        "left behind, under the transfer's prefix"
    );
    assert_eq!(
        domain(service.set_key(&session, transfer, key_request(&RIGHT_KEY)).await),
        DomainError::NoFiles,
        "what is left counts for nothing"
    );

    service.objects().set_failing_removals(false);
    service.clock().advance(24 * Timestamp::HOUR);
    let report = service.expire().await.expect("expiry run");
    assert_eq!((report.expired, report.purged), (1, 1));
    assert_eq!(
        (service.objects().object_count(), service.objects().upload_count()),
        (0, 0),
        "the purge deletes the transfer's prefix, record or not"
    );
}
