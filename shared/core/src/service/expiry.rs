//! The scheduled job: transfers whose time has come (sent ones past their
//! retention, drafts and keyed ones past the draft lifetime) are expired,
//! which drops their key material, and every gone transfer (expired,
//! revoked, locked) loses its objects and unfinished uploads. Idempotent:
//! a run interrupted anywhere is finished by the next one.

use serde::{Deserialize, Serialize};

use super::{Ports, Service, ServiceError};
use crate::audit::AuditKind;
use crate::error::DomainError;
use crate::ports::{ObjectStore, PortError, StateStore};
use crate::transfer::Transfer;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryReport {
    /// Live transfers moved to expired.
    pub expired: usize,
    /// Gone transfers whose objects were deleted.
    pub purged: usize,
    /// Whether the batch was full, so another run should follow at once.
    pub more: bool,
}

impl<P: Ports> Service<P> {
    /// Expires and purges the transfers due now, at most the settings'
    /// batch. Safe to run concurrently with itself and with any request:
    /// every change is a conditional write, every deletion idempotent.
    pub async fn expire(&self) -> Result<ExpiryReport, ServiceError> {
        let now = self.now();
        let batch = self.settings.expiry_batch;
        let due = self.store.list_due_for_purge(now, batch).await?;
        let mut report = ExpiryReport {
            more: due.len() >= batch,
            ..ExpiryReport::default()
        };
        for id in due {
            let (_, expired) = match self
                .transition(id, |current| {
                    if current.state().is_terminal() || now < current.expires_at() {
                        return Ok(None);
                    }
                    Ok(Some(current.expire(now)?))
                })
                .await
            {
                Ok(outcome) => outcome,
                // Dropped by its TTL meanwhile: nothing left to do.
                Err(ServiceError::Domain(DomainError::TransferNotFound)) => continue,
                Err(other) => return Err(other),
            };
            if expired.is_some() {
                report.expired += 1;
                self.audit(id, AuditKind::Expired).await?;
            }
            let current = self.transfer(id).await?;
            if current.state().is_terminal() && !current.is_purged() && self.purge(&current).await? {
                report.purged += 1;
            }
        }
        Ok(report)
    }

    /// Deletes a gone transfer's objects and records it; `true` if this call
    /// recorded it (a concurrent purge may have).
    pub(super) async fn purge(&self, gone: &Transfer) -> Result<bool, ServiceError> {
        match self.objects.delete_transfer_objects(gone.id()).await {
            Ok(()) | Err(PortError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
        let (_, written) = self
            .transition(gone.id(), |current| {
                if current.is_purged() {
                    return Ok(None);
                }
                Ok(Some(current.mark_purged()?))
            })
            .await?;
        if written.is_some() {
            self.audit(gone.id(), AuditKind::Purged).await?;
        }
        Ok(written.is_some())
    }
}
