//! A file removed from a draft is really gone from the disk store: the
//! whole service over the embedded adapters (redb state, the disk store
//! served on a loopback port), parts PUT over HTTP as a browser does, then
//! `remove_file` — and the upload's folder, the object's folder and every
//! URL handed out for them are gone with it.

mod support;

use std::path::{Path, PathBuf};

use kluis_core::error::Field;
use kluis_core::file::{CompletedPart, ETag, PartNumber};
use kluis_core::ids::{FileId, RequestId, Token, TransferId};
use kluis_core::mail::PublicBaseUrl;
use kluis_core::policy::Policy;
use kluis_core::ports::conformance::object_store::perform;
use kluis_core::ports::{
    CounterRandom, FixedClock, ObjectKey, ObjectStore, PortError, PresignedUrl, StateStore,
};
use kluis_core::service::sender::{RequestCode, VerifyCode};
use kluis_core::service::testing::{RecordingMailer, address, code_in, walk};
use kluis_core::service::transfer::CreateDraft;
use kluis_core::service::upload::{AddFile, CompleteFile, FileUpload};
use kluis_core::service::{Ports, Service, Settings, SignedRequest};
use kluis_core::timestamp::Timestamp;
use kluis_core::validate::{Language, PersonName};
use kluis_embedded::{DiskObjectStore, RedbStateStore};
use support::served_disk_store;

/// The embedded stores with the test mailer, clock and ids.
struct EmbeddedPorts;

impl Ports for EmbeddedPorts {
    type Store = RedbStateStore;
    type Objects = DiskObjectStore;
    type Mailer = RecordingMailer;
    type Clock = FixedClock;
    type Random = CounterRandom;
}

type EmbeddedService = Service<EmbeddedPorts>;

/// The service over a fresh redb file and a disk store rooted at `objects`.
async fn embedded_service(dir: &Path, objects: &Path) -> EmbeddedService {
    let policy = Policy {
        internal_domains: vec!["example.nl".into()],
        ..Policy::default()
    };
    let base = PublicBaseUrl::parse("https://kluis.example.nl").expect("a base URL");
    Service::new(
        RedbStateStore::open(dir.join("state.redb")).expect("open the state store"),
        served_disk_store(objects).await,
        RecordingMailer::new(),
        FixedClock::at(Timestamp::from_unix_seconds(1_800_000_000)),
        CounterRandom::starting_at(0x0123_4567_89AB_CDEF),
        Settings::new(policy, base),
    )
    .expect("a valid policy")
}

/// A sender's session, with the code read from the recorded mail.
async fn session(service: &EmbeddedService, email: &str) -> Token {
    let requested = service
        .request_code(
            "192.0.2.1",
            RequestCode {
                request_id: RequestId::from_bytes([1; 16]),
                name: PersonName::parse("Jan de Vries", Field::SenderName).expect("a name"),
                email: address(email),
                phone: None,
                language: Language::En,
            },
        )
        .await
        .expect("a code");
    let mail = service.mailer().sent_to(email).pop().expect("the code mail");
    let opened = service
        .verify_code(VerifyCode {
            challenge_id: requested.challenge_id,
            code: code_in(&mail).expect("a code in the mail"),
        })
        .await
        .expect("a session");
    Token::parse(&opened.session_token, Field::SessionToken).expect("a token")
}

fn presigned(request: &SignedRequest) -> PresignedUrl {
    PresignedUrl {
        url: request.url.clone(),
        headers: request.headers.clone(),
        expires_at: request.expires_at,
    }
}

/// Declares a one-part file of `bytes` and PUTs its part over HTTP; the
/// upload and the part as the completion needs it.
async fn declared_and_put(
    service: &EmbeddedService,
    session: &Token,
    transfer: TransferId,
    file: FileId,
    bytes: &[u8],
) -> (FileUpload, CompletedPart) {
    let upload = service
        .add_file(
            session,
            transfer,
            AddFile {
                file_id: file,
                ciphertext_bytes: bytes.len() as u64,
            },
        )
        .await
        .expect("the file is declared");
    assert_eq!(upload.parts.len(), 1, "a small file is one part");
    let answer = perform("PUT", &presigned(&upload.parts[0]), Some(bytes.to_vec())).await;
    assert_eq!(answer.status, 200, "the part is stored");
    let part = CompletedPart {
        number: PartNumber::new(1).expect("part 1"),
        etag: ETag::parse(&answer.etag.expect("an ETag")).expect("a valid ETag"),
    };
    (upload, part)
}

/// The entries of a folder (none if it does not exist).
fn entries(folder: PathBuf) -> Vec<String> {
    std::fs::read_dir(folder)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_files_upload_and_object_are_gone_from_the_disk_store() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().join("objects");
    let service = embedded_service(dir.path(), &root).await;
    let session = session(&service, "jan@example.nl").await;
    let transfer = service
        .create_draft(
            &session,
            CreateDraft {
                request_id: RequestId::from_bytes([2; 16]),
                recipients: vec![address("partner@extern.example")],
                language: Language::En,
                download_receipts: false,
                retention_days: None,
                notification_text: None,
            },
        )
        .await
        .expect("a draft")
        .transfer_id;
    // The sizes the format produces: a header and one sealed chunk.
    let size = walk::ciphertext(1000) as usize;
    let complete = FileId::from_bytes([3; 16]);
    let running = FileId::from_bytes([4; 16]);

    let (_, part) = declared_and_put(&service, &session, transfer, complete, &vec![7; size]).await;
    service
        .complete_file(&session, transfer, complete, CompleteFile { parts: vec![part] })
        .await
        .expect("the first file is complete");
    let (half, _) = declared_and_put(&service, &session, transfer, running, &vec![8; size]).await;

    let object = |file: FileId| {
        root.join("objects/t")
            .join(transfer.to_string())
            .join(file.to_string())
    };
    let uploads = |file: FileId| {
        root.join("uploads")
            .join(transfer.to_string())
            .join(file.to_string())
    };
    assert_eq!(entries(object(complete)), ["00001"], "the object is on disk");
    assert_eq!(entries(uploads(running)).len(), 1, "so is the running upload");
    let key = |file| ObjectKey { transfer, file };
    let download = service
        .objects()
        .presign_download(&key(complete), None, std::time::Duration::from_secs(600))
        .await
        .expect("a download URL");
    assert_eq!(perform("GET", &download, None).await.status, 200);

    for file in [running, complete] {
        let removed = service
            .remove_file(&session, transfer, file)
            .await
            .expect("removed");
        assert!(removed.removed, "this request removed it");
        assert!(
            removed.left_for_expiry.is_none(),
            "the disk store freed it at once: {:?}",
            removed.left_for_expiry
        );
    }

    assert!(
        entries(uploads(running)).is_empty(),
        "the upload's folder is gone"
    );
    let late_part = perform("PUT", &presigned(&half.parts[0]), Some(vec![8; size])).await;
    assert_eq!(late_part.status, 404, "the upload's part URL finds nothing");
    assert!(!object(complete).exists(), "the object's folder is gone");
    assert!(matches!(
        service.objects().object_size(&key(complete)).await,
        Err(PortError::NotFound)
    ));
    assert_eq!(
        perform("GET", &download, None).await.status,
        404,
        "a download URL handed out before finds nothing"
    );
    assert!(entries(root.join("tmp")).is_empty(), "nothing is left in tmp/");

    let again = service
        .remove_file(&session, transfer, complete)
        .await
        .expect("a retry succeeds");
    assert!(!again.removed);
    assert!(
        service
            .store()
            .get_transfer(transfer)
            .await
            .expect("the draft")
            .files()
            .is_empty()
    );
}
