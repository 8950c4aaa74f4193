//! Tests of every transition, legal and illegal, and of the rules each
//! transition enforces.

use super::*;
use crate::envelope::{AuthHash, AuthKey, KdfParams, Salt, WrappedKey};
use crate::policy::tests::{email, policy};

const NOW: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);

fn sender(address: &str) -> Sender {
    Sender {
        name: PersonName::parse("Jan de Vries", Field::SenderName).expect("valid"),
        email: email(address),
        phone: Some(PhoneNumber::parse("+31 6 1234 5678").expect("valid")),
    }
}

fn new_transfer(recipients: &[&str]) -> NewTransfer {
    NewTransfer {
        id: TransferId::from_bytes([1; 16]),
        sender: sender("jan@example.nl"),
        recipients: recipients.iter().map(|r| email(r)).collect(),
        language: Language::Nl,
        download_receipts: true,
        retention_days: None,
        notification_text: None,
        in_reply_to: None,
    }
}

fn file_id(n: u8) -> FileId {
    FileId::from_bytes([n; 16])
}

fn upload(n: u8) -> UploadId {
    UploadId::parse(&format!("upload-{n}")).expect("valid")
}

fn auth_key() -> AuthKey {
    AuthKey::from_bytes([42; 32])
}

fn envelope(kdf: KdfParams) -> KeyEnvelope {
    KeyEnvelope {
        wrapped_key: WrappedKey::from_bytes([1; 61]),
        salt: Salt::from_bytes([2; 16]),
        kdf,
        auth_hash: AuthHash::of(&auth_key()),
    }
}

fn manifest() -> SealedManifest {
    SealedManifest::new(vec![9; 100]).expect("valid")
}

fn tokens(n: usize) -> Vec<Token> {
    (0..n).map(|i| Token::from_bytes([i as u8 + 100; 32])).collect()
}

fn manage_token() -> Token {
    Token::from_bytes([7; 32])
}

fn draft() -> Transfer {
    Transfer::draft(
        new_transfer(&["partner@extern.example", "other@extern.example"]),
        &policy(),
        NOW,
    )
    .expect("valid draft")
}

fn draft_with_complete_file() -> Transfer {
    let t = draft()
        .add_file(file_id(1), 1000, 1, upload(1), &policy())
        .expect("file fits");
    t.complete_file(file_id(1), 1000)
        .expect("sizes match")
        .expect("was in progress")
}

fn keyed() -> Transfer {
    draft_with_complete_file()
        .set_key(envelope(KdfParams::MINIMUM), manifest(), &policy())
        .expect("ready")
}

fn sent() -> Transfer {
    keyed()
        .send(
            &SendOptions::default(),
            &tokens(2),
            &manage_token(),
            NOW,
            &policy(),
        )
        .expect("keyed")
}

fn expired() -> Transfer {
    sent().expire(sent().expires_at()).expect("due")
}

fn revoked() -> Transfer {
    sent().revoke(NOW).expect("live")
}

fn locked() -> Transfer {
    sent().lock(NOW).expect("sent")
}

fn every_state() -> Vec<Transfer> {
    vec![draft(), keyed(), sent(), expired(), revoked(), locked()]
}

fn refused(t: &Transfer, action: Action) -> DomainError {
    DomainError::InvalidTransition {
        state: t.state(),
        action,
    }
}

// --- creation ---------------------------------------------------------------

#[test]
fn a_draft_starts_at_revision_one_and_expires_after_the_draft_lifetime() {
    let t = draft();
    assert_eq!(t.state(), TransferState::Draft);
    assert_eq!(t.revision(), Revision::FIRST);
    assert_eq!(t.expires_at(), NOW.plus_seconds(24 * Timestamp::HOUR));
    assert_eq!(t.options().retention_days, 7);
    assert!(t.recipients().iter().all(|r| r.retrieval.is_none()));
}

#[test]
fn a_draft_between_two_external_parties_is_refused() {
    let mut new = new_transfer(&["partner@extern.example"]);
    new.sender = sender("stranger@other.example");
    assert_eq!(
        Transfer::draft(new, &policy(), NOW),
        Err(DomainError::NoInternalParty)
    );
}

#[test]
fn a_draft_with_too_many_recipients_is_refused() {
    let p = Policy {
        max_recipients: 1,
        ..policy()
    };
    let result = Transfer::draft(new_transfer(&["a@extern.example", "b@extern.example"]), &p, NOW);
    assert_eq!(result, Err(DomainError::TooManyRecipients { max: 1 }));
}

#[test]
fn a_draft_with_retention_beyond_the_maximum_is_refused() {
    let mut new = new_transfer(&["a@extern.example"]);
    new.retention_days = Some(31);
    assert_eq!(
        Transfer::draft(new, &policy(), NOW),
        Err(DomainError::RetentionTooLong { max_days: 30 })
    );
}

// --- files ------------------------------------------------------------------

#[test]
fn adding_a_file_bumps_the_revision_and_starts_its_upload() {
    let before = draft();
    let after = before
        .add_file(file_id(1), 5000, 2, upload(1), &policy())
        .expect("fits");
    assert_eq!(after.revision().get(), before.revision().get() + 1);
    assert_eq!(after.files().len(), 1);
    assert_eq!(after.upload_in_progress(file_id(1)), Ok(&upload(1)));
    assert_eq!(after.total_ciphertext_bytes(), 5000);
}

#[test]
fn adding_the_same_file_twice_is_refused() {
    let t = draft()
        .add_file(file_id(1), 30, 1, upload(1), &policy())
        .expect("fits");
    assert_eq!(
        t.add_file(file_id(1), 30, 1, upload(2), &policy()),
        Err(DomainError::FileAlreadyAdded)
    );
}

#[test]
fn adding_more_files_than_the_maximum_is_refused() {
    let p = Policy {
        max_files: 2,
        ..policy()
    };
    let mut t = draft();
    for n in 1..=2 {
        t = t.add_file(file_id(n), 30, 1, upload(n), &p).expect("fits");
    }
    assert_eq!(
        t.add_file(file_id(3), 30, 1, upload(3), &p),
        Err(DomainError::TooManyFiles { max: 2 })
    );
}

#[test]
fn files_together_larger_than_the_transfer_limit_are_refused() {
    let p = Policy {
        max_transfer_bytes: 100,
        ..policy()
    };
    let t = draft().add_file(file_id(1), 60, 1, upload(1), &p).expect("fits");
    let huge = kluis_crypto::ciphertext_len(1 << 49).expect("a size the format allows");
    assert_eq!(
        t.add_file(file_id(2), 41, 1, upload(2), &p),
        Err(DomainError::TransferTooLarge { max_bytes: 100 })
    );
    assert!(
        t.add_file(file_id(2), 40, 1, upload(2), &p).is_ok(),
        "exactly the limit fits"
    );
    assert_eq!(
        t.add_file(file_id(2), huge, 1, upload(2), &p),
        Err(DomainError::TransferTooLarge { max_bytes: 100 }),
        "a huge valid size is refused by the total, whatever it adds up to"
    );
}

#[test]
fn a_ciphertext_size_no_file_can_have_or_impossible_part_count_is_refused() {
    for impossible in [0, 29, 14 + kluis_crypto::CHUNK_SIZE as u64 + 32] {
        assert_eq!(
            draft().add_file(file_id(1), impossible, 1, upload(1), &policy()),
            Err(DomainError::Malformed {
                field: Field::FileSize
            })
        );
    }
    for parts in [0, 10_001] {
        assert_eq!(
            draft().add_file(file_id(1), 30, parts, upload(1), &policy()),
            Err(DomainError::Malformed {
                field: Field::PartNumber
            })
        );
    }
}

#[test]
fn completing_a_file_with_another_size_than_declared_is_refused() {
    let t = draft()
        .add_file(file_id(1), 1000, 1, upload(1), &policy())
        .expect("fits");
    assert_eq!(t.complete_file(file_id(1), 999), Err(DomainError::SizeMismatch));
}

#[test]
fn completing_an_unknown_file_is_refused() {
    assert_eq!(
        draft().complete_file(file_id(9), 1),
        Err(DomainError::UnknownFile)
    );
    assert_eq!(
        draft().upload_in_progress(file_id(9)),
        Err(DomainError::UnknownFile)
    );
}

#[test]
fn completing_a_file_again_changes_nothing() {
    let t = draft_with_complete_file();
    assert_eq!(t.complete_file(file_id(1), 1000), Ok(None));
    assert_eq!(
        t.upload_in_progress(file_id(1)),
        Err(DomainError::FileAlreadyAdded)
    );
}

#[test]
fn files_can_be_added_and_completed_only_in_draft() {
    for t in every_state().into_iter().skip(1) {
        assert_eq!(
            t.add_file(file_id(5), 10, 1, upload(5), &policy()),
            Err(refused(&t, Action::AddFile))
        );
        assert_eq!(
            t.complete_file(file_id(1), 1000),
            Err(refused(&t, Action::CompleteFile))
        );
        assert_eq!(
            t.upload_in_progress(file_id(1)),
            Err(refused(&t, Action::CompleteFile))
        );
    }
}

#[test]
fn removing_a_file_bumps_the_revision_and_hands_back_the_file_as_it_was() {
    let before = draft_with_complete_file()
        .add_file(file_id(2), 5000, 2, upload(2), &policy())
        .expect("fits");
    let (after, removed) = before
        .remove_file(file_id(2))
        .expect("a draft")
        .expect("the file was there");
    assert_eq!(after.revision().get(), before.revision().get() + 1);
    assert_eq!(removed.upload, UploadStatus::InProgress { upload_id: upload(2) });
    assert_eq!(removed.ciphertext_bytes, 5000);
    assert_eq!(after.files().len(), 1);
    assert_eq!(
        after.upload_in_progress(file_id(2)),
        Err(DomainError::UnknownFile)
    );
    let (after, removed) = after
        .remove_file(file_id(1))
        .expect("a draft")
        .expect("the file was there");
    assert_eq!(removed.upload, UploadStatus::Complete, "a complete file goes too");
    assert!(after.files().is_empty());
    assert_eq!(after.state(), TransferState::Draft);
}

#[test]
fn removing_a_file_the_draft_does_not_hold_changes_nothing() {
    let t = draft_with_complete_file();
    assert_eq!(t.remove_file(file_id(9)), Ok(None), "never added");
    let (after, _) = t.remove_file(file_id(1)).expect("a draft").expect("there");
    assert_eq!(after.remove_file(file_id(1)), Ok(None), "removed already");
}

#[test]
fn a_removed_file_no_longer_counts_against_the_policy() {
    let p = Policy {
        max_files: 2,
        max_transfer_bytes: 100,
        ..policy()
    };
    let full = draft()
        .add_file(file_id(1), 30, 1, upload(1), &p)
        .and_then(|t| t.add_file(file_id(2), 70, 1, upload(2), &p))
        .expect("both fit");
    assert_eq!(
        full.add_file(file_id(3), 30, 1, upload(3), &p),
        Err(DomainError::TooManyFiles { max: 2 })
    );
    let (freed, _) = full.remove_file(file_id(2)).expect("a draft").expect("there");
    assert_eq!(freed.total_ciphertext_bytes(), 30);
    let refilled = freed
        .add_file(file_id(3), 70, 1, upload(3), &p)
        .expect("the removed file's count and bytes are free again");
    assert_eq!(refilled.files().len(), 2);
    assert_eq!(refilled.total_ciphertext_bytes(), 100);
}

#[test]
fn removing_the_half_uploaded_file_lets_the_key_be_set() {
    let t = draft_with_complete_file()
        .add_file(file_id(2), 5000, 2, upload(2), &policy())
        .expect("fits");
    assert_eq!(
        t.set_key(envelope(KdfParams::MINIMUM), manifest(), &policy()),
        Err(DomainError::UploadIncomplete)
    );
    let (t, _) = t.remove_file(file_id(2)).expect("a draft").expect("there");
    let keyed = t
        .set_key(envelope(KdfParams::MINIMUM), manifest(), &policy())
        .expect("every remaining upload is complete");
    assert_eq!(keyed.state(), TransferState::Keyed);
}

#[test]
fn files_can_be_removed_only_in_draft() {
    for t in every_state().into_iter().skip(1) {
        for file in [file_id(1), file_id(9)] {
            assert_eq!(
                t.remove_file(file),
                Err(refused(&t, Action::RemoveFile)),
                "{} refuses, whether or not it holds the file",
                t.state()
            );
        }
    }
}

// --- draft → keyed ----------------------------------------------------------

#[test]
fn setting_the_key_moves_a_ready_draft_to_keyed() {
    let t = keyed();
    assert_eq!(t.state(), TransferState::Keyed);
    assert!(matches!(t.stage(), Stage::Keyed { .. }));
}

#[test]
fn setting_the_key_without_files_is_refused() {
    assert_eq!(
        draft().set_key(envelope(KdfParams::MINIMUM), manifest(), &policy()),
        Err(DomainError::NoFiles)
    );
}

#[test]
fn setting_the_key_before_every_upload_completed_is_refused() {
    let t = draft_with_complete_file()
        .add_file(file_id(2), 30, 1, upload(2), &policy())
        .expect("fits");
    assert_eq!(
        t.set_key(envelope(KdfParams::MINIMUM), manifest(), &policy()),
        Err(DomainError::UploadIncomplete)
    );
}

#[test]
fn setting_the_key_with_weak_kdf_parameters_is_refused() {
    let weak = KdfParams {
        m_kib: 19_456,
        t: 2,
        p: 1,
    };
    assert_eq!(
        draft_with_complete_file().set_key(envelope(weak), manifest(), &policy()),
        Err(DomainError::KdfTooWeak)
    );
}

#[test]
fn setting_the_key_outside_draft_is_refused() {
    for t in every_state().into_iter().skip(1) {
        assert_eq!(
            t.set_key(envelope(KdfParams::MINIMUM), manifest(), &policy()),
            Err(refused(&t, Action::SetKey))
        );
    }
}

// --- keyed → sent -----------------------------------------------------------

#[test]
fn sending_stores_token_hashes_and_starts_the_retention_clock() {
    let t = sent();
    assert_eq!(t.state(), TransferState::Sent);
    assert_eq!(t.expires_at(), NOW.plus_seconds(7 * Timestamp::DAY));
    let issued = tokens(2);
    for (recipient, token) in t.recipients().iter().zip(&issued) {
        assert_eq!(recipient.retrieval, Some(token.hash()));
    }
    assert_eq!(t.authorize_manage(&manage_token()), Ok(()));
    let json = serde_json::to_string(&t).expect("serializable");
    assert!(
        !json.contains(&issued[0].reveal()),
        "tokens themselves are never stored"
    );
}

#[test]
fn sending_needs_exactly_one_token_per_recipient() {
    assert_eq!(
        keyed().send(
            &SendOptions::default(),
            &tokens(1),
            &manage_token(),
            NOW,
            &policy()
        ),
        Err(DomainError::Malformed {
            field: Field::RetrievalToken
        })
    );
}

#[test]
fn sending_is_allowed_only_from_keyed() {
    for t in every_state()
        .into_iter()
        .filter(|t| t.state() != TransferState::Keyed)
    {
        assert_eq!(
            t.send(
                &SendOptions::default(),
                &tokens(2),
                &manage_token(),
                NOW,
                &policy()
            ),
            Err(refused(&t, Action::Send))
        );
    }
}

fn send_with(t: &Transfer, choices: &SendOptions) -> Result<Transfer, DomainError> {
    let count = choices.recipient_count(t);
    t.send(choices, &tokens(count), &manage_token(), NOW, &policy())
}

fn choices(json: &str) -> SendOptions {
    serde_json::from_str(json).expect("valid send options")
}

#[test]
fn the_last_choices_replace_the_drafts_in_the_send_itself() {
    let t = send_with(
        &keyed(),
        &choices(
            r#"{"recipients": ["new@extern.example"], "language": "en",
                "download_receipts": false, "retention_days": 3,
                "notification_text": "Hello"}"#,
        ),
    )
    .expect("sent");
    assert_eq!(t.revision(), keyed().revision().next(), "one change");
    let emails: Vec<&str> = t.recipients().iter().map(|r| r.email.as_str()).collect();
    assert_eq!(emails, ["new@extern.example"]);
    assert_eq!(t.recipients()[0].retrieval, Some(tokens(1)[0].hash()));
    let options = t.options();
    assert_eq!(options.language, Language::En);
    assert!(!options.download_receipts);
    assert_eq!(options.retention_days, 3);
    assert_eq!(
        options.notification_text.as_ref().map(NotificationText::as_str),
        Some("Hello")
    );
    assert_eq!(t.expires_at(), NOW.plus_seconds(3 * Timestamp::DAY));
}

#[test]
fn absent_choices_keep_the_drafts_and_null_ones_take_the_defaults() {
    let with_text = Transfer::draft(
        NewTransfer {
            retention_days: Some(20),
            notification_text: NotificationText::parse("Own text").expect("valid"),
            ..new_transfer(&["partner@extern.example"])
        },
        &policy(),
        NOW,
    )
    .expect("valid draft");
    let keyed = with_text
        .add_file(file_id(1), 1000, 1, upload(1), &policy())
        .and_then(|t| t.complete_file(file_id(1), 1000))
        .expect("complete")
        .expect("was in progress")
        .set_key(envelope(KdfParams::MINIMUM), manifest(), &policy())
        .expect("keyed");
    let kept = send_with(&keyed, &choices("{}")).expect("sent");
    assert_eq!(kept.recipients().len(), 1);
    assert_eq!(kept.options(), keyed.options());
    assert_eq!(kept.expires_at(), NOW.plus_seconds(20 * Timestamp::DAY));
    let defaults = send_with(
        &keyed,
        &choices(r#"{"retention_days": null, "notification_text": null}"#),
    )
    .expect("sent");
    assert_eq!(defaults.options().retention_days, 7, "the policy's default");
    assert_eq!(defaults.options().notification_text, None, "the default text");
    assert_eq!(defaults.options().language, keyed.options().language);
}

#[test]
fn the_last_choices_are_held_to_the_rules_of_a_new_draft() {
    let too_many: Vec<String> = (0..21).map(|i| format!("\"r{i}@example.nl\"")).collect();
    let cases = [
        (
            r#"{"recipients": []}"#.to_owned(),
            DomainError::Missing {
                field: Field::Recipients,
            },
        ),
        (
            format!(r#"{{"recipients": [{}]}}"#, too_many.join(",")),
            DomainError::TooManyRecipients { max: 20 },
        ),
        (
            r#"{"recipients": ["a@extern.example", "A@extern.example"]}"#.to_owned(),
            DomainError::DuplicateRecipient,
        ),
        (
            r#"{"retention_days": 0}"#.to_owned(),
            DomainError::Malformed {
                field: Field::RetentionDays,
            },
        ),
        (
            r#"{"retention_days": 31}"#.to_owned(),
            DomainError::RetentionTooLong { max_days: 30 },
        ),
    ];
    for (json, error) in cases {
        assert_eq!(send_with(&keyed(), &choices(&json)), Err(error), "{json}");
    }
    assert_eq!(
        choices(r#"{"recipients": []}"#).check_form(),
        Err(DomainError::Missing {
            field: Field::Recipients
        })
    );
    assert_eq!(
        choices(r#"{"retention_days": 0}"#).check_form(),
        Err(DomainError::Malformed {
            field: Field::RetentionDays
        })
    );
    assert_eq!(
        choices(r#"{"retention_days": 31}"#).check_form(),
        Ok(()),
        "policy, not form"
    );
}

#[test]
fn an_external_sender_cannot_turn_the_send_into_an_open_relay() {
    let external = Transfer::draft(
        NewTransfer {
            sender: sender("partner@extern.example"),
            ..new_transfer(&["jan@example.nl"])
        },
        &policy(),
        NOW,
    )
    .expect("valid draft")
    .add_file(file_id(1), 1000, 1, upload(1), &policy())
    .and_then(|t| t.complete_file(file_id(1), 1000))
    .expect("complete")
    .expect("was in progress")
    .set_key(envelope(KdfParams::MINIMUM), manifest(), &policy())
    .expect("keyed");
    assert_eq!(
        send_with(
            &external,
            &choices(r#"{"recipients": ["jan@example.nl", "stranger@other.example"]}"#)
        ),
        Err(DomainError::NoInternalParty)
    );
}

#[test]
fn a_reply_keeps_its_recipient_but_takes_the_other_choices() {
    let reply = Transfer::draft(
        NewTransfer {
            sender: sender("partner@extern.example"),
            in_reply_to: Some(TransferId::from_bytes([2; 16])),
            ..new_transfer(&["jan@example.nl"])
        },
        &policy(),
        NOW,
    )
    .expect("valid draft")
    .add_file(file_id(1), 1000, 1, upload(1), &policy())
    .and_then(|t| t.complete_file(file_id(1), 1000))
    .expect("complete")
    .expect("was in progress")
    .set_key(envelope(KdfParams::MINIMUM), manifest(), &policy())
    .expect("keyed");
    assert_eq!(
        send_with(&reply, &choices(r#"{"recipients": ["jan@example.nl"]}"#)),
        Err(DomainError::ReplySessionOnly)
    );
    let sent = send_with(&reply, &choices(r#"{"language": "en", "retention_days": 2}"#)).expect("sent");
    assert_eq!(sent.options().language, Language::En);
    assert_eq!(sent.expires_at(), NOW.plus_seconds(2 * Timestamp::DAY));
}

#[test]
fn send_options_refuse_null_where_null_means_nothing_and_unknown_members() {
    for json in [
        r#"{"language": null}"#,
        r#"{"recipients": null}"#,
        r#"{"download_receipts": null}"#,
        r#"{"retention_days": -1}"#,
        r#"{"language": "de"}"#,
        r#"{"recipients": ["not an address"]}"#,
        r#"{"expires": 3}"#,
    ] {
        assert!(serde_json::from_str::<SendOptions>(json).is_err(), "{json}");
    }
    assert_eq!(choices("{}"), SendOptions::default());
    assert_eq!(
        choices(r#"{"notification_text": "  "}"#).notification_text,
        Some(None)
    );
    let round = choices(r#"{"retention_days": null, "language": "nl"}"#);
    assert_eq!(
        serde_json::to_value(&round).expect("serialises"),
        serde_json::json!({"retention_days": null, "language": "nl"})
    );
}

// --- expire, revoke, lock, purge ----------------------------------------------

#[test]
fn every_live_state_expires_once_due_and_not_before() {
    for t in [draft(), keyed(), sent()] {
        let due = t.expires_at();
        assert_eq!(t.expire(due).map(|t| t.state()), Ok(TransferState::Expired));
        assert_eq!(
            t.expire(Timestamp::from_unix_seconds(due.unix_seconds() - 1)),
            Err(refused(&t, Action::Expire))
        );
    }
}

#[test]
fn every_live_state_can_be_revoked() {
    for t in [draft(), keyed(), sent()] {
        assert_eq!(t.revoke(NOW).map(|t| t.state()), Ok(TransferState::Revoked));
    }
}

#[test]
fn only_a_sent_transfer_can_be_locked() {
    assert_eq!(locked().state(), TransferState::Locked);
    for t in every_state()
        .into_iter()
        .filter(|t| t.state() != TransferState::Sent)
    {
        assert_eq!(t.lock(NOW), Err(refused(&t, Action::Lock)));
    }
}

#[test]
fn terminal_states_allow_no_further_transition() {
    for t in [expired(), revoked(), locked()] {
        let far = NOW.plus_seconds(365 * Timestamp::DAY);
        assert_eq!(t.expire(far), Err(refused(&t, Action::Expire)));
        assert_eq!(t.revoke(far), Err(refused(&t, Action::Revoke)));
        assert_eq!(t.lock(far), Err(refused(&t, Action::Lock)));
        assert_eq!(
            t.record_download(RecipientIndex(0), far),
            Err(refused(&t, Action::RecordDownload))
        );
    }
}

#[test]
fn terminal_states_hold_no_key_material() {
    for t in [expired(), revoked(), locked()] {
        assert!(!matches!(t.stage(), Stage::Keyed { .. } | Stage::Sent { .. }));
        let json = serde_json::to_string(&t).expect("serializable");
        assert!(
            !json.contains("wrapped_key") && !json.contains("manifest"),
            "{json}"
        );
    }
}

#[test]
fn purging_is_recorded_once_and_only_for_terminal_states() {
    for t in [expired(), revoked(), locked()] {
        let purged = t.mark_purged().expect("terminal");
        assert!(purged.is_purged());
        assert_eq!(purged.purge_due_at(), None);
        assert_eq!(purged.mark_purged(), Err(refused(&purged, Action::Purge)));
    }
    for t in [draft(), keyed(), sent()] {
        assert_eq!(t.mark_purged(), Err(refused(&t, Action::Purge)));
    }
}

#[test]
fn purge_is_due_at_expiry_for_live_transfers_and_at_once_for_gone_ones() {
    assert_eq!(sent().purge_due_at(), Some(sent().expires_at()));
    assert_eq!(revoked().purge_due_at(), Some(NOW));
    assert_eq!(locked().purge_due_at(), Some(NOW));
}

#[test]
fn the_record_outlives_expiry_by_the_policy_grace_period() {
    let t = sent();
    assert_eq!(
        t.record_expires_at(&policy()),
        t.expires_at().plus_seconds(30 * Timestamp::DAY)
    );
}

#[test]
fn every_transition_increments_the_revision_and_keeps_the_precondition_of_the_start() {
    let start = sent();
    let next = start.revoke(NOW).expect("live");
    assert_eq!(next.revision().get(), start.revision().get() + 1);
    assert_eq!(
        start.precondition(),
        Precondition {
            revision: start.revision(),
            state: TransferState::Sent
        }
    );
}

// --- retrieval --------------------------------------------------------------

#[test]
fn a_recipient_token_finds_its_recipient() {
    let t = sent();
    let issued = tokens(2);
    assert_eq!(t.authorize_retrieval(&issued[1], NOW), Ok(RecipientIndex(1)));
}

#[test]
fn a_wrong_token_is_indistinguishable_from_an_unknown_transfer() {
    let wrong = Token::from_bytes([0; 32]);
    assert_eq!(
        sent().authorize_retrieval(&wrong, NOW),
        Err(DomainError::TransferNotFound)
    );
    assert_eq!(
        sent().authorize_manage(&wrong),
        Err(DomainError::TransferNotFound)
    );
}

#[test]
fn unsent_transfers_cannot_be_retrieved() {
    for t in [draft(), keyed()] {
        assert_eq!(
            t.authorize_retrieval(&tokens(1)[0], NOW),
            Err(DomainError::TransferNotFound)
        );
        assert_eq!(
            t.unlock(&auth_key()).map(|o| o.is_some()),
            Err(DomainError::TransferNotFound)
        );
    }
}

#[test]
fn gone_transfers_answer_gone_and_locked_ones_locked() {
    let token = &tokens(1)[0];
    let stranger = &Token::from_bytes([1; 32]);
    assert_eq!(
        expired().authorize_retrieval(token, NOW),
        Err(DomainError::TransferGone {
            reason: Some(GoneReason::Expired)
        })
    );
    assert_eq!(
        revoked().authorize_retrieval(token, NOW),
        Err(DomainError::TransferGone {
            reason: Some(GoneReason::Revoked)
        })
    );
    for gone in [expired(), revoked()] {
        assert_eq!(
            gone.authorize_retrieval(stranger, NOW),
            Err(DomainError::GONE),
            "why it is gone is for link holders only"
        );
    }
    assert_eq!(
        locked().authorize_retrieval(token, NOW),
        Err(DomainError::TransferLocked)
    );
    assert_eq!(
        revoked().unlock(&auth_key()).map(|o| o.is_some()),
        Err(DomainError::GONE)
    );
    assert_eq!(
        locked().unlock(&auth_key()).map(|o| o.is_some()),
        Err(DomainError::TransferLocked)
    );
}

#[test]
fn a_sent_transfer_past_its_expiry_is_gone_even_before_the_expiry_job_runs() {
    let t = sent();
    assert_eq!(
        t.authorize_retrieval(&tokens(1)[0], t.expires_at()),
        Err(DomainError::TransferGone {
            reason: Some(GoneReason::Expired)
        })
    );
}

#[test]
fn the_right_auth_key_releases_the_envelope_and_a_wrong_one_nothing() {
    let t = sent();
    let (envelope, manifest) = t.unlock(&auth_key()).expect("sent").expect("right key");
    assert_eq!(envelope.wrapped_key, WrappedKey::from_bytes([1; 61]));
    assert_eq!(manifest.as_bytes().len(), 100);
    assert_eq!(
        t.unlock(&AuthKey::from_bytes([0; 32])).map(|o| o.is_some()),
        Ok(false)
    );
}

#[test]
fn only_the_first_download_of_a_recipient_is_recorded() {
    let t = sent();
    let first = t
        .record_download(RecipientIndex(0), NOW)
        .expect("sent")
        .expect("first");
    assert_eq!(first.recipients()[0].first_download_at, Some(NOW));
    assert_eq!(
        first.record_download(RecipientIndex(0), NOW.plus_seconds(5)),
        Ok(None)
    );
    assert!(
        first
            .record_download(RecipientIndex(1), NOW)
            .expect("sent")
            .is_some()
    );
    assert_eq!(
        t.record_download(RecipientIndex(5), NOW),
        Err(DomainError::TransferNotFound)
    );
}

#[test]
fn downloads_are_recorded_only_while_sent() {
    for t in [draft(), keyed()] {
        assert_eq!(
            t.record_download(RecipientIndex(0), NOW),
            Err(refused(&t, Action::RecordDownload))
        );
    }
}

#[test]
fn a_stored_transfer_round_trips_through_json() {
    for t in every_state() {
        let json = serde_json::to_string(&t).expect("serializable");
        let back: Transfer = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, t);
    }
}
