//! The object store port: where file ciphertexts live. Bytes never pass
//! through a function: the core only creates uploads, hands out presigned
//! URLs, completes, measures and deletes (one object, or a whole transfer).

use core::fmt;
use core::future::Future;
use core::time::Duration;

use super::PortError;
use crate::error::{DomainError, Field};
use crate::file::{CompletedPart, PartNumber, UploadId};
use crate::ids::{FileId, TransferId};
use crate::timestamp::Timestamp;

/// Where one file's ciphertext is stored. All objects of a transfer share
/// the prefix [`ObjectKey::transfer_prefix`], which is how
/// [`ObjectStore::delete_transfer_objects`] finds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    /// The transfer.
    pub transfer: TransferId,
    /// The file.
    pub file: FileId,
}

impl ObjectKey {
    /// The prefix shared by every object of `transfer`: `t/<transfer id>/`.
    pub fn transfer_prefix(transfer: TransferId) -> String {
        format!("t/{transfer}/")
    }
}

impl fmt::Display for ObjectKey {
    /// The object's key: `t/<transfer id>/<file id>` (ids are base64url, so
    /// the key needs no escaping in any store).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t/{}/{}", self.transfer, self.file)
    }
}

/// An inclusive byte range of an object, for ranged (resumable) downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    first: u64,
    last: u64,
}

impl ByteRange {
    /// The range `first..=last` of an object of `object_bytes` bytes.
    pub fn new(first: u64, last: u64, object_bytes: u64) -> Result<Self, DomainError> {
        if first > last || last >= object_bytes {
            return Err(DomainError::Malformed {
                field: Field::ByteRange,
            });
        }
        Ok(Self { first, last })
    }

    /// First byte.
    pub const fn first(self) -> u64 {
        self.first
    }

    /// Last byte (inclusive).
    pub const fn last(self) -> u64 {
        self.last
    }

    /// The HTTP `Range` header value: `bytes=first-last`.
    pub fn header_value(self) -> String {
        format!("bytes={}-{}", self.first, self.last)
    }
}

/// A presigned request the browser performs itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    /// The URL, including its signature.
    pub url: String,
    /// Headers the browser MUST send with the request exactly as given
    /// (e.g. `Range` for a ranged download when the signature covers it).
    pub headers: Vec<(String, String)>,
    /// When the signature stops working.
    pub expires_at: Timestamp,
}

/// Stores file ciphertexts as multipart objects.
///
/// Every operation MUST be safe to retry: creating is the only one that is
/// not idempotent, and the core records its upload id before handing out
/// part URLs, so a lost upload id only leaves an incomplete upload that
/// [`ObjectStore::delete_transfer_objects`] removes.
pub trait ObjectStore: Send + Sync {
    /// Starts a multipart upload for `key`.
    fn create_multipart_upload(
        &self,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<UploadId, PortError>> + Send;

    /// Presigns one part upload (HTTP PUT) per number in `parts`, in order,
    /// each valid for `valid_for`.
    fn presign_part_uploads(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        parts: &[PartNumber],
        valid_for: Duration,
    ) -> impl Future<Output = Result<Vec<PresignedUrl>, PortError>> + Send;

    /// Completes the upload from its parts (ascending part numbers). An upload
    /// that no longer exists gives `NotFound`; the core then asks
    /// [`ObjectStore::object_size`] to learn whether an earlier try completed it.
    /// Parts that do not match the uploaded ones (an ETag that differs, a part
    /// never put) give `ConditionFailed`.
    fn complete_multipart_upload(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        parts: &[CompletedPart],
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Abandons an upload and frees its parts. Idempotent: an unknown upload is `Ok`.
    fn abort_multipart_upload(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Size in bytes of a completed object; `NotFound` if there is none.
    fn object_size(&self, key: &ObjectKey) -> impl Future<Output = Result<u64, PortError>> + Send;

    /// Presigns a download (HTTP GET) of the object, or of `range` of it.
    fn presign_download(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
        valid_for: Duration,
    ) -> impl Future<Output = Result<PresignedUrl, PortError>> + Send;

    /// Deletes the completed object at `key` (a file removed from a draft),
    /// and nothing else: the transfer's other objects and any unfinished
    /// upload of the same key stay (abort that with
    /// [`ObjectStore::abort_multipart_upload`]). Idempotent: no object at
    /// `key` is `Ok`.
    fn delete_object(&self, key: &ObjectKey) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Deletes every object and aborts every unfinished upload under the
    /// transfer's prefix. Idempotent: nothing left is `Ok`.
    fn delete_transfer_objects(
        &self,
        transfer: TransferId,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_share_the_transfer_prefix() {
        let key = ObjectKey {
            transfer: TransferId::from_bytes([1; 16]),
            file: FileId::from_bytes([2; 16]),
        };
        let text = key.to_string();
        assert!(text.starts_with(&ObjectKey::transfer_prefix(key.transfer)));
        assert_eq!(text, format!("t/{}/{}", key.transfer, key.file));
    }

    #[test]
    fn byte_ranges_must_lie_within_the_object() {
        let range = ByteRange::new(0, 9, 10).expect("valid");
        assert_eq!(range.header_value(), "bytes=0-9");
        for (first, last) in [(5, 4), (0, 10), (10, 10)] {
            assert_eq!(
                ByteRange::new(first, last, 10),
                Err(DomainError::Malformed {
                    field: Field::ByteRange
                })
            );
        }
    }
}
