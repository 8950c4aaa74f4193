//! Steps 1 and 2 of the wizard: the sender's details → a one-time code by
//! mail (rate limited per address and per client), and the code → a sender
//! session (a few attempts per code, counted before comparing).

use serde::{Deserialize, Serialize};

use super::{Ports, Service, ServiceError, derive_id};
use crate::error::DomainError;
use crate::ids::{ChallengeId, RequestId, Token};
use crate::mail;
use crate::ports::{Generate, PortError, StateStore};
use crate::timestamp::Timestamp;
use crate::transfer::Sender;
use crate::validate::{EmailAddress, Language, PersonName, PhoneNumber};
use crate::verification::{SenderSession, VerificationChallenge, VerificationCode, code_request_counters};

/// Step 1: who is sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestCode {
    /// The client's idempotency key for this request.
    pub request_id: RequestId,
    /// Display name.
    pub name: PersonName,
    /// The address to verify.
    pub email: EmailAddress,
    /// Phone number, shown to recipients.
    #[serde(default)]
    pub phone: Option<PhoneNumber>,
    /// Language of the code mail.
    #[serde(default)]
    pub language: Language,
}

/// A code was mailed (or had been, for a retried request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRequested {
    /// Send this back with the code.
    pub challenge_id: ChallengeId,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

/// Step 2: the code typed back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyCode {
    /// From [`CodeRequested`].
    pub challenge_id: ChallengeId,
    /// What the person typed (its `Debug` is redacted).
    pub code: VerificationCode,
}

/// A verified sender's session.
#[derive(Serialize, Deserialize)]
pub struct SessionOpened {
    /// The session token's text form, for the cookie or bearer header. The
    /// only time it is revealed.
    pub session_token: String,
    /// When the session ends.
    pub expires_at: Timestamp,
    /// The verified sender.
    pub sender: Sender,
}

impl core::fmt::Debug for SessionOpened {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionOpened")
            .field("session_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("sender", &self.sender)
            .finish()
    }
}

impl<P: Ports> Service<P> {
    /// Mails a one-time code to the sender's address. `client` identifies
    /// the caller (its network address as the HTTP layer sees it).
    ///
    /// A retried request (same request id and address) finds the challenge
    /// the first try stored and answers the same, without counting or
    /// mailing again. Twins that race (the same request sent twice at once)
    /// both miss it; the conditional put lets one store, and only that one
    /// counts against the rate limits and mails: one request id costs one
    /// code, as it sends one mail. If the limit refuses, or the mail cannot
    /// be sent, the challenge is removed, so a retry starts afresh.
    pub async fn request_code(
        &self,
        client: &str,
        request: RequestCode,
    ) -> Result<CodeRequested, ServiceError> {
        let id = ChallengeId::from_bytes(derive_id(
            "kluis/challenge",
            &[request.request_id.as_bytes(), request.email.as_str().as_bytes()],
        ));
        match self.store.get_challenge(id).await {
            Ok(existing) => return Ok(requested(&existing)),
            Err(PortError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
        let now = self.now();
        let sender = Sender {
            name: request.name,
            email: request.email,
            phone: request.phone,
        };
        let code = self.random.verification_code()?;
        let challenge = VerificationChallenge::issue(id, sender, &code, self.policy(), now);
        match self.store.put_challenge(&challenge).await {
            Ok(()) => {}
            // A concurrent twin of this request stored first; it counts and mails.
            Err(PortError::ConditionFailed) => {
                let stored = self.store.get_challenge(id).await?;
                return Ok(requested(&stored));
            }
            Err(other) => return Err(other.into()),
        }
        for (key, limit) in code_request_counters(&challenge.sender.email, client, self.policy(), now) {
            let refusal: ServiceError = match self
                .store
                .increment_counter(&key, limit.max, limit.expires_at)
                .await
            {
                Ok(_) => continue,
                Err(PortError::ConditionFailed) => DomainError::RateLimited.into(),
                Err(other) => other.into(),
            };
            // Best effort, as below: a left-over challenge was never mailed,
            // so nobody can answer it, and it expires.
            let _ = self.store.take_challenge(id).await;
            return Err(refusal);
        }
        let mail = mail::verification_code(&challenge.sender, &code, request.language, self.policy());
        if let Err(error) = self.send_mail(mail).await {
            // Best effort: should this fail too, the retry answers without a
            // mail and the person asks for a new code.
            let _ = self.store.take_challenge(id).await;
            return Err(error);
        }
        Ok(requested(&challenge))
    }

    /// Checks a typed code and opens a session. Each answer is counted
    /// before it is compared, so no more than the policy's attempts are ever
    /// compared, however many requests race; a code opens one session only.
    pub async fn verify_code(&self, request: VerifyCode) -> Result<SessionOpened, ServiceError> {
        let challenge = match self.store.get_challenge(request.challenge_id).await {
            Ok(challenge) => challenge,
            Err(PortError::NotFound) => return Err(DomainError::CodeExpired.into()),
            Err(other) => return Err(other.into()),
        };
        let now = self.now();
        if now >= challenge.expires_at {
            return Err(DomainError::CodeExpired.into());
        }
        let (key, limit) = challenge.attempt_counter(self.policy());
        let attempt = match self
            .store
            .increment_counter(&key, limit.max, limit.expires_at)
            .await
        {
            Ok(attempt) => attempt,
            Err(PortError::ConditionFailed) => return Err(DomainError::CodeAttemptsExhausted.into()),
            Err(other) => return Err(other.into()),
        };
        challenge.check(&request.code, attempt, self.policy(), now)?;
        let challenge = match self.store.take_challenge(challenge.id).await {
            Ok(challenge) => challenge,
            // A concurrent request with the right code took it first.
            Err(PortError::NotFound) => return Err(DomainError::CodeExpired.into()),
            Err(other) => return Err(other.into()),
        };
        let token = self.random.token()?;
        let session = SenderSession::open(&token, &challenge, self.policy(), now);
        self.store.put_session(&session).await?;
        Ok(opened(&token, session))
    }
}

fn requested(challenge: &VerificationChallenge) -> CodeRequested {
    CodeRequested {
        challenge_id: challenge.id,
        expires_at: challenge.expires_at,
    }
}

pub(super) fn opened(token: &Token, session: SenderSession) -> SessionOpened {
    SessionOpened {
        session_token: token.reveal(),
        expires_at: session.expires_at,
        sender: session.sender,
    }
}
