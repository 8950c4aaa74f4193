//! Where objects, uploads and temporary files live under the store's root,
//! and the parsing that keeps every request inside it: a key is accepted
//! only as `t/<transfer id>/<file id>` with both ids valid base64url, and an
//! upload id only as 22 base64url characters, so no `..`, separator or
//! absolute path can reach a file name.
//!
//! ```text
//! root/objects/t/<transfer>/<file>/<nnnnn>                       completed objects
//! root/uploads/<transfer>/<file>/<upload>/<nnnnn>.<sha256 hex>   parts
//! root/tmp/                                                      files and folders being built
//! ```
//!
//! An object is a folder of its parts, hard links to the uploaded part files
//! named `00001`, `00002`, … densely in object order (whatever the part
//! numbers were), so the names sort as the bytes follow each other. An
//! object of the earlier layout, one file at the object's path, is still
//! read as a one-part object.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use kluis_core::file::{PartNumber, UploadId};
use kluis_core::ids::{FileId, TransferId};
use kluis_core::ports::ObjectKey;

/// Length of the upload ids this store issues (16 random bytes, base64url).
pub(crate) const UPLOAD_ID_LEN: usize = 22;

/// The folders of one store.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub(crate) fn objects(&self, transfer: TransferId) -> PathBuf {
        self.root.join("objects").join("t").join(transfer.to_string())
    }

    pub(crate) fn object(&self, key: &ObjectKey) -> PathBuf {
        self.objects(key.transfer).join(key.file.to_string())
    }

    pub(crate) fn uploads(&self, transfer: TransferId) -> PathBuf {
        self.root.join("uploads").join(transfer.to_string())
    }

    /// The folder of an upload, or `None` for an id this store cannot have issued.
    pub(crate) fn upload(&self, key: &ObjectKey, upload: &UploadId) -> Option<PathBuf> {
        is_upload_id(upload.as_str()).then(|| {
            self.uploads(key.transfer)
                .join(key.file.to_string())
                .join(upload.as_str())
        })
    }

    pub(crate) fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }
}

/// The file name prefix of a part: `00001.`; the rest is its ETag (hex).
pub(crate) fn part_prefix(part: PartNumber) -> String {
    format!("{:05}.", part.get())
}

/// The file name of the `index`th part (from 1) in an object's folder.
/// Five digits hold S3's 10 000 parts, so the names sort in object order.
pub(crate) fn object_part_name(index: usize) -> String {
    format!("{index:05}")
}

/// Whether `text` could be an upload id of this store.
pub(crate) fn is_upload_id(text: &str) -> bool {
    text.len() == UPLOAD_ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `text` is an ETag this store issued: 64 lower-case hex digits,
/// optionally in double quotes (S3 clients relay them quoted).
pub(crate) fn etag_hex(text: &str) -> Option<&str> {
    let hex = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(hex)
}

/// Parses an object key as it appears in a URL path: `t/<transfer>/<file>`.
pub(crate) fn parse_key(text: &str) -> Option<ObjectKey> {
    let mut segments = text.split('/');
    let (Some("t"), Some(transfer), Some(file), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return None;
    };
    Some(ObjectKey {
        transfer: TransferId::from_str(transfer).ok()?,
        file: FileId::from_str(file).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_parsed_only_in_their_exact_form() {
        let key = ObjectKey {
            transfer: TransferId::from_bytes([1; 16]),
            file: FileId::from_bytes([2; 16]),
        };
        assert_eq!(parse_key(&key.to_string()), Some(key));
        let t = key.transfer.to_string();
        for bad in [
            String::new(),
            format!("t/{t}"),
            format!("t/{t}/"),
            format!("t/{t}/../../etc"),
            format!("t/{t}/{}/x", key.file),
            format!("t/../{t}/{}", key.file),
            format!("/t/{t}/{}", key.file),
            format!("x/{t}/{}", key.file),
            format!("t/{t}/%2e%2e"),
            "t/..%2F..%2Fetc/passwd".to_owned(),
        ] {
            assert_eq!(parse_key(&bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn upload_ids_and_etags_must_have_this_stores_shape() {
        assert!(is_upload_id("AAAAAAAAAAAAAAAAAAAA-_"));
        for bad in ["", "short", "../../../../../../etc/x", "AAAAAAAAAAAAAAAAAAAA/_"] {
            assert!(!is_upload_id(bad), "{bad:?}");
        }
        let hex = "0".repeat(64);
        assert_eq!(etag_hex(&hex), Some(hex.as_str()));
        assert_eq!(etag_hex(&format!("\"{hex}\"")), Some(hex.as_str()));
        assert_eq!(etag_hex(&"A".repeat(64)), None);
        assert_eq!(etag_hex("\"abc\""), None);
        assert_eq!(etag_hex(&format!("{}/", "0".repeat(63))), None);
    }
}
