//! Signed object URLs: HMAC-SHA256 under the store's secret key over
//! everything that decides what a request may do (method, path, upload id,
//! part number, range, expiry), compared in constant time.
//!
//! ```text
//! mac = HMAC-SHA256(key, "kluis-object-url-v1" ‖ LF ‖ method ‖ LF ‖ path ‖ LF
//!                        ‖ upload ‖ LF ‖ part ‖ LF ‖ range ‖ LF ‖ expires)
//! URL = base ‖ "/" ‖ key ‖ "?" ‖ [upload=…&part=…&] [range=first-last&]
//!       expires=<unix seconds>&sig=<base64url(mac)>
//! ```
//! Absent fields are empty strings; no field can contain LF (ids are
//! base64url, numbers are digits), so the message is unambiguous.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use kluis_core::ports::{PortError, RandomSource};

/// The secret that signs object URLs. Whoever holds it can mint URLs for
/// any object, so it MUST stay on the machine (the runner keeps it in a
/// file readable by its user only, or in its environment).
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// A key from 32 secret bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key (URLs signed with it die with the process unless
    /// the caller stores [`SigningKey::to_bytes`]).
    pub fn generate(random: &impl RandomSource) -> Result<Self, PortError> {
        let mut bytes = [0; 32];
        random.fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The secret bytes, to persist the key.
    pub const fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The signature of `fields`, base64url without padding.
    pub(crate) fn sign(&self, fields: &SignedFields<'_>) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(fields))
    }

    /// Whether `signature` (base64url) is the signature of `fields`, in
    /// constant time over the MAC bytes.
    pub(crate) fn verify(&self, fields: &SignedFields<'_>, signature: &str) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let expected = self.mac(fields);
        given.len() == expected.len() && bool::from(expected.as_slice().ct_eq(&given))
    }

    fn mac(&self, fields: &SignedFields<'_>) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for (i, field) in [
            "kluis-object-url-v1",
            fields.method,
            fields.path,
            fields.upload,
            fields.part,
            fields.range,
            fields.expires,
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                mac.update(b"\n");
            }
            mac.update(field.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(…)")
    }
}

/// What a signature covers, as the text that appears in the URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SignedFields<'a> {
    pub method: &'a str,
    /// The request path, mount prefix included.
    pub path: &'a str,
    pub upload: &'a str,
    pub part: &'a str,
    /// `first-last`, inclusive.
    pub range: &'a str,
    /// Unix seconds.
    pub expires: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> SignedFields<'static> {
        SignedFields {
            method: "GET",
            path: "/objects/t/a/b",
            range: "0-9",
            expires: "100",
            ..SignedFields::default()
        }
    }

    #[test]
    fn a_signature_verifies_only_for_the_fields_it_covers() {
        let key = SigningKey::from_bytes([7; 32]);
        let signature = key.sign(&fields());
        assert!(key.verify(&fields(), &signature));
        let changed = [
            SignedFields {
                method: "PUT",
                ..fields()
            },
            SignedFields {
                path: "/objects/t/a/c",
                ..fields()
            },
            SignedFields {
                upload: "u",
                ..fields()
            },
            SignedFields {
                part: "1",
                ..fields()
            },
            SignedFields {
                range: "0-10",
                ..fields()
            },
            SignedFields {
                expires: "101",
                ..fields()
            },
        ];
        for other in changed {
            assert!(!key.verify(&other, &signature), "{other:?} must not verify");
        }
    }

    #[test]
    fn another_key_or_a_garbled_signature_does_not_verify() {
        let key = SigningKey::from_bytes([7; 32]);
        let signature = key.sign(&fields());
        assert!(!SigningKey::from_bytes([8; 32]).verify(&fields(), &signature));
        assert!(!key.verify(&fields(), "not base64 !"));
        assert!(!key.verify(&fields(), &signature[..signature.len() - 2]));
        assert!(!key.verify(&fields(), ""));
    }

    #[test]
    fn fields_cannot_be_shifted_between_positions() {
        // "a\nb" split differently must not collide: fields hold no LF, and
        // the positions are fixed, so moving text between them changes the MAC.
        let key = SigningKey::from_bytes([1; 32]);
        let one = SignedFields {
            upload: "12",
            part: "3",
            ..fields()
        };
        let two = SignedFields {
            upload: "1",
            part: "23",
            ..fields()
        };
        assert_ne!(key.sign(&one), key.sign(&two));
    }
}
