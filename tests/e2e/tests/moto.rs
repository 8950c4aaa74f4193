//! The end-to-end scenarios on the AWS backend: the runner in this process
//! on the AWS adapters (DynamoDB, S3, SESv2) pointed at a moto server that
//! the test starts itself (the harness of `kluis-aws`'s tests). Each test
//! gets its own table, bucket and verified mail domain; the mail links
//! point at the runner, the presigned URLs at moto. Mails are read from
//! what moto accepted, objects by listing the bucket.
//!
//! Without moto in the project venv the tests FAIL with the install hint:
//! a skipped backend would pass while proving nothing.

// The harness is shared with kluis-aws's tests; this binary uses a part.
#[allow(dead_code)]
#[path = "../../../shared/aws/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use kluis_aws::S3ObjectStore;
use kluis_core::ids::TransferId;
use kluis_core::ports::ObjectKey;
use kluis_e2e::{Environment, Mail, Served, blocking};
use kluis_runner::backend::Backend;
use support::moto::{MAIL_FROM, Moto};

/// One runner on the AWS adapters over moto.
struct OnMoto {
    served: Served,
    moto: &'static Moto,
    objects: S3ObjectStore,
    _dir: tempfile::TempDir,
}

async fn start() -> Arc<OnMoto> {
    // Starting moto waits for it with blocking calls.
    let moto = blocking(support::moto::shared).await;
    let env = moto.env().await;
    let bucket = env.objects.bucket().to_owned();
    let settings = kluis_aws::Settings {
        // The harness names a test's table and bucket alike (`kluis-<n>`).
        table: bucket.clone(),
        bucket,
        mail_from: MAIL_FROM.into(),
        force_path_style: true,
    };
    let sdk = Box::new(moto.sdk_config().await);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let served = Served::start(&kluis_e2e::options(dir.path()), Backend::Aws { settings, sdk }).await;
    Arc::new(OnMoto {
        served,
        moto,
        objects: env.objects,
        _dir: dir,
    })
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

impl Environment for OnMoto {
    fn served(&self) -> &Served {
        &self.served
    }

    fn mails(&self) -> Vec<Mail> {
        // Moto keeps the mails in the order it accepted them.
        self.moto
            .sent_mail()
            .expect("moto lists the mails it accepted")
            .iter()
            .map(|m| Mail {
                to: strings(&m["destinations"]["ToAddresses"]),
                subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                // Recorded by the harness's moto_server.py beside the HTML.
                text: m["text_body"]
                    .as_str()
                    .expect("moto recorded the text body")
                    .to_owned(),
            })
            .collect()
    }

    async fn stored_objects(&self, transfer: TransferId) -> Vec<String> {
        let listed = self
            .objects
            .client()
            .list_objects_v2()
            .bucket(self.objects.bucket())
            .prefix(ObjectKey::transfer_prefix(transfer))
            .send()
            .await
            .expect("the bucket can be listed");
        listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }
}

kluis_e2e::scenario_tests!(start);
