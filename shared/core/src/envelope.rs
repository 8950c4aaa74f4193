//! The key envelope the password step stores: the wrapped content key, the
//! Argon2id salt and parameters, and the SHA-256 of the auth key (the
//! "auth hash"), plus the sealed manifest that is released with it.
//!
//! All of it is opaque here: the server never unwraps or opens anything, it
//! only checks sizes, refuses weak KDF parameters, and compares a presented
//! auth key with the auth hash in constant time.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Field};
use crate::ids::decode_fixed;

/// Argon2id parameters: the format's own type, so its floor
/// ([`KdfParams::MINIMUM`]) and ceiling live only in `kluis-crypto`.
pub use kluis_crypto::KdfParams;

/// Declares a fixed-size opaque byte value with base64url serde.
macro_rules! opaque_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr, $field:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name(#[serde(with = "crate::bytes")] [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps the bytes.
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// Parses the unpadded base64url text a client sends.
            pub fn parse(text: &str) -> Result<Self, DomainError> {
                decode_fixed::<{ $len }>(text, $field).map(Self)
            }

            /// The bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

opaque_bytes!(
    /// The content key wrapped with AES-256-GCM under the key-encryption key.
    WrappedKey,
    kluis_crypto::wrap::WRAPPED_KEY_LEN,
    Field::WrappedKey
);
opaque_bytes!(
    /// The Argon2id salt.
    Salt,
    kluis_crypto::SALT_LEN,
    Field::Salt
);
opaque_bytes!(
    /// SHA-256 of the 32-byte auth key: what proves a client knows the password.
    AuthHash,
    kluis_crypto::AuthKey::LEN,
    Field::AuthKey
);
/// The auth key a client derived from the password and presents to unlock:
/// the format's own type (32 bytes, zeroized on drop, never printed,
/// compared in constant time, base64url in JSON). Never stored: only its
/// hash is.
pub use kluis_crypto::AuthKey;

impl AuthHash {
    /// The auth hash of `key` (what the password step stores), as the
    /// format defines it (`kluis_crypto::auth_hash`).
    pub fn of(key: &AuthKey) -> Self {
        Self(kluis_crypto::auth_hash(key))
    }

    /// Whether `key` hashes to this auth hash, in constant time.
    pub fn verifies(&self, key: &AuthKey) -> bool {
        kluis_crypto::verify_auth(&self.0, key.expose_secret())
    }
}

/// What the password step stores and a successful unlock releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEnvelope {
    /// The wrapped content key.
    pub wrapped_key: WrappedKey,
    /// The Argon2id salt.
    pub salt: Salt,
    /// The Argon2id parameters.
    pub kdf: KdfParams,
    /// SHA-256 of the auth key.
    pub auth_hash: AuthHash,
}

/// The sealed manifest (file names, sizes, types, digests and the
/// confidential message, encrypted in the browser). Opaque bytes here.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SealedManifest(Vec<u8>);

impl SealedManifest {
    /// Largest manifest accepted: the format's largest sealed manifest
    /// (`kluis-crypto` sizes it to sit in one DynamoDB item, 400 KB).
    pub const MAX_LEN: usize = kluis_crypto::manifest::MAX_SEALED_MANIFEST_LEN;

    /// Wraps manifest bytes, refusing empty or oversized ones.
    pub fn new(bytes: Vec<u8>) -> Result<Self, DomainError> {
        let field = Field::Manifest;
        if bytes.is_empty() {
            return Err(DomainError::Missing { field });
        }
        if bytes.len() > Self::MAX_LEN {
            return Err(DomainError::TooLong {
                field,
                max: Self::MAX_LEN,
            });
        }
        Ok(Self(bytes))
    }

    /// Parses the unpadded base64url text a client sends.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        use base64::Engine as _;
        // Checked before decoding so an oversized body costs no allocation.
        if text.len() > Self::MAX_LEN.div_ceil(3) * 4 {
            return Err(DomainError::TooLong {
                field: Field::Manifest,
                max: Self::MAX_LEN,
            });
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| DomainError::Malformed {
                field: Field::Manifest,
            })?;
        Self::new(bytes)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for SealedManifest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SealedManifest({} bytes)", self.0.len())
    }
}

impl TryFrom<String> for SealedManifest {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        Self::parse(&text)
    }
}

impl From<SealedManifest> for String {
    fn from(manifest: SealedManifest) -> String {
        crate::ids::encode(&manifest.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_hash_verifies_only_the_key_it_was_made_from() {
        let key = AuthKey::from_bytes([3; 32]);
        let hash = AuthHash::of(&key);
        assert!(hash.verifies(&key));
        assert!(!hash.verifies(&AuthKey::from_bytes([4; 32])));
    }

    #[test]
    fn kdf_params_below_the_floor_in_any_dimension_are_weaker() {
        let floor = KdfParams::MINIMUM;
        assert!(floor.at_least(&floor));
        assert!(
            KdfParams {
                m_kib: 131_072,
                t: 4,
                p: 2
            }
            .at_least(&floor)
        );
        assert!(
            !KdfParams {
                m_kib: 65_535,
                ..floor
            }
            .at_least(&floor)
        );
        assert!(!KdfParams { t: 2, ..floor }.at_least(&floor));
        assert!(!KdfParams { p: 0, ..floor }.at_least(&floor));
    }

    #[test]
    fn wrapped_key_must_be_exactly_61_bytes() {
        let text = crate::ids::encode(&[1u8; 61]);
        assert!(WrappedKey::parse(&text).is_ok());
        let short = crate::ids::encode(&[1u8; 60]);
        assert_eq!(
            WrappedKey::parse(&short),
            Err(DomainError::Malformed {
                field: Field::WrappedKey
            })
        );
    }

    #[test]
    fn manifest_must_be_present_and_bounded() {
        assert_eq!(
            SealedManifest::new(vec![]),
            Err(DomainError::Missing {
                field: Field::Manifest
            })
        );
        assert_eq!(
            SealedManifest::new(vec![0; SealedManifest::MAX_LEN + 1]),
            Err(DomainError::TooLong {
                field: Field::Manifest,
                max: SealedManifest::MAX_LEN
            })
        );
        assert_eq!(
            SealedManifest::parse("!!!"),
            Err(DomainError::Malformed {
                field: Field::Manifest
            })
        );
        let huge = "A".repeat(SealedManifest::MAX_LEN * 2);
        assert!(matches!(
            SealedManifest::parse(&huge),
            Err(DomainError::TooLong { .. })
        ));
    }

    #[test]
    fn envelope_round_trips_through_json() {
        let envelope = KeyEnvelope {
            wrapped_key: WrappedKey::from_bytes([5; 61]),
            salt: Salt::from_bytes([6; 16]),
            kdf: KdfParams::MINIMUM,
            auth_hash: AuthHash::of(&AuthKey::from_bytes([7; 32])),
        };
        let json = serde_json::to_string(&envelope).expect("serializable");
        let back: KeyEnvelope = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, envelope);
    }
}
