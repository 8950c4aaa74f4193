//! What happens after a wrong password: the failure is counted with the
//! store's increment-if-below-limit on
//! [`crate::ports::CounterKey::UnlockFailures`] (limit
//! [`Policy::unlock_attempts`]), and the count decides between "try again"
//! and "lock now". Exactly one racing failure sees the count reach the
//! limit, so exactly one request locks the transfer and mails the sender.

use crate::error::DomainError;
use crate::policy::Policy;

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

    #[test]
    fn failures_refused_at_the_limit_report_locked_without_locking_again() {
        assert_eq!(FailedUnlock::decide(None, &policy()), FailedUnlock::AlreadyLocked);
        assert_eq!(FailedUnlock::AlreadyLocked.error(), DomainError::TransferLocked);
    }
}
