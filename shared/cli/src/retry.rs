//! The client's one retry rule, for API calls, part uploads and downloads:
//! a failure that [`Error::is_transient`] says may pass (the network, a
//! "try again" status) is tried again after an exponentially growing wait
//! with random jitter (`backon`), so many clients or upload workers that
//! failed together do not come back together. Every step of the API is
//! idempotent (request ids, client-drawn file ids, conditional writes), so
//! a repeat is always safe.

use core::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};

use crate::error::{Error, Result};

/// The longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// How often, and how patiently, to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries in all, the first included (at least one is made).
    pub attempts: u32,
    /// The wait before the second try; each later wait doubles, plus jitter.
    pub first_wait: Duration,
}

impl Retry {
    /// Runs `op` until it succeeds, fails for good, has used every attempt,
    /// or `go_on` says to stop (another worker failed); `notify` hears of
    /// each failure that will be tried again, with the wait before it.
    pub fn run<T>(
        self,
        op: impl FnMut() -> Result<T>,
        mut go_on: impl FnMut() -> bool,
        notify: impl FnMut(&Error, Duration),
    ) -> Result<T> {
        let retries = usize::try_from(self.attempts.max(1) - 1).unwrap_or(usize::MAX);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.first_wait)
            .with_max_delay(MAX_WAIT.max(self.first_wait))
            .with_max_times(retries)
            .with_jitter();
        op.retry(backoff)
            .sleep(std::thread::sleep)
            .when(|error: &Error| error.is_transient() && go_on())
            .notify(notify)
            .call()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient() -> Error {
        Error::Transport("connection reset".into())
    }

    const QUICK: Retry = Retry {
        attempts: 3,
        first_wait: Duration::from_millis(1),
    };

    #[test]
    fn a_transient_failure_is_tried_again_up_to_the_attempts() {
        let mut calls = 0;
        let mut heard = 0;
        let outcome: Result<()> = QUICK.run(
            || {
                calls += 1;
                Err(transient())
            },
            || true,
            |_, _| heard += 1,
        );
        assert!(matches!(outcome, Err(Error::Transport(_))));
        assert_eq!((calls, heard), (3, 2));
    }

    #[test]
    fn a_success_after_a_failure_is_returned() {
        let mut calls = 0;
        let outcome = QUICK.run(
            || {
                calls += 1;
                if calls < 2 { Err(transient()) } else { Ok(calls) }
            },
            || true,
            |_, _| {},
        );
        assert_eq!(outcome.expect("the second try"), 2);
    }

    #[test]
    fn a_lasting_failure_or_a_stop_is_not_tried_again() {
        let mut calls = 0;
        let refused: Result<()> = QUICK.run(
            || {
                calls += 1;
                Err(Error::Usage("bad".into()))
            },
            || true,
            |_, _| {},
        );
        assert!(refused.is_err());
        assert_eq!(calls, 1);
        let mut calls = 0;
        let stopped: Result<()> = QUICK.run(
            || {
                calls += 1;
                Err(transient())
            },
            || false,
            |_, _| {},
        );
        assert!(stopped.is_err());
        assert_eq!(calls, 1);
    }
}
