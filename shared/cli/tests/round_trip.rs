//! The client against the real runner: a full send and receive, a wrong
//! password, a hostile file name and a part upload that fails once.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{FlakyRelay, Running, pattern, receive, retrieval_link, send, send_options};
use kluis::link::{self, LinkKind};
use kluis::{Error, ReceiveOptions, SendFile};
use kluis_core::service::upload::PART_BYTES;
use zeroize::Zeroizing;

/// Plaintext bytes in one part: 32 chunks of 256 KiB.
const PART_PLAINTEXT: usize = 32 * kluis_crypto::CHUNK_SIZE;

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("a folder")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_round_trips_to_two_recipients_byte_for_byte_in_either_link_form() {
    let r = Running::start().await;
    let dir = tempfile::tempdir().expect("a folder");
    let empty = dir.path().join("empty.txt");
    let big = dir.path().join("big.bin");
    std::fs::write(&empty, b"").expect("written");
    // Two parts and a partial last chunk.
    let big_bytes = pattern(PART_PLAINTEXT + 3 * kluis_crypto::CHUNK_SIZE + 12_345, 1);
    std::fs::write(&big, &big_bytes).expect("written");

    let to = ["partner@example.org", "second@example.org"];
    let options = send_options(&r.base, &to, vec![SendFile::new(&empty), SendFile::new(&big)]);
    let sent = send(options).await.expect("sent");
    assert!(sent.password_generated);
    assert_eq!(sent.password.len(), 27, "7 groups of 3 with 6 dashes");
    assert!(sent.undelivered.is_empty() && sent.summary_delivered);
    assert!(
        PART_BYTES < big_bytes.len() as u64,
        "the big file spans several parts"
    );

    for (n, recipient) in to.iter().enumerate() {
        let base = r.base.clone();
        let recipient = (*recipient).to_owned();
        let mut link = common::blocking(move || retrieval_link(&base, &recipient)).await;
        if n == 1 {
            // The other spelling of the same link: both must work.
            let parsed = link::parse(&link, LinkKind::Retrieve).expect("a link");
            link = if link.contains("#t=") {
                format!(
                    "{}/retrieve/{}#{}",
                    parsed.api,
                    parsed.transfer,
                    parsed.token.reveal()
                )
            } else {
                format!(
                    "{}/retrieve/#t={}&k={}",
                    parsed.api,
                    parsed.transfer,
                    parsed.token.reveal()
                )
            };
        }
        let out = tempfile::tempdir().expect("a folder");
        let options = ReceiveOptions {
            link,
            password: Some(sent.password.clone()),
            out: out.path().to_owned(),
        };
        let report = receive(options.clone()).await.expect("received");
        assert_eq!(report.transfer_id, sent.transfer_id);
        assert_eq!(report.message, "De stukken, zoals besproken.");
        assert_eq!(report.sender.email.as_str(), "ada@example.nl");
        assert_eq!(
            files_in(out.path()),
            ["big.bin", "empty.txt"],
            "no temporary file left"
        );
        assert_eq!(std::fs::read(out.path().join("empty.txt")).expect("read"), b"");
        assert!(std::fs::read(out.path().join("big.bin")).expect("read") == big_bytes);

        if n == 0 {
            // A second receive into the same folder never overwrites.
            let again = receive(options).await.expect("received again");
            let paths: Vec<_> = again.files.iter().map(|f| f.path.clone()).collect();
            assert_eq!(
                paths,
                [out.path().join("empty (1).txt"), out.path().join("big (1).bin")]
            );
            assert!(std::fs::read(out.path().join("big (1).bin")).expect("read") == big_bytes);
        }
    }
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_clearly_and_nothing_is_written() {
    let r = Running::start().await;
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, pattern(1000, 2)).expect("written");
    let mut options = send_options(&r.base, &["partner@example.org"], vec![SendFile::new(&file)]);
    options.password = Some(Zeroizing::new("correct horse battery staple".into()));
    let sent = send(options).await.expect("sent");
    assert!(!sent.password_generated);

    let base = r.base.clone();
    let link = common::blocking(move || retrieval_link(&base, "partner@example.org")).await;
    let out = tempfile::tempdir().expect("a folder");
    let wrong = ReceiveOptions {
        link: link.clone(),
        password: Some(Zeroizing::new("incorrect horse".into())),
        out: out.path().to_owned(),
    };
    let error = receive(wrong).await.expect_err("refused");
    assert!(matches!(error, Error::WrongPassword(_)), "{error:?}");
    assert_eq!(error.exit_code(), 4);
    assert!(
        error
            .to_string()
            .starts_with("the password does not open this transfer"),
        "{error}"
    );
    assert!(files_in(out.path()).is_empty(), "nothing written");

    let right = ReceiveOptions {
        link,
        password: Some(Zeroizing::new("correct horse battery staple".into())),
        out: out.path().to_owned(),
    };
    receive(right).await.expect("the right password still works");
    assert_eq!(files_in(out.path()), ["report.pdf"]);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_a_manifest_name_the_client_will_not_write_is_refused_before_any_download() {
    let r = Running::start().await;
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("innocent.txt");
    std::fs::write(&file, b"export EVIL=1\n").expect("written");
    // The format allows a leading dot; this client refuses to write hidden
    // files (and `..`, `/`, `\` never get past the format's own rules).
    let hostile = SendFile {
        path: file,
        name: Some(".profile".into()),
    };
    let sent = send(send_options(&r.base, &["partner@example.org"], vec![hostile]))
        .await
        .expect("sent");

    let base = r.base.clone();
    let link = common::blocking(move || retrieval_link(&base, "partner@example.org")).await;
    let parent = tempfile::tempdir().expect("a folder");
    let out = parent.path().join("out");
    std::fs::create_dir(&out).expect("a folder");
    let options = ReceiveOptions {
        link,
        password: Some(sent.password.clone()),
        out: out.clone(),
    };
    let error = receive(options).await.expect_err("refused");
    assert!(
        matches!(&error, Error::UnsafeName(name) if name == ".profile"),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), 5);
    assert!(files_in(&out).is_empty() && files_in(parent.path()) == ["out"]);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_upload_that_fails_once_is_retried_and_the_transfer_still_arrives() {
    let r = Running::start().await;
    let upstream = r.base.trim_start_matches("http://").to_owned();
    let relay = FlakyRelay::start(upstream.clone(), 1);
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("data.bin");
    let bytes = pattern(PART_PLAINTEXT + 777, 3);
    std::fs::write(&file, &bytes).expect("written");

    let mut options = send_options(&r.base, &["partner@example.org"], vec![SendFile::new(&file)]);
    let relay_address = relay.address.clone();
    options.tuning.backoff = std::time::Duration::from_millis(20);
    options.tuning.workers = 1;
    options.tuning.part_url_hook = Some(Arc::new(move |url: &str| {
        url.replacen(&upstream, &relay_address, 1)
    }));
    let sent = send(options).await.expect("sent despite one failed part");
    assert_eq!(relay.failed.load(Ordering::SeqCst), 1, "one attempt was refused");
    assert!(
        relay.forwarded.load(Ordering::SeqCst) >= 1,
        "later attempts went through"
    );

    let base = r.base.clone();
    let link = common::blocking(move || retrieval_link(&base, "partner@example.org")).await;
    let out = tempfile::tempdir().expect("a folder");
    let options = ReceiveOptions {
        link,
        password: Some(sent.password.clone()),
        out: out.path().to_owned(),
    };
    receive(options).await.expect("received");
    assert!(std::fs::read(out.path().join("data.bin")).expect("read") == bytes);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_upload_that_keeps_failing_fails_the_send_with_the_status() {
    let r = Running::start().await;
    let upstream = r.base.trim_start_matches("http://").to_owned();
    let relay = FlakyRelay::start(upstream.clone(), usize::MAX);
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("data.bin");
    std::fs::write(&file, b"small").expect("written");
    let mut options = send_options(&r.base, &["partner@example.org"], vec![SendFile::new(&file)]);
    let relay_address = relay.address.clone();
    options.tuning.backoff = std::time::Duration::from_millis(5);
    options.tuning.attempts = 3;
    options.tuning.part_url_hook = Some(Arc::new(move |url: &str| {
        url.replacen(&upstream, &relay_address, 1)
    }));
    let error = send(options).await.expect_err("the part never got through");
    assert!(matches!(&error, Error::Api { status: 503, .. }), "{error:?}");
    assert_eq!(relay.failed.load(Ordering::SeqCst), 3, "three attempts");
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_follows_and_revokes_a_transfer_with_the_manage_link() {
    let r = Running::start().await;
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, b"notes").expect("written");
    let sent = send(send_options(
        &r.base,
        &["partner@example.org"],
        vec![SendFile::new(&file)],
    ))
    .await
    .expect("sent");
    let base = r.base.clone();
    let (link, manage) = common::blocking(move || {
        (
            retrieval_link(&base, "partner@example.org"),
            common::manage_link(&base, "ada@example.nl"),
        )
    })
    .await;
    let out = tempfile::tempdir().expect("a folder");
    // `--out` names a folder that does not exist yet: it is made.
    let missing = out.path().join("new").join("folder");
    let options = ReceiveOptions {
        link,
        password: Some(sent.password.clone()),
        out: missing.clone(),
    };
    receive(options.clone()).await.expect("received");
    assert_eq!(
        files_in(&missing).len(),
        1,
        "the file is in the folder made for it"
    );

    let manage_for_status = manage.clone();
    let status = common::blocking(move || kluis::manage::status(&manage_for_status))
        .await
        .expect("a status");
    assert_eq!(status.transfer_id, sent.transfer_id);
    assert_eq!(status.recipients.len(), 1);
    assert!(status.recipients[0].first_download_at.is_some());
    assert_eq!(
        status.recipients[0].downloads.len(),
        1,
        "the download was recorded"
    );

    let manage_to_revoke = manage.clone();
    let revoked = common::blocking(move || kluis::manage::revoke(&manage_to_revoke))
        .await
        .expect("revoked");
    assert_eq!(revoked.transfer_id, sent.transfer_id);
    let gone = common::blocking(move || kluis::manage::status_or_gone(&manage))
        .await
        .expect("a revoked transfer's status is an answer, not a refusal");
    assert!(gone.is_none(), "revoked: {gone:?}");
    let error = receive(options).await.expect_err("gone");
    assert!(
        matches!(&error, Error::Api { status: 410, code, .. } if code == "transfer_gone"),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), 3);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_a_tampered_stored_object_is_refused_and_no_partial_plaintext_is_left() {
    let r = Running::start().await;
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("ledger.csv");
    let size = 2 * kluis_crypto::CHUNK_SIZE + 1000;
    std::fs::write(&file, pattern(size, 4)).expect("written");
    let sent = send(send_options(
        &r.base,
        &["partner@example.org"],
        vec![SendFile::new(&file)],
    ))
    .await
    .expect("sent");

    // Flip one byte in the second chunk of the stored object.
    let object_len = kluis_crypto::ciphertext_len(size as u64).expect("a valid size");
    let transfer = sent.transfer_id.to_string();
    let object = common::walk(&r.data())
        .into_iter()
        .find(|p| {
            p.to_string_lossy().contains(&transfer)
                && std::fs::metadata(p).is_ok_and(|m| m.len() == object_len)
        })
        .expect("the stored object");
    let mut bytes = std::fs::read(&object).expect("read");
    bytes[14 + kluis_crypto::stream::SEALED_CHUNK_LEN + 100] ^= 1;
    std::fs::write(&object, bytes).expect("written");

    let base = r.base.clone();
    let link = common::blocking(move || retrieval_link(&base, "partner@example.org")).await;
    let out = tempfile::tempdir().expect("a folder");
    let options = ReceiveOptions {
        link,
        password: Some(sent.password.clone()),
        out: out.path().to_owned(),
    };
    let error = receive(options).await.expect_err("refused");
    assert!(
        matches!(&error, Error::Integrity { what, reason } if what == "ledger.csv" && reason.contains("chunk_authentication")),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), 5);
    assert!(
        files_in(out.path()).is_empty(),
        "neither the file nor its temporary is left"
    );
    r.stop().await;
}
