//! The end-to-end scenarios on the embedded backend: the runner in this
//! process on a port-0 loopback socket, data in a temporary folder, mails
//! read from its dev mailbox (`/dev/mail.json`), objects from its disk
//! (the environment is `kluis_e2e::embedded`, shared with `kluis-fixture`).

use kluis_e2e::embedded::Embedded;

kluis_e2e::scenario_tests!(start);

async fn start() -> std::sync::Arc<Embedded> {
    Embedded::start().await
}
