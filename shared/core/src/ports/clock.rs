//! The clock port, and the system and fixed clocks.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::timestamp::Timestamp;

/// The current time. A port so tests can fix and advance it.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // A clock set before 1970 is reported as the epoch: everything then
        // looks expired, which fails closed.
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Timestamp::from_unix_seconds(secs)
    }
}

/// A clock that says what a test tells it; shareable across tasks.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicU64);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn at(at: Timestamp) -> Self {
        Self(AtomicU64::new(at.unix_seconds()))
    }

    /// Moves the clock forward.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_stays_until_advanced() {
        let clock = FixedClock::at(Timestamp::from_unix_seconds(100));
        assert_eq!(clock.now(), Timestamp::from_unix_seconds(100));
        clock.advance(60);
        assert_eq!(clock.now(), Timestamp::from_unix_seconds(160));
    }

    #[test]
    fn system_clock_is_after_2025() {
        assert!(SystemClock.now() > Timestamp::from_unix_seconds(1_735_689_600));
    }
}
