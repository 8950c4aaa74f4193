//! The inbound path: a recipient who holds the link and the password answers
//! with files. Proving both (the link reached their mailbox; the auth key,
//! counted like an unlock) stands in for the code verification: the reply
//! creates a draft from the recipient to the original sender, under the
//! same policy, and opens a sender session for the recipient, with which
//! the ordinary upload, key and send steps finish it. Sending a reply mails
//! the original sender the reply notice.

use serde::{Deserialize, Serialize};

use super::sender::{SessionOpened, opened};
use super::{Ports, Service, ServiceError, derive_id};
use crate::audit::AuditKind;
use crate::envelope::AuthKey;
use crate::error::DomainError;
use crate::ids::{EventId, RequestId, Token, TransferId};
use crate::ports::{Generate, StateStore};
use crate::timestamp::Timestamp;
use crate::transfer::{NewTransfer, Sender, Transfer};
use crate::validate::{Language, NotificationText, PersonName, PhoneNumber};
use crate::verification::SenderSession;

/// A recipient's answer with files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The client's idempotency key.
    pub request_id: RequestId,
    /// Proof of the password of the transfer answered.
    pub auth_key: AuthKey,
    /// The recipient's display name (the transfer knows only their address).
    pub name: PersonName,
    /// Their phone number.
    #[serde(default)]
    pub phone: Option<PhoneNumber>,
    /// Mail language; the original transfer's if absent.
    #[serde(default)]
    pub language: Option<Language>,
    /// Receipts when the original sender downloads.
    #[serde(default)]
    pub download_receipts: bool,
    /// Own text for the notice; the default text if absent, null or blank.
    #[serde(default, deserialize_with = "crate::validate::optional_notification_text")]
    pub notification_text: Option<NotificationText>,
}

/// The reply draft and the session to finish it with.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReplyStarted {
    /// The new transfer (from the recipient to the original sender).
    pub transfer_id: TransferId,
    /// When the draft expires if not sent.
    pub expires_at: Timestamp,
    /// A session for the recipient, for the upload, key and send steps.
    pub session: SessionOpened,
}

impl<P: Ports> Service<P> {
    /// Starts a reply to a transfer the caller can retrieve. The draft's id
    /// is derived from the retrieval token and the request id, so a retry
    /// finds the same draft (with a new session).
    pub async fn reply(
        &self,
        transfer: TransferId,
        token: &Token,
        request: Reply,
    ) -> Result<ReplyStarted, ServiceError> {
        let (original, recipient) = self.retrievable(transfer, token).await?;
        self.authenticate(&original, recipient, &request.auth_key).await?;
        let partner = Sender {
            name: request.name,
            email: original.recipients()[recipient.0].email.clone(),
            phone: request.phone,
        };
        let id = TransferId::from_bytes(derive_id(
            "kluis/reply",
            &[token.hash().as_bytes(), request.request_id.as_bytes()],
        ));
        let new = NewTransfer {
            id,
            sender: partner.clone(),
            recipients: vec![original.sender().email.clone()],
            language: request.language.unwrap_or(original.options().language),
            download_receipts: request.download_receipts,
            retention_days: None,
            notification_text: request.notification_text,
            in_reply_to: Some(transfer),
        };
        let now = self.now();
        let draft = Transfer::draft(new, self.policy(), now)?;
        let created = self.create_once(&draft).await?;
        if created.in_reply_to() != Some(transfer) {
            return Err(DomainError::TransferNotFound.into());
        }
        self.audit_with_id(
            EventId::from_bytes(derive_id("kluis/replied", &[id.as_bytes()])),
            transfer,
            AuditKind::Replied { reply: id },
        )
        .await?;
        let session_token = self.random.token()?;
        let session = SenderSession {
            token_hash: session_token.hash(),
            sender: partner,
            created_at: now,
            expires_at: now.plus_seconds(self.policy().session_secs()),
            reply: Some(id),
        };
        self.store.put_session(&session).await?;
        Ok(ReplyStarted {
            transfer_id: id,
            expires_at: created.expires_at(),
            session: opened(&session_token, session),
        })
    }
}
