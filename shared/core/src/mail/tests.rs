//! Tests of every mail in both languages, and of escaping with hostile
//! names and messages: HTML injection must be escaped in the HTML part, and
//! header injection through CR/LF must be impossible to even construct.

use proptest::prelude::*;

use super::*;
use crate::envelope::{AuthHash, AuthKey, KdfParams, KeyEnvelope, Salt, SealedManifest, WrappedKey};
use crate::error::{DomainError, Field};
use crate::file::UploadId;
use crate::ids::{FileId, Token, TransferId};
use crate::policy::Policy;
use crate::policy::tests::{email, policy};
use crate::timestamp::Timestamp;
use crate::transfer::{NewTransfer, RecipientIndex, SendOptions, Sender, Transfer};
use crate::validate::{Language, NotificationText, PersonName, PhoneNumber};
use crate::verification::VerificationCode;

const NOW: Timestamp = Timestamp::from_unix_seconds(1_796_407_500); // 2026-12-04T18:05:00Z
const HOSTILE_NAME: &str = "Eve <script>alert('x')</script> \"><img src=x onerror=alert(1)> & Co";
const HOSTILE_TEXT: &str =
    "Hi <b>there</b>\n<a href=\"https://evil.example\">click</a> & \"quote\"\n</p><script>steal()</script>";

fn sender(name: &str) -> Sender {
    Sender {
        name: PersonName::parse(name, Field::SenderName).expect("valid name"),
        email: email("jan@example.nl"),
        phone: Some(PhoneNumber::parse("+31 6 1234 5678").expect("valid")),
    }
}

fn sent_transfer(name: &str, text: Option<&str>, language: Language) -> Transfer {
    let new = NewTransfer {
        id: TransferId::from_bytes([1; 16]),
        sender: sender(name),
        recipients: vec![email("partner@extern.example"), email("second@extern.example")],
        language,
        download_receipts: true,
        retention_days: Some(7),
        notification_text: text.map(|t| {
            NotificationText::parse(t)
                .expect("valid text")
                .expect("not empty")
        }),
        in_reply_to: None,
    };
    let p = policy();
    let file = FileId::from_bytes([2; 16]);
    let envelope = KeyEnvelope {
        wrapped_key: WrappedKey::from_bytes([0xAB; 61]),
        salt: Salt::from_bytes([3; 16]),
        kdf: KdfParams::MINIMUM,
        auth_hash: AuthHash::of(&AuthKey::from_bytes([4; 32])),
    };
    Transfer::draft(new, &p, NOW)
        .and_then(|t| t.add_file(file, 100, 1, UploadId::parse("u").expect("valid"), &p))
        .and_then(|t| t.complete_file(file, 100).map(|t| t.expect("in progress")))
        .and_then(|t| {
            t.set_key(
                envelope,
                SealedManifest::new(b"sealed-manifest-bytes".to_vec()).expect("valid"),
                &p,
            )
        })
        .and_then(|t| {
            t.send(
                &SendOptions::default(),
                &[Token::from_bytes([5; 32]), Token::from_bytes([6; 32])],
                &Token::from_bytes([7; 32]),
                NOW,
                &p,
            )
        })
        .expect("a valid sent transfer")
}

fn link() -> Link {
    PublicBaseUrl::parse("https://kluis.example.nl")
        .expect("valid")
        .retrieval_link(TransferId::from_bytes([1; 16]), &Token::from_bytes([5; 32]))
}

/// What askama's HTML escaper makes of `text` (numeric character references).
fn html_escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn all_mails(transfer: &Transfer) -> Vec<RenderedMail> {
    let language = transfer.options().language;
    let recipient = &transfer.recipients()[0].email;
    vec![
        verification_code(
            transfer.sender(),
            &VerificationCode::from_number(123_456),
            language,
            &policy(),
        )
        .expect("renders"),
        recipient_notification(transfer, recipient, &link()).expect("renders"),
        sender_summary(transfer, &link()).expect("renders"),
        download_receipt(transfer, RecipientIndex(0), NOW).expect("renders"),
        lockout_notice(transfer, 10).expect("renders"),
        revoke_notice(transfer, recipient).expect("renders"),
        reply_received(transfer, transfer, &link()).expect("renders"),
    ]
}

#[test]
fn every_mail_renders_in_both_languages_with_text_and_html() {
    for (language, marker) in [(Language::Nl, "lang=\"nl\""), (Language::En, "lang=\"en\"")] {
        let transfer = sent_transfer("Jan de Vries", None, language);
        for mail in all_mails(&transfer) {
            assert!(!mail.text.trim().is_empty(), "{:?}", mail.subject);
            assert!(mail.html.contains(marker), "{:?} lacks {marker}", mail.subject);
            assert!(!mail.subject.as_str().is_empty());
        }
    }
}

#[test]
fn verification_mail_carries_the_code_and_its_validity() {
    let mail = verification_code(
        &sender("Jan"),
        &VerificationCode::from_number(42),
        Language::En,
        &policy(),
    )
    .expect("renders");
    assert_eq!(mail.to, email("jan@example.nl"));
    assert_eq!(mail.reply_to, None);
    assert!(mail.text.contains("000042") && mail.html.contains("000042"));
    assert!(mail.text.contains("15 minutes"));
    assert!(
        !mail.subject.as_str().contains("000042"),
        "the code stays out of the subject (lock screens)"
    );
}

#[test]
fn notification_names_the_sender_links_and_promises_the_password_out_of_band() {
    let transfer = sent_transfer("Jan de Vries", None, Language::Nl);
    let mail = recipient_notification(&transfer, &email("partner@extern.example"), &link()).expect("renders");
    assert_eq!(mail.to, email("partner@extern.example"));
    assert_eq!(mail.reply_to, Some(email("jan@example.nl")));
    assert_eq!(
        mail.subject.as_str(),
        "Jan de Vries heeft u bestanden gestuurd via kluis"
    );
    assert!(mail.text.contains(link().as_str()));
    assert!(
        mail.html
            .contains(&format!("href=\"{}\"", html_escaped(link().as_str())))
    );
    for body in [&mail.text, &mail.html] {
        assert!(body.contains("Jan de Vries") && body.contains("jan@example.nl"));
        assert!(body.contains("telefonisch of via WhatsApp"));
        assert!(body.contains("11 december 2026, 18:05 UTC"), "expiry date");
        assert!(body.contains("versleuteld"), "the default text");
    }
    let english = recipient_notification(
        &sent_transfer("Jan", None, Language::En),
        &email("partner@extern.example"),
        &link(),
    )
    .expect("renders");
    assert!(english.text.contains("by phone or WhatsApp"));
}

#[test]
fn notification_never_contains_key_material_or_manifest_bytes() {
    let transfer = sent_transfer("Jan", None, Language::En);
    for mail in all_mails(&transfer) {
        for body in [&mail.text, &mail.html] {
            assert!(!body.contains("sealed-manifest-bytes"));
            assert!(!body.contains(&crate::ids::encode(&[0xAB; 61])));
            assert!(
                !body.to_lowercase().contains("password:"),
                "a password is never shown"
            );
        }
    }
}

#[test]
fn custom_text_replaces_the_default_and_keeps_its_line_breaks() {
    let transfer = sent_transfer("Jan", Some("Line one\nLine two"), Language::En);
    let mail = recipient_notification(&transfer, &email("partner@extern.example"), &link()).expect("renders");
    assert!(mail.text.contains("Line one\nLine two"));
    assert!(mail.html.contains("Line one<br>Line two"));
    assert!(
        !mail.text.contains("can only be opened with a password"),
        "default text is replaced"
    );
}

#[test]
fn hostile_names_and_texts_are_escaped_in_html() {
    let transfer = sent_transfer(HOSTILE_NAME, Some(HOSTILE_TEXT), Language::En);
    for mail in all_mails(&transfer) {
        let html = &mail.html;
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>there"), "{html}");
        assert!(!html.contains("href=\"https://evil.example"), "{html}");
        assert!(!html.contains("onerror=alert(1)>"), "{html}");
    }
    let notification =
        recipient_notification(&transfer, &email("partner@extern.example"), &link()).expect("renders");
    assert!(notification.html.contains(&html_escaped(HOSTILE_NAME)));
    assert!(
        notification
            .html
            .contains(&html_escaped("<a href=\"https://evil.example\">click</a>"))
    );
    // The text part shows what was typed, which plain text cannot execute.
    assert!(notification.text.contains(HOSTILE_NAME));
}

#[test]
fn hostile_names_stay_on_one_line_in_the_subject() {
    let transfer = sent_transfer(HOSTILE_NAME, None, Language::En);
    let mail = recipient_notification(&transfer, &email("partner@extern.example"), &link()).expect("renders");
    assert!(
        mail.subject.as_str().starts_with("Eve <script>"),
        "subjects are not HTML; the mailer encodes them"
    );
    assert!(!mail.subject.as_str().contains(['\r', '\n']));
}

#[test]
fn header_injection_through_names_or_addresses_cannot_be_constructed() {
    let name = PersonName::parse("Eve\r\nBcc: victim@example.nl", Field::SenderName);
    assert_eq!(
        name,
        Err(DomainError::ControlCharacter {
            field: Field::SenderName
        })
    );
    let address =
        crate::validate::EmailAddress::parse("eve@example.nl\r\nBcc: victim@example.nl", Field::SenderEmail);
    assert_eq!(
        address,
        Err(DomainError::ControlCharacter {
            field: Field::SenderEmail
        })
    );
    assert_eq!(
        Subject::new("Hello\r\nBcc: victim@example.nl"),
        Err(DomainError::ControlCharacter {
            field: Field::Subject
        })
    );
    assert_eq!(
        Subject::new("Hello\u{85}there"),
        Err(DomainError::ControlCharacter {
            field: Field::Subject
        })
    );
}

#[test]
fn long_subjects_are_cut_at_a_character_boundary() {
    let subject = Subject::new(&"é".repeat(300)).expect("one line");
    assert_eq!(subject.as_str().chars().count(), Subject::MAX_CHARS);
    assert!(subject.as_str().ends_with('…'));
}

#[test]
fn summary_lists_recipients_files_expiry_and_the_manage_link() {
    let transfer = sent_transfer("Jan", None, Language::En);
    let mail = sender_summary(&transfer, &link()).expect("renders");
    assert_eq!(mail.to, email("jan@example.nl"));
    assert!(
        mail.text
            .contains("- partner@extern.example\n- second@extern.example")
    );
    assert!(mail.text.contains("Number of files: 1"));
    assert!(
        mail.text.contains("when a recipient downloads"),
        "receipts were asked for"
    );
    assert!(
        mail.html
            .contains(&format!("href=\"{}\"", html_escaped(link().as_str())))
    );
}

#[test]
fn receipt_names_the_recipient_and_goes_to_the_sender() {
    let transfer = sent_transfer("Jan", None, Language::Nl);
    let mail = download_receipt(&transfer, RecipientIndex(1), NOW).expect("renders");
    assert_eq!(mail.to, email("jan@example.nl"));
    assert_eq!(
        mail.subject.as_str(),
        "second@extern.example heeft uw bestanden gedownload"
    );
    assert!(matches!(
        download_receipt(&transfer, RecipientIndex(9), NOW),
        Err(MailError::Domain(DomainError::TransferNotFound))
    ));
}

#[test]
fn lockout_notice_tells_the_sender_how_many_attempts_failed() {
    let mail = lockout_notice(&sent_transfer("Jan", None, Language::En), 10).expect("renders");
    assert_eq!(mail.to, email("jan@example.nl"));
    assert!(mail.text.contains("10 times") && mail.html.contains("locked"));
}

#[test]
fn revoke_notice_goes_to_the_recipient_with_replies_to_the_sender() {
    let transfer = sent_transfer("Jan", None, Language::En);
    let mail = revoke_notice(&transfer, &email("second@extern.example")).expect("renders");
    assert_eq!(mail.to, email("second@extern.example"));
    assert_eq!(mail.reply_to, Some(email("jan@example.nl")));
    assert!(mail.text.contains("no longer works"));
}

#[test]
fn reply_notice_goes_to_the_original_sender_with_replies_to_the_partner() {
    let original = sent_transfer("Jan", None, Language::En);
    let mut reply_new = NewTransfer {
        id: TransferId::from_bytes([9; 16]),
        sender: sender("Partner"),
        recipients: vec![email("jan@example.nl")],
        language: Language::En,
        download_receipts: false,
        retention_days: None,
        notification_text: None,
        in_reply_to: Some(original.id()),
    };
    reply_new.sender.email = email("partner@extern.example");
    let reply = Transfer::draft(reply_new, &Policy { ..policy() }, NOW).expect("internal recipient");
    let mail = reply_received(&original, &reply, &link()).expect("renders");
    assert_eq!(mail.to, email("jan@example.nl"));
    assert_eq!(mail.reply_to, Some(email("partner@extern.example")));
    assert_eq!(mail.subject.as_str(), "partner@extern.example replied with files");
    assert!(mail.text.contains("same password"));
}

proptest! {
    #[test]
    fn any_accepted_name_gives_a_single_line_subject_and_appears_escaped_in_html(name in "\\PC{1,100}") {
        if let Ok(parsed) = PersonName::parse(&name, Field::SenderName) {
            let transfer = sent_transfer(parsed.as_str(), Some(parsed.as_str()), Language::Nl);
            let mail = recipient_notification(&transfer, &email("partner@extern.example"), &link()).expect("renders");
            prop_assert!(!mail.subject.as_str().contains(['\r', '\n']));
            let escaped_name = format!("<strong>{}</strong>", html_escaped(parsed.as_str()));
            prop_assert!(mail.html.contains(&escaped_name), "the name appears only escaped");
        }
    }
}
