//! The kluis encryption format, implemented once.
//!
//! This crate is the only place where kluis touches key material. It is used
//! natively by the functions and the command-line client, and compiled to
//! WebAssembly for the web pages. It performs no I/O of its own: callers feed
//! it bytes (or, with the `std` feature, a `Read`/`Write` pair).
//!
//! The byte-level specification is `docs/format.md`; every constant and
//! label here is named there. In short:
//!
//! * a random 256-bit [`ContentKey`] per transfer;
//! * per file a [`FileKey`] derived with HKDF-SHA256, used in the STREAM
//!   construction (AES-256-GCM, big-endian 32-bit chunk counter, last-chunk
//!   flag) over [`CHUNK_SIZE`] plaintext chunks — see [`stream`];
//! * a sealed [`manifest`] (file names, sizes, media types, SHA-256 digests and
//!   the confidential message) under a key derived from the content key;
//! * the password, stretched by Argon2id ([`KdfParams`]) and split by HKDF
//!   into a key-encryption key that [`wrap`]s the content key and an
//!   [`AuthKey`] whose hash is all the server keeps.
//!
//! Every decryption failure is an [`Error`]; nothing here panics on input.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod error;
mod ids;
mod kdf;
mod keys;
pub mod manifest;
pub mod password;
mod random;
pub mod stream;
pub mod wrap;

#[cfg(feature = "std")]
pub mod io;

pub use error::Error;
pub use ids::{FileId, TransferId};
pub use kdf::{
    KdfParams, PasswordKeys, SALT_LEN, derive_password_keys, derive_unchecked, generate_salt, stretch,
};
pub use keys::{AuthKey, ContentKey, FileKey, KeyEncryptionKey, ManifestKey, auth_hash, verify_auth};
pub use manifest::{FileEntry, Manifest};
pub use stream::{CHUNK_SIZE, FileOpener, FileSealer, ciphertext_len, plaintext_len};

/// Version of the format this crate writes and reads (`docs/format.md`).
pub const FORMAT_VERSION: u8 = 1;

/// The magic bytes every kluis object (file, manifest) starts with.
pub const MAGIC: [u8; 5] = *b"kluis";

/// Result type of this crate.
pub type Result<T> = core::result::Result<T, Error>;
