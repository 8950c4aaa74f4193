//! Identifiers and bearer secrets: transfer and file ids (16 random bytes),
//! retrieval, manage and session tokens (32 random bytes), and the SHA-256
//! digests under which the server keeps tokens.
//!
//! Text forms are base64url without padding, so they fit in URLs and keys
//! unchanged. Tokens MUST never be stored; only their [`TokenHash`] is, and a
//! presented token is compared with [`TokenHash::matches`] in constant time.

use core::fmt;
use core::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{DomainError, Field};

/// Decodes exactly `N` bytes of unpadded base64url, or says which field was bad.
pub(crate) fn decode_fixed<const N: usize>(text: &str, field: Field) -> Result<[u8; N], DomainError> {
    // The exact text length is checked first so a huge input costs nothing.
    let expected_len = (N * 4).div_ceil(3);
    if text.len() != expected_len {
        return Err(DomainError::Malformed { field });
    }
    let mut out = [0u8; N];
    match URL_SAFE_NO_PAD.decode_slice(text, &mut out) {
        Ok(written) if written == N => Ok(out),
        _ => Err(DomainError::Malformed { field }),
    }
}

pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Bytes of every id: the format's transfer and file id length, used for
/// the domain's other ids too.
const ID_LEN: usize = kluis_crypto::TransferId::LEN;
const _: () = assert!(
    kluis_crypto::FileId::LEN == ID_LEN
        && kluis_crypto::FileId::TEXT_LEN == kluis_crypto::TransferId::TEXT_LEN
);

/// Declares a public 16-byte identifier with base64url text form and serde as text.
macro_rules! random_id {
    ($(#[$meta:meta])* $name:ident, $field:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name([u8; ID_LEN]);

        impl $name {
            /// Length of the text form: 16 bytes in unpadded base64url.
            pub const TEXT_LEN: usize = kluis_crypto::TransferId::TEXT_LEN;

            /// Wraps 16 random bytes (from the [`crate::ports::RandomSource`] port).
            pub const fn from_bytes(bytes: [u8; ID_LEN]) -> Self {
                Self(bytes)
            }

            /// The raw bytes, e.g. for associated data in the crypto format.
            pub const fn as_bytes(&self) -> &[u8; ID_LEN] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&encode(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(text: &str) -> Result<Self, DomainError> {
                decode_fixed::<ID_LEN>(text, $field).map(Self)
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(text: String) -> Result<Self, DomainError> {
                text.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

random_id!(
    /// Identifies one transfer; public (it appears in links and object keys).
    TransferId,
    Field::TransferId
);
random_id!(
    /// Identifies one file within a transfer; public (bound into the file's associated data).
    FileId,
    Field::FileId
);
random_id!(
    /// Identifies one verification challenge (the code mailed to a sender).
    ChallengeId,
    Field::ChallengeId
);
random_id!(
    /// Identifies one audit event, so a retried append cannot write it twice.
    EventId,
    Field::EventId
);
random_id!(
    /// A client's idempotency key for a step that creates something (a code
    /// request, a draft, a reply): the client draws it once per intent and
    /// repeats it on every retry, so a retried request finds what the first
    /// one created instead of creating it again.
    RequestId,
    Field::RequestId
);

/// The format's transfer and file ids are the same 16 bytes as the
/// domain's; the domain's own types carry what the format crate has no
/// business knowing (which request field a malformed id was in, serde as
/// text), so the two convert without a byte copy at every call site.
macro_rules! format_id {
    ($name:ident) => {
        impl From<kluis_crypto::$name> for $name {
            fn from(id: kluis_crypto::$name) -> Self {
                Self(*id.as_bytes())
            }
        }

        impl From<$name> for kluis_crypto::$name {
            fn from(id: $name) -> Self {
                Self::from_bytes(id.0)
            }
        }
    };
}

format_id!(TransferId);
format_id!(FileId);

/// A 32-byte bearer secret: a recipient's retrieval token, the sender's
/// manage token, or a sender session token.
///
/// Deliberately not `Serialize`, not `Display` and with a redacting `Debug`:
/// it MUST reach only the person it is for (in a link or a response body),
/// never a log or the state store.
#[derive(Clone, PartialEq, Eq)]
pub struct Token([u8; 32]);

impl Token {
    /// Length of the text form: 32 bytes in unpadded base64url.
    pub const TEXT_LEN: usize = 43;

    /// Wraps 32 random bytes (from the [`crate::ports::RandomSource`] port).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses a presented token; `field` names where it came from in errors.
    pub fn parse(text: &str, field: Field) -> Result<Self, DomainError> {
        decode_fixed::<32>(text, field).map(Self)
    }

    /// The text form to put in a link or a response, the only place it may go.
    pub fn reveal(&self) -> String {
        encode(&self.0)
    }

    /// The digest the server keeps in place of the token.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0).into())
    }
}

impl Drop for Token {
    /// A bearer secret does not outlive its use in memory.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// SHA-256 of a [`Token`]: what the state store keeps and keys sessions by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Wraps a stored digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `token` hashes to this digest, in constant time so response
    /// timing reveals nothing about how much of a guess was right.
    pub fn matches(&self, token: &Token) -> bool {
        bool::from(self.0.ct_eq(token.hash().as_bytes()))
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode(&self.0))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({self})")
    }
}

impl TryFrom<String> for TokenHash {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        decode_fixed::<32>(&text, Field::TokenHash).map(Self)
    }
}

impl From<TokenHash> for String {
    fn from(hash: TokenHash) -> String {
        hash.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_id_text_form_is_22_chars_of_base64url_and_round_trips() {
        let id = TransferId::from_bytes([0xfb; 16]);
        let text = id.to_string();
        assert_eq!(text.len(), TransferId::TEXT_LEN);
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(text.parse::<TransferId>(), Ok(id));
    }

    #[test]
    fn id_with_wrong_length_or_alphabet_is_malformed() {
        for bad in [
            "",
            "AAAA",
            "AAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAA+/",
            "AAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert_eq!(
                bad.parse::<FileId>(),
                Err(DomainError::Malformed { field: Field::FileId }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn id_with_non_canonical_trailing_bits_is_malformed() {
        // 16 bytes leave 4 spare bits in the last character; "B" sets one.
        assert!("AAAAAAAAAAAAAAAAAAAAAB".parse::<TransferId>().is_err());
    }

    #[test]
    fn token_hash_matches_only_its_own_token() {
        let token = Token::from_bytes([7; 32]);
        let other = Token::from_bytes([8; 32]);
        let hash = token.hash();
        assert!(hash.matches(&token));
        assert!(!hash.matches(&other));
    }

    #[test]
    fn token_text_form_round_trips_and_debug_is_redacted() {
        let token = Token::from_bytes([9; 32]);
        let text = token.reveal();
        assert_eq!(text.len(), Token::TEXT_LEN);
        assert_eq!(Token::parse(&text, Field::RetrievalToken), Ok(token.clone()));
        assert!(!format!("{token:?}").contains(&text));
    }

    #[test]
    fn ids_serialize_as_their_text_form() {
        let id = TransferId::from_bytes([1; 16]);
        let json = serde_json::to_string(&id).expect("serializing a string cannot fail");
        assert_eq!(json, format!("\"{id}\""));
        let back: TransferId = serde_json::from_str(&json).expect("valid id");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<TransferId>("\"nope\"").is_err());
    }
}
