//! The sealed manifest: what a transfer contains, readable only with its key.
//!
//! Plaintext (`docs/format.md`, "Manifest"): UTF-8 JSON
//! `{"message": …, "files": [{"id", "name", "size", "type", "sha256"}]}`,
//! padded with spaces to a multiple of [`PADDING_BLOCK`] bytes so the sealed
//! size does not reveal the length of names or message.
//!
//! Sealed object: `"kluis" ‖ version ‖ 'M' ‖ nonce (12) ‖ AES-256-GCM(manifest
//! key, nonce, plaintext, aad)` with `aad = first 19 bytes ‖ transfer id`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::stream::{MAX_FILE_LEN, TAG_LEN, check_object_header};
use crate::{Error, FORMAT_VERSION, FileId, MAGIC, ManifestKey, Result, TransferId};

/// Object-kind byte of a sealed manifest.
pub const KIND_MANIFEST: u8 = b'M';
/// Bytes before the ciphertext: magic, version, kind, nonce.
pub const MANIFEST_HEADER_LEN: usize = 5 + 1 + 1 + 12;
/// Largest manifest plaintext (after padding) the format allows: 128 KiB.
/// A sealed manifest travels base64url-encoded inside the API's JSON and is
/// stored in the transfer's record, which must fit one DynamoDB item
/// (400 KB) beside everything else the record holds.
pub const MAX_MANIFEST_LEN: usize = 128 * 1024;
/// The plaintext is padded to a multiple of this many bytes.
pub const PADDING_BLOCK: usize = 256;
/// Longest sealed manifest: header, [`MAX_MANIFEST_LEN`] and the tag. The
/// API's cap on `SealedManifest` is this number (`docs/api.yaml`).
pub const MAX_SEALED_MANIFEST_LEN: usize = MANIFEST_HEADER_LEN + MAX_MANIFEST_LEN + TAG_LEN;
/// Most files one transfer may list: this many entries of the greatest
/// length ([`MAX_ENTRY_JSON_LEN`]) fit in [`MAX_MANIFEST_LEN`] with at least
/// [`MIN_MESSAGE_ROOM`] bytes left for the message (checked at compile
/// time below). An operator's policy may allow fewer, never more.
pub const MAX_FILES: usize = 100;
/// Longest file name in UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 255;
/// Longest media type in bytes.
pub const MAX_MEDIA_TYPE_LEN: usize = 255;

/// Decimal digits of `n`.
const fn digits(mut n: u64) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

/// Longest JSON of one file entry as [`Manifest::seal`] writes it (compact,
/// members in order): a name and a type of the greatest length made of
/// characters JSON escapes in two bytes (`"`; control characters are not
/// allowed at all), and the largest size.
pub const MAX_ENTRY_JSON_LEN: usize = r#"{"id":""#.len()
    + FileId::TEXT_LEN
    + r#"","name":""#.len()
    + 2 * MAX_NAME_LEN
    + r#"","size":"#.len()
    + digits(MAX_FILE_LEN)
    + r#","type":""#.len()
    + 2 * MAX_MEDIA_TYPE_LEN
    + r#"","sha256":""#.len()
    + 64
    + r#""}"#.len();

/// The JSON of a manifest with no message and no files.
const EMPTY_JSON_LEN: usize = r#"{"message":"","files":[]}"#.len();

/// Bytes of JSON (the message's text, escaped) that always remain for the
/// message when the manifest lists [`MAX_FILES`] entries of the greatest
/// length: 13 848.
pub const MIN_MESSAGE_ROOM: usize =
    MAX_MANIFEST_LEN - EMPTY_JSON_LEN - MAX_FILES * MAX_ENTRY_JSON_LEN - (MAX_FILES - 1);

// The limits fit together: the most files of the greatest length, commas
// between them, and some room for a message fit in the largest manifest.
const _: () =
    assert!(EMPTY_JSON_LEN + MAX_FILES * MAX_ENTRY_JSON_LEN + (MAX_FILES - 1) + 8 * 1024 <= MAX_MANIFEST_LEN);

/// The contents of a transfer. Its `Debug` prints no message and no file
/// name: they are the plaintext metadata the format exists to hide.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The confidential message to the recipients (may be empty).
    pub message: String,
    /// The files, in the order the sender chose.
    pub files: Vec<FileEntry>,
}

/// One file of a transfer. Its `Debug` prints the id and size only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// The file id, which also names its object and derives its key.
    #[serde(with = "file_id_text")]
    pub id: FileId,
    /// The file name (no path).
    pub name: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// Media type, e.g. `application/pdf`.
    #[serde(rename = "type")]
    pub media_type: String,
    /// SHA-256 of the plaintext (64 lower-case hex digits in JSON).
    #[serde(with = "sha256_hex")]
    pub sha256: [u8; 32],
}

impl core::fmt::Debug for Manifest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Manifest")
            .field(
                "message",
                &format_args!("<{} bytes redacted>", self.message.len()),
            )
            .field("files", &self.files)
            .finish()
    }
}

impl core::fmt::Debug for FileEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileEntry")
            .field("id", &self.id)
            .field("name", &format_args!("<redacted>"))
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

mod sha256_hex {
    use alloc::string::String;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(digest: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(digest))
    }

    /// Only lower-case hex: one spelling per digest, as the format says.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        let lower = text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !lower || hex::decode_to_slice(&text, &mut out).is_err() {
            return Err(D::Error::custom("sha256 must be 64 lower-case hex digits"));
        }
        Ok(out)
    }
}

mod file_id_text {
    use alloc::string::String;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::FileId;

    pub fn serialize<S: Serializer>(id: &FileId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.to_text())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FileId, D::Error> {
        let text = String::deserialize(d)?;
        FileId::parse(&text).map_err(D::Error::custom)
    }
}

impl FileEntry {
    fn is_valid(&self) -> bool {
        let name = self.name.as_str();
        // A name is shown to people and used as a file name by clients: no
        // paths, no control characters, nothing a file system treats specially.
        !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name != "."
            && name != ".."
            && !name.chars().any(|c| c.is_control() || c == '/' || c == '\\')
            && self.media_type.len() <= MAX_MEDIA_TYPE_LEN
            && !self.media_type.chars().any(char::is_control)
            && crate::ciphertext_len(self.size).is_some()
    }
}

impl Manifest {
    /// Checks the rules a manifest MUST meet: at most [`MAX_FILES`] files with
    /// distinct ids and valid names, types and sizes.
    pub fn validate(&self) -> Result<()> {
        if self.files.len() > MAX_FILES || !self.files.iter().all(FileEntry::is_valid) {
            return Err(Error::ManifestMalformed);
        }
        let mut ids: Vec<&FileId> = self.files.iter().map(|f| &f.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::ManifestMalformed);
        }
        Ok(())
    }

    /// Seals the manifest of `transfer` with a fresh random nonce.
    pub fn seal(&self, key: &ManifestKey, transfer: &TransferId) -> Result<Vec<u8>> {
        self.seal_with_nonce(key, transfer, crate::random::bytes()?)
    }

    /// As [`Manifest::seal`] with a caller-chosen nonce: for known-answer
    /// vectors. A nonce MUST NOT repeat under one manifest key.
    #[doc(hidden)]
    pub fn seal_with_nonce(
        &self,
        key: &ManifestKey,
        transfer: &TransferId,
        nonce: [u8; 12],
    ) -> Result<Vec<u8>> {
        self.validate()?;
        let mut plaintext = Zeroizing::new(serde_json::to_vec(self).map_err(|_| Error::ManifestMalformed)?);
        let padded = plaintext.len().div_ceil(PADDING_BLOCK).max(1) * PADDING_BLOCK;
        if padded > MAX_MANIFEST_LEN {
            return Err(Error::ManifestTooLarge);
        }
        // JSON allows trailing white space, so spaces are padding any reader
        // of the format can parse without a length field.
        plaintext.resize(padded, b' ');

        let mut out = Vec::with_capacity(MANIFEST_HEADER_LEN + padded + TAG_LEN);
        out.extend_from_slice(&MAGIC);
        out.push(FORMAT_VERSION);
        out.push(KIND_MANIFEST);
        out.extend_from_slice(&nonce);
        let sealed = Aes256Gcm::new(key.expose_secret().into())
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &aad(&out, transfer),
                },
            )
            .map_err(|_| Error::ManifestTooLarge)?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens and validates a sealed manifest of `transfer`.
    pub fn open(sealed: &[u8], key: &ManifestKey, transfer: &TransferId) -> Result<Self> {
        check_object_header(sealed, MANIFEST_HEADER_LEN + TAG_LEN, KIND_MANIFEST)?;
        if sealed.len() > MAX_SEALED_MANIFEST_LEN {
            return Err(Error::ManifestTooLarge);
        }
        let (header, body) = sealed.split_at(MANIFEST_HEADER_LEN);
        let nonce: [u8; 12] = header[7..].try_into().expect("12-byte nonce");
        let plaintext = Zeroizing::new(
            Aes256Gcm::new(key.expose_secret().into())
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: body,
                        aad: &aad(header, transfer),
                    },
                )
                .map_err(|_| Error::ManifestAuthentication)?,
        );
        let manifest: Self = serde_json::from_slice(&plaintext).map_err(|_| Error::ManifestMalformed)?;
        manifest.validate()?;
        Ok(manifest)
    }
}

/// Parses and validates a manifest from its JSON form (as the web pages
/// build it).
pub fn from_json(json: &str) -> Result<Manifest> {
    let manifest: Manifest = serde_json::from_str(json).map_err(|_| Error::ManifestMalformed)?;
    manifest.validate()?;
    Ok(manifest)
}

/// The JSON form of a manifest.
pub fn to_json(manifest: &Manifest) -> String {
    serde_json::to_string(manifest).expect("a manifest always serializes: strings and numbers only")
}

fn aad(header: &[u8], transfer: &TransferId) -> [u8; MANIFEST_HEADER_LEN + 16] {
    let mut aad = [0u8; MANIFEST_HEADER_LEN + 16];
    aad[..MANIFEST_HEADER_LEN].copy_from_slice(&header[..MANIFEST_HEADER_LEN]);
    aad[MANIFEST_HEADER_LEN..].copy_from_slice(transfer.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn entry(id: u8, name: &str) -> FileEntry {
        FileEntry {
            id: FileId::from_bytes([id; 16]),
            name: name.to_string(),
            size: 42,
            media_type: "application/pdf".to_string(),
            sha256: [id; 32],
        }
    }

    fn manifest() -> Manifest {
        Manifest {
            message: "Zie bijlage.".to_string(),
            files: alloc::vec![entry(1, "a.pdf"), entry(2, "b.pdf")],
        }
    }

    #[test]
    fn debug_output_shows_no_message_or_file_name() {
        let manifest = Manifest {
            message: "the secret message".to_owned(),
            files: vec![FileEntry {
                id: FileId::from_bytes([1; 16]),
                name: "salaries-2026.xlsx".to_owned(),
                size: 42,
                media_type: "application/vnd.ms-excel".to_owned(),
                sha256: [0; 32],
            }],
        };
        let shown = alloc::format!("{manifest:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("salaries"),
            "{shown}"
        );
        assert!(shown.contains("42"), "{shown}");
    }

    #[test]
    fn seal_then_open_round_trips() {
        let key = ManifestKey::from_bytes([3; 32]);
        let t = TransferId::from_bytes([4; 16]);
        let sealed = manifest().seal(&key, &t).unwrap();
        assert_eq!((sealed.len() - MANIFEST_HEADER_LEN - 16) % PADDING_BLOCK, 0);
        assert_eq!(Manifest::open(&sealed, &key, &t).unwrap(), manifest());
    }

    #[test]
    fn sealed_size_hides_name_length() {
        let key = ManifestKey::from_bytes([3; 32]);
        let t = TransferId::from_bytes([4; 16]);
        let short = Manifest {
            message: String::new(),
            files: alloc::vec![entry(1, "a")],
        };
        let long = Manifest {
            message: String::new(),
            files: alloc::vec![entry(1, "a-much-longer-name.pdf")],
        };
        assert_eq!(
            short.seal(&key, &t).unwrap().len(),
            long.seal(&key, &t).unwrap().len()
        );
    }

    #[test]
    fn invalid_names_and_duplicate_ids_are_refused() {
        for name in ["", ".", "..", "a/b", "a\\b", "a\nb", "a\u{0}b"] {
            let m = Manifest {
                message: String::new(),
                files: alloc::vec![entry(1, name)],
            };
            assert_eq!(m.validate(), Err(Error::ManifestMalformed), "{name:?}");
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert!(
            Manifest {
                message: String::new(),
                files: alloc::vec![entry(1, &long)]
            }
            .validate()
            .is_err()
        );
        let dup = Manifest {
            message: String::new(),
            files: alloc::vec![entry(1, "a"), entry(1, "b")],
        };
        assert_eq!(dup.validate(), Err(Error::ManifestMalformed));
    }

    #[test]
    fn json_spelling_rules_are_enforced() {
        let good = to_json(&manifest());
        assert_eq!(from_json(&good).unwrap(), manifest());
        let cases = [
            good.replacen(&hex::encode([1u8; 32]), &"AB".repeat(32), 1), // upper-case digest
            good.replacen(&hex::encode([1u8; 32]), &"ab".repeat(31), 1), // short digest
            good.replacen("\"size\":42", "\"size\":42.0", 1),            // not an integer
            good.replacen("\"message\":\"Zie bijlage.\",", "", 1),       // missing member
            good.replacen("{\"message\"", "{\"extra\":1,\"message\"", 1), // unknown member
            good.replacen(
                "{\"message\":\"Zie bijlage.\"",
                "{\"message\":\"a\",\"message\":\"b\"",
                1,
            ),
            good.replacen("Zie bijlage.", "\\ud800", 1), // lone surrogate
        ];
        for bad in &cases {
            assert_ne!(bad, &good, "the mutation must apply");
            assert_eq!(from_json(bad).unwrap_err(), Error::ManifestMalformed, "{bad}");
        }
    }

    /// An entry of the greatest length the rules allow, with id `i`.
    fn longest_entry(i: usize) -> FileEntry {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(i as u64).to_be_bytes());
        FileEntry {
            id: FileId::from_bytes(id),
            name: "\"".repeat(MAX_NAME_LEN),
            size: MAX_FILE_LEN,
            media_type: "\"".repeat(MAX_MEDIA_TYPE_LEN),
            sha256: [0xff; 32],
        }
    }

    #[test]
    fn the_longest_entry_is_as_long_as_computed() {
        assert!(crate::ciphertext_len(MAX_FILE_LEN).is_some());
        assert!(crate::ciphertext_len(MAX_FILE_LEN + 1).is_none());
        let json = serde_json::to_string(&longest_entry(1)).unwrap();
        assert_eq!(json.len(), MAX_ENTRY_JSON_LEN);
        assert_eq!(MIN_MESSAGE_ROOM, 13_848);
        assert_eq!(MAX_SEALED_MANIFEST_LEN, 131_107);
    }

    /// The most files, each as long as the rules allow, and a message that
    /// fills the manifest to exactly its maximum.
    fn largest_manifest() -> Manifest {
        Manifest {
            message: "x".repeat(MIN_MESSAGE_ROOM),
            files: (0..MAX_FILES).map(longest_entry).collect(),
        }
    }

    #[test]
    fn a_manifest_at_the_maximum_seals_and_opens_and_one_byte_or_entry_more_is_refused() {
        let key = ManifestKey::from_bytes([3; 32]);
        let t = TransferId::from_bytes([4; 16]);
        let largest = largest_manifest();
        assert_eq!(to_json(&largest).len(), MAX_MANIFEST_LEN);
        let sealed = largest.seal(&key, &t).unwrap();
        assert_eq!(sealed.len(), MAX_SEALED_MANIFEST_LEN);
        assert_eq!(Manifest::open(&sealed, &key, &t).unwrap(), largest);

        let mut one_byte_more = largest.clone();
        one_byte_more.message.push('x');
        assert_eq!(one_byte_more.seal(&key, &t).unwrap_err(), Error::ManifestTooLarge);

        let mut one_entry_more = largest.clone();
        one_entry_more.message.clear();
        one_entry_more.files.push(longest_entry(MAX_FILES));
        assert_eq!(
            one_entry_more.seal(&key, &t).unwrap_err(),
            Error::ManifestMalformed
        );

        // A reader judges the length before it decrypts anything.
        let mut longer = sealed;
        longer.push(0);
        assert_eq!(
            Manifest::open(&longer, &key, &t).unwrap_err(),
            Error::ManifestTooLarge
        );
    }

    #[test]
    fn oversized_manifest_is_refused() {
        let key = ManifestKey::from_bytes([3; 32]);
        let huge = Manifest {
            message: "x".repeat(MAX_MANIFEST_LEN),
            files: alloc::vec![],
        };
        assert_eq!(
            huge.seal(&key, &TransferId::from_bytes([0; 16])).unwrap_err(),
            Error::ManifestTooLarge
        );
    }
}
