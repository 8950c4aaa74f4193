//! `kluis send`: the sender's wizard without the pages — verify the sender's
//! address, create the draft, encrypt and upload every file, wrap the
//! content key under the password, seal the manifest, store the key and
//! send.
//!
//! Everything is validated locally first (addresses, files, names), so a
//! typo fails before a code is mailed or a byte is uploaded.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use kluis_core::envelope::{AuthHash, KdfParams as WireKdf, Salt, SealedManifest, WrappedKey};
use kluis_core::error::Field;
use kluis_core::ids::{ChallengeId, FileId as WireFileId, RequestId, TransferId as WireTransferId};
use kluis_core::service::sender::{CodeRequested, RequestCode, SessionOpened};
use kluis_core::service::transfer::{CreateDraft, DraftCreated, Keyed, Sent, SetKey};
use kluis_core::service::upload::{AddFile, CompleteFile, FileCompleted, FileUpload};
use kluis_core::timestamp::Timestamp;
use kluis_core::validate::{EmailAddress, Language, PersonName, PhoneNumber};
use kluis_crypto::{ContentKey, FileEntry, FileId, FileSealer, KdfParams, Manifest, TransferId};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::api::Api;
use crate::error::{Error, Result};
use crate::files::{self, LocalFile};
use crate::progress::Ui;
use crate::upload::{self, Source, Tuning};

/// What to send, to whom. `Debug` leaves the password out.
#[derive(Clone)]
pub struct SendOptions {
    /// The API base, e.g. `https://kluis.example.nl`.
    pub api: String,
    /// The sender's address (verified by a mailed code).
    pub from: String,
    /// The sender's name as recipients see it.
    pub name: String,
    /// The sender's phone number, shown to recipients (to call for the password).
    pub phone: Option<String>,
    /// The recipients' addresses.
    pub to: Vec<String>,
    /// The confidential message (sealed in the manifest; may be empty).
    pub message: String,
    /// The password; `None` generates one (recommended).
    pub password: Option<Zeroizing<String>>,
    /// Days until the transfer expires; `None` is the operator's default.
    pub retention_days: Option<u32>,
    /// Language of the mails.
    pub language: Language,
    /// Whether the sender is mailed when a recipient downloads.
    pub download_receipts: bool,
    /// The files, in the order recipients see them.
    pub files: Vec<SendFile>,
    /// Upload parallelism and retries.
    pub tuning: Tuning,
}

impl std::fmt::Debug for SendOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendOptions")
            .field("api", &self.api)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("files", &self.files)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// One file to send.
#[derive(Debug, Clone)]
pub struct SendFile {
    /// Where the plaintext is.
    pub path: PathBuf,
    /// The name recipients see; `None` is the path's file name.
    pub name: Option<String>,
}

impl SendFile {
    /// A file sent under its own name.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            name: None,
        }
    }
}

/// The outcome of a send. `Debug` leaves the password out.
pub struct SendReport {
    /// The transfer.
    pub transfer_id: WireTransferId,
    /// The password to pass on out of band (shown once, then dropped).
    pub password: Zeroizing<String>,
    /// Whether the password was generated here.
    pub password_generated: bool,
    /// When the transfer expires.
    pub expires_at: Timestamp,
    /// Recipients whose notification could not be mailed.
    pub undelivered: Vec<EmailAddress>,
    /// Whether the summary with the manage link reached the sender.
    pub summary_delivered: bool,
    /// Names and plaintext sizes of the files sent.
    pub files: Vec<(String, u64)>,
}

impl std::fmt::Debug for SendReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendReport")
            .field("transfer_id", &self.transfer_id)
            .field("password", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("undelivered", &self.undelivered)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// The verify request: the code, and `bearer` so the API returns the
/// session token in the body for a client without cookies.
#[derive(Serialize)]
struct Verify<'a> {
    challenge_id: ChallengeId,
    code: &'a str,
    bearer: bool,
}

/// How often a mistyped code may be typed again.
const CODE_TRIES: usize = 3;

/// Runs the whole send. `code` is asked for the code mailed to the given
/// address (the terminal in the binary, the dev mailbox in tests).
pub fn send(
    options: &SendOptions,
    code: &mut dyn FnMut(&str) -> Result<Zeroizing<String>>,
    ui: &Ui,
) -> Result<SendReport> {
    let checked = check(options)?;
    let api = Api::new(&options.api)?;

    ui.note(&format!(
        "Mailing a verification code to {}…",
        checked.request.email
    ));
    let requested: CodeRequested = api.post("/api/sender/code", None, &checked.request)?;
    let session = verify(&api, &requested, checked.request.email.as_str(), code)?;
    let session = Zeroizing::new(session.session_token);

    let draft = CreateDraft {
        request_id: random_request_id()?,
        recipients: checked.recipients.clone(),
        language: options.language,
        download_receipts: options.download_receipts,
        retention_days: options.retention_days,
        notification_text: None,
    };
    let draft: DraftCreated = api.post("/api/transfers", Some(&session), &draft)?;
    let password = match &options.password {
        Some(given) => given.clone(),
        None => Zeroizing::new(kluis_crypto::password::generate()?),
    };
    let sent = fill_and_send(
        &api,
        &session,
        draft.transfer_id,
        &checked.files,
        &password,
        options.message.clone(),
        &options.tuning,
        ui,
    )?;
    Ok(SendReport {
        transfer_id: sent.transfer_id,
        password,
        password_generated: options.password.is_none(),
        expires_at: sent.expires_at,
        undelivered: sent.undelivered,
        summary_delivered: sent.summary_delivered,
        files: checked.files.iter().map(|f| (f.name.clone(), f.size)).collect(),
    })
}

/// The options, validated with the server's own rules.
struct Checked {
    request: RequestCode,
    recipients: Vec<EmailAddress>,
    files: Vec<LocalFile>,
}

fn check(options: &SendOptions) -> Result<Checked> {
    let usage = |e: kluis_core::error::DomainError| Error::Usage(e.to_string());
    let email = EmailAddress::parse(&options.from, Field::SenderEmail).map_err(usage)?;
    let name = PersonName::parse(&options.name, Field::SenderName).map_err(usage)?;
    let phone = options
        .phone
        .as_deref()
        .map(PhoneNumber::parse)
        .transpose()
        .map_err(usage)?;
    if options.to.is_empty() {
        return Err(Error::Usage("at least one recipient (--to) is needed".into()));
    }
    let recipients = options
        .to
        .iter()
        .map(|to| EmailAddress::parse(to, Field::RecipientEmail))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(usage)?;
    if options.files.is_empty() {
        return Err(Error::Usage("at least one file is needed".into()));
    }
    if options.password.as_ref().is_some_and(|p| p.trim().is_empty()) {
        return Err(Error::Usage("the password must not be empty".into()));
    }
    let files = options
        .files
        .iter()
        .map(files::local)
        .collect::<Result<Vec<_>>>()?;
    Ok(Checked {
        request: RequestCode {
            request_id: random_request_id()?,
            name,
            email,
            phone,
            language: options.language,
        },
        recipients,
        files,
    })
}

/// Asks for the code until it is accepted (a few tries for typos).
fn verify(
    api: &Api,
    requested: &CodeRequested,
    email: &str,
    code: &mut dyn FnMut(&str) -> Result<Zeroizing<String>>,
) -> Result<SessionOpened> {
    let mut tries = 0;
    let mut refused: Option<Error> = None;
    loop {
        tries += 1;
        let typed = match (code(email), refused.take()) {
            (Ok(typed), _) => typed,
            // No second answer (a script's stdin ran dry): the refusal is the news.
            (Err(_), Some(previous)) => return Err(previous),
            (Err(error), None) => return Err(error),
        };
        if typed.trim().is_empty() {
            return Err(Error::Usage("no verification code was typed".into()));
        }
        let body = Verify {
            challenge_id: requested.challenge_id,
            code: typed.trim(),
            bearer: true,
        };
        match api.post::<_, SessionOpened>("/api/sender/verify", None, &body) {
            Err(error @ Error::Api { .. }) if is_wrong_code(&error) && tries < CODE_TRIES => {
                eprintln!("That code is not right; try again.");
                refused = Some(error);
            }
            other => return other,
        }
    }
}

fn is_wrong_code(error: &Error) -> bool {
    matches!(error, Error::Api { code, .. } if code == "wrong_code")
}

/// The steps after the draft, shared by [`send`] and [`crate::reply`]:
/// encrypts and uploads every file under a fresh content key, stores the
/// wrapped key and the sealed manifest (names, sizes, SHA-256, `message`)
/// derived from `password`, and sends.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_and_send(
    api: &Api,
    session: &str,
    wire_id: WireTransferId,
    files: &[LocalFile],
    password: &str,
    message: String,
    tuning: &Tuning,
    ui: &Ui,
) -> Result<Sent> {
    let transfer = TransferId::from(wire_id);
    let content = ContentKey::generate()?;
    let mut entries = Vec::with_capacity(files.len());
    for file in files {
        entries.push(upload_one(
            api, session, &content, wire_id, &transfer, file, tuning, ui,
        )?);
    }
    let set_key = seal_key(&content, &transfer, password, message, entries)?;
    let _: Keyed = api.put(&format!("/api/transfers/{wire_id}/key"), session, &set_key)?;
    api.post(&format!("/api/transfers/{wire_id}/send"), Some(session), &())
}

/// Declares, encrypts, uploads and completes one file; returns its
/// manifest entry.
#[allow(clippy::too_many_arguments)]
fn upload_one(
    api: &Api,
    session: &str,
    content: &ContentKey,
    wire_id: WireTransferId,
    transfer: &TransferId,
    file: &LocalFile,
    tuning: &Tuning,
    ui: &Ui,
) -> Result<FileEntry> {
    let id = FileId::random()?;
    let ciphertext_bytes = kluis_crypto::ciphertext_len(file.size)
        .ok_or_else(|| Error::Usage(format!("{} is too large", file.path.display())))?;
    let add = AddFile {
        file_id: WireFileId::from(id),
        ciphertext_bytes,
    };
    let upload: FileUpload = api.post(&format!("/api/transfers/{wire_id}/files"), Some(session), &add)?;
    let sealer = FileSealer::new(&content.file_key(transfer, &id), transfer, &id)?;
    let bar = ui.bytes(&file.name, file.size);
    let source = Source {
        path: &file.path,
        size: file.size,
    };
    // Hash the plaintext on another thread while the workers encrypt and
    // upload; a failed upload stops the hashing rather than reading on.
    let cancel = AtomicBool::new(false);
    let (sha256, parts) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| files::sha256(&file.path, file.size, &cancel));
        let parts = upload::upload_file(api, &source, &sealer, &upload, tuning, &bar);
        if parts.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        let sha256 = hashing
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (sha256, parts)
    });
    let parts = parts?;
    let sha256 = sha256?;
    bar.finish_and_clear();
    let complete = CompleteFile { parts };
    let _: FileCompleted = api.post(
        &format!("/api/transfers/{wire_id}/files/{}/complete", add.file_id),
        Some(session),
        &complete,
    )?;
    Ok(FileEntry {
        id,
        name: file.name.clone(),
        size: file.size,
        media_type: file.media_type.to_owned(),
        sha256,
    })
}

/// Derives the password keys (a fresh salt, bound to `transfer`), wraps
/// the content key and seals the manifest.
fn seal_key(
    content: &ContentKey,
    transfer: &TransferId,
    password: &str,
    message: String,
    files: Vec<FileEntry>,
) -> Result<SetKey> {
    let salt = kluis_crypto::generate_salt()?;
    let kdf = KdfParams::DEFAULT;
    let keys = kluis_crypto::derive_password_keys(password, &salt, kdf, transfer)?;
    let wrapped = kluis_crypto::wrap::wrap(&keys.kek, content, transfer)?;
    let manifest = Manifest { message, files };
    let sealed = manifest.seal(&content.manifest_key(transfer), transfer)?;
    Ok(SetKey {
        wrapped_key: WrappedKey::from_bytes(wrapped),
        salt: Salt::from_bytes(salt),
        kdf: WireKdf {
            m_kib: kdf.m_kib,
            t: kdf.t,
            p: kdf.p,
        },
        auth_hash: AuthHash::from_bytes(kluis_crypto::auth_hash(&keys.auth)),
        manifest: SealedManifest::new(sealed).map_err(|e| Error::Usage(e.to_string()))?,
    })
}

/// A fresh idempotency key for one intent (its retries repeat it).
pub(crate) fn random_request_id() -> Result<RequestId> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| Error::Crypto(kluis_crypto::Error::Random))?;
    Ok(RequestId::from_bytes(bytes))
}
