//! Key types and the labelled derivations between them.
//!
//! Every key is 32 bytes, zeroized on drop, and never printed. Derivations
//! are HKDF-SHA256 with the transfer id as salt and a fixed ASCII label (plus
//! the file id for file keys) as info, so no key is ever used for two
//! purposes or in two transfers (`docs/format.md`, "Key schedule").

use alloc::string::String;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{Error, FileId, Result, TransferId};

/// HKDF info label of a file key; the file id follows it.
pub(crate) const LABEL_FILE_KEY: &[u8] = b"kluis v1 file key";
/// HKDF info label of the manifest key.
pub(crate) const LABEL_MANIFEST_KEY: &[u8] = b"kluis v1 manifest key";
/// HKDF info label of the key-encryption key.
pub(crate) const LABEL_KEK: &[u8] = b"kluis v1 key encryption key";
/// HKDF info label of the auth key.
pub(crate) const LABEL_AUTH_KEY: &[u8] = b"kluis v1 auth key";

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; 32]);

        impl $name {
            /// Key length in bytes.
            pub const LEN: usize = 32;

            /// Wraps raw key bytes (e.g. from a known-answer vector).
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// Copies a key from a slice of exactly 32 bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self> {
                let array: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| Error::InvalidEncoding(stringify!($name)))?;
                Ok(Self(array))
            }

            /// The raw key bytes. Callers MUST NOT log or store them.
            pub fn expose_secret(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

key_type!(
    /// The random per-transfer content key `K`. Everything of a transfer is
    /// encrypted under keys derived from it.
    ContentKey
);
key_type!(
    /// Key of one file's STREAM, derived from the content key and file id.
    FileKey
);
key_type!(
    /// Key that seals the manifest, derived from the content key.
    ManifestKey
);
key_type!(
    /// Key-encryption key derived from the password; wraps the content key.
    KeyEncryptionKey
);
key_type!(
    /// Proof of knowledge of the password, sent to the server on unlock. The
    /// server keeps only [`auth_hash`] of it.
    AuthKey
);

impl AuthKey {
    /// Length of the text form a client sends: unpadded base64url, 43
    /// characters.
    pub const TEXT_LEN: usize = 43;

    /// Parses the text form: exactly 43 characters of unpadded base64url
    /// whose unused trailing bits are zero (one spelling per key).
    pub fn parse(text: &str) -> Result<Self> {
        let mut out = [0u8; 32];
        // The length is checked first, so the decoder never writes past `out`
        // and a huge input costs nothing.
        if text.len() != Self::TEXT_LEN {
            return Err(Error::InvalidEncoding("auth key"));
        }
        match URL_SAFE_NO_PAD.decode_slice(text, &mut out) {
            Ok(32) => Ok(Self(out)),
            _ => {
                out.zeroize();
                Err(Error::InvalidEncoding("auth key"))
            }
        }
    }

    /// The text form (unpadded base64url), zeroized when dropped.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0))
    }
}

/// Compared in constant time: the auth key is what a password unlocks.
impl PartialEq for AuthKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for AuthKey {}

/// The auth key is the one key that travels (a client presents it to
/// unlock): in JSON it is its text form.
impl serde::Serialize for AuthKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> core::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_text())
    }
}

impl<'de> serde::Deserialize<'de> for AuthKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// HKDF-SHA256 expand of `ikm` with the transfer id as salt to one 32-byte key.
pub(crate) fn derive(ikm: &[u8], transfer: &TransferId, label: &[u8], extra: &[u8]) -> [u8; 32] {
    let hkdf = Hkdf::<Sha256>::new(Some(transfer.as_bytes()), ikm);
    let mut okm = [0u8; 32];
    // Multi-part info avoids building a buffer: info = label ‖ extra.
    hkdf.expand_multi_info(&[label, extra], &mut okm)
        .expect("32 bytes is far below HKDF-SHA256's 8160-byte limit");
    okm
}

impl ContentKey {
    /// A fresh random content key.
    pub fn generate() -> Result<Self> {
        crate::random::bytes().map(Self)
    }

    /// The key of file `file` in transfer `transfer`.
    pub fn file_key(&self, transfer: &TransferId, file: &FileId) -> FileKey {
        FileKey(derive(&self.0, transfer, LABEL_FILE_KEY, file.as_bytes()))
    }

    /// The key that seals the manifest of `transfer`.
    pub fn manifest_key(&self, transfer: &TransferId) -> ManifestKey {
        ManifestKey(derive(&self.0, transfer, LABEL_MANIFEST_KEY, &[]))
    }
}

impl KeyEncryptionKey {
    pub(crate) fn derive_from(stretched: &[u8; 32], transfer: &TransferId) -> Self {
        Self(derive(stretched, transfer, LABEL_KEK, &[]))
    }
}

impl AuthKey {
    pub(crate) fn derive_from(stretched: &[u8; 32], transfer: &TransferId) -> Self {
        Self(derive(stretched, transfer, LABEL_AUTH_KEY, &[]))
    }
}

/// What the server stores to check an auth key: `SHA-256(auth key)`.
///
/// The auth key is a 256-bit pseudorandom value, so a plain hash is enough:
/// there is nothing to brute-force that Argon2id has not already stretched.
pub fn auth_hash(auth: &AuthKey) -> [u8; 32] {
    Sha256::digest(auth.0).into()
}

/// Checks a presented auth key (raw bytes from a client) against the stored
/// [`auth_hash`], in constant time.
pub fn verify_auth(stored_hash: &[u8; 32], presented: &[u8]) -> bool {
    let Ok(presented) = AuthKey::from_slice(presented) else {
        return false;
    };
    auth_hash(&presented).ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer() -> TransferId {
        TransferId::from_bytes([1; 16])
    }

    #[test]
    fn file_keys_differ_per_file_and_per_transfer() {
        let k = ContentKey::from_bytes([9; 32]);
        let a = k.file_key(&transfer(), &FileId::from_bytes([1; 16]));
        let b = k.file_key(&transfer(), &FileId::from_bytes([2; 16]));
        let c = k.file_key(&TransferId::from_bytes([2; 16]), &FileId::from_bytes([1; 16]));
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_ne!(a.expose_secret(), c.expose_secret());
        assert_ne!(a.expose_secret(), k.manifest_key(&transfer()).expose_secret());
    }

    #[test]
    fn auth_check_accepts_only_the_right_key() {
        let auth = AuthKey::from_bytes([5; 32]);
        let stored = auth_hash(&auth);
        assert!(verify_auth(&stored, &[5; 32]));
        assert!(!verify_auth(&stored, &[6; 32]));
        assert!(!verify_auth(&stored, &[5; 31]));
        assert!(!verify_auth(&stored, &[]));
    }

    #[test]
    fn the_auth_key_travels_as_canonical_base64url() {
        let key = AuthKey::from_bytes([0xfb; 32]);
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json.len(), AuthKey::TEXT_LEN + 2);
        let back: AuthKey = serde_json::from_str(&json).unwrap();
        assert!(back == key);
        let text = key.to_text();
        // Not 43 characters, not base64url, or nonzero trailing bits.
        let mut last_bit = text.to_string();
        last_bit.replace_range(42.., "9");
        for bad in [&text[1..], "!".repeat(43).as_str(), &last_bit] {
            assert_eq!(
                AuthKey::parse(bad).unwrap_err(),
                Error::InvalidEncoding("auth key"),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_never_prints_key_bytes() {
        let text = alloc::format!("{:?}", ContentKey::from_bytes([0xAB; 32]));
        assert_eq!(text, "ContentKey(<redacted>)");
    }
}
