//! A moto server for the tests, started by the tests themselves: one per
//! test binary, on a free loopback port, from the project's venv
//! (`$KLUIS_VENV` or `<repo>/.venv`), made faithful where it counts (see
//! `moto_server.py`: one request at a time, among others). Each
//! test gets its own table, bucket and verified SES domain, so tests run in
//! parallel without a reset.
//!
//! If moto cannot start, the test FAILS and says how to install it: a
//! skipped adapter test would pass while proving nothing.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use kluis_aws::{DynamoStateStore, S3ObjectStore, SesMailer};
use kluis_core::policy::Policy;
use kluis_core::ports::conformance::mailer::{ReadBack, ReadBackError, SentMail};

const INSTALL_HINT: &str = "install moto into the project venv: \
    python3 -m venv .venv && .venv/bin/pip install -r shared/aws/requirements-test.txt \
    (or set KLUIS_VENV to a venv that has `moto[server]`)";

/// The domain the tests send from; verified in every environment.
pub const MAIL_DOMAIN: &str = "example.nl";
/// The service's From address in the tests.
pub const MAIL_FROM: &str = "kluis@example.nl";

/// How long moto may take to answer its first request (a cold Python start
/// on a busy 2-core machine takes a few seconds).
const STARTUP: Duration = Duration::from_secs(30);

/// `moto_server` with the changes `moto_server.py` explains: serial
/// requests (per-item atomic DynamoDB writes), S3's `NoSuchUpload` for an
/// unknown upload, and every part of a sent mail kept.
const MOTO_SERVER: &str = include_str!("moto_server.py");

/// The `sh` wrapper that runs moto and kills it when our end of its stdin
/// closes: at `Drop`, and also when the test process exits or is killed,
/// since a static is never dropped.
const WATCHDOG: &str = r#""$0" -c "$1" -H 127.0.0.1 -p "$2" >"$3" 2>&1 </dev/null & pid=$!
read -r _ || true
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
exit 0"#;

/// A running moto server.
pub struct Moto {
    child: Child,
    stdin: Option<ChildStdin>,
    endpoint: String,
}

static SHARED: OnceLock<Moto> = OnceLock::new();

/// The moto server of this test binary, started on first use.
pub fn shared() -> &'static Moto {
    SHARED.get_or_init(|| {
        Moto::start().unwrap_or_else(|why| panic!("moto did not start: {why}; {INSTALL_HINT}"))
    })
}

fn venv() -> PathBuf {
    match std::env::var_os("KLUIS_VENV") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl Moto {
    /// Starts moto and waits until it answers.
    pub fn start() -> Result<Self, String> {
        let venv = venv();
        // The console script proves moto is installed; we run it through
        // the venv's Python with our changes (see MOTO_SERVER).
        let moto_server = venv.join("bin/moto_server");
        if !moto_server.is_file() {
            return Err(format!("{} does not exist", moto_server.display()));
        }
        let python = venv.join("bin/python");
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!("kluis-moto-{port}.log"));
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg(&python)
            .arg(MOTO_SERVER)
            .arg(port.to_string())
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh: {e}"))?;
        let stdin = child.stdin.take();
        let moto = Self {
            child,
            stdin,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if ureq::get(format!("{}/moto-api/", moto.endpoint)).call().is_ok() {
                return Ok(moto);
            }
            if started.elapsed() > STARTUP {
                let mut output = String::new();
                if let Ok(mut file) = std::fs::File::open(&log) {
                    let _ = file.read_to_string(&mut output);
                }
                return Err(format!(
                    "no answer on {} after {STARTUP:?}; its output:\n{output}",
                    moto.endpoint
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SDK settings for this server: static test credentials, `us-east-1`.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// A fresh table, bucket and verified mail domain for one test.
    pub async fn env(&self) -> Env {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let sdk = self.sdk_config().await;
        let table = format!("kluis-{n}");
        let bucket = format!("kluis-{n}");
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        kluis_aws::create_table(&dynamodb, &table)
            .await
            .expect("create the table on moto");
        let objects = S3ObjectStore::new(&sdk, &bucket, true);
        objects
            .client()
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("create the bucket on moto");
        let mailer = SesMailer::new(&sdk, MAIL_FROM);
        // Moto answers AlreadyExists for a second test: that is verified too.
        let _ = mailer
            .client()
            .create_email_identity()
            .email_identity(MAIL_DOMAIN)
            .send()
            .await;
        Env {
            state: DynamoStateStore::new(dynamodb, table, Policy::default()),
            objects,
            mailer,
        }
    }

    /// Every mail moto has accepted, as `data.json` lists them (`ses` →
    /// `Message`). Moto answers 500 once per multipart part created since
    /// its last reset, so a 500 is retried. Blocking.
    pub fn sent_mail(&self) -> Result<Vec<serde_json::Value>, ReadBackError> {
        let url = format!("{}/moto-api/data.json", self.endpoint);
        let mut last_error = None;
        for _ in 0..50 {
            match ureq::get(&url).call() {
                Ok(mut response) => {
                    let text = response
                        .body_mut()
                        .with_config()
                        .limit(64 * 1024 * 1024)
                        .read_to_string()?;
                    let data: serde_json::Value = serde_json::from_str(&text)?;
                    return Ok(data["ses"]["Message"].as_array().cloned().unwrap_or_default());
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(format!("moto's data.json kept failing: {last_error:?}").into())
    }
}

/// The mail moto recorded, for the core's mailer conformance suite.
pub struct SentOnMoto(pub &'static Moto);

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl SentMail for SentOnMoto {
    async fn sent(&self) -> Result<Vec<ReadBack>, ReadBackError> {
        let moto = self.0;
        let messages = tokio::task::spawn_blocking(move || moto.sent_mail()).await??;
        Ok(messages
            .iter()
            .map(|message| ReadBack {
                to: strings(&message["destinations"]["ToAddresses"]),
                // Recorded by our moto_server.py; absent would mean unknown.
                reply_to: message.get("reply_to").map(strings),
                subject: message["subject"].as_str().unwrap_or_default().to_owned(),
                bodies: [&message["body"], &message["text_body"]]
                    .into_iter()
                    .filter_map(|body| body.as_str().map(str::to_owned))
                    .collect(),
            })
            .collect())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing the watchdog's stdin makes it kill moto and exit.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// One test's adapters on moto, each on its own table or bucket.
pub struct Env {
    /// DynamoDB state store.
    pub state: DynamoStateStore,
    /// S3 object store (path style).
    pub objects: S3ObjectStore,
    /// SESv2 mailer sending as [`MAIL_FROM`].
    pub mailer: SesMailer,
}
