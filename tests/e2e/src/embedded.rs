//! The embedded backend as an [`Environment`]: a runner in this process on
//! a port-0 loopback socket, data in a temporary folder, mails read from
//! its dev mailbox (`/dev/mail.json`), objects from its disk. The embedded
//! scenario tests and the browser tests' fixture (`kluis-fixture`) both
//! start it here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kluis_core::ids::TransferId;
use kluis_runner::backend::Backend;

use crate::{Environment, Mail, Served};

/// One runner on the embedded adapters in its own data folder, which is
/// removed when this is dropped.
pub struct Embedded {
    served: Served,
    dir: tempfile::TempDir,
}

impl Embedded {
    /// A runner serving the stub page of [`crate::options`].
    pub async fn start() -> Arc<Self> {
        Self::start_serving(None).await
    }

    /// A runner serving the pages in `web`, or the stub page when `None`.
    pub async fn start_serving(web: Option<PathBuf>) -> Arc<Self> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut options = crate::options(dir.path());
        if let Some(web) = web {
            options.web = web;
        }
        let served = Served::start(&options, Backend::Embedded).await;
        Arc::new(Self { served, dir })
    }

    /// The runner's data folder (`state.redb`, `objects/`, `outbox/`).
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The temporary folder this runner owns (the data folder is inside):
    /// callers may keep scratch files here, removed with it.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }
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
        crate::walk(&self.data().join("objects"))
            .into_iter()
            .filter(|path| path.components().any(|c| c.as_os_str() == id.as_str()))
            .map(|path| path.display().to_string())
            .collect()
    }
}
