//! Transfer and file identifiers.
//!
//! Both are 16 random bytes. They are public (they appear in URLs and object
//! keys) and are bound into every key derivation and every associated data,
//! so a chunk, file or manifest cannot be moved to another transfer or file.
//! Their text form is unpadded base64url (22 characters).

use alloc::string::String;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = 16;
            /// Length of the text form in characters.
            pub const TEXT_LEN: usize = 22;

            /// A new random identifier.
            pub fn random() -> Result<Self> {
                crate::random::bytes().map(Self)
            }

            /// Wraps raw bytes.
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            /// The raw bytes, as bound into derivations and associated data.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            /// Parses the 22-character unpadded base64url text form.
            pub fn parse(text: &str) -> Result<Self> {
                let mut out = [0u8; 16];
                // A 16-byte value is always 22 characters; checking first keeps
                // the decoder from ever writing past `out`.
                if text.len() != Self::TEXT_LEN {
                    return Err(Error::InvalidEncoding($what));
                }
                match URL_SAFE_NO_PAD.decode_slice(text, &mut out) {
                    Ok(16) => Ok(Self(out)),
                    _ => Err(Error::InvalidEncoding($what)),
                }
            }

            /// The 22-character unpadded base64url text form.
            pub fn to_text(&self) -> String {
                URL_SAFE_NO_PAD.encode(self.0)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_text())
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.to_text())
            }
        }

        impl core::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }
    };
}

id_type!(
    /// Identifies one transfer (a set of files sent together).
    TransferId,
    "transfer id"
);
id_type!(
    /// Identifies one file within a transfer.
    FileId,
    "file id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let id = TransferId::from_bytes([7; 16]);
        let text = id.to_text();
        assert_eq!(text.len(), 22);
        assert_eq!(TransferId::parse(&text), Ok(id));
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "",
            "short",
            "BwcHBwcHBwcHBwcHBwcHB",
            "BwcHBwcHBwcHBwcHBwcHBw==",
            "BwcHBwcHBwcHBwcHBwcH!!",
        ] {
            assert_eq!(
                FileId::parse(bad),
                Err(Error::InvalidEncoding("file id")),
                "{bad}"
            );
        }
    }

    #[test]
    fn non_canonical_trailing_bits_are_refused() {
        // "Bw" ends in bits that do not fit 16 bytes exactly: 'x' sets them.
        assert!(TransferId::parse("BwcHBwcHBwcHBwcHBwcHBx").is_err());
    }
}
