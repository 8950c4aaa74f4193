//! `kluis-fixture`: the runner on the embedded backend serving the
//! repository's `web/` on a free 127.0.0.1 port, driven by JSON lines on
//! stdin — the browser tests' fixture. The protocol and its commands are
//! documented in `kluis_e2e::fixture`.
//!
//! ```text
//! kluis-fixture [--web DIR]    default: the repository's web/ folder
//! ```

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use kluis_e2e::embedded::Embedded;
use kluis_e2e::fixture::Fixture;

fn main() -> ExitCode {
    let web = match web_folder(std::env::args_os().skip(1)) {
        Ok(web) => web,
        Err(message) => {
            eprintln!("kluis-fixture: {message}");
            return ExitCode::from(2);
        }
    };
    // A panic in a command becomes its error answer; one line on stderr
    // says where, without the backtrace `RUST_BACKTRACE` would add.
    std::panic::set_hook(Box::new(|info| eprintln!("kluis-fixture: {info}")));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let env = runtime.block_on(Embedded::start_serving(Some(web)));
    let fixture = Fixture::new(env, runtime.handle().clone());

    let stdout = std::io::stdout();
    let say = |line: serde_json::Value| {
        let mut out = stdout.lock();
        // A closed stdout means the test is gone: stop as on end of input.
        writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
    };
    if !say(fixture.ready()) {
        return ExitCode::FAILURE;
    }
    // Commands run here, off the runtime's threads, which keep serving the
    // browser while a command waits on the runner.
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        if !say(fixture.answer(&line)) {
            break;
        }
    }
    // Dropping the fixture stops the runner and removes its data folder.
    drop(fixture);
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    ExitCode::SUCCESS
}

/// `--web DIR`, or the repository's `web/` beside this crate.
fn web_folder(mut args: impl Iterator<Item = std::ffi::OsString>) -> Result<PathBuf, String> {
    let web = match (args.next(), args.next(), args.next()) {
        (None, ..) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web"),
        (Some(flag), Some(dir), None) if flag == "--web" => PathBuf::from(dir),
        _ => return Err("usage: kluis-fixture [--web DIR]".into()),
    };
    let web = web
        .canonicalize()
        .map_err(|e| format!("{}: {e}", web.display()))?;
    if !web.join("index.html").is_file() {
        return Err(format!("{} has no index.html", web.display()));
    }
    Ok(web)
}
