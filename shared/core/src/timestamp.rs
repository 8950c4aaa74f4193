//! Points in time as whole seconds since the Unix epoch (UTC).
//!
//! Seconds are enough for every rule here (codes live minutes, transfers
//! days) and are what DynamoDB's TTL attribute and the expiry index want, so
//! adapters store the number as it is.

use core::fmt;

use serde::{Deserialize, Serialize};

/// A point in time, whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// One minute in seconds.
    pub const MINUTE: u64 = 60;
    /// One hour in seconds.
    pub const HOUR: u64 = 60 * Self::MINUTE;
    /// One day in seconds.
    pub const DAY: u64 = 24 * Self::HOUR;

    /// The time `secs` seconds after the epoch.
    pub const fn from_unix_seconds(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch.
    pub const fn unix_seconds(self) -> u64 {
        self.0
    }

    /// `self + secs`, saturating so a huge operator setting cannot wrap into the past.
    pub const fn plus_seconds(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// Start of the fixed window of `window_secs` that contains `self`
    /// (used for per-hour rate limits). A zero window is treated as one second.
    pub const fn window_start(self, window_secs: u64) -> Self {
        let window = if window_secs == 0 { 1 } else { window_secs };
        Self(self.0 - self.0 % window)
    }

    /// The calendar date and time in UTC, for mails.
    pub fn to_utc(self) -> time::OffsetDateTime {
        // Beyond year 9999 `time` refuses; such dates only come from a broken
        // clock or setting, and the latest representable moment is an honest
        // rendering of "practically never".
        i64::try_from(self.0)
            .ok()
            .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_seconds_saturates_instead_of_wrapping() {
        assert_eq!(
            Timestamp::from_unix_seconds(u64::MAX - 1)
                .plus_seconds(10)
                .unix_seconds(),
            u64::MAX
        );
    }

    #[test]
    fn window_start_rounds_down_to_the_hour() {
        let t = Timestamp::from_unix_seconds(3 * Timestamp::HOUR + 59);
        assert_eq!(
            t.window_start(Timestamp::HOUR),
            Timestamp::from_unix_seconds(3 * Timestamp::HOUR)
        );
        assert_eq!(t.window_start(0), t);
    }

    #[test]
    fn converts_to_calendar_time_in_utc() {
        let t = Timestamp::from_unix_seconds(1_798_416_000); // 2026-12-28T00:00:00Z
        let utc = t.to_utc();
        assert_eq!((utc.year(), u8::from(utc.month()), utc.day()), (2026, 12, 28));
        assert_eq!(Timestamp::from_unix_seconds(u64::MAX).to_utc().year(), 9999);
    }
}
