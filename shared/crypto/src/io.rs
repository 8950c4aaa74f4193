//! Streaming encryption and decryption of one file over `Read`/`Write`, in
//! constant memory (one chunk buffer), for the command-line client.
//!
//! Decryption writes each chunk as soon as it is authenticated, so on error
//! the writer has received a prefix of the plaintext. Callers MUST treat the
//! output as invalid unless [`decrypt`] returns `Ok` (the CLI writes to a
//! temporary file and renames it only on success).

use std::io::{self, Read, Write};

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

/// Reads into `buffer` until it holds `limit` bytes or the reader ends.
fn fill(reader: &mut impl Read, buffer: &mut Vec<u8>, limit: usize) -> io::Result<()> {
    let wanted = (limit - buffer.len()) as u64;
    reader.take(wanted).read_to_end(buffer)?;
    Ok(())
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
    mut step: impl FnMut(u32, bool, &mut Vec<u8>) -> Result<(), Error>,
) -> Result<u64, StreamError> {
    let mut buffer = Zeroizing::new(Vec::with_capacity(SEALED_CHUNK_LEN));
    let mut carry = None;
    let mut written = 0u64;
    for index in 0..=u32::MAX {
        buffer.clear();
        buffer.extend(carry.take());
        fill(&mut reader, &mut buffer, piece)?;
        let last = buffer.len() < piece || {
            carry = peek(&mut reader)?;
            carry.is_none()
        };
        step(index, last, &mut buffer)?;
        writer.write_all(&buffer)?;
        written += buffer.len() as u64;
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
        sealer.seal_chunk(index, last, buf)
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
    let mut header = Vec::with_capacity(HEADER_LEN);
    fill(&mut reader, &mut header, HEADER_LEN)?;
    let opener = FileOpener::new(key, transfer, file, &header)?;
    if header.len() < HEADER_LEN {
        return Err(Error::TooShort.into());
    }
    pump(reader, writer, SEALED_CHUNK_LEN, |index, last, buf| {
        opener.open_chunk(index, last, buf)
    })
}
