//! The core's conformance suites against the embedded adapters, each on
//! fresh temporary folders; the disk store's URLs are served by hyper on
//! 127.0.0.1, as the single-machine runner will serve them.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};

use kluis_core::ports::conformance;
use kluis_embedded::RedbStateStore;
use support::served_disk_store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redb_store_conforms_to_the_state_store_contract() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let counter = AtomicU32::new(0);
    conformance::run_all(|| {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        RedbStateStore::open(dir.path().join(format!("state-{n}.redb"))).expect("open a fresh database")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_store_conforms_to_the_object_store_contract() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = served_disk_store(dir.path()).await;
    conformance::object_store::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_store_refuses_tampered_and_expired_urls() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = served_disk_store(dir.path()).await;
    conformance::object_store::presigned_urls_are_refused_when_tampered_or_expired(&store).await;
}

/// Reads the outbox back for the mailer suite.
struct Outbox(std::path::PathBuf);

impl conformance::mailer::SentMail for Outbox {
    async fn sent(&self) -> Result<Vec<conformance::mailer::ReadBack>, conformance::mailer::ReadBackError> {
        let messages = kluis_embedded::read_outbox(&self.0).await?;
        Ok(messages
            .into_iter()
            .map(|m| conformance::mailer::ReadBack {
                to: m.to,
                reply_to: Some(m.reply_to),
                subject: m.subject,
                bodies: m.text.into_iter().chain(m.html).collect(),
            })
            .collect())
    }
}

#[tokio::test]
async fn the_outbox_mailer_conforms_to_the_mailer_contract() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let from =
        kluis_core::validate::EmailAddress::parse("noreply@example.nl", kluis_core::Field::SenderEmail)
            .expect("a valid address");
    let mailer = kluis_embedded::OutboxMailer::open(dir.path(), "kluis", &from)
        .await
        .expect("open the outbox");
    conformance::mailer::run_all(&mailer, &Outbox(dir.path().to_path_buf())).await;
}
