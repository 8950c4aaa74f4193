//! The `kluis` binary's argument handling: refusals before any network use,
//! with the exit code the README documents.

use std::process::Command;

fn kluis(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kluis"))
        .args(args)
        // Nothing here may reach a server; a dead address proves it.
        .env("KLUIS_API", "http://127.0.0.1:9")
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn fail_send_without_a_recipient_is_a_usage_error() {
    let (code, stdout, stderr) = kluis(&["send", "--from", "ada@example.nl", "--name", "Ada", "x.txt"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("--to"), "{stderr}");
}

#[test]
fn fail_send_with_a_bad_address_is_refused_before_any_request() {
    let args = [
        "send",
        "--from",
        "not-an-address",
        "--name",
        "Ada",
        "--to",
        "p@example.org",
        "Cargo.toml",
    ];
    let (code, _, stderr) = kluis(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("kluis: "), "{stderr}");
}

#[test]
fn fail_send_of_a_missing_file_names_the_file() {
    let args = [
        "send",
        "--from",
        "ada@example.nl",
        "--name",
        "Ada",
        "--to",
        "p@example.org",
        "no-such-file.bin",
    ];
    let (code, _, stderr) = kluis(&args);
    assert_eq!(code, 6, "{stderr}");
    assert!(stderr.contains("no-such-file.bin"), "{stderr}");
}

#[test]
fn fail_receive_of_something_that_is_not_a_link() {
    let (code, _, stderr) = kluis(&["receive", "https://example.nl/somewhere", "--password", "x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a kluis retrieval link"), "{stderr}");
}

#[test]
fn fail_an_unknown_language_is_a_usage_error() {
    let args = [
        "send",
        "--from",
        "a@example.nl",
        "--name",
        "A",
        "--to",
        "p@example.org",
        "--language",
        "de",
        "f",
    ];
    let (code, _, stderr) = kluis(&args);
    assert_eq!(code, 2);
    assert!(stderr.contains("language"), "{stderr}");
}

#[test]
fn fail_reply_without_files_is_a_usage_error() {
    let (code, stdout, stderr) = kluis(&["reply", "http://127.0.0.1:9/retrieve/x#y", "--name", "Ada"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("FILES"), "{stderr}");
}

#[test]
fn fail_reply_to_something_that_is_not_a_link_is_refused_before_any_request() {
    let args = [
        "reply",
        "not a link",
        "--name",
        "Ada",
        "--password",
        "x",
        "Cargo.toml",
    ];
    let (code, _, stderr) = kluis(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("kluis: "), "{stderr}");
}
