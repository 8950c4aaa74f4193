//! The `expire` function, scheduled: expires transfers whose time has come
//! (their key material is dropped), deletes the objects of every gone
//! transfer, aborts their unfinished uploads and purges stale drafts.
//! Idempotent: a run interrupted anywhere is finished by the next one.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use kluis_core::service::expiry::ExpiryReport;
use kluis_core::service::{Ports, ServiceError};
use kluis_function::Shared;

/// Most batches one invocation works through; the next run (a minute
/// later) continues, so one run stays well inside a Lambda timeout.
pub const MAX_BATCHES: usize = 50;

/// One scheduled run: batch after batch while batches come back full.
/// Returns the totals.
pub async fn run<P: Ports>(service: Shared<P>) -> Result<ExpiryReport, ServiceError> {
    let mut total = ExpiryReport::default();
    for _ in 0..MAX_BATCHES {
        let report = service.expire().await?;
        total.expired += report.expired;
        total.purged += report.purged;
        total.more = report.more;
        if !report.more {
            break;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kluis_core::service::testing::{MemoryPorts, walk};
    use kluis_function::testing;

    #[tokio::test]
    async fn a_transfer_past_its_retention_is_expired_and_purged_once() {
        let service = testing::service();
        walk::sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
        assert_eq!(service.objects().object_count(), 1);
        let nothing = run::<MemoryPorts>(service.clone()).await.expect("a run");
        assert_eq!((nothing.expired, nothing.purged), (0, 0), "nothing is due yet");
        service.clock().advance(8 * 24 * 3600);
        let report = run::<MemoryPorts>(service.clone()).await.expect("a run");
        assert_eq!(report.expired, 1);
        assert_eq!(service.objects().object_count(), 0, "the ciphertext is deleted");
        let again = run::<MemoryPorts>(service.clone()).await.expect("a run");
        assert_eq!(again.expired, 0, "idempotent");
    }
}
