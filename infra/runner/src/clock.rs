//! [`DevClock`]: the system clock plus an offset that only the runner's
//! library API can move. End-to-end tests use it to let a transfer's
//! retention pass without waiting days; nothing reachable over HTTP moves
//! it, so a running runner keeps real time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kluis_core::ports::{Clock, SystemClock};
use kluis_core::timestamp::Timestamp;

/// The system time plus a shared, only-growing offset.
#[derive(Debug, Clone, Default)]
pub struct DevClock {
    offset_secs: Arc<AtomicU64>,
}

impl DevClock {
    /// Moves this clock (and every clone of it) `secs` into the future.
    pub fn advance(&self, secs: u64) {
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for DevClock {
    fn now(&self) -> Timestamp {
        SystemClock
            .now()
            .plus_seconds(self.offset_secs.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = DevClock::default();
        let other = clock.clone();
        let before = other.now().unix_seconds();
        clock.advance(86_400);
        assert!(other.now().unix_seconds() >= before + 86_400);
    }
}
