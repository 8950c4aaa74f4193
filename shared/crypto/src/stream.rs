//! Chunked file encryption: AES-256-GCM in the STREAM construction.
//!
//! A file object is `header ‖ chunk₀ ‖ … ‖ chunkₙ₋₁` (`docs/format.md`,
//! "File object"):
//!
//! * header (14 bytes): `"kluis" ‖ version ‖ 'F' ‖ nonce prefix (7 random bytes)`;
//! * chunk *i*: `AES-256-GCM(file key, nonce, plaintext, aad)` where
//!   `nonce = prefix ‖ BE32(i) ‖ last` (`aead-stream`'s `StreamBE32`) and
//!   `aad = header ‖ transfer id ‖ file id`;
//! * every chunk but the last holds exactly [`CHUNK_SIZE`] plaintext bytes;
//!   the last holds 1..=[`CHUNK_SIZE`] bytes, or 0 for an empty file.
//!
//! The functions here seal and open one chunk at a time at an explicit
//! index, so async code and WebAssembly can drive them and chunks can be
//! processed in parallel. [`crate::io`] drives them over `Read`/`Write`.

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Buffer, KeyInit};
use alloc::vec::Vec;
use zeroize::Zeroize;

use crate::{Error, FORMAT_VERSION, FileId, FileKey, MAGIC, Result, TransferId};

/// Plaintext bytes per chunk: 256 KiB. Why this size is in `docs/format.md`.
pub const CHUNK_SIZE: usize = 1 << 18;
/// AES-GCM tag length appended to every chunk.
pub const TAG_LEN: usize = 16;
/// Bytes of a full sealed chunk.
pub const SEALED_CHUNK_LEN: usize = CHUNK_SIZE + TAG_LEN;
/// Length of the file header.
pub const HEADER_LEN: usize = 14;
/// Length of the random nonce prefix in the header.
pub const NONCE_PREFIX_LEN: usize = 7;
/// Object-kind byte of a file object.
pub const KIND_FILE: u8 = b'F';
/// Most chunks one file may have: indices stop one short of `u32::MAX`.
pub const MAX_CHUNKS: u64 = u32::MAX as u64;
/// Largest plaintext a file may have: [`MAX_CHUNKS`] full chunks.
pub const MAX_FILE_LEN: u64 = MAX_CHUNKS * CHUNK_SIZE as u64;

/// Number of chunks of a file of `plaintext_len` bytes (an empty file has one).
pub fn chunk_count(plaintext_len: u64) -> u64 {
    plaintext_len.div_ceil(CHUNK_SIZE as u64).max(1)
}

/// Size of the file object for `plaintext_len` bytes of plaintext:
/// `14 + plaintext_len + 16 · chunk_count`. `None` if the file is larger
/// than the format allows.
pub fn ciphertext_len(plaintext_len: u64) -> Option<u64> {
    let chunks = chunk_count(plaintext_len);
    if chunks > MAX_CHUNKS {
        return None;
    }
    (HEADER_LEN as u64)
        .checked_add(plaintext_len)?
        .checked_add(chunks * TAG_LEN as u64)
}

/// The plaintext size a file object of `ciphertext_len` bytes holds, or
/// `None` if no plaintext encrypts to exactly that size. The server uses this
/// to refuse uploads that cannot be a valid file object.
pub fn plaintext_len(ciphertext_len: u64) -> Option<u64> {
    let body = ciphertext_len.checked_sub(HEADER_LEN as u64)?;
    let full = body / SEALED_CHUNK_LEN as u64;
    let rest = body % SEALED_CHUNK_LEN as u64;
    let plaintext = match rest {
        0 if full > 0 => full * CHUNK_SIZE as u64,
        // An empty last chunk is only valid as the only chunk (empty file).
        16 if full == 0 => 0,
        r if r > TAG_LEN as u64 => full * CHUNK_SIZE as u64 + (r - TAG_LEN as u64),
        _ => return None,
    };
    (chunk_count(plaintext) <= MAX_CHUNKS).then_some(plaintext)
}

type Stream = StreamBE32<Aes256Gcm>;

/// Length of the associated data of every chunk.
pub const AAD_LEN: usize = HEADER_LEN + 16 + 16;

/// The associated data of every chunk of a file: `header ‖ transfer id ‖
/// file id`. Exposed for WebCrypto encryptors; the sealer uses it too.
pub fn chunk_aad(header: &[u8; HEADER_LEN], transfer: &TransferId, file: &FileId) -> [u8; AAD_LEN] {
    let mut aad = [0u8; AAD_LEN];
    aad[..HEADER_LEN].copy_from_slice(header);
    aad[HEADER_LEN..HEADER_LEN + 16].copy_from_slice(transfer.as_bytes());
    aad[HEADER_LEN + 16..].copy_from_slice(file.as_bytes());
    aad
}

/// The AES-GCM nonce of chunk `index`: `prefix ‖ BE32(index) ‖ last`, as
/// `aead-stream`'s `StreamBE32` builds it. Exposed for WebCrypto encryptors;
/// a test proves it equals what the sealer uses.
pub fn chunk_nonce(prefix: &[u8; NONCE_PREFIX_LEN], index: u32, last: bool) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[..NONCE_PREFIX_LEN].copy_from_slice(prefix);
    nonce[NONCE_PREFIX_LEN..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce
}

fn build_header(prefix: &[u8; NONCE_PREFIX_LEN]) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..5].copy_from_slice(&MAGIC);
    header[5] = FORMAT_VERSION;
    header[6] = KIND_FILE;
    header[7..].copy_from_slice(prefix);
    header
}

/// Checks the common header fields (magic, version, kind) of any object.
pub(crate) fn check_object_header(bytes: &[u8], min_len: usize, kind: u8) -> Result<()> {
    if bytes.len() < 5 || bytes[..5] != MAGIC {
        // Too short to even hold the magic: say so only if what is there matches.
        return Err(if bytes.len() < 5 && MAGIC.starts_with(bytes) {
            Error::TooShort
        } else {
            Error::NotKluis
        });
    }
    if bytes.len() < 7 {
        return Err(Error::TooShort);
    }
    if bytes[5] != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion(bytes[5]));
    }
    if bytes[6] != kind {
        return Err(Error::WrongObjectKind);
    }
    if bytes.len() < min_len {
        return Err(Error::TooShort);
    }
    Ok(())
}

/// Shared state of sealer and opener: the keyed STREAM and the chunk AAD.
struct Keyed {
    stream: Stream,
    aad: [u8; AAD_LEN],
}

impl Keyed {
    fn new(key: &FileKey, header: &[u8; HEADER_LEN], transfer: &TransferId, file: &FileId) -> Self {
        let aead = Aes256Gcm::new(key.expose_secret().into());
        let prefix: [u8; NONCE_PREFIX_LEN] = header[7..].try_into().expect("7-byte nonce prefix");
        let mut aad = [0u8; AAD_LEN];
        aad[..HEADER_LEN].copy_from_slice(header);
        aad[HEADER_LEN..HEADER_LEN + 16].copy_from_slice(transfer.as_bytes());
        aad[HEADER_LEN + 16..].copy_from_slice(file.as_bytes());
        Self {
            stream: Stream::from_aead(aead, &prefix.into()),
            aad,
        }
    }
}

/// Checks a chunk's plaintext length against its position.
fn check_chunk_len(index: u32, last: bool, len: usize) -> Result<()> {
    if u64::from(index) >= MAX_CHUNKS {
        return Err(Error::FileTooLarge);
    }
    let ok = if last {
        len <= CHUNK_SIZE && (len > 0 || index == 0)
    } else {
        len == CHUNK_SIZE
    };
    if ok { Ok(()) } else { Err(Error::ChunkSize) }
}

/// Encrypts the chunks of one file.
pub struct FileSealer {
    keyed: Keyed,
    header: [u8; HEADER_LEN],
}

impl FileSealer {
    /// A sealer for `file` of `transfer` with a fresh random nonce prefix.
    pub fn new(key: &FileKey, transfer: &TransferId, file: &FileId) -> Result<Self> {
        Ok(Self::with_nonce_prefix(
            key,
            transfer,
            file,
            crate::random::bytes()?,
        ))
    }

    /// As [`FileSealer::new`] with a caller-chosen prefix: for known-answer
    /// vectors. A prefix MUST NOT repeat under one file key.
    pub fn with_nonce_prefix(
        key: &FileKey,
        transfer: &TransferId,
        file: &FileId,
        prefix: [u8; NONCE_PREFIX_LEN],
    ) -> Self {
        let header = build_header(&prefix);
        Self {
            keyed: Keyed::new(key, &header, transfer, file),
            header,
        }
    }

    /// The header that starts the file object.
    pub fn header(&self) -> [u8; HEADER_LEN] {
        self.header
    }

    /// The random nonce prefix (the last 7 bytes of the header).
    pub fn nonce_prefix(&self) -> [u8; NONCE_PREFIX_LEN] {
        self.header[HEADER_LEN - NONCE_PREFIX_LEN..]
            .try_into()
            .expect("7-byte prefix")
    }

    /// Encrypts chunk `index` in place: `buffer` holds the plaintext and on
    /// return holds the sealed chunk ([`TAG_LEN`] bytes longer). A non-last
    /// chunk MUST be exactly [`CHUNK_SIZE`] bytes.
    pub fn seal_chunk(&self, index: u32, last: bool, buffer: &mut Vec<u8>) -> Result<()> {
        self.seal_chunk_in(index, last, buffer)
    }

    /// [`FileSealer::seal_chunk`] over any AEAD buffer (the streaming API's
    /// reusable one).
    pub(crate) fn seal_chunk_in(&self, index: u32, last: bool, buffer: &mut dyn Buffer) -> Result<()> {
        check_chunk_len(index, last, buffer.len())?;
        self.keyed
            .stream
            .encrypt_in_place(index, last, &self.keyed.aad, buffer)
            .map_err(|_| Error::FileTooLarge)
    }
}

/// Decrypts the chunks of one file.
pub struct FileOpener {
    keyed: Keyed,
}

impl FileOpener {
    /// An opener for `file` of `transfer`, from the object's first
    /// [`HEADER_LEN`] bytes (more may be passed; they are ignored).
    pub fn new(key: &FileKey, transfer: &TransferId, file: &FileId, header: &[u8]) -> Result<Self> {
        check_object_header(header, HEADER_LEN, KIND_FILE)?;
        let header: [u8; HEADER_LEN] = header[..HEADER_LEN].try_into().expect("length checked");
        Ok(Self {
            keyed: Keyed::new(key, &header, transfer, file),
        })
    }

    /// Decrypts chunk `index` in place: `buffer` holds the sealed chunk and on
    /// return holds its plaintext. `last` says whether the caller saw the
    /// object end after this chunk.
    ///
    /// On failure `buffer` holds no plaintext. When the chunk is genuine but
    /// its last flag disagrees with `last`, the error says why: the stream
    /// was cut ([`Error::Truncated`]) or has extra bytes
    /// ([`Error::TrailingData`]).
    pub fn open_chunk(&self, index: u32, last: bool, buffer: &mut Vec<u8>) -> Result<()> {
        self.open_chunk_in(index, last, buffer)
    }

    /// [`FileOpener::open_chunk`] over any AEAD buffer.
    pub(crate) fn open_chunk_in(&self, index: u32, last: bool, buffer: &mut dyn Buffer) -> Result<()> {
        if buffer.len() < TAG_LEN {
            return Err(Error::TooShort);
        }
        check_chunk_len(index, last, buffer.len() - TAG_LEN)?;
        let stream = &self.keyed.stream;
        let aad = &self.keyed.aad;
        if stream.decrypt_in_place(index, last, aad, buffer).is_ok() {
            return Ok(());
        }
        // AES-GCM checks the tag before it decrypts, so a failed attempt
        // leaves the sealed chunk intact for a second look with the other
        // flag. That look only chooses the error; its plaintext is wiped.
        let flipped_ok = check_chunk_len(index, !last, buffer.len() - TAG_LEN).is_ok()
            && stream.decrypt_in_place(index, !last, aad, buffer).is_ok();
        if flipped_ok {
            buffer.as_mut().zeroize();
            buffer.truncate(0);
            return Err(if last {
                Error::Truncated
            } else {
                Error::TrailingData
            });
        }
        Err(Error::ChunkAuthentication {
            index: u64::from(index),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_len_follows_the_formula_at_the_edges() {
        let c = CHUNK_SIZE as u64;
        for (n, chunks) in [
            (0, 1),
            (1, 1),
            (c - 1, 1),
            (c, 1),
            (c + 1, 2),
            (3 * c, 3),
            (3 * c + 5, 4),
        ] {
            assert_eq!(chunk_count(n), chunks, "n = {n}");
            assert_eq!(ciphertext_len(n), Some(14 + n + 16 * chunks), "n = {n}");
            assert_eq!(plaintext_len(14 + n + 16 * chunks), Some(n), "n = {n}");
        }
    }

    #[test]
    fn impossible_ciphertext_sizes_have_no_plaintext() {
        let c = CHUNK_SIZE as u64;
        for bad in [0, 13, 14, 29, 14 + c + 16 + 16, 14 + c + 16 + 5] {
            assert_eq!(plaintext_len(bad), None, "{bad}");
        }
        assert_eq!(ciphertext_len(u64::MAX), None);
        assert_eq!(ciphertext_len(MAX_CHUNKS * c), Some(14 + MAX_CHUNKS * (c + 16)));
        assert_eq!(ciphertext_len(MAX_CHUNKS * c + 1), None);
    }

    #[test]
    fn published_nonce_and_aad_are_what_the_sealer_uses() {
        use aes_gcm::aead::{Aead, Payload};
        let key = FileKey::from_bytes([1; 32]);
        let (t, f) = (TransferId::from_bytes([2; 16]), FileId::from_bytes([3; 16]));
        let sealer = FileSealer::with_nonce_prefix(&key, &t, &f, [4; 7]);
        for (index, last) in [(0, false), (7, true), (0x0102_0304, false)] {
            let plaintext = if last {
                alloc::vec![5u8; 3]
            } else {
                alloc::vec![5u8; CHUNK_SIZE]
            };
            let mut sealed = plaintext.clone();
            sealer.seal_chunk(index, last, &mut sealed).unwrap();
            let nonce = chunk_nonce(&sealer.nonce_prefix(), index, last);
            let aad = chunk_aad(&sealer.header(), &t, &f);
            let plain_gcm = Aes256Gcm::new(key.expose_secret().into())
                .encrypt(
                    &nonce.into(),
                    Payload {
                        msg: &plaintext,
                        aad: &aad,
                    },
                )
                .unwrap();
            assert_eq!(plain_gcm, sealed, "chunk {index}");
        }
        assert_eq!(
            chunk_nonce(&[9; 7], 0x0A0B_0C0D, true),
            [9, 9, 9, 9, 9, 9, 9, 0x0A, 0x0B, 0x0C, 0x0D, 1]
        );
    }

    #[test]
    fn chunk_sizes_are_enforced_by_position() {
        assert!(check_chunk_len(0, true, 0).is_ok());
        assert_eq!(check_chunk_len(1, true, 0), Err(Error::ChunkSize));
        assert_eq!(check_chunk_len(0, false, CHUNK_SIZE - 1), Err(Error::ChunkSize));
        assert_eq!(check_chunk_len(0, true, CHUNK_SIZE + 1), Err(Error::ChunkSize));
        assert_eq!(check_chunk_len(u32::MAX, true, 1), Err(Error::FileTooLarge));
    }

    #[test]
    fn header_checks_name_the_problem() {
        let good = build_header(&[0; 7]);
        assert_eq!(check_object_header(&good, HEADER_LEN, KIND_FILE), Ok(()));
        assert_eq!(
            check_object_header(b"klu", HEADER_LEN, KIND_FILE),
            Err(Error::TooShort)
        );
        assert_eq!(
            check_object_header(&good[..10], HEADER_LEN, KIND_FILE),
            Err(Error::TooShort)
        );
        assert_eq!(
            check_object_header(b"PK\x03\x04 zip file", HEADER_LEN, KIND_FILE),
            Err(Error::NotKluis)
        );
        let mut v2 = good;
        v2[5] = 2;
        assert_eq!(
            check_object_header(&v2, HEADER_LEN, KIND_FILE),
            Err(Error::UnsupportedVersion(2))
        );
        assert_eq!(
            check_object_header(&good, HEADER_LEN, b'M'),
            Err(Error::WrongObjectKind)
        );
    }
}
