//! The `kluis-runner` binary itself: it prints where to open things, serves,
//! and exits cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[cfg(unix)]
#[test]
fn the_binary_prints_its_addresses_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kluis-runner"))
        .args(["--port", "0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--web")
        .arg(dir.path())
        .env_remove("KLUIS_BIND")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the runner starts");
    let stdout = child.stdout.take().expect("piped");
    let banner = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with("kluis is running: "))
        .expect("the banner is printed");
    let base = banner
        .strip_prefix("kluis is running: pages ")
        .and_then(|rest| rest.split(' ').next())
        .expect("the pages address")
        .trim_end_matches('/')
        .to_owned();
    assert!(
        banner.ends_with(&format!("dev mailbox {base}/dev/mail")),
        "{banner}"
    );

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut health = agent
        .get(format!("{base}/api/health"))
        .call()
        .expect("health answers");
    assert_eq!(
        health.body_mut().read_to_string().expect("a body"),
        r#"{"status":"ok"}"#
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("the runner exits");
    assert!(status.success(), "{status}");
}
