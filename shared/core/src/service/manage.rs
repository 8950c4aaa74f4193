//! The sender's manage page, opened with the manage token from the summary
//! mail: who downloaded which file when, and revoking the transfer (its
//! objects are deleted at once and each recipient is told).

use serde::{Deserialize, Serialize};

use super::{Ports, Service, ServiceError};
use crate::audit::AuditKind;
use crate::error::DomainError;
use crate::ids::{FileId, Token, TransferId};
use crate::mail;
use crate::ports::StateStore;
use crate::timestamp::Timestamp;
use crate::transfer::{Transfer, TransferState};
use crate::validate::EmailAddress;

/// One download of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Download {
    /// The file.
    pub file_id: FileId,
    /// When it was first reported.
    pub at: Timestamp,
}

/// One recipient's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientStatus {
    /// The address.
    pub email: EmailAddress,
    /// Their first download of any file.
    pub first_download_at: Option<Timestamp>,
    /// Each file they downloaded, once, in the order downloaded.
    pub downloads: Vec<Download>,
}

/// One file as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStatus {
    /// The file.
    pub file_id: FileId,
    /// Its ciphertext size.
    pub ciphertext_bytes: u64,
}

/// The manage page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The transfer.
    pub transfer_id: TransferId,
    /// Its state.
    pub state: TransferState,
    /// When created.
    pub created_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
    /// The files.
    pub files: Vec<FileStatus>,
    /// The recipients, in the order given.
    pub recipients: Vec<RecipientStatus>,
}

/// The transfer is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// The transfer.
    pub transfer_id: TransferId,
    /// Recipients whose revoke notice the mailer refused.
    pub undelivered: Vec<EmailAddress>,
}

impl<P: Ports> Service<P> {
    /// The status of a sent transfer, per recipient and file. Only a sent
    /// transfer holds the manage token's hash: a gone one answers "gone", a
    /// locked one "locked".
    pub async fn status(&self, transfer: TransferId, manage: &Token) -> Result<Status, ServiceError> {
        let current = self.managed(transfer, manage).await?;
        let events = self.store.list_audit(transfer).await?;
        let recipients = current
            .recipients()
            .iter()
            .enumerate()
            .map(|(index, recipient)| RecipientStatus {
                email: recipient.email.clone(),
                first_download_at: recipient.first_download_at,
                downloads: events
                    .iter()
                    .filter_map(|event| match event.kind {
                        AuditKind::Downloaded { recipient, file } if recipient == index => Some(Download {
                            file_id: file,
                            at: event.at,
                        }),
                        _ => None,
                    })
                    .collect(),
            })
            .collect();
        Ok(Status {
            transfer_id: transfer,
            state: current.state(),
            created_at: current.created_at(),
            expires_at: current.expires_at(),
            files: current
                .files()
                .iter()
                .map(|f| FileStatus {
                    file_id: f.id,
                    ciphertext_bytes: f.ciphertext_bytes,
                })
                .collect(),
            recipients,
        })
    }

    /// Revokes a sent transfer: its key material goes with the transition,
    /// its objects are deleted now, and each recipient gets a notice. Only
    /// the request that wins the write mails; a retry answers "gone".
    pub async fn revoke(&self, transfer: TransferId, manage: &Token) -> Result<Revoked, ServiceError> {
        self.managed(transfer, manage).await?;
        let now = self.now();
        let (_, written) = self
            .transition(transfer, |current| {
                current.authorize_manage(manage).map_err(|_| gone_or(current))?;
                Ok(Some(current.revoke(now)?))
            })
            .await?;
        let Some(revoked) = written else {
            return Err(DomainError::GONE.into());
        };
        self.audit(transfer, AuditKind::Revoked).await?;
        self.purge(&revoked).await?;
        let mut undelivered = Vec::new();
        for recipient in revoked.recipients() {
            match self
                .send_mail(mail::revoke_notice(&revoked, &recipient.email))
                .await
            {
                Ok(()) => {}
                Err(ServiceError::Port(_)) => undelivered.push(recipient.email.clone()),
                Err(other) => return Err(other),
            }
        }
        Ok(Revoked {
            transfer_id: transfer,
            undelivered,
        })
    }

    /// A sent transfer whose manage token this is.
    async fn managed(&self, transfer: TransferId, manage: &Token) -> Result<Transfer, ServiceError> {
        let current = self.transfer(transfer).await?;
        current.authorize_manage(manage).map_err(|_| gone_or(&current))?;
        Ok(current)
    }
}

/// Why a manage token does not open a transfer: gone and locked ones say so
/// (the retrieval link says the same to anyone), otherwise "not found".
fn gone_or(transfer: &Transfer) -> ServiceError {
    match transfer.state() {
        TransferState::Expired | TransferState::Revoked => DomainError::GONE.into(),
        TransferState::Locked => DomainError::TransferLocked.into(),
        _ => DomainError::TransferNotFound.into(),
    }
}
