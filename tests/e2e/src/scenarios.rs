//! The scenarios of issue #4, item 4, each generic over the
//! [`Environment`], so that every backend runs exactly the same steps and
//! assertions. Each scenario uses addresses of its own (see [`tag`]).
//!
//! Sends and receives go through the CLI library; the codes and links come
//! from the mails the service sent. A scenario panics on the first
//! difference from the expected behaviour.

use std::path::Path;
use std::sync::Arc;

use kluis::reply::ReplyOptions;
use kluis::{Error, ReceiveOptions, ReceiveReport, SendFile, SendOptions, SendReport, Tuning, Ui};
use kluis_core::service::upload::CHUNKS_PER_PART;
use kluis_core::validate::Language;
use kluis_crypto::stream::CHUNK_SIZE;
use zeroize::Zeroizing;

use crate::{Environment, Mail, blocking, code_for, link_in, mail_to, mails_to, pattern, policy, tag, walk};

/// Subjects of the English mails (the scenarios send in English).
const NOTIFICATION: &str = "sent you files with kluis";
const SUMMARY: &str = "Your files have been sent";
const LOCKED: &str = "Your transfer has been locked";
const REPLIED: &str = "replied with files";
const WITHDRAWN: &str = "withdrew a transfer";

/// Send options in English, one day of retention, the default tuning.
fn send_options(base: &str, from: &str, name: &str, to: &[&str], files: Vec<SendFile>) -> SendOptions {
    SendOptions {
        api: base.to_owned(),
        from: from.to_owned(),
        name: name.to_owned(),
        phone: None,
        to: to.iter().map(|s| (*s).to_owned()).collect(),
        message: "De stukken, zoals besproken.".into(),
        password: None,
        retention_days: Some(1),
        language: Language::En,
        download_receipts: false,
        files,
        tuning: Tuning::default(),
    }
}

/// A blocking send; the code is read from the mail, as a person would.
async fn send<E: Environment>(env: &Arc<E>, options: SendOptions) -> kluis::Result<SendReport> {
    let env = Arc::clone(env);
    blocking(move || kluis::send(&options, &mut |email| Ok(code_for(&*env, email)), &Ui::quiet())).await
}

/// A blocking receive of `link` with `password` into `out`.
async fn receive(link: &str, password: &str, out: &Path) -> kluis::Result<ReceiveReport> {
    let options = ReceiveOptions {
        link: link.to_owned(),
        password: Some(Zeroizing::new(password.to_owned())),
        out: out.to_owned(),
    };
    blocking(move || kluis::receive(&options, &Ui::quiet())).await
}

/// The newest mail to `to` with `subject` in its subject.
async fn mail<E: Environment>(env: &Arc<E>, to: &str, subject: &'static str) -> Mail {
    let env = Arc::clone(env);
    let to = to.to_owned();
    blocking(move || mail_to(&*env, &to, subject)).await
}

/// The retrieval link in the newest notification to `to`, checked to hold
/// neither the password nor the message nor a file name (invariant 1).
async fn retrieval_link<E: Environment>(env: &Arc<E>, to: &str, secrets: &[&str]) -> String {
    let notification = mail(env, to, NOTIFICATION).await;
    for secret in secrets {
        assert!(
            !notification.text.contains(secret),
            "the notification to {to} must not contain {secret:?}"
        );
    }
    link_in(&notification, &env.served().base, "/retrieve/")
}

/// Writes `bytes` to `dir/name`; returns the file to send.
fn file(dir: &Path, name: &str, bytes: &[u8]) -> SendFile {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("a test file");
    SendFile::new(path)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// Asserts `error` is the API's `status` `code` with a message to show.
fn assert_refused(error: &Error, status: u16, code: &str) {
    match error {
        Error::Api {
            status: s,
            code: c,
            message,
        } => {
            assert_eq!((*s, c.as_str()), (status, code), "{error}");
            assert!(!message.trim().is_empty(), "a refusal says why: {error:?}");
        }
        other => panic!("expected {status} {code}, got {other:?} ({other})"),
    }
}

/// Asserts nothing at all was written into `out`.
fn assert_empty(out: &Path) {
    let left = walk(out);
    assert!(left.is_empty(), "nothing may be written on a refusal: {left:?}");
}

/// 1. The whole wizard: staff send two files (one spanning two upload
///    parts) with a message to two partners; both receive byte for byte
///    with the links in their mails; the summary's manage link shows both
///    downloads.
pub async fn full_wizard<E: Environment>(env: Arc<E>) {
    let t = tag();
    let base = env.served().base.clone();
    let staff = format!("ada.{t}@example.nl");
    let partners = [format!("bo.{t}@example.com"), format!("cy.{t}@example.org")];
    let dir = tempdir();
    // One whole upload part of plaintext and an odd tail: the smallest
    // file that needs two parts, the second a short one.
    let big = pattern(CHUNKS_PER_PART as usize * CHUNK_SIZE + 12_345, 1);
    let small = pattern(1_000, 2);
    let options = send_options(
        &base,
        &staff,
        "Ada Lovelace",
        &[&partners[0], &partners[1]],
        vec![
            file(dir.path(), "rapport.pdf", &big),
            file(dir.path(), "notitie.txt", &small),
        ],
    );
    let message = options.message.clone();
    let sent = send(&env, options).await.expect("the transfer is sent");
    assert!(sent.undelivered.is_empty(), "{:?}", sent.undelivered);
    assert!(sent.summary_delivered);

    for partner in &partners {
        let link = retrieval_link(&env, partner, &[&sent.password, &message, "rapport.pdf"]).await;
        let out = tempdir();
        let received = receive(&link, &sent.password, out.path())
            .await
            .expect("the partner receives");
        assert_eq!(received.transfer_id, sent.transfer_id);
        assert_eq!(received.sender.email.as_str(), staff);
        assert_eq!(received.message, message);
        let names: Vec<&str> = received.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["rapport.pdf", "notitie.txt"]);
        assert!(
            std::fs::read(out.path().join("rapport.pdf")).expect("written") == big,
            "the large file arrives byte for byte"
        );
        assert_eq!(
            std::fs::read(out.path().join("notitie.txt")).expect("written"),
            small
        );
    }

    let summary = mail(&env, &staff, SUMMARY).await;
    assert!(
        !summary.text.contains(sent.password.as_str()),
        "no password by mail"
    );
    let manage = link_in(&summary, &base, "/manage/");
    let status = blocking(move || kluis::manage::status(&manage))
        .await
        .expect("the manage link shows the status");
    assert_eq!(status.transfer_id, sent.transfer_id);
    assert_eq!(status.files.len(), 2);
    let recipients: Vec<&str> = status.recipients.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(recipients, [partners[0].as_str(), partners[1].as_str()]);
    for recipient in &status.recipients {
        assert!(recipient.first_download_at.is_some(), "{recipient:?}");
        assert_eq!(
            recipient.downloads.len(),
            2,
            "both files, once each: {recipient:?}"
        );
    }
}

/// 2. The inbound path: a partner answers a transfer with a file, under
///    its password; the sender receives the reply byte for byte from the
///    link in the reply notice.
pub async fn reply<E: Environment>(env: Arc<E>) {
    let t = tag();
    let base = env.served().base.clone();
    let staff = format!("ada.{t}@example.nl");
    let partner = format!("bo.{t}@example.com");
    let dir = tempdir();
    let question = file(dir.path(), "vraag.txt", b"Kunt u dit invullen?");
    let sent = send(
        &env,
        send_options(&base, &staff, "Ada Lovelace", &[&partner], vec![question]),
    )
    .await
    .expect("the transfer is sent");
    let link = retrieval_link(&env, &partner, &[&sent.password]).await;

    let answer = pattern(70_000, 3);
    let options = ReplyOptions {
        link,
        password: sent.password.clone(),
        name: "Bo Partner".into(),
        phone: None,
        message: "Hierbij het ingevulde formulier.".into(),
        language: None,
        download_receipts: false,
        files: vec![file(dir.path(), "antwoord.csv", &answer)],
        tuning: Tuning::default(),
    };
    let replied = blocking(move || kluis::reply::reply(&options, &Ui::quiet()))
        .await
        .expect("the partner replies");
    assert_eq!(replied.in_reply_to, sent.transfer_id);
    assert_ne!(replied.transfer_id, sent.transfer_id);
    assert!(replied.undelivered.is_empty(), "{:?}", replied.undelivered);

    let notice = mail(&env, &staff, REPLIED).await;
    assert!(
        !notice.text.contains(sent.password.as_str()),
        "no password by mail"
    );
    assert!(!notice.text.contains("antwoord.csv"), "no file name by mail");
    let link = link_in(&notice, &base, "/retrieve/");
    let out = tempdir();
    let received = receive(&link, &sent.password, out.path())
        .await
        .expect("the sender receives the reply with the same password");
    assert_eq!(received.transfer_id, replied.transfer_id);
    assert_eq!(received.sender.email.as_str(), partner);
    assert_eq!(received.sender.name.as_str(), "Bo Partner");
    assert_eq!(received.message, "Hierbij het ingevulde formulier.");
    assert_eq!(received.files.len(), 1);
    assert_eq!(
        std::fs::read(out.path().join("antwoord.csv")).expect("written"),
        answer
    );
}

/// 3. After the sender revokes, the partner's receive is refused as gone
///    and writes nothing; the partner is told.
pub async fn revoke<E: Environment>(env: Arc<E>) {
    let t = tag();
    let base = env.served().base.clone();
    let staff = format!("ada.{t}@example.nl");
    let partner = format!("bo.{t}@example.com");
    let dir = tempdir();
    let sent = send(
        &env,
        send_options(
            &base,
            &staff,
            "Ada Lovelace",
            &[&partner],
            vec![file(dir.path(), "contract.pdf", &pattern(5_000, 4))],
        ),
    )
    .await
    .expect("the transfer is sent");
    let link = retrieval_link(&env, &partner, &[&sent.password]).await;
    let manage = link_in(&mail(&env, &staff, SUMMARY).await, &base, "/manage/");

    let revoked = blocking(move || kluis::manage::revoke(&manage))
        .await
        .expect("the sender revokes");
    assert_eq!(revoked.transfer_id, sent.transfer_id);
    assert!(revoked.undelivered.is_empty(), "{:?}", revoked.undelivered);

    let out = tempdir();
    let error = receive(&link, &sent.password, out.path())
        .await
        .expect_err("a revoked transfer cannot be received");
    assert_refused(&error, 410, "transfer_gone");
    assert_empty(out.path());
    mail(&env, &partner, WITHDRAWN).await;
}

/// 4. Past its retention a transfer expires: after the expiry job the
///    receive is refused as gone and its objects are deleted.
pub async fn expiry<E: Environment>(env: Arc<E>) {
    let t = tag();
    let base = env.served().base.clone();
    let staff = format!("ada.{t}@example.nl");
    let partner = format!("bo.{t}@example.com");
    let dir = tempdir();
    let sent = send(
        &env,
        send_options(
            &base,
            &staff,
            "Ada Lovelace",
            &[&partner],
            vec![
                file(dir.path(), "a.bin", &pattern(3_000, 5)),
                file(dir.path(), "b.bin", &pattern(4_000, 6)),
            ],
        ),
    )
    .await
    .expect("the transfer is sent");
    let link = retrieval_link(&env, &partner, &[&sent.password]).await;
    let before = env.stored_objects(sent.transfer_id).await;
    assert_eq!(
        before.len(),
        2,
        "the probe sees the transfer's objects: {before:?}"
    );

    // One day of retention (see `send_options`), plus an hour.
    let runner = &env.served().runner;
    runner.clock().advance(86_400 + 3_600);
    loop {
        let report = runner.expire_now().await.expect("the expiry job runs");
        if !report.more {
            break;
        }
    }

    let out = tempdir();
    let error = receive(&link, &sent.password, out.path())
        .await
        .expect_err("an expired transfer cannot be received");
    assert_refused(&error, 410, "transfer_gone");
    assert_empty(out.path());
    let after = env.stored_objects(sent.transfer_id).await;
    assert!(
        after.is_empty(),
        "the expired transfer's objects are deleted: {after:?}"
    );
}

/// 5. `unlock_attempts` wrong passwords lock the transfer: the right one
///    is refused afterwards (423) and the sender gets the lock mail.
pub async fn lockout<E: Environment>(env: Arc<E>) {
    let t = tag();
    let base = env.served().base.clone();
    let staff = format!("ada.{t}@example.nl");
    let partner = format!("bo.{t}@example.com");
    let dir = tempdir();
    let sent = send(
        &env,
        send_options(
            &base,
            &staff,
            "Ada Lovelace",
            &[&partner],
            vec![file(dir.path(), "geheim.txt", b"geheim")],
        ),
    )
    .await
    .expect("the transfer is sent");
    let link = retrieval_link(&env, &partner, &[&sent.password]).await;
    let attempts = policy().unlock_attempts;
    assert!(attempts >= 1);
    let out = tempdir();
    for attempt in 1..=attempts {
        let error = receive(&link, &format!("wrong-guess-{attempt}"), out.path())
            .await
            .expect_err("a wrong password is refused");
        match &error {
            Error::WrongPassword(_) => {}
            // The attempt that locks may say so at once.
            Error::Api {
                status: 423, code, ..
            } if attempt == attempts && code == "transfer_locked" => {}
            other => panic!("attempt {attempt}: expected a wrong password, got {other:?}"),
        }
    }
    let error = receive(&link, &sent.password, out.path())
        .await
        .expect_err("a locked transfer refuses even the right password");
    assert_refused(&error, 423, "transfer_locked");
    assert_empty(out.path());
    let locked = mail(&env, &staff, LOCKED).await;
    assert!(!locked.text.contains(sent.password.as_str()));
}

/// 6. A partner (external) sends to staff (internal): allowed, received.
pub async fn partner_to_staff<E: Environment>(env: Arc<E>) {
    let t = tag();
    let base = env.served().base.clone();
    let partner = format!("pat.{t}@example.com");
    let staff = format!("ada.{t}@example.nl");
    let dir = tempdir();
    let bytes = pattern(20_000, 7);
    let sent = send(
        &env,
        send_options(
            &base,
            &partner,
            "Pat Partner",
            &[&staff],
            vec![file(dir.path(), "aanvraag.pdf", &bytes)],
        ),
    )
    .await
    .expect("a partner may send to staff");
    let link = retrieval_link(&env, &staff, &[&sent.password]).await;
    let out = tempdir();
    let received = receive(&link, &sent.password, out.path())
        .await
        .expect("staff receive");
    assert_eq!(received.sender.email.as_str(), partner);
    assert_eq!(
        std::fs::read(out.path().join("aanvraag.pdf")).expect("written"),
        bytes
    );
}

/// 7. A stranger sends to a stranger: refused by policy (403
///    `no_internal_party`) with a clear error, and nobody is notified.
pub async fn stranger_to_stranger<E: Environment>(env: Arc<E>) {
    let t = tag();
    let base = env.served().base.clone();
    let stranger = format!("eve.{t}@example.org");
    let other = format!("mallory.{t}@example.com");
    let dir = tempdir();
    let error = send(
        &env,
        send_options(
            &base,
            &stranger,
            "Eve Stranger",
            &[&other],
            vec![file(dir.path(), "spam.txt", b"spam")],
        ),
    )
    .await
    .expect_err("the service is no open relay");
    assert_refused(&error, 403, "no_internal_party");
    let env2 = Arc::clone(&env);
    let to_other = blocking(move || mails_to(&*env2, &other, "")).await;
    assert!(
        to_other.is_empty(),
        "nothing is mailed to the stranger: {to_other:?}"
    );
}
