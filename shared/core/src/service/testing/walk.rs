//! Walking the wizard and retrieval the way a client does, over a
//! [`MemoryService`]: sign in (reading the code from the recorded mail),
//! draft, upload parts, key, send, and find the links in the mails. Shared
//! by the core's behaviour tests and the functions' handler tests.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{MemoryService, code_in, link_in, memory_service};
use crate::envelope::{AuthHash, AuthKey, KdfParams, Salt, SealedManifest, WrappedKey};
use crate::error::Field;
use crate::file::CompletedPart;
use crate::ids::{FileId, RequestId, Token, TransferId};
use crate::policy::Policy;
use crate::service::sender::{RequestCode, VerifyCode};
use crate::service::transfer::{CreateDraft, SendOptions, SetKey};
use crate::service::upload::{AddFile, CompleteFile, PART_BYTES};
use crate::timestamp::Timestamp;
use crate::validate::{Language, PersonName};

/// The tests' "now".
pub const NOW: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);
/// The client address the tests ask codes from.
pub const CLIENT: &str = "192.0.2.1";
/// The auth key the sender's browser derived from the password.
pub const RIGHT_KEY: AuthKey = AuthKey::from_bytes([7; 32]);
/// An auth key from a wrong password.
pub const WRONG_KEY: AuthKey = AuthKey::from_bytes([8; 32]);

/// The tests' policy: `example.nl` is internal.
pub fn policy() -> Policy {
    Policy {
        internal_domains: vec!["example.nl".into()],
        ..Policy::default()
    }
}

/// A fresh in-memory service at [`NOW`].
pub fn service() -> MemoryService {
    memory_service(policy(), NOW)
}

/// A fresh idempotency key per call, as a client draws one per intent.
pub fn request_id() -> RequestId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let mut bytes = [0u8; 16];
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    RequestId::from_bytes(bytes)
}

/// Step 1's request for `email`.
pub fn code_request(email: &str) -> RequestCode {
    RequestCode {
        request_id: request_id(),
        name: PersonName::parse("Jan de Vries", Field::SenderName).expect("valid"),
        email: super::address(email),
        phone: None,
        language: Language::En,
    }
}

/// Steps 1 and 2: asks a code, reads it from the mail, opens a session.
pub async fn sign_in(service: &MemoryService, email: &str) -> Token {
    let requested = service
        .request_code(CLIENT, code_request(email))
        .await
        .expect("code requested");
    let mail = service.mailer().sent_to(email).pop().expect("a code mail");
    let code = code_in(&mail).expect("the mail holds a code");
    let opened = service
        .verify_code(VerifyCode {
            challenge_id: requested.challenge_id,
            code,
        })
        .await
        .expect("the mailed code opens a session");
    Token::parse(&opened.session_token, Field::SessionToken).expect("a token")
}

/// Step 3's request: `recipients`, receipts on or off.
pub fn draft_request(recipients: &[&str], receipts: bool) -> CreateDraft {
    CreateDraft {
        request_id: request_id(),
        recipients: recipients.iter().map(|r| super::address(r)).collect(),
        language: Language::En,
        download_receipts: receipts,
        retention_days: None,
        notification_text: None,
    }
}

/// Step 3: a draft to `recipients`.
pub async fn draft(
    service: &MemoryService,
    session: &Token,
    recipients: &[&str],
    receipts: bool,
) -> TransferId {
    service
        .create_draft(session, draft_request(recipients, receipts))
        .await
        .expect("draft created")
        .transfer_id
}

/// The exact size of the file object for `plaintext` bytes.
pub fn ciphertext(plaintext: u64) -> u64 {
    kluis_crypto::ciphertext_len(plaintext).expect("a size the format allows")
}

/// The sizes a client gives the parts of a file object: whole parts of
/// [`PART_BYTES`], the first with the 14-byte header, the last the rest.
pub fn part_sizes(ciphertext_bytes: u64, parts: usize) -> Vec<u64> {
    let mut sizes = vec![PART_BYTES; parts];
    sizes[0] += 14;
    let before_last: u64 = sizes[..parts - 1].iter().sum();
    sizes[parts - 1] = ciphertext_bytes - before_last;
    sizes
}

/// Step 4 for one file: declare, PUT every part, complete.
pub async fn upload(
    service: &MemoryService,
    session: &Token,
    transfer: TransferId,
    plaintext: u64,
) -> FileId {
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
    service
        .complete_file(session, transfer, file, CompleteFile { parts })
        .await
        .expect("file completed");
    file
}

/// PUTs each part of `sizes` to its URL, as a client does; their ETags.
pub fn put_parts(
    service: &MemoryService,
    urls: &[crate::service::SignedRequest],
    sizes: &[u64],
) -> Vec<CompletedPart> {
    urls.iter()
        .zip(sizes)
        .zip(1..)
        .map(|((url, size), number)| CompletedPart {
            number: crate::file::PartNumber::new(number).expect("valid part number"),
            etag: service.objects().put(&url.url, *size).expect("part stored"),
        })
        .collect()
}

/// Step 5's request with fixed key material and `auth`'s hash.
pub fn key_request(auth: &AuthKey) -> SetKey {
    SetKey {
        wrapped_key: WrappedKey::from_bytes([1; 61]),
        salt: Salt::from_bytes([2; 16]),
        kdf: KdfParams::MINIMUM,
        auth_hash: AuthHash::of(auth),
        manifest: SealedManifest::new(vec![3; 300]).expect("a manifest"),
    }
}

/// A transfer from `sender` through every step to sent; returns the
/// sender's session and the transfer.
pub async fn sent_transfer(
    service: &MemoryService,
    sender: &str,
    recipients: &[&str],
    files: &[u64],
    receipts: bool,
) -> (Token, TransferId) {
    let session = sign_in(service, sender).await;
    let transfer = draft(service, &session, recipients, receipts).await;
    for plaintext in files {
        upload(service, &session, transfer, *plaintext).await;
    }
    service
        .set_key(&session, transfer, key_request(&RIGHT_KEY))
        .await
        .expect("keyed");
    let sent = service
        .send(&session, transfer, SendOptions::default())
        .await
        .expect("sent");
    assert!(sent.sent_now && sent.undelivered.is_empty() && sent.summary_delivered);
    (session, transfer)
}

/// The link in the last mail to `address` that has one.
pub fn link_for(service: &MemoryService, address: &str) -> (TransferId, Token) {
    service
        .mailer()
        .sent_to(address)
        .iter()
        .rev()
        .find_map(link_in)
        .expect("a mail with a link")
}
