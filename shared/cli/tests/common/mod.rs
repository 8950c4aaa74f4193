//! The real runner in-process on a port-0 loopback socket, its dev mailbox
//! read over HTTP, and a tiny fault-injecting HTTP relay: what the client's
//! end-to-end tests talk to. No server is mocked.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kluis_runner::options::Options;
use serde_json::Value;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

/// A running runner; stopped by [`Running::stop`].
pub struct Running {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Running {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let web = dir.path().join("web");
        std::fs::create_dir_all(&web).expect("a folder");
        std::fs::write(web.join("index.html"), b"<!doctype html><title>kluis</title>").expect("a page");
        let options = Options {
            address: "127.0.0.1:0".parse().expect("an address"),
            data: dir.path().join("data"),
            web,
            ..Options::default()
        };
        let bound = kluis_runner::bind(&options).await.expect("the runner starts");
        let base = bound.base_url();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(bound.serve(async {
            let _ = stopped.await;
        }));
        Self {
            base,
            stop: Some(stop),
            server: Some(server),
            _dir: dir,
        }
    }

    /// The runner's data folder (state, objects, outbox).
    pub fn data(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server stopped cleanly");
        }
    }
}

/// The dev mailbox, newest first (blocking: call from a blocking thread).
pub fn mails(base: &str) -> Vec<Value> {
    let mut answer = ureq::get(format!("{base}/dev/mail.json"))
        .call()
        .expect("the mailbox answers");
    let text = answer.body_mut().read_to_string().expect("a body");
    serde_json::from_str::<Value>(&text)
        .expect("JSON")
        .as_array()
        .expect("a list")
        .clone()
}

/// The newest mail to `to` whose text contains `needle`.
pub fn mail_to(base: &str, to: &str, needle: &str) -> Value {
    mails(base)
        .into_iter()
        .find(|m| {
            m["to"].as_array().is_some_and(|a| a.iter().any(|t| t == to))
                && m["text"].as_str().is_some_and(|t| t.contains(needle))
        })
        .unwrap_or_else(|| panic!("a mail to {to} containing {needle:?}"))
}

/// The six-digit code in the newest code mail to `email`.
pub fn code_for(base: &str, email: &str) -> kluis::Result<Zeroizing<String>> {
    let mail = mails(base)
        .into_iter()
        .find(|m| m["to"].as_array().is_some_and(|a| a.iter().any(|t| t == email)))
        .expect("a code mail");
    let text = mail["text"].as_str().expect("a text body");
    let code = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .expect("a six-digit code in the mail");
    Ok(Zeroizing::new(code.to_owned()))
}

/// The retrieval link in the newest notification mail to `to`, exactly as
/// the mail spells it (whichever form the templates produce today).
pub fn retrieval_link(base: &str, to: &str) -> String {
    let needle = format!("{base}/retrieve/");
    let mail = mail_to(base, to, &needle);
    let text = mail["text"].as_str().expect("a text body");
    let start = text.find(&needle).expect("the link");
    text[start..]
        .split(|c: char| c.is_whitespace() || "<>\"')".contains(c))
        .next()
        .expect("a link")
        .to_owned()
}

/// The manage link in the newest summary mail to `to`.
pub fn manage_link(base: &str, to: &str) -> String {
    let needle = format!("{base}/manage/");
    let mail = mail_to(base, to, &needle);
    let text = mail["text"].as_str().expect("a text body");
    let start = text.find(&needle).expect("the link");
    text[start..]
        .split(|c: char| c.is_whitespace() || "<>\"')".contains(c))
        .next()
        .expect("a link")
        .to_owned()
}

/// Send options for Ada (internal) to the given partners.
pub fn send_options(base: &str, to: &[&str], files: Vec<kluis::SendFile>) -> kluis::SendOptions {
    kluis::SendOptions {
        api: base.to_owned(),
        from: "ada@example.nl".into(),
        name: "Ada Lovelace".into(),
        phone: None,
        to: to.iter().map(|s| (*s).to_owned()).collect(),
        message: "De stukken, zoals besproken.".into(),
        password: None,
        retention_days: Some(3),
        language: kluis_core::validate::Language::En,
        download_receipts: false,
        files,
        tuning: kluis::Tuning::default(),
    }
}

/// Runs a blocking send with the code read from the dev mailbox.
pub async fn send(options: kluis::SendOptions) -> kluis::Result<kluis::SendReport> {
    tokio::task::spawn_blocking(move || {
        let base = options.api.clone();
        kluis::send(&options, &mut |email| code_for(&base, email), &kluis::Ui::quiet())
    })
    .await
    .expect("send did not panic")
}

/// Runs a blocking receive.
pub async fn receive(options: kluis::ReceiveOptions) -> kluis::Result<kluis::ReceiveReport> {
    tokio::task::spawn_blocking(move || kluis::receive(&options, &kluis::Ui::quiet()))
        .await
        .expect("receive did not panic")
}

/// Runs blocking code off the runtime (the mailbox reads use ureq).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("no panic")
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Deterministic test bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + 7) as u8).wrapping_add(seed))
        .collect()
}

/// An HTTP relay in front of `upstream` (`host:port`) that answers the
/// first `failures` connections with 503 (after reading the request) and
/// forwards every later connection byte for byte.
pub struct FlakyRelay {
    pub address: String,
    pub failed: Arc<AtomicUsize>,
    pub forwarded: Arc<AtomicUsize>,
}

impl FlakyRelay {
    pub fn start(upstream: String, failures: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let address = listener.local_addr().expect("an address").to_string();
        let failed = Arc::new(AtomicUsize::new(0));
        let forwarded = Arc::new(AtomicUsize::new(0));
        let (f, w) = (failed.clone(), forwarded.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                if f.fetch_add(1, Ordering::SeqCst) < failures {
                    std::thread::spawn(move || refuse(stream));
                } else {
                    f.fetch_sub(1, Ordering::SeqCst);
                    w.fetch_add(1, Ordering::SeqCst);
                    let upstream = upstream.clone();
                    std::thread::spawn(move || tunnel(stream, &upstream));
                }
            }
        });
        Self {
            address,
            failed,
            forwarded,
        }
    }
}

/// Reads one request (head and Content-Length body) and answers 503.
fn refuse(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("a handle"));
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let mut stream = stream;
    let _ = stream
        .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
}

/// Copies bytes both ways until either side closes.
fn tunnel(client: TcpStream, upstream: &str) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let (mut c_read, mut s_write) = (
        client.try_clone().expect("a handle"),
        server.try_clone().expect("a handle"),
    );
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut s_write);
        let _ = s_write.shutdown(std::net::Shutdown::Write);
    });
    let (mut s_read, mut c_write) = (server, client);
    let _ = std::io::copy(&mut s_read, &mut c_write);
    let _ = c_write.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}
