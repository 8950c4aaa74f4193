//! `kluis receive`: open a retrieval link — public info, the password,
//! unlock with the derived auth key, unwrap the content key, open the
//! manifest, then download, decrypt and verify every file into the output
//! folder.
//!
//! Every manifest name is checked before the first byte is downloaded, so a
//! hostile name fails the whole receive with nothing written.

use std::path::PathBuf;

use kluis_core::ids::FileId as WireFileId;
use kluis_core::service::retrieval::{DownloadRecorded, PublicInfo, RecordDownload, Unlock, Unlocked};
use kluis_core::transfer::Sender;
use kluis_crypto::{KdfParams, Manifest, TransferId};
use zeroize::Zeroizing;

use crate::api::Api;
use crate::download;
use crate::error::{Error, Result};
use crate::link::{self, LinkKind};
use crate::names;
use crate::progress::Ui;
use crate::prompt;
use crate::retry::Retry;

/// What to receive, and where. `Debug` leaves the link's token and the
/// password out.
#[derive(Clone)]
pub struct ReceiveOptions {
    /// The retrieval link from the notification mail.
    pub link: String,
    /// The password; `None` asks on the terminal (or reads a line of stdin).
    pub password: Option<Zeroizing<String>>,
    /// The folder the files land in (must exist).
    pub out: PathBuf,
}

impl std::fmt::Debug for ReceiveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let link = self
            .link
            .split_once('#')
            .map_or(self.link.as_str(), |(before, _)| before);
        f.debug_struct("ReceiveOptions")
            .field("link", &format_args!("{link}#<redacted>"))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("out", &self.out)
            .finish()
    }
}

/// Tries per file download: a dropped connection restarts the file (the
/// presigned URLs cover whole objects only, so no ranged resume).
const DOWNLOAD_RETRY: Retry = Retry {
    attempts: 3,
    first_wait: std::time::Duration::from_secs(1),
};

/// One file received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFile {
    /// The name in the manifest.
    pub name: String,
    /// Where it was written (the name, or "name (n).ext" if that existed).
    pub path: PathBuf,
    /// Plaintext bytes.
    pub size: u64,
}

/// The outcome of a receive.
#[derive(Debug)]
pub struct ReceiveReport {
    /// The transfer.
    pub transfer_id: kluis_core::ids::TransferId,
    /// Who sent it (as verified by the service).
    pub sender: Sender,
    /// The confidential message.
    pub message: String,
    /// The files, in manifest order.
    pub files: Vec<ReceivedFile>,
}

/// Runs the whole receive.
pub fn receive(options: &ReceiveOptions, ui: &Ui) -> Result<ReceiveReport> {
    let link = link::parse(&options.link, LinkKind::Retrieve)?;
    let out = &options.out;
    if out.exists() && !out.is_dir() {
        return Err(Error::Usage(format!("{} is not a folder", out.display())));
    }
    // A missing folder is made, as `--out` promises a place to write to.
    std::fs::create_dir_all(out).map_err(|source| Error::File {
        path: out.clone(),
        source,
    })?;
    let api = Api::new(&link.api)?;
    let token = Zeroizing::new(link.token.reveal());
    let wire_id = link.transfer;
    let transfer = TransferId::from(wire_id);
    let info: PublicInfo = api.get(&format!("/api/retrieve/{wire_id}"), &token)?;

    let password = match &options.password {
        Some(given) => given.clone(),
        None => prompt::password(&format!("Password for the files from {}: ", info.sender.name))?,
    };
    let kdf = KdfParams {
        m_kib: info.kdf.m_kib,
        t: info.kdf.t,
        p: info.kdf.p,
    };
    ui.note("Checking the password…");
    let keys = kluis_crypto::derive_password_keys(&password, info.salt.as_bytes(), kdf, &transfer)
        .map_err(|e| Error::Protocol(format!("the transfer's key parameters are refused: {e}")))?;
    drop(password);
    let auth = keys.auth.clone();
    let unlock = Unlock {
        auth_key: auth.clone(),
    };
    let unlocked: Unlocked = match api.post(&format!("/api/retrieve/{wire_id}/unlock"), Some(&token), &unlock)
    {
        Err(Error::Api { code, message, .. }) if code == "wrong_password" => {
            return Err(Error::WrongPassword(message));
        }
        other => other?,
    };

    // The server accepted the auth key, so a key that does not unwrap or a
    // manifest that does not open was altered: an integrity failure.
    let integrity = |what: &str, error: kluis_crypto::Error| Error::Integrity {
        what: what.to_owned(),
        reason: format!("{error} ({})", error.code()),
    };
    let content = kluis_crypto::wrap::unwrap(&keys.kek, unlocked.wrapped_key.as_bytes(), &transfer)
        .map_err(|e| integrity("the wrapped key", e))?;
    let manifest = Manifest::open(
        unlocked.manifest.as_bytes(),
        &content.manifest_key(&transfer),
        &transfer,
    )
    .map_err(|e| integrity("the manifest", e))?;
    for entry in &manifest.files {
        names::check(&entry.name)?;
    }

    let mut received = Vec::with_capacity(manifest.files.len());
    for entry in &manifest.files {
        let wire_file = WireFileId::from(entry.id);
        let offered = unlocked
            .files
            .iter()
            .find(|f| f.file_id == wire_file)
            .ok_or_else(|| integrity(&entry.name, kluis_crypto::Error::ManifestMalformed))?;
        if kluis_crypto::ciphertext_len(entry.size) != Some(offered.ciphertext_bytes) {
            return Err(Error::Integrity {
                what: entry.name.clone(),
                reason: "the stored object's size does not match the manifest".into(),
            });
        }
        let bar = ui.bytes(&entry.name, entry.size);
        let key = content.file_key(&transfer, &entry.id);
        let verified = DOWNLOAD_RETRY.run(
            || download::fetch(&api, &offered.download, &transfer, entry, &key, out, &bar),
            || true,
            |error, _| {
                ui.note(&format!("{}: {error}; starting again", entry.name));
                bar.reset();
            },
        )?;
        bar.finish_and_clear();
        let record = RecordDownload {
            auth_key: auth.clone(),
            file_id: wire_file,
        };
        let _: DownloadRecorded = api.post(
            &format!("/api/retrieve/{wire_id}/downloads"),
            Some(&token),
            &record,
        )?;
        let path = verified.place(out, &entry.name)?;
        received.push(ReceivedFile {
            name: entry.name.clone(),
            path,
            size: entry.size,
        });
    }
    Ok(ReceiveReport {
        transfer_id: wire_id,
        sender: info.sender,
        message: manifest.message,
        files: received,
    })
}
