//! Downloading and decrypting one file into a temporary file in the output
//! folder, in constant memory: the HTTP body is read chunk by chunk by the
//! crypto crate's streaming decryptor, hashed on the way to disk, and only a
//! file that decrypted completely and matches the manifest's size and
//! SHA-256 is synced and renamed into place (never over an existing file).

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use kluis_core::service::SignedRequest;
use kluis_crypto::io::StreamError;
use kluis_crypto::{FileEntry, FileKey, TransferId};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use crate::api::Api;
use crate::error::{Error, Result};
use crate::names;

/// A decrypted, verified file not yet in place: dropping it deletes it.
pub(crate) struct Verified {
    temp: NamedTempFile,
}

/// Downloads `entry` from `download`, decrypts it with `key` into a
/// temporary file in `out` and checks it against the manifest.
pub(crate) fn fetch(
    api: &Api,
    download: &SignedRequest,
    transfer: &TransferId,
    entry: &FileEntry,
    key: &FileKey,
    out: &Path,
    bar: &ProgressBar,
) -> Result<Verified> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".kluis-").suffix(".part");
    // A received file gets the usual permissions (0666 less the umask), not
    // tempfile's private 0600, as any other downloaded file would.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let temp = builder.tempfile_in(out).map_err(|e| Error::file(out, e))?;
    let (body, _) = api.download(download)?;
    // A second handle, so the temporary file itself stays free to rename.
    let handle = temp
        .as_file()
        .try_clone()
        .map_err(|e| Error::file(temp.path(), e))?;
    let mut sink = Sink {
        inner: BufWriter::new(handle),
        hasher: Sha256::new(),
        failed: None,
    };
    let result = kluis_crypto::io::decrypt(key, transfer, &entry.id, bar.wrap_read(body), &mut sink);
    let integrity = |reason: String| Error::Integrity {
        what: entry.name.clone(),
        reason,
    };
    let written = match result {
        Ok(written) => written,
        // The writer's own failure is a disk problem, not the network's.
        Err(StreamError::Io(_)) if sink.failed.is_some() => {
            let error = sink.failed.take().expect("checked");
            return Err(Error::file(temp.path(), error));
        }
        Err(StreamError::Io(error)) => {
            return Err(Error::Transport(format!("downloading {}: {error}", entry.name)));
        }
        Err(StreamError::Format(error)) => return Err(integrity(format!("{} ({})", error, error.code()))),
    };
    let digest: [u8; 32] = sink.hasher.finalize_reset().into();
    if written != entry.size {
        return Err(integrity(format!(
            "{written} bytes, the manifest says {}",
            entry.size
        )));
    }
    if digest != entry.sha256 {
        return Err(integrity("the SHA-256 does not match the manifest".into()));
    }
    sink.inner
        .into_inner()
        .map_err(|e| Error::file(temp.path(), e.into_error()))?
        .sync_all()
        .map_err(|e| Error::file(temp.path(), e))?;
    Ok(Verified { temp })
}

impl Verified {
    /// Renames the file to `name` in `out`, or to the first free
    /// "name (n).ext" when that exists; never replaces a file.
    pub(crate) fn place(self, out: &Path, name: &str) -> Result<PathBuf> {
        names::check(name)?;
        let mut temp = self.temp;
        for candidate in names::candidates(out, name) {
            match temp.persist_noclobber(&candidate) {
                Ok(_) => {
                    // Make the rename itself durable (best effort: not every
                    // platform can open a folder).
                    if let Ok(dir) = std::fs::File::open(out) {
                        let _ = dir.sync_all();
                    }
                    return Ok(candidate);
                }
                Err(error) if error.error.kind() == io::ErrorKind::AlreadyExists => temp = error.file,
                Err(error) => return Err(Error::file(candidate, error.error)),
            }
        }
        Err(Error::file(
            out.join(name),
            io::Error::new(io::ErrorKind::AlreadyExists, "no free name left"),
        ))
    }
}

/// The decryptor's writer: hashes what it writes and remembers its own
/// failure, so a full disk is not reported as a network error.
struct Sink<W: Write> {
    inner: W,
    hasher: Sha256,
    failed: Option<io::Error>,
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self.inner.write(bytes) {
            Ok(n) => {
                self.hasher.update(&bytes[..n]);
                Ok(n)
            }
            Err(error) => {
                let kind = error.kind();
                self.failed = Some(error);
                Err(io::Error::new(kind, "writing the output failed"))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|error| {
            self.failed = Some(io::Error::new(error.kind(), error.to_string()));
        })
    }
}
