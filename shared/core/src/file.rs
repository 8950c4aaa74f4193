//! The files of a transfer as the server knows them: ids, ciphertext sizes,
//! multipart upload ids and part numbers. Never names or plaintext sizes:
//! those are in the sealed manifest.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Field};
use crate::ids::FileId;

/// Checks a declared ciphertext size before any upload starts.
///
/// The format (`kluis-crypto`, `docs/format.md` "Sizes") says exactly which
/// sizes a file object can have: a header plus whole chunks, each with a
/// tag. Anything else cannot decrypt, so it is refused before any upload.
pub fn check_ciphertext_size(ciphertext_bytes: u64) -> Result<(), DomainError> {
    if kluis_crypto::plaintext_len(ciphertext_bytes).is_none() {
        return Err(DomainError::Malformed {
            field: Field::FileSize,
        });
    }
    Ok(())
}

/// Refuses text that is not 1..=`max` visible ASCII characters: what opaque
/// backend strings (upload ids, ETags) may look like before we echo them.
fn visible_ascii(text: &str, field: Field, max: usize) -> Result<(), DomainError> {
    if text.is_empty() {
        return Err(DomainError::Missing { field });
    }
    if text.len() > max {
        return Err(DomainError::TooLong { field, max });
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::Malformed { field });
    }
    Ok(())
}

/// The object store's id of a multipart upload (opaque, from the backend).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UploadId(String);

impl UploadId {
    /// Longest id accepted (S3's are far shorter).
    pub const MAX_LEN: usize = 1024;

    /// Validates an upload id from a backend or a client.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        visible_ascii(text, Field::UploadId, Self::MAX_LEN).map(|()| Self(text.to_owned()))
    }

    /// The id as the backend gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UploadId({})", self.0)
    }
}

impl TryFrom<String> for UploadId {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        Self::parse(&text)
    }
}

impl From<UploadId> for String {
    fn from(id: UploadId) -> String {
        id.0
    }
}

/// A part of a multipart upload, 1 to 10 000 (S3's range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PartNumber(u32);

impl PartNumber {
    /// Highest part number (and so the most parts a file can have).
    pub const MAX: u32 = 10_000;

    /// Validates a part number.
    pub fn new(number: u32) -> Result<Self, DomainError> {
        if (1..=Self::MAX).contains(&number) {
            Ok(Self(number))
        } else {
            Err(DomainError::Malformed {
                field: Field::PartNumber,
            })
        }
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for PartNumber {
    type Error = DomainError;
    fn try_from(number: u32) -> Result<Self, DomainError> {
        Self::new(number)
    }
}

impl From<PartNumber> for u32 {
    fn from(number: PartNumber) -> u32 {
        number.0
    }
}

/// The entity tag the object store returned for an uploaded part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ETag(String);

impl ETag {
    /// Longest tag accepted.
    pub const MAX_LEN: usize = 256;

    /// Validates a tag a client relays.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        visible_ascii(text, Field::ETag, Self::MAX_LEN).map(|()| Self(text.to_owned()))
    }

    /// The tag as the backend gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ETag {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        Self::parse(&text)
    }
}

impl From<ETag> for String {
    fn from(tag: ETag) -> String {
        tag.0
    }
}

/// One uploaded part, as needed to complete a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletedPart {
    /// Which part.
    pub number: PartNumber,
    /// Its entity tag.
    pub etag: ETag,
}

/// Where a file's upload stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UploadStatus {
    /// Parts are being uploaded under this multipart upload.
    InProgress {
        /// The backend's upload id.
        upload_id: UploadId,
    },
    /// Completed, and the stored object has the declared size.
    Complete,
}

/// One file of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferFile {
    /// The file id (bound into the file's associated data by the format).
    pub id: FileId,
    /// Size of the ciphertext object in bytes (what is stored and counted
    /// against the policy; the plaintext size is in the manifest only).
    pub ciphertext_bytes: u64,
    /// How many parts the client will upload, 1..=10 000.
    pub part_count: u32,
    /// Upload progress.
    pub upload: UploadStatus,
}

impl TransferFile {
    /// Whether the upload is complete.
    pub fn is_complete(&self) -> bool {
        self.upload == UploadStatus::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sizes_the_format_can_produce_are_accepted() {
        let chunk = kluis_crypto::CHUNK_SIZE as u64;
        for good in [30, 31, 14 + chunk + 16, 14 + chunk + 1 + 32] {
            assert_eq!(check_ciphertext_size(good), Ok(()), "{good}");
        }
        for bad in [0, 1, 29, 14 + chunk + 16 + 16, 14 + chunk + 16 + 3] {
            assert_eq!(
                check_ciphertext_size(bad),
                Err(DomainError::Malformed {
                    field: Field::FileSize
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn part_numbers_outside_1_to_10000_are_malformed() {
        assert!(PartNumber::new(1).is_ok());
        assert!(PartNumber::new(10_000).is_ok());
        for bad in [0, 10_001, u32::MAX] {
            assert_eq!(
                PartNumber::new(bad),
                Err(DomainError::Malformed {
                    field: Field::PartNumber
                })
            );
        }
    }

    #[test]
    fn upload_ids_and_etags_must_be_visible_ascii() {
        assert!(UploadId::parse("2~abc.DEF_123-").is_ok());
        assert_eq!(
            UploadId::parse(""),
            Err(DomainError::Missing {
                field: Field::UploadId
            })
        );
        assert_eq!(
            UploadId::parse("a b"),
            Err(DomainError::Malformed {
                field: Field::UploadId
            })
        );
        assert_eq!(
            ETag::parse("\"abc\"\r\n"),
            Err(DomainError::Malformed { field: Field::ETag })
        );
        assert_eq!(
            ETag::parse(&"e".repeat(257)),
            Err(DomainError::TooLong {
                field: Field::ETag,
                max: 256
            })
        );
        assert!(ETag::parse("\"9b2cf535f27731c974343645a3985328\"").is_ok());
    }
}
