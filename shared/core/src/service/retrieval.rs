//! The retrieval page: what the link shows before the password (sender,
//! expiry, and the salt and KDF parameters the browser needs to derive the
//! auth key), the unlock that releases the wrapped key, manifest and short-
//! lived downloads to a client that proves the password, and download
//! receipts. Wrong passwords are counted with a conditional counter; the one
//! failure that reaches the limit locks the transfer and tells the sender.

use serde::{Deserialize, Serialize};

use super::{Ports, Service, ServiceError, SignedRequest, derive_id};
use crate::audit::AuditKind;
use crate::envelope::{AuthKey, KdfParams, KeyEnvelope, Salt, SealedManifest, WrappedKey};
use crate::error::DomainError;
use crate::ids::{EventId, FileId, Token, TransferId};
use crate::mail;
use crate::ports::{CounterKey, ObjectKey, ObjectStore, PortError, StateStore};
use crate::timestamp::Timestamp;
use crate::transfer::{RecipientIndex, Sender, Stage, Transfer, TransferState};
use crate::unlock::{FailedUnlock, failure_counter};
use crate::validate::EmailAddress;

/// What the retrieval page shows before the password is typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicInfo {
    /// The transfer.
    pub transfer_id: TransferId,
    /// Who sent it (name, address, phone to call for the password).
    pub sender: Sender,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Its state (always `sent` here: other states are errors).
    pub state: TransferState,
    /// Number of files.
    pub file_count: usize,
    /// The Argon2id salt, to derive the auth key from the password.
    pub salt: Salt,
    /// The Argon2id parameters.
    pub kdf: KdfParams,
    /// The transfer this one answers, for a reply.
    pub in_reply_to: Option<TransferId>,
}

/// The proof of the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unlock {
    /// The auth key derived from the password (its `Debug` is redacted).
    pub auth_key: AuthKey,
}

/// One file's download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDownload {
    /// The file.
    pub file_id: FileId,
    /// Size of its ciphertext.
    pub ciphertext_bytes: u64,
    /// A short-lived presigned GET.
    pub download: SignedRequest,
}

/// What a right password releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unlocked {
    /// The transfer.
    pub transfer_id: TransferId,
    /// The recipient this link belongs to.
    pub recipient: EmailAddress,
    /// The wrapped content key.
    pub wrapped_key: WrappedKey,
    /// The sealed manifest (names, sizes, digests, message).
    pub manifest: SealedManifest,
    /// The files, in upload order.
    pub files: Vec<FileDownload>,
}

/// A finished download, reported by the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDownload {
    /// The auth key again: only someone who knows the password reports.
    pub auth_key: AuthKey,
    /// The file downloaded.
    pub file_id: FileId,
}

/// The download is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadRecorded {
    /// Whether this report mailed the sender a receipt (at most one per
    /// recipient and file, and only when the sender asked).
    pub receipt_sent: bool,
}

impl<P: Ports> Service<P> {
    /// The transfer behind a retrieval link, with what the browser needs to
    /// derive the auth key. Expired or revoked: "gone"; locked: "locked";
    /// a wrong token or an unsent transfer: "not found".
    pub async fn public_info(&self, transfer: TransferId, token: &Token) -> Result<PublicInfo, ServiceError> {
        let (current, _) = self.retrievable(transfer, token).await?;
        let Stage::Sent { envelope, .. } = current.stage() else {
            return Err(DomainError::TransferNotFound.into());
        };
        Ok(PublicInfo {
            transfer_id: transfer,
            sender: current.sender().clone(),
            expires_at: current.expires_at(),
            state: current.state(),
            file_count: current.files().len(),
            salt: envelope.salt.clone(),
            kdf: envelope.kdf,
            in_reply_to: current.in_reply_to(),
        })
    }

    /// Releases the wrapped key, the sealed manifest and presigned downloads
    /// to a client that presents the right auth key. A wrong one is counted;
    /// the failure that reaches the policy's limit locks the transfer and
    /// mails the sender once.
    pub async fn unlock(
        &self,
        transfer: TransferId,
        token: &Token,
        request: Unlock,
    ) -> Result<Unlocked, ServiceError> {
        let (current, recipient) = self.retrievable(transfer, token).await?;
        let (envelope, manifest) = self.authenticate(&current, recipient, &request.auth_key).await?;
        self.audit(
            transfer,
            AuditKind::Unlocked {
                recipient: recipient.0,
            },
        )
        .await?;
        let mut files = Vec::with_capacity(current.files().len());
        for file in current.files() {
            let key = ObjectKey {
                transfer,
                file: file.id,
            };
            let download = self
                .objects
                .presign_download(&key, None, self.settings.download_url_valid_for)
                .await?;
            files.push(FileDownload {
                file_id: file.id,
                ciphertext_bytes: file.ciphertext_bytes,
                download: download.into(),
            });
        }
        Ok(Unlocked {
            transfer_id: transfer,
            recipient: current.recipients()[recipient.0].email.clone(),
            wrapped_key: envelope.wrapped_key,
            manifest,
            files,
        })
    }

    /// Records that the link's recipient downloaded a file, and mails the
    /// sender a receipt if they asked for one: at most one per recipient and
    /// file, claimed in the store before the mail goes out.
    pub async fn record_download(
        &self,
        transfer: TransferId,
        token: &Token,
        request: RecordDownload,
    ) -> Result<DownloadRecorded, ServiceError> {
        let (current, recipient) = self.retrievable(transfer, token).await?;
        self.authenticate(&current, recipient, &request.auth_key).await?;
        let file = request.file_id;
        if !current.files().iter().any(|f| f.id == file) {
            return Err(DomainError::UnknownFile.into());
        }
        let position = u32::try_from(recipient.0).map_err(|_| DomainError::TransferNotFound)?;
        // The event id is derived from what it records: a retried report
        // is recorded once, and the status page lists each download once.
        let event = EventId::from_bytes(derive_id(
            "kluis/download",
            &[transfer.as_bytes(), &position.to_be_bytes(), file.as_bytes()],
        ));
        self.audit_with_id(
            event,
            transfer,
            AuditKind::Downloaded {
                recipient: recipient.0,
                file,
            },
        )
        .await?;
        let now = self.now();
        self.transition(transfer, |current| Ok(current.record_download(recipient, now)?))
            .await?;
        if !current.options().download_receipts {
            return Ok(DownloadRecorded { receipt_sent: false });
        }
        let claim = CounterKey::DownloadReceipt {
            transfer,
            recipient: position,
            file,
        };
        match self
            .store
            .increment_counter(&claim, 1, current.record_expires_at(self.policy()))
            .await
        {
            Ok(_) => {}
            Err(PortError::ConditionFailed) => return Ok(DownloadRecorded { receipt_sent: false }),
            Err(other) => return Err(other.into()),
        }
        self.send_mail(mail::download_receipt(&current, recipient, now))
            .await?;
        Ok(DownloadRecorded { receipt_sent: true })
    }

    /// Reads a transfer and finds the recipient the token belongs to.
    pub(super) async fn retrievable(
        &self,
        transfer: TransferId,
        token: &Token,
    ) -> Result<(Transfer, RecipientIndex), ServiceError> {
        let current = self.transfer(transfer).await?;
        let recipient = current.authorize_retrieval(token, self.now())?;
        Ok((current, recipient))
    }

    /// Checks an auth key; a wrong one is counted and, at the limit, locks
    /// the transfer and mails the sender (only the request whose count
    /// reaches the limit does).
    pub(super) async fn authenticate(
        &self,
        current: &Transfer,
        recipient: RecipientIndex,
        auth_key: &AuthKey,
    ) -> Result<(KeyEnvelope, SealedManifest), ServiceError> {
        if let Some((envelope, manifest)) = current.unlock(auth_key)? {
            return Ok((envelope.clone(), manifest.clone()));
        }
        let policy = self.policy();
        let (key, limit) = failure_counter(current, policy);
        let counted = match self
            .store
            .increment_counter(&key, limit.max, limit.expires_at)
            .await
        {
            Ok(count) => Some(count),
            Err(PortError::ConditionFailed) => None,
            Err(other) => return Err(other.into()),
        };
        let decision = FailedUnlock::decide(counted, policy);
        if let Some(failures) = counted {
            self.audit(
                current.id(),
                AuditKind::UnlockFailed {
                    recipient: recipient.0,
                    failures,
                },
            )
            .await?;
        }
        if decision == FailedUnlock::LockNow {
            let now = self.now();
            let locked = self
                .transition(current.id(), |stored| {
                    if stored.state() == TransferState::Locked {
                        return Ok(None);
                    }
                    Ok(Some(stored.lock(now)?))
                })
                .await;
            match locked {
                Ok((_, Some(_))) => {
                    self.audit(current.id(), AuditKind::Locked).await?;
                    // The lock stands whether or not the notice goes out.
                    match self
                        .send_mail(mail::lockout_notice(current, policy.unlock_attempts))
                        .await
                    {
                        Ok(()) | Err(ServiceError::Port(_)) => {}
                        Err(other) => return Err(other),
                    }
                }
                // Already locked, or revoked or expired meanwhile: no notice.
                Ok((_, None)) | Err(ServiceError::Domain(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Err(decision.error().into())
    }
}
