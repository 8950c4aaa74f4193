//! The function binary run the way `infra/Dockerfile` runs it: an empty
//! environment but for the image's own `ENV` lines (read from the
//! Dockerfile, so the two cannot drift) and what an operator passes at run
//! time — the `KLUIS_*` settings and the AWS endpoint, here a moto server
//! the test starts — the port the platform chooses in `$PORT`, and a fresh
//! working folder that must stay empty (no data folder: state lives in the
//! services). It must answer `GET /health`, serve its route end to end on
//! the AWS adapters (the code is mailed through SESv2), stop cleanly on
//! SIGTERM, and refuse to start without a required setting.
//!
//! Without moto in the project venv this FAILS with the install hint.
//! `KLUIS_CONTAINER_BINARY=<path>` runs another build of `kluis-sender`
//! instead, such as the statically linked one the image holds.

// The moto harness of kluis-aws's tests; this binary uses a part of it.
#[allow(dead_code)]
#[path = "../../../shared/aws/tests/support/mod.rs"]
mod support;

use std::io::Read as _;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::moto::{MAIL_FROM, Moto};

/// The `ENV` settings of the image's final stage, as `(name, value)`.
fn dockerfile_env() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/Dockerfile");
    let text = std::fs::read_to_string(path).expect("infra/Dockerfile is readable");
    let final_stage = text
        .rsplit_once("\nFROM ")
        .map(|(_, stage)| stage)
        .expect("the Dockerfile has stages");
    assert!(
        final_stage.starts_with("scratch"),
        "the image has nothing but the binary"
    );
    assert!(
        final_stage.contains("ENTRYPOINT [\"/kluis-function\"]"),
        "the image runs the function binary"
    );
    let env: Vec<(String, String)> = final_stage
        .lines()
        .filter_map(|line| line.strip_prefix("ENV "))
        .map(|pair| {
            let (name, value) = pair.split_once('=').expect("ENV NAME=value");
            (name.to_owned(), value.to_owned())
        })
        .collect();
    assert!(env.iter().any(|(name, _)| name == "PORT"), "the image sets PORT");
    env
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// The container's process: only the image's environment, `settings` on
/// top (the operator's), `port` as the platform's `$PORT`, in `dir`.
fn container(settings: &[(&str, String)], port: u16, dir: &std::path::Path) -> Child {
    // The image's own (static, musl) binary when one is named; else the one cargo built.
    let binary = std::env::var_os("KLUIS_CONTAINER_BINARY")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_kluis-sender").into());
    let mut command = Command::new(binary);
    command.env_clear().current_dir(dir);
    for (name, value) in dockerfile_env() {
        command.env(name, value);
    }
    for (name, value) in settings {
        command.env(name, value);
    }
    command
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the function binary starts")
}

/// What an operator passes to the container: the service settings and the
/// AWS endpoint (moto), with credentials, as a deployment would.
async fn operator_settings(moto: &Moto) -> Vec<(&'static str, String)> {
    let env = moto.env().await;
    let endpoint = moto
        .sdk_config()
        .await
        .endpoint_url()
        .expect("moto's endpoint")
        .to_owned();
    let table = env.state.table().to_owned();
    let bucket = env.objects.bucket().to_owned();
    vec![
        ("KLUIS_BASE_URL", "https://kluis.example.nl".to_owned()),
        ("KLUIS_INTERNAL_DOMAINS", "example.nl".to_owned()),
        ("KLUIS_TABLE", table),
        ("KLUIS_BUCKET", bucket),
        ("KLUIS_MAIL_FROM", MAIL_FROM.to_owned()),
        ("KLUIS_S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}

/// Polls `GET /health` until it answers (the binary builds its clients first).
fn wait_for_health(port: u16, child: &mut Child) -> Value {
    let started = Instant::now();
    loop {
        if let Ok(mut answer) = ureq::get(format!("http://127.0.0.1:{port}/health")).call() {
            assert_eq!(answer.status(), 200);
            return serde_json::from_str(&answer.body_mut().read_to_string().expect("a body")).expect("JSON");
        }
        if let Some(status) = child.try_wait().expect("the child's status") {
            panic!(
                "the function exited before answering: {status}; {}",
                stderr(child)
            );
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no answer on $PORT");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stderr(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut text);
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_serves_on_port_with_the_images_environment_and_no_data_folder() {
    let moto = tokio::task::spawn_blocking(support::moto::shared)
        .await
        .expect("moto");
    let settings = operator_settings(moto).await;
    let dir = tempfile::tempdir().expect("a working folder");
    let port = free_port();
    let mut child = container(&settings, port, dir.path());

    let health = tokio::task::block_in_place(|| wait_for_health(port, &mut child));
    assert_eq!(health, json!({ "status": "ok" }));

    let email = "ada.container@example.nl";
    let answer = tokio::task::block_in_place(|| {
        ureq::post(format!("http://127.0.0.1:{port}/api/sender/code"))
            .header("content-type", "application/json")
            .send(
                json!({
                    "request_id": "Q29udGFpbmVyVGVzdDAwMQ",
                    "name": "Ada Lovelace",
                    "email": email,
                })
                .to_string(),
            )
            .map(|mut a| (a.status(), a.body_mut().read_to_string().expect("a body")))
    });
    let (status, body) = answer.expect("the code request is answered");
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert!(body["challenge_id"].is_string(), "{body}");
    let mails = tokio::task::block_in_place(|| moto.sent_mail()).expect("moto's mail");
    assert!(
        mails
            .iter()
            .any(|m| m["destinations"]["ToAddresses"][0].as_str() == Some(email)),
        "the code went out through SESv2"
    );

    // SIGTERM, as a platform stops a container: a clean exit.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "SIGTERM ends the process cleanly: {status}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("readable").collect();
    assert!(
        left.is_empty(),
        "the function wrote into its working folder: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_table_the_container_stops_at_once_and_names_the_variable() {
    let moto = tokio::task::spawn_blocking(support::moto::shared)
        .await
        .expect("moto");
    let settings: Vec<_> = operator_settings(moto)
        .await
        .into_iter()
        .filter(|(name, _)| *name != "KLUIS_TABLE")
        .collect();
    let dir = tempfile::tempdir().expect("a working folder");
    let mut child = container(&settings, free_port(), dir.path());
    let status = tokio::task::block_in_place(|| child.wait()).expect("it exits");
    assert!(!status.success());
    assert!(
        stderr(&mut child).contains("KLUIS_TABLE"),
        "the message names the variable"
    );
}
