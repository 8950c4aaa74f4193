//! Local files to send: size, the name recipients see (checked against the
//! format's rules before anything is uploaded), a media type from the
//! extension, and the plaintext SHA-256 read in a streaming pass.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use kluis_crypto::{FileEntry, FileId, Manifest};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::send::SendFile;

/// A file checked for sending.
#[derive(Debug, Clone)]
pub(crate) struct LocalFile {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
    pub media_type: &'static str,
}

/// Checks `file`: a readable regular file with a name the format allows.
pub(crate) fn local(file: &SendFile) -> Result<LocalFile> {
    let path = &file.path;
    let meta = std::fs::metadata(path).map_err(|e| Error::file(path, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!("{} is not a regular file", path.display())));
    }
    // Open once now so an unreadable file fails before a code is mailed.
    File::open(path).map_err(|e| Error::file(path, e))?;
    let name = match &file.name {
        Some(name) => name.clone(),
        None => path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Usage(format!("{} has no UTF-8 file name", path.display())))?
            .to_owned(),
    };
    let media_type = media_type(&name);
    // The format's own rules (length, no path separators, no control
    // characters), by validating a one-entry manifest.
    let probe = Manifest {
        message: String::new(),
        files: vec![FileEntry {
            id: FileId::from_bytes([0; 16]),
            name: name.clone(),
            size: meta.len(),
            media_type: media_type.to_owned(),
            sha256: [0; 32],
        }],
    };
    if probe.validate().is_err() {
        return Err(Error::Usage(format!(
            "{name:?} cannot be sent as a file name (1-255 bytes, no '/', '\\' or control characters, not '.' or '..')"
        )));
    }
    Ok(LocalFile {
        path: path.clone(),
        name,
        size: meta.len(),
        media_type,
    })
}

/// SHA-256 of the first `size` bytes of `path`, which MUST be all of it.
/// Gives up (with an error nobody sees) once `cancel` is set.
pub(crate) fn sha256(path: &Path, size: u64, cancel: &AtomicBool) -> Result<[u8; 32]> {
    let file = File::open(path).map_err(|e| Error::file(path, e))?;
    let mut reader = file.take(size);
    let mut hasher = Sha256::new();
    let mut buffer = Zeroizing::new(vec![0u8; 1 << 16]);
    let mut total = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            let cancelled = std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled");
            return Err(Error::file(path, cancelled));
        }
        let n = reader.read(&mut buffer).map_err(|e| Error::file(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
    if total != size {
        return Err(Error::file(
            path,
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while it was sent",
            ),
        ));
    }
    Ok(hasher.finalize().into())
}

/// A media type for the recipient's page, from the extension; anything
/// unknown is `application/octet-stream` (the type is advisory only).
fn media_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_come_from_the_extension() {
        assert_eq!(media_type("Report.PDF"), "application/pdf");
        assert_eq!(media_type("data"), "application/octet-stream");
        assert_eq!(media_type("a.tar.gz"), "application/gzip");
    }

    #[test]
    fn fail_a_name_the_format_forbids_is_refused_before_sending() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("ok.txt");
        std::fs::write(&path, b"x").expect("written");
        for bad in ["../escape.txt", "a/b", "..", "a\\b", "tab\there", ""] {
            let file = SendFile {
                path: path.clone(),
                name: Some(bad.to_owned()),
            };
            assert!(matches!(local(&file), Err(Error::Usage(_))), "{bad:?}");
        }
        assert_eq!(local(&SendFile::new(&path)).expect("fine").name, "ok.txt");
    }

    #[test]
    fn sha256_reads_the_whole_file_and_notices_a_shorter_one() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").expect("written");
        assert_eq!(
            sha256(&path, 3, &AtomicBool::new(false))
                .expect("hashed")
                .to_vec(),
            Sha256::digest(b"abc").to_vec()
        );
        assert!(sha256(&path, 4, &AtomicBool::new(false)).is_err());
        assert!(sha256(&path, 3, &AtomicBool::new(true)).is_err(), "cancelled");
    }
}
