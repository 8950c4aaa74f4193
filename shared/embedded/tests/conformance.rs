//! The core's conformance suites against the embedded adapters, each on
//! fresh temporary folders.

use kluis_core::ports::conformance;
use kluis_embedded::RedbStateStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redb_store_conforms_to_the_state_store_contract() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let counter = std::sync::atomic::AtomicU32::new(0);
    conformance::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        RedbStateStore::open(dir.path().join(format!("state-{n}.redb"))).expect("open a fresh database")
    })
    .await;
}
