//! Steps 3, 5 and 6 of the wizard: recipients and options → a draft (policy
//! and open-relay rule), the key envelope and sealed manifest (KDF floor),
//! and sending: the sender's last choices applied, sealed exactly once,
//! each recipient notified with their own retrieval token in the link's
//! fragment, a summary to the sender.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Ports, Service, ServiceError, derive_id};
use crate::audit::AuditKind;
use crate::envelope::{AuthHash, KdfParams, KeyEnvelope, Salt, SealedManifest, WrappedKey};
use crate::error::DomainError;
use crate::ids::{RequestId, Token, TransferId};
use crate::mail;
use crate::ports::{Generate, PortError, StateStore};
use crate::timestamp::Timestamp;
use crate::transfer::{NewTransfer, Stage, Transfer, TransferState};
use crate::validate::{EmailAddress, Language, NotificationText};

/// Step 6's optional body: the sender's last choices (see the type).
pub use crate::transfer::SendOptions;

/// Step 3 (with the options of step 6, known by then in the wizard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDraft {
    /// The client's idempotency key.
    pub request_id: RequestId,
    /// Recipient addresses.
    pub recipients: Vec<EmailAddress>,
    /// Language of the mails.
    #[serde(default)]
    pub language: Language,
    /// Mail the sender on each first download of a file.
    #[serde(default)]
    pub download_receipts: bool,
    /// Days from sending to expiry; the policy's default if absent.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Own notification text; the default text if absent, null or blank.
    #[serde(default, deserialize_with = "crate::validate::optional_notification_text")]
    pub notification_text: Option<NotificationText>,
}

/// A draft exists (the first try's, for a retried request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftCreated {
    /// The new transfer; bound into every file's associated data.
    pub transfer_id: TransferId,
    /// When the draft expires if not sent.
    pub expires_at: Timestamp,
    /// The retention that applies once sent, in days.
    pub retention_days: u32,
}

/// Step 5: what the browser derived from the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetKey {
    /// The content key wrapped under the key-encryption key.
    pub wrapped_key: WrappedKey,
    /// The Argon2id salt.
    pub salt: Salt,
    /// The Argon2id parameters (at least the policy's floor).
    pub kdf: KdfParams,
    /// SHA-256 of the auth key.
    pub auth_hash: AuthHash,
    /// The sealed manifest.
    pub manifest: SealedManifest,
}

/// The transfer is keyed and can be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyed {
    /// The transfer.
    pub transfer_id: TransferId,
}

/// The transfer is sent. `undelivered`, `summary_delivered` and
/// `manage_link` describe this request; a retry (`sent_now == false`) mails
/// nothing, reports nothing undelivered and has no manage link (only the
/// token's hash is kept): the first try's answer carried them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The transfer.
    pub transfer_id: TransferId,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Whether this request sent it; `false` for a retry that found it sent
    /// (the first try mailed, this one mails nothing).
    pub sent_now: bool,
    /// Recipients whose notification the mailer refused. Their links cannot
    /// be re-sent (only token hashes are kept); the sender learns it here.
    pub undelivered: Vec<EmailAddress>,
    /// Whether the sender's summary (with the manage link) went out.
    pub summary_delivered: bool,
    /// The manage link the summary mail carries, for the sender's summary
    /// screen: the session that sent may manage what it sent. Only in the
    /// answer of the request that sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_link: Option<String>,
}

impl fmt::Debug for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The manage link's fragment is a bearer token.
        f.debug_struct("Sent")
            .field("transfer_id", &self.transfer_id)
            .field("expires_at", &self.expires_at)
            .field("sent_now", &self.sent_now)
            .field("undelivered", &self.undelivered)
            .field("summary_delivered", &self.summary_delivered)
            .field("manage_link", &self.manage_link.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl<P: Ports> Service<P> {
    /// Creates a draft for the session's sender after the policy's checks
    /// (recipient count, duplicates, retention, and that the sender or every
    /// recipient is internal). The id is derived from the session and the
    /// request id, so a retry finds the first try's draft.
    pub async fn create_draft(
        &self,
        session: &Token,
        request: CreateDraft,
    ) -> Result<DraftCreated, ServiceError> {
        let sender = self.session_sender(session).await?;
        let id = TransferId::from_bytes(derive_id(
            "kluis/transfer",
            &[session.hash().as_bytes(), request.request_id.as_bytes()],
        ));
        let new = NewTransfer {
            id,
            sender,
            recipients: request.recipients,
            language: request.language,
            download_receipts: request.download_receipts,
            retention_days: request.retention_days,
            notification_text: request.notification_text,
            in_reply_to: None,
        };
        let draft = Transfer::draft(new, self.policy(), self.now())?;
        let created = self.create_once(&draft).await?;
        Ok(DraftCreated {
            transfer_id: created.id(),
            expires_at: created.expires_at(),
            retention_days: created.options().retention_days,
        })
    }

    /// Stores a new transfer, or returns the one a previous try stored under
    /// the same derived id.
    pub(super) async fn create_once(&self, draft: &Transfer) -> Result<Transfer, ServiceError> {
        match self.store.create_transfer(draft).await {
            Ok(()) => {
                self.audit(
                    draft.id(),
                    AuditKind::Created {
                        recipients: draft.recipients().len(),
                    },
                )
                .await?;
                Ok(draft.clone())
            }
            Err(PortError::ConditionFailed) => {
                let stored = self.transfer(draft.id()).await?;
                if stored.sender().email != draft.sender().email {
                    return Err(DomainError::TransferNotFound.into());
                }
                Ok(stored)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Stores the key envelope and sealed manifest (draft → keyed), refusing
    /// KDF parameters under the policy's floor. A retry with the same values
    /// succeeds without a write.
    pub async fn set_key(
        &self,
        session: &Token,
        transfer: TransferId,
        request: SetKey,
    ) -> Result<Keyed, ServiceError> {
        let sender = self.live_session(session).await?;
        self.owned_transfer(transfer, &sender).await?;
        let envelope = KeyEnvelope {
            wrapped_key: request.wrapped_key,
            salt: request.salt,
            kdf: request.kdf,
            auth_hash: request.auth_hash,
        };
        let policy = self.policy();
        self.transition(transfer, |current| {
            if let Stage::Keyed {
                envelope: stored,
                manifest,
            } = current.stage()
                && *stored == envelope
                && *manifest == request.manifest
            {
                return Ok(None);
            }
            Ok(Some(current.set_key(
                envelope.clone(),
                request.manifest.clone(),
                policy,
            )?))
        })
        .await?;
        self.audit(transfer, AuditKind::Keyed).await?;
        Ok(Keyed {
            transfer_id: transfer,
        })
    }

    /// Sends the transfer (keyed → sent) with the sender's last `choices`
    /// applied in the same write, and mails each recipient of the final
    /// list their retrieval link and the sender a summary with the manage
    /// link. Only the request that wins the keyed → sent write holds the
    /// fresh tokens, so only it mails: a retried or racing send mails
    /// nothing, and a retry that finds the transfer sent ignores its
    /// choices (choices of a form no transfer takes are refused first,
    /// whatever the state: [`SendOptions::check_form`]).
    pub async fn send(
        &self,
        session: &Token,
        transfer: TransferId,
        choices: SendOptions,
    ) -> Result<Sent, ServiceError> {
        let sender = self.live_session(session).await?;
        self.owned_transfer(transfer, &sender).await?;
        choices.check_form()?;
        let manage = self.random.token()?;
        let now = self.now();
        let policy = self.policy();
        let mut retrieval: Vec<Token> = Vec::new();
        let (_, written) = self
            .transition(transfer, |current| {
                if current.state() == TransferState::Sent {
                    return Ok(None);
                }
                // Drawn for the list this try sends to, so the tokens and
                // the recipients written match one for one.
                retrieval = (0..choices.recipient_count(current))
                    .map(|_| self.random.token())
                    .collect::<Result<_, _>>()?;
                Ok(Some(current.send(&choices, &retrieval, &manage, now, policy)?))
            })
            .await?;
        let Some(sent) = written else {
            let stored = self.transfer(transfer).await?;
            return Ok(Sent {
                transfer_id: transfer,
                expires_at: stored.expires_at(),
                sent_now: false,
                undelivered: Vec::new(),
                summary_delivered: true,
                manage_link: None,
            });
        };
        self.audit(transfer, AuditKind::Sent).await?;
        // A reply is announced to the original sender with the reply mail,
        // which names the partner and the transfer it answers.
        let original = match sent.in_reply_to() {
            Some(id) => self.transfer(id).await.ok(),
            None => None,
        };
        let mut undelivered = Vec::new();
        for (recipient, token) in sent.recipients().iter().zip(&retrieval) {
            let link = self.settings.base_url.retrieval_link(transfer, token);
            let mail = match &original {
                Some(original) => mail::reply_received(original, &sent, &link),
                None => mail::recipient_notification(&sent, &recipient.email, &link),
            };
            match self.send_mail(mail).await {
                Ok(()) => {}
                Err(ServiceError::Port(_)) => undelivered.push(recipient.email.clone()),
                Err(other) => return Err(other),
            }
        }
        let manage_link = self.settings.base_url.manage_link(transfer, &manage);
        let summary_delivered = match self.send_mail(mail::sender_summary(&sent, &manage_link)).await {
            Ok(()) => true,
            Err(ServiceError::Port(_)) => false,
            Err(other) => return Err(other),
        };
        Ok(Sent {
            transfer_id: transfer,
            expires_at: sent.expires_at(),
            sent_now: true,
            undelivered,
            summary_delivered,
            manage_link: Some(manage_link.as_str().to_owned()),
        })
    }
}
