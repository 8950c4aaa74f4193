//! The one error type of the format crate.
//!
//! Every variant is a distinct, documented cause, so callers can show a clear
//! message. Authentication failures never say more than which object (and
//! which chunk) failed: the cause — tampering, the wrong key, a chunk moved
//! from elsewhere — is indistinguishable by design.

/// Why an operation of the format failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not start with the kluis magic: not a kluis object.
    #[error("not a kluis object (bad magic bytes)")]
    NotKluis,
    /// The object was written by a format version this crate does not read.
    #[error("unsupported kluis format version {0}")]
    UnsupportedVersion(u8),
    /// A file object was given where a manifest was expected, or the other
    /// way round.
    #[error("wrong kind of kluis object")]
    WrongObjectKind,
    /// The input ends before its header, or a chunk or envelope is shorter
    /// than its authentication tag.
    #[error("kluis object is too short")]
    TooShort,
    /// A chunk failed authentication: it was altered, reordered, duplicated,
    /// moved from another file or transfer, or the key is wrong. Chunk
    /// `index` counts from 0.
    #[error("chunk {index} failed authentication (tampered, reordered or wrong key)")]
    ChunkAuthentication {
        /// Position of the failing chunk in the stream, from 0.
        index: u64,
    },
    /// The stream ends after a chunk that was not sealed as the last one:
    /// the file was cut short.
    #[error("file is truncated: the stream ends before its last chunk")]
    Truncated,
    /// Bytes follow the chunk that was sealed as the last one.
    #[error("unexpected data after the last chunk")]
    TrailingData,
    /// A chunk has a size the format does not allow at its position (only
    /// the last chunk may be shorter than [`crate::CHUNK_SIZE`], and only an
    /// empty file has an empty last chunk).
    #[error("chunk has a size the format does not allow")]
    ChunkSize,
    /// The stream would need more chunks than the 32-bit counter allows.
    #[error("file is too large for the kluis format")]
    FileTooLarge,
    /// The sealed manifest failed authentication (tampered or wrong key).
    #[error("manifest failed authentication (tampered or wrong key)")]
    ManifestAuthentication,
    /// The manifest decrypted but its contents are not a valid manifest.
    #[error("manifest is malformed")]
    ManifestMalformed,
    /// The manifest is larger than [`crate::manifest::MAX_MANIFEST_LEN`].
    #[error("manifest is too large")]
    ManifestTooLarge,
    /// The wrapped content key did not unwrap: the password is wrong (or the
    /// envelope was altered or belongs to another transfer).
    #[error("wrong password")]
    WrongPassword,
    /// The wrapped key envelope has the wrong length or version.
    #[error("wrapped key is malformed")]
    WrappedKeyMalformed,
    /// Argon2id parameters are below the format's floor or out of range.
    #[error("key-derivation parameters are weaker than allowed or invalid")]
    WeakKdfParams,
    /// The salt has the wrong length.
    #[error("salt must be {expected} bytes")]
    SaltLength {
        /// The required salt length.
        expected: usize,
    },
    /// A key, id or auth value has the wrong length or encoding.
    #[error("invalid {0} encoding or length")]
    InvalidEncoding(&'static str),
    /// The operating system's random generator failed.
    #[error("random number generator failed")]
    Random,
}

impl Error {
    /// A stable, machine-readable name of the error (snake_case), the same in
    /// Rust, in the WebAssembly build and in the test vectors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotKluis => "not_kluis",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::WrongObjectKind => "wrong_object_kind",
            Self::TooShort => "too_short",
            Self::ChunkAuthentication { .. } => "chunk_authentication",
            Self::Truncated => "truncated",
            Self::TrailingData => "trailing_data",
            Self::ChunkSize => "chunk_size",
            Self::FileTooLarge => "file_too_large",
            Self::ManifestAuthentication => "manifest_authentication",
            Self::ManifestMalformed => "manifest_malformed",
            Self::ManifestTooLarge => "manifest_too_large",
            Self::WrongPassword => "wrong_password",
            Self::WrappedKeyMalformed => "wrapped_key_malformed",
            Self::WeakKdfParams => "weak_kdf_params",
            Self::SaltLength { .. } => "salt_length",
            Self::InvalidEncoding(_) => "invalid_encoding",
            Self::Random => "random",
        }
    }
}
