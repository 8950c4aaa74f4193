//! The id/secret generator port, and the typed values drawn from it.

use std::sync::atomic::{AtomicU64, Ordering};

use super::PortError;
use crate::ids::{ChallengeId, EventId, FileId, Token, TransferId};
use crate::verification::VerificationCode;

/// A source of random bytes: the OS generator in production, a counter in
/// tests. Everything random (ids, tokens, codes) is drawn through
/// [`Generate`] on top of this one method.
pub trait RandomSource: Send + Sync {
    /// Fills `out` with random bytes.
    fn fill(&self, out: &mut [u8]) -> Result<(), PortError>;
}

/// Typed draws from any [`RandomSource`].
pub trait Generate: RandomSource {
    /// A fresh transfer id.
    fn transfer_id(&self) -> Result<TransferId, PortError> {
        self.array().map(TransferId::from_bytes)
    }

    /// A fresh file id.
    fn file_id(&self) -> Result<FileId, PortError> {
        self.array().map(FileId::from_bytes)
    }

    /// A fresh challenge id.
    fn challenge_id(&self) -> Result<ChallengeId, PortError> {
        self.array().map(ChallengeId::from_bytes)
    }

    /// A fresh audit event id.
    fn event_id(&self) -> Result<EventId, PortError> {
        self.array().map(EventId::from_bytes)
    }

    /// A fresh 32-byte token (retrieval, manage or session).
    fn token(&self) -> Result<Token, PortError> {
        self.array().map(Token::from_bytes)
    }

    /// A uniform six-digit code.
    fn verification_code(&self) -> Result<VerificationCode, PortError> {
        // Rejection sampling: 4 294 000 000 is the largest multiple of one
        // million below 2^32, so accepted draws are uniform modulo 10^6.
        const BOUND: u32 = 4_294_000_000;
        loop {
            let draw = u32::from_be_bytes(self.array()?);
            if draw < BOUND {
                return Ok(VerificationCode::from_number(draw % 1_000_000));
            }
        }
    }

    /// `N` random bytes.
    fn array<const N: usize>(&self) -> Result<[u8; N], PortError> {
        let mut out = [0u8; N];
        self.fill(&mut out)?;
        Ok(out)
    }
}

impl<R: RandomSource + ?Sized> Generate for R {}

/// The operating system's generator (getrandom).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), PortError> {
        getrandom::fill(out).map_err(PortError::backend)
    }
}

/// A deterministic source for tests: each `fill` writes the next value of a
/// counter (big-endian, repeated), so every draw differs and runs repeat.
#[derive(Debug, Default)]
pub struct CounterRandom(AtomicU64);

impl CounterRandom {
    /// A source whose first draw uses `start`.
    pub fn starting_at(start: u64) -> Self {
        Self(AtomicU64::new(start))
    }
}

impl RandomSource for CounterRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), PortError> {
        let value = self.0.fetch_add(1, Ordering::SeqCst).to_be_bytes();
        for (byte, source) in out.iter_mut().zip(value.iter().cycle()) {
            *byte = *source;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_source_gives_distinct_repeatable_ids() {
        let a = CounterRandom::default();
        let b = CounterRandom::default();
        let first = a.transfer_id().expect("counter cannot fail");
        assert_ne!(first, a.transfer_id().expect("counter cannot fail"));
        assert_eq!(first, b.transfer_id().expect("counter cannot fail"));
    }

    #[test]
    fn verification_codes_are_six_digits() {
        let source = CounterRandom::starting_at(123_456_789);
        let code = source.verification_code().expect("counter cannot fail");
        assert_eq!(code.reveal().len(), 6);
        assert!(code.reveal().bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn os_source_fills_tokens() {
        let token = OsRandom.token().expect("the OS generator works in tests");
        assert_ne!(token, OsRandom.token().expect("the OS generator works in tests"));
    }
}
