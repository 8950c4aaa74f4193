//! Unit tests of the outbox: file layout, headers and atomic writes.

use kluis_core::Field;
use kluis_core::mail::{RenderedMail, Subject};
use kluis_core::ports::Mailer as _;
use kluis_core::validate::EmailAddress;

use super::{OutboxMailer, read_outbox};

fn address(text: &str) -> EmailAddress {
    EmailAddress::parse(text, Field::RecipientEmail).expect("a valid address")
}

fn mail(subject: &str, reply_to: Option<&str>) -> RenderedMail {
    RenderedMail {
        to: address("partner@extern.example"),
        reply_to: reply_to.map(address),
        subject: Subject::new(subject).expect("one line"),
        text: "Tekst met é\n".to_owned(),
        html: "<p>HTML</p>".to_owned(),
    }
}

async fn outbox() -> (tempfile::TempDir, OutboxMailer) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mailer = OutboxMailer::open(dir.path().join("outbox"), "kluis", &address("noreply@example.nl"))
        .await
        .expect("open the outbox");
    (dir, mailer)
}

#[tokio::test]
async fn each_message_is_one_eml_file_named_in_sending_order() {
    let (_dir, mailer) = outbox().await;
    for n in 0..5 {
        mailer
            .send(&mail(&format!("message {n}"), None))
            .await
            .expect("send");
    }
    let mut names: Vec<String> = std::fs::read_dir(mailer.folder())
        .expect("the outbox")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    assert_eq!(names.len(), 5);
    names.sort();
    let subjects: Vec<String> = read_outbox(mailer.folder())
        .await
        .expect("read back")
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(
        subjects,
        (0..5).map(|n| format!("message {n}")).collect::<Vec<_>>()
    );
    let leftovers = std::fs::read_dir(mailer.folder().join(".tmp"))
        .expect("the tmp folder")
        .count();
    assert_eq!(leftovers, 0, "no temporary file survives a send");
}

#[tokio::test]
async fn a_message_is_multipart_alternative_from_the_service_with_reply_to_the_sender() {
    let (_dir, mailer) = outbox().await;
    mailer
        .send(&mail("subject", Some("sender@example.nl")))
        .await
        .expect("send");
    let file = std::fs::read_dir(mailer.folder())
        .expect("the outbox")
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .expect("one message");
    let raw = std::fs::read_to_string(file.path()).expect("a text file");
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("Message-ID: <"), "{raw}");
    let message = read_outbox(mailer.folder()).await.expect("read back").remove(0);
    assert_eq!(message.from, vec!["noreply@example.nl"]);
    assert_eq!(message.reply_to, vec!["sender@example.nl"]);
    assert_eq!(message.text.as_deref(), Some("Tekst met é\n"));
    assert_eq!(message.html.as_deref(), Some("<p>HTML</p>"));
    assert!(!message.date.is_empty(), "a Date header is written");
}

#[tokio::test]
async fn a_foreign_file_in_the_outbox_is_reported_not_skipped() {
    let (_dir, mailer) = outbox().await;
    std::fs::write(mailer.folder().join("0-broken.eml"), [0xff, 0xfe]).expect("write");
    let error = read_outbox(mailer.folder()).await.expect_err("a broken file");
    assert!(error.to_string().contains("0-broken.eml"), "{error}");
}
