//! The end-to-end scenarios on the embedded backend: the runner in this
//! process on a port-0 loopback socket, data in a temporary folder, mails
//! read from its dev mailbox (`/dev/mail.json`), objects from its disk.

use std::sync::Arc;

use kluis_core::ids::TransferId;
use kluis_e2e::{Environment, Mail, Served};
use kluis_runner::backend::Backend;

/// One runner on the embedded adapters in its own data folder.
struct Embedded {
    served: Served,
    dir: tempfile::TempDir,
}

async fn start() -> Arc<Embedded> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let served = Served::start(&kluis_e2e::options(dir.path()), Backend::Embedded).await;
    Arc::new(Embedded { served, dir })
}

impl Environment for Embedded {
    fn served(&self) -> &Served {
        &self.served
    }

    fn mails(&self) -> Vec<Mail> {
        let mut answer = ureq::get(format!("{}/dev/mail.json", self.served.base))
            .call()
            .expect("the dev mailbox answers");
        let text = answer.body_mut().read_to_string().expect("a body");
        let list: Vec<serde_json::Value> = serde_json::from_str(&text).expect("a JSON list");
        let strings = |value: &serde_json::Value| -> Vec<String> {
            value
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        // The mailbox lists the newest first.
        list.iter()
            .rev()
            .map(|m| Mail {
                to: strings(&m["to"]),
                subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                text: m["text"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    async fn stored_objects(&self, transfer: TransferId) -> Vec<String> {
        // Finished objects and unfinished uploads both live under
        // `objects/`, in folders named by the transfer id.
        let id = transfer.to_string();
        kluis_e2e::walk(&self.dir.path().join("data").join("objects"))
            .into_iter()
            .filter(|path| path.components().any(|c| c.as_os_str() == id.as_str()))
            .map(|path| path.display().to_string())
            .collect()
    }
}

kluis_e2e::scenario_tests!(start);
