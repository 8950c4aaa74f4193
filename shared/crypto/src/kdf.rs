//! Password stretching: Argon2id, then HKDF into the two password keys.
//!
//! `docs/format.md`, "Password keys": the normalized password and a 16-byte
//! random salt go through Argon2id (version 0x13, 32-byte output) with the
//! transfer's stored parameters; the output is split by HKDF-SHA256 into a
//! [`KeyEncryptionKey`] and an [`AuthKey`].

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::password::normalize;
use crate::{AuthKey, Error, KeyEncryptionKey, Result, TransferId};

/// Argon2id cost parameters, stored beside each transfer's wrapped key.
/// Also the API's and the server's type for them (`kluis-core` re-exports
/// it), so the format's bounds have one home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_kib: u32,
    /// Number of passes.
    pub t: u32,
    /// Degree of parallelism (lanes).
    pub p: u32,
}

impl KdfParams {
    /// The weakest parameters the format accepts: m = 64 MiB, t = 3, p = 1.
    /// A server MUST refuse to store weaker ones.
    pub const MINIMUM: Self = Self {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };

    /// The parameters new transfers use.
    pub const DEFAULT: Self = Self::MINIMUM;

    /// Upper bounds that keep a hostile envelope from exhausting a client:
    /// 1 GiB of memory, 16 passes, 8 lanes.
    pub const MAXIMUM: Self = Self {
        m_kib: 1024 * 1024,
        t: 16,
        p: 8,
    };

    /// Whether every parameter is at least `floor`'s (a policy's floor, itself
    /// never below [`Self::MINIMUM`]). More lanes do not make a guess costlier
    /// for an attacker with many cores, but the format fixes p per transfer,
    /// so p is held to the floor like the others.
    pub const fn at_least(&self, floor: &Self) -> bool {
        self.m_kib >= floor.m_kib && self.t >= floor.t && self.p >= floor.p
    }

    /// Whether these parameters are within [`Self::MINIMUM`] and
    /// [`Self::MAXIMUM`] (each field separately).
    pub fn is_acceptable(&self) -> bool {
        let (lo, hi) = (Self::MINIMUM, Self::MAXIMUM);
        (lo.m_kib..=hi.m_kib).contains(&self.m_kib)
            && (lo.t..=hi.t).contains(&self.t)
            && (lo.p..=hi.p).contains(&self.p)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Length of the Argon2id salt in bytes.
pub const SALT_LEN: usize = 16;

/// The two keys a password yields for one transfer.
#[derive(Debug)]
pub struct PasswordKeys {
    /// Wraps and unwraps the content key.
    pub kek: KeyEncryptionKey,
    /// Proves knowledge of the password to the server.
    pub auth: AuthKey,
}

/// Stretches `password` (normalized first, see [`crate::password::normalize`])
/// with Argon2id and derives the key-encryption key and the auth key of
/// `transfer`. Refuses parameters outside [`KdfParams::is_acceptable`].
pub fn derive_password_keys(
    password: &str,
    salt: &[u8],
    params: KdfParams,
    transfer: &TransferId,
) -> Result<PasswordKeys> {
    if !params.is_acceptable() {
        return Err(Error::WeakKdfParams);
    }
    derive_unchecked(password, salt, params, transfer)
}

/// As [`derive_password_keys`] without the parameter floor: only for tests
/// and vectors, where 64 MiB per derivation would make suites slow.
#[doc(hidden)]
pub fn derive_unchecked(
    password: &str,
    salt: &[u8],
    params: KdfParams,
    transfer: &TransferId,
) -> Result<PasswordKeys> {
    let stretched = stretch(password, salt, params)?;
    Ok(PasswordKeys {
        kek: KeyEncryptionKey::derive_from(&stretched, transfer),
        auth: AuthKey::derive_from(&stretched, transfer),
    })
}

/// `S = Argon2id(normalize(password), salt, m, t, p)`, the 32 bytes both
/// password keys are derived from. Public for known-answer vectors only.
#[doc(hidden)]
pub fn stretch(password: &str, salt: &[u8], params: KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    if salt.len() != SALT_LEN {
        return Err(Error::SaltLength { expected: SALT_LEN });
    }
    let argon_params =
        Params::new(params.m_kib, params.t, params.p, Some(32)).map_err(|_| Error::WeakKdfParams)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let normalized = Zeroizing::new(normalize(password));
    let mut stretched = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(normalized.as_bytes(), salt, stretched.as_mut())
        .map_err(|_| Error::WeakKdfParams)?;
    Ok(stretched)
}

/// A fresh random Argon2id salt.
pub fn generate_salt() -> Result<[u8; SALT_LEN]> {
    crate::random::bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    #[test]
    fn weak_parameters_are_refused() {
        let t = TransferId::from_bytes([0; 16]);
        for weak in [
            KdfParams {
                m_kib: 64 * 1024 - 1,
                t: 3,
                p: 1,
            },
            KdfParams {
                m_kib: 64 * 1024,
                t: 2,
                p: 1,
            },
            KdfParams {
                m_kib: 64 * 1024,
                t: 3,
                p: 0,
            },
            KdfParams {
                m_kib: 2 * 1024 * 1024,
                t: 3,
                p: 1,
            },
            KdfParams {
                m_kib: 64 * 1024,
                t: 17,
                p: 1,
            },
        ] {
            assert_eq!(
                derive_password_keys("pw", &[0; 16], weak, &t).unwrap_err(),
                Error::WeakKdfParams
            );
        }
    }

    #[test]
    fn salt_must_be_sixteen_bytes() {
        let t = TransferId::from_bytes([0; 16]);
        let err = derive_unchecked("pw", &[0; 15], CHEAP, &t).unwrap_err();
        assert_eq!(err, Error::SaltLength { expected: 16 });
    }

    #[test]
    fn keys_depend_on_password_salt_and_transfer() {
        let t = TransferId::from_bytes([0; 16]);
        let base = derive_unchecked("pw", &[0; 16], CHEAP, &t).unwrap();
        let other_pw = derive_unchecked("pw2", &[0; 16], CHEAP, &t).unwrap();
        let other_salt = derive_unchecked("pw", &[1; 16], CHEAP, &t).unwrap();
        let other_t = derive_unchecked("pw", &[0; 16], CHEAP, &TransferId::from_bytes([1; 16])).unwrap();
        for other in [&other_pw, &other_salt, &other_t] {
            assert_ne!(base.auth.expose_secret(), other.auth.expose_secret());
            assert_ne!(base.kek.expose_secret(), other.kek.expose_secret());
        }
        assert_ne!(base.kek.expose_secret(), base.auth.expose_secret());
    }
}
