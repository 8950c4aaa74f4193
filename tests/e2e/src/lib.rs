//! End-to-end scenarios of kluis, written once and run on every backend.
//!
//! A scenario drives the real runner over HTTP with the CLI library
//! (`kluis`) as the client — the same code the `kluis` binary runs — and
//! reads the mails the service sent, as a person would. What differs per
//! backend is behind [`Environment`]: where the mails are read, how the
//! stored objects are listed. The test binaries (`tests/embedded.rs`,
//! `tests/moto.rs`) start one runner per test and call every scenario in
//! [`scenarios`].

pub mod embedded;
pub mod fixture;
pub mod scenarios;

/// Declares one test per scenario, each on a fresh environment from
/// `$start` (an `async fn() -> Arc<impl Environment>`), so every backend
/// runs the same list under the same names.
#[macro_export]
macro_rules! scenario_tests {
    ($start:ident) => {
        $crate::scenario_tests!(@one $start, staff_send_two_files_to_two_partners_who_receive_them_byte_for_byte, full_wizard);
        $crate::scenario_tests!(@one $start, a_partner_replies_with_a_file_and_the_sender_receives_it, reply);
        $crate::scenario_tests!(@one $start, after_a_revoke_the_receive_is_gone_and_writes_nothing, revoke);
        $crate::scenario_tests!(@one $start, after_retention_and_the_expiry_job_the_receive_is_gone_and_the_objects_deleted, expiry);
        $crate::scenario_tests!(@one $start, when_the_password_is_wrong_too_often_the_transfer_locks_and_the_sender_is_told, lockout);
        $crate::scenario_tests!(@one $start, a_partner_may_send_to_staff, partner_to_staff);
        $crate::scenario_tests!(@one $start, a_stranger_sending_to_a_stranger_is_refused_by_policy, stranger_to_stranger);
    };
    (@one $start:ident, $name:ident, $scenario:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::scenarios::$scenario($start().await).await;
        }
    };
}

use core::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use kluis_core::ids::TransferId;
use kluis_core::policy::Policy;
use kluis_runner::Runner;
use kluis_runner::backend::Backend;
use kluis_runner::options::Options;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

/// One mail the service sent, as a mailbox shows it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The `To` addresses.
    pub to: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The text body (where the codes and links are).
    pub text: String,
}

/// What a scenario needs of a backend: a running runner, its mails and its
/// stored objects.
pub trait Environment: Send + Sync + 'static {
    /// The served runner.
    fn served(&self) -> &Served;

    /// Every mail sent so far by this runner's mailer (and, on a shared
    /// emulator, by others: scenarios use addresses of their own), oldest
    /// first. Blocking: call from a blocking thread.
    fn mails(&self) -> Vec<Mail>;

    /// The keys of the objects stored for `transfer`, finished or not.
    fn stored_objects(&self, transfer: TransferId) -> impl Future<Output = Vec<String>> + Send;
}

/// A runner serving on a loopback port in this process; stops when dropped.
pub struct Served {
    /// `http://127.0.0.1:<port>`, which the mail links point at.
    pub base: String,
    /// The runner's handle: its clock and its expiry job.
    pub runner: Runner,
    _stop: oneshot::Sender<()>,
}

impl Served {
    /// Binds `options` on `backend` and serves in a background task.
    pub async fn start(options: &Options, backend: Backend) -> Self {
        let bound = kluis_runner::bind_on(options, backend)
            .await
            .expect("the runner starts");
        let base = bound.base_url();
        let runner = bound.runner.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        // Dropping `_stop` resolves `stopped`, so the server shuts down with
        // the test rather than serving a runtime that is gone.
        tokio::spawn(bound.serve(async {
            let _ = stopped.await;
        }));
        Self {
            base,
            runner,
            _stop: stop,
        }
    }
}

/// Runner options for a test: a free loopback port, data under `dir`,
/// the default internal domain (`example.nl`).
pub fn options(dir: &Path) -> Options {
    let web = dir.join("web");
    std::fs::create_dir_all(&web).expect("a web folder");
    std::fs::write(web.join("index.html"), b"<!doctype html><title>kluis</title>").expect("a page");
    Options {
        address: "127.0.0.1:0".parse().expect("an address"),
        data: dir.join("data"),
        web,
        ..Options::default()
    }
}

/// The policy the runner applies: the same function and environment it reads.
pub fn policy() -> Policy {
    let mut policy = kluis_function::settings::policy(
        &kluis_http::config::Config::from_process(),
        &[kluis_runner::options::DEFAULT_INTERNAL_DOMAIN],
    )
    .expect("the policy of the environment");
    policy.internal_domains = vec![kluis_runner::options::DEFAULT_INTERNAL_DOMAIN.to_owned()];
    policy
}

/// A tag that makes this run's addresses unique, so scenarios sharing one
/// emulator's mail log never read each other's mails.
pub fn tag() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}x{:x}x{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs blocking code (the CLI library, the mailbox reads) off the runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        // The panic's own message (a failed assertion, moto's install
        // hint) is the news, not the join error around it.
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// The mails to `to` whose subject contains `subject`, oldest first. Blocking.
pub fn mails_to<E: Environment>(env: &E, to: &str, subject: &str) -> Vec<Mail> {
    env.mails()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == to) && m.subject.contains(subject))
        .collect()
}

/// The newest mail to `to` whose subject contains `subject`. Blocking.
pub fn mail_to<E: Environment>(env: &E, to: &str, subject: &str) -> Mail {
    mails_to(env, to, subject)
        .pop()
        .unwrap_or_else(|| panic!("no mail to {to} with {subject:?} in its subject"))
}

/// The subjects of the code mail, in English and in Dutch (a send's
/// language is its code mail's language).
const CODE_SUBJECTS: [&str; 2] = ["verification code", "verificatiecode"];

/// The six-digit code in the newest code mail to `email`, in either
/// language. Blocking.
pub fn code_for<E: Environment>(env: &E, email: &str) -> Zeroizing<String> {
    let mail = env
        .mails()
        .into_iter()
        .rfind(|m| m.to.iter().any(|t| t == email) && CODE_SUBJECTS.iter().any(|s| m.subject.contains(s)))
        .unwrap_or_else(|| panic!("no code mail to {email}"));
    let code = mail
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .expect("a six-digit code in the mail");
    Zeroizing::new(code.to_owned())
}

/// The first link in `mail` to `{base}{segment}`, as the mail spells it.
pub fn link_in(mail: &Mail, base: &str, segment: &str) -> String {
    let needle = format!("{base}{segment}");
    let start = mail
        .text
        .find(&needle)
        .unwrap_or_else(|| panic!("no {needle} link in {:?}", mail.subject));
    mail.text[start..]
        .split(|c: char| c.is_whitespace() || "<>\"')".contains(c))
        .next()
        .expect("a link")
        .to_owned()
}

/// Deterministic test bytes, different per seed.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| pattern_byte(i as u64, seed)).collect()
}

/// Byte `i` of [`pattern`] with `seed`: a function of the position alone,
/// so a file of any size can be written piece by piece (see
/// [`write_pattern`]) and still equal `pattern(len, seed)`.
pub fn pattern_byte(i: u64, seed: u8) -> u8 {
    (i.wrapping_mul(31).wrapping_add(7) as u8).wrapping_add(seed) ^ ((i >> 11) as u8)
}

/// [`pattern`] repeats every 512 KiB: `(i * 31 + 7) as u8` has a period
/// of 256 and `(i >> 11) as u8` one of 256 × 2048.
const PATTERN_PERIOD: usize = 256 << 11;

/// Writes `len` bytes of [`pattern`] with `seed` to `out` in bounded
/// memory, one period computed and then copied, so 1 GiB test files are
/// written at disk speed even unoptimised.
pub fn write_pattern(out: &mut impl std::io::Write, len: u64, seed: u8) -> std::io::Result<()> {
    let period = pattern(PATTERN_PERIOD, seed);
    let mut at = 0u64;
    while at < len {
        let start = (at % PATTERN_PERIOD as u64) as usize;
        let n = (PATTERN_PERIOD - start).min(usize::try_from(len - at).unwrap_or(usize::MAX));
        out.write_all(&period[start..start + n])?;
        at += n as u64;
    }
    Ok(())
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_pattern_writes_pattern_across_its_periods() {
        let len = 3 * PATTERN_PERIOD + 4_099;
        let mut written = Vec::new();
        write_pattern(&mut written, len as u64, 9).expect("written");
        assert!(written == pattern(len, 9));
        assert_ne!(pattern(64, 1), pattern(64, 2), "seeds differ");
    }
}
