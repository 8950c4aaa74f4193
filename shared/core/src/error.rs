//! The one error type of the domain, [`DomainError`]: every refusal the
//! core can give, each with a stable machine-readable [`DomainError::code`]
//! (snake_case, part of the public API: clients switch on it) and the 4xx
//! HTTP status it maps to, so handlers translate it once and never invent
//! their own. Port failures live apart in [`crate::ports::PortError`]:
//! those are the operator's problem (5xx), not the user's.

use core::fmt;

use serde::Serialize;

use crate::lifecycle::{Action, TransferState};

/// The input field an error is about, reported to the client by name so a
/// form can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Field {
    /// The sender's display name.
    SenderName,
    /// The sender's e-mail address.
    SenderEmail,
    /// The sender's phone number.
    SenderPhone,
    /// A recipient's e-mail address.
    RecipientEmail,
    /// The list of recipients as a whole.
    Recipients,
    /// The custom notification text.
    NotificationText,
    /// The mail language.
    Language,
    /// The retention period in days.
    RetentionDays,
    /// A transfer id.
    TransferId,
    /// A file id.
    FileId,
    /// A verification challenge id.
    ChallengeId,
    /// An audit event id.
    EventId,
    /// A client's idempotency key.
    RequestId,
    /// A stored token digest.
    TokenHash,
    /// A recipient's retrieval token.
    RetrievalToken,
    /// The sender's manage token.
    ManageToken,
    /// A sender session token.
    SessionToken,
    /// The verification code typed back by the sender.
    VerificationCode,
    /// The auth key derived from the password.
    AuthKey,
    /// The wrapped content key.
    WrappedKey,
    /// The Argon2id salt.
    Salt,
    /// The Argon2id parameters.
    KdfParams,
    /// The sealed manifest.
    Manifest,
    /// A file's ciphertext size.
    FileSize,
    /// The list of files as a whole.
    Files,
    /// A multipart upload id.
    UploadId,
    /// A multipart part number or count.
    PartNumber,
    /// A part's entity tag.
    ETag,
    /// A byte range of a download.
    ByteRange,
    /// The operator's public base URL.
    BaseUrl,
    /// An internal domain in the policy.
    InternalDomain,
    /// A policy setting.
    Policy,
    /// A mail subject.
    Subject,
    /// A stored binary value that no form field names.
    StoredValue,
}

impl Field {
    /// The snake_case name clients see.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SenderName => "sender_name",
            Self::SenderEmail => "sender_email",
            Self::SenderPhone => "sender_phone",
            Self::RecipientEmail => "recipient_email",
            Self::Recipients => "recipients",
            Self::NotificationText => "notification_text",
            Self::Language => "language",
            Self::RetentionDays => "retention_days",
            Self::TransferId => "transfer_id",
            Self::FileId => "file_id",
            Self::ChallengeId => "challenge_id",
            Self::EventId => "event_id",
            Self::RequestId => "request_id",
            Self::TokenHash => "token_hash",
            Self::RetrievalToken => "retrieval_token",
            Self::ManageToken => "manage_token",
            Self::SessionToken => "session_token",
            Self::VerificationCode => "verification_code",
            Self::AuthKey => "auth_key",
            Self::WrappedKey => "wrapped_key",
            Self::Salt => "salt",
            Self::KdfParams => "kdf",
            Self::Manifest => "manifest",
            Self::FileSize => "file_size",
            Self::Files => "files",
            Self::UploadId => "upload_id",
            Self::PartNumber => "part_number",
            Self::ETag => "etag",
            Self::ByteRange => "byte_range",
            Self::BaseUrl => "base_url",
            Self::InternalDomain => "internal_domain",
            Self::Policy => "policy",
            Self::Subject => "subject",
            Self::StoredValue => "stored_value",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every refusal of the domain. Messages are for logs and developers; the
/// client switches on [`DomainError::code`]. Messages MUST NOT contain user
/// input (it may be personal data or an injection attempt); they name fields
/// and limits only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    // --- input validation ---------------------------------------------------
    /// A required field was empty.
    #[error("{field} is required")]
    Missing {
        /// Which field.
        field: Field,
    },
    /// A field was longer than allowed.
    #[error("{field} is longer than {max}")]
    TooLong {
        /// Which field.
        field: Field,
        /// The limit (characters for text, bytes for binary).
        max: usize,
    },
    /// A field held a control character (CR, LF, tab, NUL, bidi override…).
    #[error("{field} contains a control character")]
    ControlCharacter {
        /// Which field.
        field: Field,
    },
    /// Not an e-mail address this service accepts.
    #[error("{field} is not a valid e-mail address")]
    InvalidEmail {
        /// Which field.
        field: Field,
    },
    /// Not a phone number.
    #[error("sender_phone is not a valid phone number")]
    InvalidPhone,
    /// A language other than Dutch or English.
    #[error("language is not supported")]
    UnsupportedLanguage,
    /// A binary or structured value (id, token, key, size) had the wrong form.
    #[error("{field} is malformed")]
    Malformed {
        /// Which field.
        field: Field,
    },
    /// The operator's policy settings contradict themselves.
    #[error("the policy is invalid: {reason}")]
    InvalidPolicy {
        /// Which rule of the policy is broken (a fixed text, never input).
        reason: &'static str,
    },

    // --- policy -------------------------------------------------------------
    /// Neither the sender nor every recipient is in an internal domain.
    #[error("the sender or every recipient must be internal")]
    NoInternalParty,
    /// More recipients than the policy allows.
    #[error("more than {max} recipients")]
    TooManyRecipients {
        /// The policy limit.
        max: usize,
    },
    /// The same address was given twice.
    #[error("a recipient is listed twice")]
    DuplicateRecipient,
    /// More files than the policy allows.
    #[error("more than {max} files")]
    TooManyFiles {
        /// The policy limit.
        max: usize,
    },
    /// The ciphertexts together exceed the policy's transfer size.
    #[error("the transfer exceeds {max_bytes} bytes")]
    TransferTooLarge {
        /// The policy limit in ciphertext bytes.
        max_bytes: u64,
    },
    /// The retention asked for exceeds the policy's maximum.
    #[error("retention exceeds {max_days} days")]
    RetentionTooLong {
        /// The policy limit.
        max_days: u32,
    },
    /// Argon2id parameters below the policy's floor.
    #[error("the password key derivation is weaker than the policy allows")]
    KdfTooWeak,
    /// The transfer has no file to send.
    #[error("the transfer has no files")]
    NoFiles,

    // --- uploads ------------------------------------------------------------
    /// The file id is not part of this transfer.
    #[error("no such file in this transfer")]
    UnknownFile,
    /// The file id is already part of this transfer.
    #[error("the file is already part of this transfer")]
    FileAlreadyAdded,
    /// A file's upload has not been completed yet.
    #[error("a file upload is not complete")]
    UploadIncomplete,
    /// The parts listed to complete an upload are not its parts, each once,
    /// numbered from 1 in order (well-formed, but not this upload's).
    #[error("{field} does not list every part of the upload from 1 in order")]
    PartsMismatch {
        /// Which field.
        field: Field,
    },
    /// The stored object's size differs from the declared ciphertext size.
    #[error("the uploaded size differs from the declared size")]
    SizeMismatch,

    // --- life cycle ---------------------------------------------------------
    /// The action is not allowed in the transfer's current state.
    #[error("cannot {action} a transfer that is {state}")]
    InvalidTransition {
        /// The state the transfer is in.
        state: TransferState,
        /// What was attempted.
        action: Action,
    },
    /// No such transfer, or the token does not belong to it (indistinguishable
    /// on purpose, so tokens cannot be probed).
    #[error("transfer not found")]
    TransferNotFound,
    /// The transfer expired or was revoked; its files and keys are gone.
    /// `reason` says which, and only to a holder of one of its retrieval
    /// links (anyone else learns only that it is gone).
    #[error("{}", gone_message(*.reason))]
    TransferGone {
        /// Expired or revoked, when the asker may know.
        reason: Option<GoneReason>,
    },
    /// Too many wrong passwords; the transfer is locked for good.
    #[error("the transfer is locked")]
    TransferLocked,
    /// The auth key derived from the password is wrong.
    #[error("wrong password, {}", attempts_left(*.remaining))]
    WrongPassword {
        /// Attempts left before the transfer locks.
        remaining: u32,
    },

    // --- sender verification ------------------------------------------------
    /// The verification code is wrong.
    #[error("wrong verification code, {}", attempts_left(*.remaining))]
    WrongCode {
        /// Attempts left for this code.
        remaining: u32,
    },
    /// The verification code is unknown or too old.
    #[error("the verification code has expired")]
    CodeExpired,
    /// The verification code was tried too often; a new one must be asked.
    #[error("too many attempts for this verification code")]
    CodeAttemptsExhausted,
    /// Too many codes asked for this address or from this client.
    #[error("too many verification codes requested; try again later")]
    RateLimited,
    /// The session token is unknown or expired.
    #[error("the session is invalid or has expired")]
    SessionInvalid,
    /// A session opened by a reply tried to do more than finish that reply,
    /// or a reply was to be sent to other recipients than the sender it
    /// answers.
    #[error("a reply's session can only finish that reply, which goes to the original sender only")]
    ReplySessionOnly,
    /// A retrieval or manage token is absent or not a token at all. A
    /// well-formed token that opens nothing is [`Self::TransferNotFound`].
    #[error("{field} is missing or malformed")]
    TokenInvalid {
        /// Which token.
        field: Field,
    },
}

/// "1 attempt left", "2 attempts left": the count with its noun agreeing.
fn attempts_left(remaining: u32) -> String {
    let noun = if remaining == 1 { "attempt" } else { "attempts" };
    format!("{remaining} {noun} left")
}

/// Why a transfer is gone (see [`DomainError::TransferGone`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoneReason {
    /// Its retention ran out.
    Expired,
    /// Its sender withdrew it.
    Revoked,
}

impl GoneReason {
    /// The API's name for it: `expired` or `revoked`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

fn gone_message(reason: Option<GoneReason>) -> &'static str {
    match reason {
        None => "the transfer is gone",
        Some(GoneReason::Expired) => "the transfer has expired; its files are gone",
        Some(GoneReason::Revoked) => "the sender revoked the transfer; its files are gone",
    }
}

impl DomainError {
    /// "Gone", without saying why (for whoever may not know).
    pub const GONE: Self = Self::TransferGone { reason: None };

    /// Why the transfer is gone, when this is that refusal and the asker may know.
    pub const fn gone_reason(&self) -> Option<GoneReason> {
        match self {
            Self::TransferGone { reason } => *reason,
            _ => None,
        }
    }

    /// The stable, machine-readable code clients switch on.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "field_missing",
            Self::TooLong { .. } => "field_too_long",
            Self::ControlCharacter { .. } => "control_character",
            Self::InvalidEmail { .. } => "invalid_email",
            Self::InvalidPhone => "invalid_phone",
            Self::UnsupportedLanguage => "unsupported_language",
            Self::Malformed { .. } => "malformed",
            Self::InvalidPolicy { .. } => "invalid_policy",
            Self::NoInternalParty => "no_internal_party",
            Self::TooManyRecipients { .. } => "too_many_recipients",
            Self::DuplicateRecipient => "duplicate_recipient",
            Self::TooManyFiles { .. } => "too_many_files",
            Self::TransferTooLarge { .. } => "transfer_too_large",
            Self::RetentionTooLong { .. } => "retention_too_long",
            Self::KdfTooWeak => "kdf_too_weak",
            Self::NoFiles => "no_files",
            Self::UnknownFile => "unknown_file",
            Self::FileAlreadyAdded => "file_already_added",
            Self::UploadIncomplete => "upload_incomplete",
            Self::SizeMismatch => "size_mismatch",
            Self::PartsMismatch { .. } => "parts_mismatch",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::TransferNotFound => "transfer_not_found",
            Self::TransferGone { .. } => "transfer_gone",
            Self::TransferLocked => "transfer_locked",
            Self::WrongPassword { .. } => "wrong_password",
            Self::WrongCode { .. } => "wrong_code",
            Self::CodeExpired => "code_expired",
            Self::CodeAttemptsExhausted => "code_attempts_exhausted",
            Self::RateLimited => "rate_limited",
            Self::SessionInvalid => "session_invalid",
            Self::TokenInvalid { .. } => "token_invalid",
            Self::ReplySessionOnly => "reply_session_only",
        }
    }

    /// The HTTP status this error maps to; always 4xx, because every domain
    /// error is the client's to fix (invariant 8).
    pub const fn http_status(&self) -> u16 {
        match self {
            Self::Missing { .. }
            | Self::TooLong { .. }
            | Self::ControlCharacter { .. }
            | Self::InvalidEmail { .. }
            | Self::InvalidPhone
            | Self::UnsupportedLanguage
            | Self::Malformed { .. } => 400,
            // A broken operator policy is refused at start-up, never served;
            // if it ever reaches a handler the request cannot be processed.
            Self::InvalidPolicy { .. } => 422,
            Self::NoInternalParty | Self::ReplySessionOnly => 403,
            Self::TooManyRecipients { .. }
            | Self::DuplicateRecipient
            | Self::TooManyFiles { .. }
            | Self::RetentionTooLong { .. }
            | Self::KdfTooWeak
            | Self::NoFiles
            | Self::SizeMismatch
            | Self::PartsMismatch { .. } => 422,
            Self::TransferTooLarge { .. } => 413,
            Self::UnknownFile | Self::TransferNotFound => 404,
            Self::FileAlreadyAdded | Self::UploadIncomplete | Self::InvalidTransition { .. } => 409,
            Self::TransferGone { .. } | Self::CodeExpired => 410,
            Self::TransferLocked => 423,
            Self::WrongPassword { .. }
            | Self::WrongCode { .. }
            | Self::SessionInvalid
            | Self::TokenInvalid { .. } => 401,
            Self::CodeAttemptsExhausted | Self::RateLimited => 429,
        }
    }

    /// The field the error is about, if it is about one.
    pub const fn field(&self) -> Option<Field> {
        match self {
            Self::Missing { field }
            | Self::TooLong { field, .. }
            | Self::ControlCharacter { field }
            | Self::InvalidEmail { field }
            | Self::Malformed { field }
            | Self::TokenInvalid { field }
            | Self::PartsMismatch { field } => Some(*field),
            Self::InvalidPhone => Some(Field::SenderPhone),
            Self::UnsupportedLanguage => Some(Field::Language),
            Self::TooManyRecipients { .. } | Self::DuplicateRecipient | Self::NoInternalParty => {
                Some(Field::Recipients)
            }
            Self::TooManyFiles { .. } | Self::TransferTooLarge { .. } | Self::NoFiles => Some(Field::Files),
            Self::RetentionTooLong { .. } => Some(Field::RetentionDays),
            Self::WrongCode { .. } | Self::CodeExpired | Self::CodeAttemptsExhausted => {
                Some(Field::VerificationCode)
            }
            Self::WrongPassword { .. } => Some(Field::AuthKey),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_error() -> Vec<DomainError> {
        use DomainError as E;
        let field = Field::SenderName;
        vec![
            E::Missing { field },
            E::TooLong { field, max: 1 },
            E::ControlCharacter { field },
            E::InvalidEmail { field },
            E::InvalidPhone,
            E::UnsupportedLanguage,
            E::Malformed { field },
            E::InvalidPolicy { reason: "r" },
            E::NoInternalParty,
            E::TooManyRecipients { max: 1 },
            E::DuplicateRecipient,
            E::TooManyFiles { max: 1 },
            E::TransferTooLarge { max_bytes: 1 },
            E::RetentionTooLong { max_days: 1 },
            E::KdfTooWeak,
            E::NoFiles,
            E::UnknownFile,
            E::FileAlreadyAdded,
            E::UploadIncomplete,
            E::SizeMismatch,
            E::PartsMismatch { field },
            E::InvalidTransition {
                state: TransferState::Sent,
                action: Action::Send,
            },
            E::TransferNotFound,
            E::GONE,
            E::TransferLocked,
            E::WrongPassword { remaining: 1 },
            E::WrongCode { remaining: 1 },
            E::CodeExpired,
            E::CodeAttemptsExhausted,
            E::RateLimited,
            E::SessionInvalid,
            E::TokenInvalid { field },
            E::ReplySessionOnly,
        ]
    }

    #[test]
    fn every_error_maps_to_a_4xx_status() {
        for error in every_error() {
            let status = error.http_status();
            assert!((400..500).contains(&status), "{error:?} -> {status}");
        }
    }

    #[test]
    fn every_error_code_is_distinct_snake_case() {
        let errors = every_error();
        let mut codes: Vec<&str> = errors.iter().map(DomainError::code).collect();
        for code in &codes {
            assert!(!code.is_empty());
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{code}");
            assert!(!code.starts_with('_') && !code.ends_with('_'), "{code}");
        }
        codes.sort_unstable();
        let before = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), before, "two variants share a code");
    }

    #[test]
    fn the_attempts_left_agree_with_their_count() {
        let one = DomainError::WrongPassword { remaining: 1 }.to_string();
        assert_eq!(one, "wrong password, 1 attempt left");
        let two = DomainError::WrongCode { remaining: 2 }.to_string();
        assert_eq!(two, "wrong verification code, 2 attempts left");
        let none = DomainError::WrongCode { remaining: 0 }.to_string();
        assert_eq!(none, "wrong verification code, 0 attempts left");
    }

    #[test]
    fn field_names_are_snake_case() {
        assert_eq!(Field::SenderEmail.as_str(), "sender_email");
        assert_eq!(DomainError::InvalidPhone.field(), Some(Field::SenderPhone));
        assert_eq!(DomainError::GONE.field(), None);
    }
}
