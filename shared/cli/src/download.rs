//! Downloading and decrypting one file into a temporary file in the output
//! folder, in constant memory: the HTTP body is read chunk by chunk by the
//! crypto crate's streaming decryptor, hashed on the way to disk, and only a
//! file that decrypted completely and matches the manifest's size and
//! SHA-256 is synced and renamed into place (never over an existing file).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

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
    // Two stages on two threads: this one reads the network and decrypts,
    // the writer hashes and writes (in series they kept one core busy while
    // the other idled). The queue bounds memory to a few chunks.
    let (queue, chunks) = mpsc::sync_channel::<Vec<u8>>(WRITE_QUEUE_CHUNKS);
    let (result, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || write_and_hash(handle, chunks));
        // The bar counts plaintext, as written: the file's own size.
        let mut sink = bar.wrap_write(Sink { queue });
        let result = kluis_crypto::io::decrypt(key, transfer, &entry.id, body, &mut sink);
        // Closing the queue ends the writer.
        drop(sink);
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (result, written)
    });
    let integrity = |reason: String| Error::Integrity {
        what: entry.name.clone(),
        reason,
    };
    // The writer's own failure is a disk problem, not the network's.
    let (file, digest) = match (result, written) {
        (_, Err(error)) => return Err(Error::file(temp.path(), error)),
        (Err(StreamError::Io(error)), Ok(_)) => {
            return Err(Error::Transport(format!("downloading {}: {error}", entry.name)));
        }
        (Err(StreamError::Format(error)), Ok(_)) => {
            return Err(integrity(format!("{} ({})", error, error.code())));
        }
        (Ok(plaintext), Ok((file, digest))) => {
            if plaintext != entry.size {
                return Err(integrity(format!(
                    "{plaintext} bytes, the manifest says {}",
                    entry.size
                )));
            }
            (file, digest)
        }
    };
    if digest != entry.sha256 {
        return Err(integrity("the SHA-256 does not match the manifest".into()));
    }
    file.sync_all().map_err(|e| Error::file(temp.path(), e))?;
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

/// Decrypted chunks waiting for the writer: bounded, so memory stays at a
/// few chunks whatever the file size.
const WRITE_QUEUE_CHUNKS: usize = 4;

/// The writer stage: hashes and writes every chunk in order; returns the
/// file (flushed, not yet synced) and the plaintext's SHA-256.
fn write_and_hash(
    mut file: std::fs::File,
    chunks: mpsc::Receiver<Vec<u8>>,
) -> io::Result<(std::fs::File, [u8; 32])> {
    // Chunks arrive whole (256 KiB): written as they are, no buffer between.
    let mut hasher = Sha256::new();
    for chunk in chunks {
        hasher.update(&chunk);
        file.write_all(&chunk)?;
    }
    Ok((file, hasher.finalize().into()))
}

/// The decryptor's writer: hands each decrypted chunk to the writer stage.
/// A closed queue means the writer failed; its error is reported instead.
struct Sink {
    queue: mpsc::SyncSender<Vec<u8>>,
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.queue
            .send(bytes.to_vec())
            .map_err(|_| io::Error::other("writing the output failed"))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
