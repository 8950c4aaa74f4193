//! Wrapping the content key under the password's key-encryption key.
//!
//! Envelope (`docs/format.md`, "Wrapped key"), 61 bytes:
//! `version (1) ‖ nonce (12) ‖ AES-256-GCM(kek, nonce, K, aad) (32 + 16)`
//! with `aad = "kluis v1 wrapped key" ‖ transfer id`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use crate::{ContentKey, Error, FORMAT_VERSION, KeyEncryptionKey, Result, TransferId};

/// Length of a wrapped-key envelope in bytes.
pub const WRAPPED_KEY_LEN: usize = 1 + 12 + 32 + 16;

const LABEL_WRAP_AAD: &[u8] = b"kluis v1 wrapped key";

fn aad(transfer: &TransferId) -> [u8; LABEL_WRAP_AAD.len() + 16] {
    let mut aad = [0u8; LABEL_WRAP_AAD.len() + 16];
    aad[..LABEL_WRAP_AAD.len()].copy_from_slice(LABEL_WRAP_AAD);
    aad[LABEL_WRAP_AAD.len()..].copy_from_slice(transfer.as_bytes());
    aad
}

/// Wraps `key` for `transfer` with a fresh random nonce.
pub fn wrap(
    kek: &KeyEncryptionKey,
    key: &ContentKey,
    transfer: &TransferId,
) -> Result<[u8; WRAPPED_KEY_LEN]> {
    wrap_with_nonce(kek, key, transfer, crate::random::bytes()?)
}

/// As [`wrap`] with a caller-chosen nonce: for known-answer vectors only. A
/// nonce MUST never repeat under one key-encryption key.
#[doc(hidden)]
pub fn wrap_with_nonce(
    kek: &KeyEncryptionKey,
    key: &ContentKey,
    transfer: &TransferId,
    nonce: [u8; 12],
) -> Result<[u8; WRAPPED_KEY_LEN]> {
    let cipher = Aes256Gcm::new(kek.expose_secret().into());
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: key.expose_secret(),
                aad: &aad(transfer),
            },
        )
        .map_err(|_| Error::WrappedKeyMalformed)?;
    let mut out = [0u8; WRAPPED_KEY_LEN];
    out[0] = FORMAT_VERSION;
    out[1..13].copy_from_slice(&nonce);
    out[13..].copy_from_slice(&sealed);
    Ok(out)
}

/// Unwraps the content key. A wrong password (hence a wrong `kek`), an
/// altered envelope or an envelope of another transfer all give
/// [`Error::WrongPassword`].
pub fn unwrap(kek: &KeyEncryptionKey, envelope: &[u8], transfer: &TransferId) -> Result<ContentKey> {
    if envelope.len() != WRAPPED_KEY_LEN {
        return Err(Error::WrappedKeyMalformed);
    }
    if envelope[0] != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion(envelope[0]));
    }
    let nonce: [u8; 12] = envelope[1..13].try_into().expect("slice of 12 bytes");
    let cipher = Aes256Gcm::new(kek.expose_secret().into());
    let opened = Zeroizing::new(
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &envelope[13..],
                    aad: &aad(transfer),
                },
            )
            .map_err(|_| Error::WrongPassword)?,
    );
    ContentKey::from_slice(&opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (KeyEncryptionKey, ContentKey, TransferId) {
        (
            KeyEncryptionKey::from_bytes([1; 32]),
            ContentKey::from_bytes([2; 32]),
            TransferId::from_bytes([3; 16]),
        )
    }

    #[test]
    fn wrap_then_unwrap_returns_the_key() {
        let (kek, key, t) = setup();
        let env = wrap(&kek, &key, &t).unwrap();
        assert_eq!(
            unwrap(&kek, &env, &t).unwrap().expose_secret(),
            key.expose_secret()
        );
    }

    #[test]
    fn wrong_kek_is_a_wrong_password() {
        let (kek, key, t) = setup();
        let env = wrap(&kek, &key, &t).unwrap();
        let other = KeyEncryptionKey::from_bytes([9; 32]);
        assert_eq!(unwrap(&other, &env, &t).unwrap_err(), Error::WrongPassword);
    }

    #[test]
    fn envelope_of_another_transfer_does_not_unwrap() {
        let (kek, key, t) = setup();
        let env = wrap(&kek, &key, &t).unwrap();
        assert_eq!(
            unwrap(&kek, &env, &TransferId::from_bytes([4; 16])).unwrap_err(),
            Error::WrongPassword
        );
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let (kek, key, t) = setup();
        let env = wrap(&kek, &key, &t).unwrap();
        for i in 0..WRAPPED_KEY_LEN {
            let mut bad = env;
            bad[i] ^= 0x01;
            let err = unwrap(&kek, &bad, &t).unwrap_err();
            let expected = if i == 0 {
                Error::UnsupportedVersion(0)
            } else {
                Error::WrongPassword
            };
            assert_eq!(err, expected, "byte {i}");
        }
    }

    #[test]
    fn wrong_length_is_malformed() {
        let (kek, _, t) = setup();
        assert_eq!(
            unwrap(&kek, &[1; 60], &t).unwrap_err(),
            Error::WrappedKeyMalformed
        );
        assert_eq!(unwrap(&kek, &[], &t).unwrap_err(), Error::WrappedKeyMalformed);
    }
}
