//! Proving a sender owns their address: a six-digit code mailed to it,
//! valid for a short time, with a few attempts, rate limited per address and
//! per client; and the sender session a correct code opens.
//!
//! The flow, with every race closed by a conditional write in the store:
//! 1. request: increment both hourly counters
//!    ([`Policy::codes_per_address_limit`], [`Policy::codes_per_client_limit`]);
//!    a refused increment is [`DomainError::RateLimited`]. Then
//!    [`VerificationChallenge::issue`], store it, mail the code.
//! 2. answer: increment [`crate::ports::CounterKey::CodeAttempts`] *before*
//!    comparing, limited to [`Policy::attempts_per_code`], so no more than
//!    that many comparisons can ever happen, however many requests race;
//!    then [`VerificationChallenge::check`] with the count the store returned.
//! 3. on success: take the challenge (a conditional delete: one winner) and
//!    store a [`SenderSession`].

use core::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{DomainError, Field};
use crate::ids::{ChallengeId, Token, TokenHash, TransferId};
use crate::policy::{Limit, Policy};
use crate::ports::{CounterKey, Fingerprint};
use crate::timestamp::Timestamp;
use crate::transfer::Sender;
use crate::validate::EmailAddress;

/// The two counters a code request must pass, each incremented against its
/// limit: codes for this address and codes from this client, in the current
/// hour. A refused increment of either is [`DomainError::RateLimited`].
/// `client` identifies the caller (its network address, as the HTTP layer
/// sees it); only its fingerprint is stored.
pub fn code_request_counters(
    address: &EmailAddress,
    client: &str,
    policy: &Policy,
    now: Timestamp,
) -> [(CounterKey, Limit); 2] {
    let window = now.window_start(Timestamp::HOUR);
    [
        (
            CounterKey::CodesForAddress {
                address: Fingerprint::of_email(address),
                window,
            },
            policy.codes_per_address_limit(now),
        ),
        (
            CounterKey::CodesFromClient {
                client: Fingerprint::of_client(client),
                window,
            },
            policy.codes_per_client_limit(now),
        ),
    ]
}

/// A six-digit one-time code. Deserializes from what a person typed (via
/// [`VerificationCode::parse`]) so a request body can carry it; it is never
/// serialized, and its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct VerificationCode([u8; 6]);

impl TryFrom<String> for VerificationCode {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        Self::parse(&text)
    }
}

impl VerificationCode {
    /// Number of digits.
    pub const DIGITS: usize = 6;

    /// Builds a code from a number below one million (the random source
    /// draws it uniformly; see [`crate::ports::Generate::verification_code`]).
    pub fn from_number(number: u32) -> Self {
        let mut digits = [b'0'; 6];
        let mut rest = number % 1_000_000;
        for digit in digits.iter_mut().rev() {
            // `rest % 10` is below 10, so the cast cannot truncate.
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        Self(digits)
    }

    /// Parses what a person typed: six digits, spaces ignored.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let field = Field::VerificationCode;
        if text.len() > 32 {
            return Err(DomainError::TooLong { field, max: 32 });
        }
        let digits: Vec<u8> = text.bytes().filter(|b| *b != b' ').collect();
        if digits.is_empty() {
            return Err(DomainError::Missing { field });
        }
        match <[u8; 6]>::try_from(digits) {
            Ok(digits) if digits.iter().all(u8::is_ascii_digit) => Ok(Self(digits)),
            _ => Err(DomainError::Malformed { field }),
        }
    }

    /// The digits, for the mail (and only the mail).
    pub fn reveal(&self) -> &str {
        // Only ASCII digits are ever stored, so this is valid UTF-8.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    fn digest(&self, challenge: ChallengeId) -> [u8; 32] {
        // Salting with the challenge id keeps equal codes of different
        // challenges from having equal digests in the store.
        let mut hasher = Sha256::new();
        hasher.update(challenge.as_bytes());
        hasher.update(self.0);
        hasher.finalize().into()
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(<redacted>)")
    }
}

/// A code sent to a sender's address, awaiting the answer. The store keeps it
/// until `expires_at` (its TTL); only the digest of the code is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationChallenge {
    /// Fresh random id; the client sends it back with the code.
    pub id: ChallengeId,
    /// Who asked, with the address the code went to.
    pub sender: Sender,
    #[serde(with = "crate::bytes")]
    code_digest: [u8; 32],
    /// When issued.
    pub issued_at: Timestamp,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

impl VerificationChallenge {
    /// A new challenge for `code`, valid for the policy's code validity.
    pub fn issue(
        id: ChallengeId,
        sender: Sender,
        code: &VerificationCode,
        policy: &Policy,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            sender,
            code_digest: code.digest(id),
            issued_at: now,
            expires_at: now.plus_seconds(policy.code_validity_secs()),
        }
    }

    /// The counter of answers to this challenge, limited to the policy's
    /// attempts per code and kept as long as the challenge.
    pub fn attempt_counter(&self, policy: &Policy) -> (CounterKey, Limit) {
        (
            CounterKey::CodeAttempts(self.id),
            Limit {
                max: policy.attempts_per_code,
                expires_at: self.expires_at,
            },
        )
    }

    /// Checks an answer. `attempt` is this attempt's number as returned by
    /// the store's increment of the challenge's attempt counter (1 for the
    /// first); a refused increment means [`DomainError::CodeAttemptsExhausted`]
    /// without calling this.
    pub fn check(
        &self,
        code: &VerificationCode,
        attempt: u32,
        policy: &Policy,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        if now >= self.expires_at {
            return Err(DomainError::CodeExpired);
        }
        if attempt > policy.attempts_per_code {
            return Err(DomainError::CodeAttemptsExhausted);
        }
        if bool::from(self.code_digest.ct_eq(&code.digest(self.id))) {
            return Ok(());
        }
        match policy.attempts_per_code - attempt {
            0 => Err(DomainError::CodeAttemptsExhausted),
            remaining => Err(DomainError::WrongCode { remaining }),
        }
    }
}

/// A verified sender's session, keyed in the store by the hash of its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderSession {
    /// SHA-256 of the session token (the store's key).
    pub token_hash: TokenHash,
    /// The verified sender.
    pub sender: Sender,
    /// When opened.
    pub created_at: Timestamp,
    /// When it stops working (the store's TTL).
    pub expires_at: Timestamp,
    /// For a session opened by a reply: the reply's draft, the one transfer
    /// it may work on (it cannot start transfers of its own). `None` for a
    /// session opened by a verified code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<TransferId>,
}

impl SenderSession {
    /// Opens a session for the sender of a checked challenge.
    pub fn open(token: &Token, challenge: &VerificationChallenge, policy: &Policy, now: Timestamp) -> Self {
        Self {
            token_hash: token.hash(),
            sender: challenge.sender.clone(),
            created_at: now,
            expires_at: now.plus_seconds(policy.session_secs()),
            reply: None,
        }
    }

    /// Refuses an expired session. The store may return one (DynamoDB deletes
    /// expired items lazily), so every use MUST go through this.
    pub fn check_live(&self, now: Timestamp) -> Result<&Sender, DomainError> {
        if now >= self.expires_at {
            Err(DomainError::SessionInvalid)
        } else {
            Ok(&self.sender)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::{email, policy};
    use crate::ports::{MemoryStateStore, PortError, StateStore};
    use crate::validate::PersonName;

    const NOW: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);

    fn sender() -> Sender {
        Sender {
            name: PersonName::parse("Jan", Field::SenderName).expect("valid"),
            email: email("jan@example.nl"),
            phone: None,
        }
    }

    fn challenge(code: &str) -> VerificationChallenge {
        let code = VerificationCode::parse(code).expect("valid code");
        VerificationChallenge::issue(ChallengeId::from_bytes([1; 16]), sender(), &code, &policy(), NOW)
    }

    fn code(text: &str) -> VerificationCode {
        VerificationCode::parse(text).expect("valid code")
    }

    #[test]
    fn codes_are_six_digits_with_leading_zeros() {
        assert_eq!(VerificationCode::from_number(42).reveal(), "000042");
        assert_eq!(VerificationCode::from_number(999_999).reveal(), "999999");
    }

    #[test]
    fn typed_codes_may_contain_spaces_but_nothing_else() {
        assert_eq!(code("123 456"), code("123456"));
        let field = Field::VerificationCode;
        assert_eq!(
            VerificationCode::parse("12345"),
            Err(DomainError::Malformed { field })
        );
        assert_eq!(
            VerificationCode::parse("12345a"),
            Err(DomainError::Malformed { field })
        );
        assert_eq!(
            VerificationCode::parse("１２３４５６"),
            Err(DomainError::Malformed { field })
        );
        assert_eq!(VerificationCode::parse("  "), Err(DomainError::Missing { field }));
        assert_eq!(
            VerificationCode::parse(&"1".repeat(33)),
            Err(DomainError::TooLong { field, max: 32 })
        );
    }

    #[test]
    fn right_code_within_validity_passes() {
        assert_eq!(
            challenge("123456").check(&code("123456"), 1, &policy(), NOW),
            Ok(())
        );
    }

    #[test]
    fn wrong_code_reports_remaining_attempts() {
        let result = challenge("123456").check(&code("654321"), 1, &policy(), NOW);
        assert_eq!(result, Err(DomainError::WrongCode { remaining: 4 }));
    }

    #[test]
    fn when_code_is_wrong_five_times_verification_is_locked() {
        let challenge = challenge("123456");
        let p = policy();
        let mut outcomes = Vec::new();
        for attempt in 1..=5 {
            outcomes.push(challenge.check(&code("000000"), attempt, &p, NOW));
        }
        assert_eq!(outcomes[3], Err(DomainError::WrongCode { remaining: 1 }));
        assert_eq!(outcomes[4], Err(DomainError::CodeAttemptsExhausted));
        // The right code no longer helps once attempts are used up.
        assert_eq!(
            challenge.check(&code("123456"), 6, &p, NOW),
            Err(DomainError::CodeAttemptsExhausted)
        );
    }

    #[test]
    fn code_is_valid_for_fifteen_minutes_only() {
        let challenge = challenge("123456");
        let p = policy();
        let last_second = NOW.plus_seconds(15 * 60 - 1);
        assert_eq!(challenge.check(&code("123456"), 1, &p, last_second), Ok(()));
        assert_eq!(
            challenge.check(&code("123456"), 1, &p, NOW.plus_seconds(15 * 60)),
            Err(DomainError::CodeExpired)
        );
    }

    #[test]
    fn the_same_code_digests_differently_per_challenge() {
        let c = code("123456");
        assert_ne!(
            c.digest(ChallengeId::from_bytes([1; 16])),
            c.digest(ChallengeId::from_bytes([2; 16]))
        );
    }

    #[test]
    fn session_lasts_for_the_policy_duration() {
        let token = Token::from_bytes([5; 32]);
        let session = SenderSession::open(&token, &challenge("123456"), &policy(), NOW);
        assert_eq!(session.token_hash, token.hash());
        assert_eq!(
            session.check_live(NOW.plus_seconds(119 * 60)).map(|s| &s.email),
            Ok(&email("jan@example.nl"))
        );
        assert_eq!(
            session.check_live(NOW.plus_seconds(120 * 60)),
            Err(DomainError::SessionInvalid)
        );
    }

    /// Increments a counter in the store the way a handler does, mapping a
    /// refusal at the limit to `None`.
    async fn count(store: &MemoryStateStore, (key, limit): (CounterKey, Limit)) -> Option<u32> {
        match store.increment_counter(&key, limit.max, limit.expires_at).await {
            Ok(count) => Some(count),
            Err(PortError::ConditionFailed) => None,
            Err(other) => panic!("the in-memory store does not fail: {other}"),
        }
    }

    async fn request_code(
        store: &MemoryStateStore,
        address: &str,
        client: &str,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        for counter in code_request_counters(&email(address), client, &policy(), now) {
            count(store, counter).await.ok_or(DomainError::RateLimited)?;
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_sixth_code_for_the_same_address_within_the_hour_is_rate_limited() {
        let store = MemoryStateStore::new();
        for client in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"] {
            assert_eq!(request_code(&store, "jan@example.nl", client, NOW).await, Ok(()));
        }
        assert_eq!(
            request_code(&store, "JAN@example.nl", "10.0.0.6", NOW).await,
            Err(DomainError::RateLimited)
        );
        assert_eq!(
            request_code(&store, "piet@example.nl", "10.0.0.6", NOW).await,
            Ok(()),
            "other addresses are not affected"
        );
        let next_hour = NOW.window_start(Timestamp::HOUR).plus_seconds(Timestamp::HOUR);
        assert_eq!(
            request_code(&store, "jan@example.nl", "10.0.0.6", next_hour).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn a_client_asking_codes_for_many_addresses_is_rate_limited_after_twenty() {
        let store = MemoryStateStore::new();
        for n in 0..20 {
            assert_eq!(
                request_code(&store, &format!("user{n}@example.nl"), "192.0.2.7", NOW).await,
                Ok(())
            );
        }
        assert_eq!(
            request_code(&store, "user20@example.nl", "192.0.2.7", NOW).await,
            Err(DomainError::RateLimited)
        );
    }

    #[tokio::test]
    async fn with_the_attempt_counter_a_right_code_after_five_wrong_ones_is_refused() {
        let store = MemoryStateStore::new();
        let p = policy();
        let challenge = challenge("123456");
        let mut last = Ok(());
        for _ in 0..5 {
            let attempt = count(&store, challenge.attempt_counter(&p))
                .await
                .expect("below the limit");
            last = challenge.check(&code("000000"), attempt, &p, NOW);
        }
        assert_eq!(last, Err(DomainError::CodeAttemptsExhausted));
        assert_eq!(
            count(&store, challenge.attempt_counter(&p)).await,
            None,
            "a sixth attempt is never compared"
        );
    }

    #[test]
    fn a_typed_code_deserializes_and_a_malformed_one_is_refused() {
        let parsed: VerificationCode = serde_json::from_str("\"123 456\"").expect("valid code");
        assert_eq!(parsed, code("123456"));
        let refused = serde_json::from_str::<VerificationCode>("\"12345x\"");
        assert!(refused.is_err());
    }

    #[test]
    fn stored_challenge_keeps_only_a_digest_of_the_code() {
        let json = serde_json::to_string(&challenge("987654")).expect("serializable");
        assert!(!json.contains("987654"));
        let back: VerificationChallenge = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back.check(&code("987654"), 1, &policy(), NOW), Ok(()));
    }
}
