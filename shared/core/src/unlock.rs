//! What happens after a wrong password: the failure is counted with the
//! store's increment-if-below-limit on
//! [`crate::ports::CounterKey::UnlockFailures`] (limit
//! [`Policy::unlock_attempts`]), and the count decides between "try again"
//! and "lock now". Exactly one racing failure sees the count reach the
//! limit, so exactly one request locks the transfer and mails the sender.

use crate::error::DomainError;
use crate::policy::{Limit, Policy};
use crate::ports::CounterKey;
use crate::transfer::Transfer;

/// The counter of wrong passwords for a transfer and its limit; it lives as
/// long as the transfer's record.
pub fn failure_counter(transfer: &Transfer, policy: &Policy) -> (CounterKey, Limit) {
    (
        CounterKey::UnlockFailures(transfer.id()),
        Limit {
            max: policy.unlock_attempts,
            expires_at: transfer.record_expires_at(policy),
        },
    )
}

/// The decision after a counted wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedUnlock {
    /// Attempts remain; answer [`DomainError::WrongPassword`].
    TryAgain {
        /// Attempts left.
        remaining: u32,
    },
    /// This failure used the last attempt: lock the transfer (sent → locked),
    /// mail the sender the lockout notice, answer [`DomainError::TransferLocked`].
    LockNow,
    /// The limit was already reached by earlier failures (the increment was
    /// refused): answer [`DomainError::TransferLocked`]; another request locks.
    AlreadyLocked,
}

impl FailedUnlock {
    /// Decides from the store's answer: `Some(count)` after a successful
    /// increment, `None` when the increment was refused at the limit.
    pub fn decide(failures_after_increment: Option<u32>, policy: &Policy) -> Self {
        match failures_after_increment {
            None => Self::AlreadyLocked,
            Some(count) if count >= policy.unlock_attempts => Self::LockNow,
            Some(count) => Self::TryAgain {
                remaining: policy.unlock_attempts - count,
            },
        }
    }

    /// The error to answer the client with.
    pub const fn error(self) -> DomainError {
        match self {
            Self::TryAgain { remaining } => DomainError::WrongPassword { remaining },
            Self::LockNow | Self::AlreadyLocked => DomainError::TransferLocked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            unlock_attempts: 3,
            ..Policy::default()
        }
    }

    #[test]
    fn failures_below_the_limit_leave_attempts() {
        assert_eq!(
            FailedUnlock::decide(Some(1), &policy()),
            FailedUnlock::TryAgain { remaining: 2 }
        );
        assert_eq!(
            FailedUnlock::decide(Some(2), &policy()).error(),
            DomainError::WrongPassword { remaining: 1 }
        );
    }

    #[test]
    fn the_failure_that_reaches_the_limit_locks_the_transfer() {
        assert_eq!(FailedUnlock::decide(Some(3), &policy()), FailedUnlock::LockNow);
        assert_eq!(FailedUnlock::LockNow.error(), DomainError::TransferLocked);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_fifty_racing_wrong_passwords_exactly_one_locks_and_ten_are_counted() {
        use std::sync::Arc;

        use crate::ports::conformance::sample_transfer;
        use crate::ports::{MemoryStateStore, PortError, StateStore};

        let store = Arc::new(MemoryStateStore::new());
        let p = Policy {
            unlock_attempts: 10,
            ..Policy::default()
        };
        let (key, limit) = failure_counter(&sample_transfer(1), &p);
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let store = Arc::clone(&store);
                let p = p.clone();
                tokio::spawn(async move {
                    let counted = match store.increment_counter(&key, limit.max, limit.expires_at).await {
                        Ok(count) => Some(count),
                        Err(PortError::ConditionFailed) => None,
                        Err(other) => panic!("the in-memory store does not fail: {other}"),
                    };
                    FailedUnlock::decide(counted, &p)
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.expect("task did not panic"));
        }
        let locks = outcomes.iter().filter(|o| **o == FailedUnlock::LockNow).count();
        let tries = outcomes
            .iter()
            .filter(|o| matches!(o, FailedUnlock::TryAgain { .. }))
            .count();
        assert_eq!(
            (locks, tries),
            (1, 9),
            "one lock (and one lockout mail), nine counted misses"
        );
        assert_eq!(outcomes.len() - locks - tries, 40);
    }

    #[test]
    fn the_failure_counter_lives_as_long_as_the_transfer_record() {
        let transfer = crate::ports::conformance::sample_transfer(2);
        let p = Policy::default();
        let (key, limit) = failure_counter(&transfer, &p);
        assert_eq!(key, CounterKey::UnlockFailures(transfer.id()));
        assert_eq!(
            limit,
            Limit {
                max: p.unlock_attempts,
                expires_at: transfer.record_expires_at(&p)
            }
        );
    }

    #[test]
    fn failures_refused_at_the_limit_report_locked_without_locking_again() {
        assert_eq!(FailedUnlock::decide(None, &policy()), FailedUnlock::AlreadyLocked);
        assert_eq!(FailedUnlock::AlreadyLocked.error(), DomainError::TransferLocked);
    }
}
