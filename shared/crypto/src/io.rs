//! Streaming encryption and decryption of one file over `Read`/`Write`, in
//! constant memory (one chunk buffer), for the command-line client.
//!
//! Decryption writes each chunk as soon as it is authenticated, so on error
//! the writer has received a prefix of the plaintext. Callers MUST treat the
//! output as invalid unless [`decrypt`] returns `Ok` (the CLI writes to a
//! temporary file and renames it only on success).

use std::io::{self, Read, Write};

use aes_gcm::aead::Buffer;
use zeroize::Zeroizing;

use crate::stream::{CHUNK_SIZE, HEADER_LEN, SEALED_CHUNK_LEN};
use crate::{Error, FileId, FileKey, FileOpener, FileSealer, TransferId};

/// Why a streaming operation failed: the reader or writer, or the format.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Reading the input or writing the output failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The input is not a valid file object for this key (see [`Error`]).
    #[error(transparent)]
    Format(#[from] Error),
}

/// One chunk's worth of memory, allocated and zeroed once and reused: a
/// `Vec` cleared per chunk would be zero-filled again by every read, which
/// costs a measurable share of the encryption time. Its bytes are wiped on
/// drop.
struct ChunkBuffer {
    bytes: Zeroizing<Vec<u8>>,
    len: usize,
}

impl ChunkBuffer {
    fn new() -> Self {
        Self {
            bytes: Zeroizing::new(vec![0; SEALED_CHUNK_LEN]),
            len: 0,
        }
    }

    /// Reads until the buffer holds `limit` bytes or the reader ends.
    fn fill(&mut self, reader: &mut impl Read, limit: usize) -> io::Result<()> {
        let start = self.len;
        self.len += read_up_to(reader, &mut self.bytes[start..limit])?;
        Ok(())
    }
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match reader.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

impl AsRef<[u8]> for ChunkBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl AsMut<[u8]> for ChunkBuffer {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }
}

impl Buffer for ChunkBuffer {
    fn extend_from_slice(&mut self, other: &[u8]) -> aes_gcm::aead::Result<()> {
        let end = self.len + other.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(aes_gcm::aead::Error)?;
        room.copy_from_slice(other);
        self.len = end;
        Ok(())
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

/// Reads one byte ahead, to learn whether the chunk just read is the last.
fn peek(reader: &mut impl Read) -> io::Result<Option<u8>> {
    let mut byte = [0u8; 1];
    loop {
        match reader.read(&mut byte) {
            Ok(0) => return Ok(None),
            Ok(_) => return Ok(Some(byte[0])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Runs `step(index, last, buffer)` over the reader in pieces of `piece`
/// bytes, writing each processed piece.
fn pump(
    mut reader: impl Read,
    mut writer: impl Write,
    piece: usize,
    mut step: impl FnMut(u32, bool, &mut ChunkBuffer) -> Result<(), Error>,
) -> Result<u64, StreamError> {
    let mut buffer = ChunkBuffer::new();
    let mut carry = None;
    let mut written = 0u64;
    for index in 0..=u32::MAX {
        buffer.len = 0;
        if let Some(byte) = carry.take() {
            buffer.bytes[0] = byte;
            buffer.len = 1;
        }
        buffer.fill(&mut reader, piece)?;
        let last = buffer.len < piece || {
            carry = peek(&mut reader)?;
            carry.is_none()
        };
        step(index, last, &mut buffer)?;
        writer.write_all(buffer.as_ref())?;
        written += buffer.len as u64;
        if last {
            writer.flush()?;
            return Ok(written);
        }
    }
    Err(Error::FileTooLarge.into())
}

/// Encrypts everything `reader` yields as file `file` of `transfer` and
/// writes the file object to `writer`. Returns the bytes written.
pub fn encrypt(
    key: &FileKey,
    transfer: &TransferId,
    file: &FileId,
    reader: impl Read,
    mut writer: impl Write,
) -> Result<u64, StreamError> {
    let sealer = FileSealer::new(key, transfer, file)?;
    writer.write_all(&sealer.header())?;
    let body = pump(reader, writer, CHUNK_SIZE, |index, last, buf| {
        sealer.seal_chunk_in(index, last, buf)
    })?;
    Ok(HEADER_LEN as u64 + body)
}

/// Decrypts the file object `reader` yields and writes the plaintext to
/// `writer`. Returns the plaintext bytes written. See the module note on
/// partial output.
pub fn decrypt(
    key: &FileKey,
    transfer: &TransferId,
    file: &FileId,
    mut reader: impl Read,
    writer: impl Write,
) -> Result<u64, StreamError> {
    let mut header = [0u8; HEADER_LEN];
    let got = read_up_to(&mut reader, &mut header)?;
    let opener = FileOpener::new(key, transfer, file, &header[..got])?;
    pump(reader, writer, SEALED_CHUNK_LEN, |index, last, buf| {
        opener.open_chunk_in(index, last, buf)
    })
}
