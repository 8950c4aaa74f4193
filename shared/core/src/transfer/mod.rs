//! The transfer and its life cycle, as an explicit state machine:
//!
//! ```text
//!   draft ──set_key──▶ keyed ──send──▶ sent ──lock──▶ locked
//!     │                  │               │
//!     ├──────────────────┴───────────────┴──expire──▶ expired
//!     └──────────────────┴───────────────┴──revoke──▶ revoked
//! ```
//!
//! Files are added, completed and removed only in `draft`. Every transition is a pure
//! method that returns the next value with its [`Revision`] one higher; the
//! caller stores it with [`crate::ports::StateStore::replace_transfer`] under
//! [`Transfer::precondition`] of the value it started from, so of many
//! concurrent transitions from the same state exactly one is written.
//!
//! The key material exists only in `keyed` and `sent` (it is part of those
//! [`Stage`] variants), so a gone transfer cannot hand out a key even if its
//! objects are still being deleted.

use serde::{Deserialize, Deserializer, Serialize};

use crate::envelope::{AuthKey, KeyEnvelope, SealedManifest};
use crate::error::{DomainError, Field, GoneReason};
use crate::file::{TransferFile, UploadId, UploadStatus, check_ciphertext_size};
use crate::ids::{FileId, Token, TokenHash, TransferId};
use crate::policy::Policy;
use crate::timestamp::Timestamp;
use crate::validate::{EmailAddress, Language, NotificationText, PersonName, PhoneNumber};

pub use crate::lifecycle::{Action, TransferState};

#[cfg(test)]
mod tests;

/// Optimistic-concurrency version of a stored transfer; every change adds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Revision(u64);

impl Revision {
    /// The revision of a newly created transfer.
    pub const FIRST: Self = Self(1);

    /// The number, for the store's condition expression.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Rebuilds a revision read from the store.
    pub const fn from_stored(number: u64) -> Self {
        Self(number)
    }

    const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

/// The condition under which a changed transfer may be written: the stored
/// one MUST still have this revision and this state. Checking both is
/// redundant (the revision implies the state) but keeps a store bug from
/// ever turning into an illegal transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precondition {
    /// The revision the change was computed from.
    pub revision: Revision,
    /// The state the change was computed from.
    pub state: TransferState,
}

/// The sender of a transfer: whoever passed verification (or, for a reply,
/// the recipient who answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// Display name.
    pub name: PersonName,
    /// Verified address.
    pub email: EmailAddress,
    /// Phone number (recipients may call back to get the password).
    pub phone: Option<PhoneNumber>,
}

/// A recipient and what the server knows of their retrieval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// The address the notification goes to.
    pub email: EmailAddress,
    /// SHA-256 of this recipient's retrieval token, set when sent.
    pub retrieval: Option<TokenHash>,
    /// First download by this recipient (drives the one download receipt).
    pub first_download_at: Option<Timestamp>,
}

/// The sender's choices for a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOptions {
    /// Language of the mails.
    pub language: Language,
    /// Mail the sender when a recipient first downloads.
    pub download_receipts: bool,
    /// Days from sending to expiry.
    pub retention_days: u32,
    /// Own text for the notification; `None` uses the default text.
    pub notification_text: Option<NotificationText>,
}

/// A transfer's state and the data that exist only in that state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Stage {
    /// Being assembled.
    Draft,
    /// Key stored, not yet announced.
    Keyed {
        /// The key envelope.
        envelope: KeyEnvelope,
        /// The sealed manifest.
        manifest: SealedManifest,
    },
    /// Announced to the recipients.
    Sent {
        /// The key envelope.
        envelope: KeyEnvelope,
        /// The sealed manifest.
        manifest: SealedManifest,
        /// When the recipients were notified.
        sent_at: Timestamp,
        /// SHA-256 of the sender's manage token (status and revoke).
        manage: TokenHash,
    },
    /// Expired.
    Expired {
        /// When.
        at: Timestamp,
    },
    /// Revoked by the sender.
    Revoked {
        /// When.
        at: Timestamp,
    },
    /// Locked after too many wrong passwords.
    Locked {
        /// When.
        at: Timestamp,
    },
}

impl Stage {
    /// The state without its data.
    pub const fn state(&self) -> TransferState {
        match self {
            Self::Draft => TransferState::Draft,
            Self::Keyed { .. } => TransferState::Keyed,
            Self::Sent { .. } => TransferState::Sent,
            Self::Expired { .. } => TransferState::Expired,
            Self::Revoked { .. } => TransferState::Revoked,
            Self::Locked { .. } => TransferState::Locked,
        }
    }
}

/// What a new draft is made of (all validated already).
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// Fresh random id.
    pub id: TransferId,
    /// The verified sender.
    pub sender: Sender,
    /// Recipient addresses.
    pub recipients: Vec<EmailAddress>,
    /// Mail language.
    pub language: Language,
    /// Download receipts wanted.
    pub download_receipts: bool,
    /// Retention asked for; `None` takes the policy default.
    pub retention_days: Option<u32>,
    /// Own notification text.
    pub notification_text: Option<NotificationText>,
    /// The transfer this one answers, for replies.
    pub in_reply_to: Option<TransferId>,
}

/// The sender's last choices, given with the send (the wizard's step 6).
/// The wizard creates the draft early, so uploads can start as soon as
/// files are chosen (files are bound to the transfer id), and the sender
/// picks the options, or goes back to the recipients, afterwards. Each
/// member present replaces the draft's choice, each absent one keeps it;
/// the rules of a new draft apply ([`Transfer::draft`]). All absent (the
/// default) sends the draft as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendOptions {
    /// Replaces the recipients (never of a reply, which goes to the sender
    /// it answers only).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub recipients: Option<Vec<EmailAddress>>,
    /// Replaces the language of the mails.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub language: Option<Language>,
    /// Replaces the choice of download receipts.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub download_receipts: Option<bool>,
    /// Replaces the retention; `Some(None)` (JSON `null`) is the policy's
    /// default.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub retention_days: Option<Option<u32>>,
    /// Replaces the notification text; `Some(None)` (JSON `null`, empty or
    /// blank) is the default text.
    #[serde(
        default,
        deserialize_with = "present_notification_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub notification_text: Option<Option<NotificationText>>,
}

impl SendOptions {
    /// Refuses choices no transfer could ever take, whatever its state or
    /// the policy: an empty recipient list, zero days (what the API's
    /// schema excludes). The policy's limits are checked where they apply,
    /// in [`Transfer::send`], which a retry of a sent transfer never reaches.
    pub fn check_form(&self) -> Result<(), DomainError> {
        if self.recipients.as_ref().is_some_and(Vec::is_empty) {
            return Err(DomainError::Missing {
                field: Field::Recipients,
            });
        }
        if self.retention_days == Some(Some(0)) {
            return Err(DomainError::Malformed {
                field: Field::RetentionDays,
            });
        }
        Ok(())
    }

    /// How many recipients `transfer` has once these choices apply: one
    /// retrieval token is drawn for each.
    pub fn recipient_count(&self, transfer: &Transfer) -> usize {
        self.recipients
            .as_ref()
            .map_or(transfer.recipients.len(), Vec::len)
    }
}

/// A member that is present, with its value: `null` only where `T` takes
/// it (an `Option`), so `"language": null` is refused rather than read as
/// "keep", while `"retention_days": null` means "the default". An absent
/// member is the field's default, `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// A notification text that is present: `null`, empty or blank is the
/// default text ([`crate::validate::optional_notification_text`]).
fn present_notification_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<NotificationText>>, D::Error> {
    crate::validate::optional_notification_text(deserializer).map(Some)
}

/// What a successful retrieval authorisation yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientIndex(pub usize);

/// One transfer. Fields are private: every change goes through a transition
/// method that enforces the life cycle and the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    id: TransferId,
    revision: Revision,
    sender: Sender,
    recipients: Vec<Recipient>,
    files: Vec<TransferFile>,
    options: TransferOptions,
    created_at: Timestamp,
    expires_at: Timestamp,
    in_reply_to: Option<TransferId>,
    stage: Stage,
    /// Objects and key material deleted (only ever in a terminal state).
    purged: bool,
}

impl Transfer {
    /// Creates a draft after checking recipients, retention and the open-relay rule.
    pub fn draft(new: NewTransfer, policy: &Policy, now: Timestamp) -> Result<Self, DomainError> {
        policy.check_recipients(&new.sender.email, &new.recipients)?;
        let retention_days = policy.retention_days(new.retention_days)?;
        Ok(Self {
            id: new.id,
            revision: Revision::FIRST,
            recipients: new
                .recipients
                .into_iter()
                .map(|email| Recipient {
                    email,
                    retrieval: None,
                    first_download_at: None,
                })
                .collect(),
            sender: new.sender,
            files: Vec::new(),
            options: TransferOptions {
                language: new.language,
                download_receipts: new.download_receipts,
                retention_days,
                notification_text: new.notification_text,
            },
            created_at: now,
            expires_at: now.plus_seconds(policy.draft_secs()),
            in_reply_to: new.in_reply_to,
            stage: Stage::Draft,
            purged: false,
        })
    }

    // --- reading ----------------------------------------------------------

    /// The id.
    pub const fn id(&self) -> TransferId {
        self.id
    }
    /// The stored revision.
    pub const fn revision(&self) -> Revision {
        self.revision
    }
    /// The current state.
    pub const fn state(&self) -> TransferState {
        self.stage.state()
    }
    /// The state with its data.
    pub const fn stage(&self) -> &Stage {
        &self.stage
    }
    /// The sender.
    pub const fn sender(&self) -> &Sender {
        &self.sender
    }
    /// The recipients, in the order given.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }
    /// The files, in the order added.
    pub fn files(&self) -> &[TransferFile] {
        &self.files
    }
    /// The sender's options.
    pub const fn options(&self) -> &TransferOptions {
        &self.options
    }
    /// When created.
    pub const fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// When it expires (the draft lifetime until sent, the retention after).
    pub const fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
    /// The transfer this one answers.
    pub const fn in_reply_to(&self) -> Option<TransferId> {
        self.in_reply_to
    }
    /// Whether objects and keys are deleted.
    pub const fn is_purged(&self) -> bool {
        self.purged
    }
    /// Total ciphertext bytes of all files.
    pub fn total_ciphertext_bytes(&self) -> u64 {
        self.files
            .iter()
            .map(|f| f.ciphertext_bytes)
            .fold(0, u64::saturating_add)
    }

    /// The condition for writing a transition computed from this value.
    pub const fn precondition(&self) -> Precondition {
        Precondition {
            revision: self.revision,
            state: self.state(),
        }
    }

    /// When the expiry job must delete this transfer's objects (and, for a
    /// live transfer, expire it); `None` once purged. Adapters index this
    /// (a sparse attribute) to answer `list_due_for_purge`.
    pub const fn purge_due_at(&self) -> Option<Timestamp> {
        if self.purged {
            return None;
        }
        match self.stage {
            Stage::Draft | Stage::Keyed { .. } | Stage::Sent { .. } => Some(self.expires_at),
            Stage::Expired { at } | Stage::Revoked { at } | Stage::Locked { at } => Some(at),
        }
    }

    /// When the store may drop the record itself (its TTL): some days after
    /// expiry, so a late visitor still reads "gone" and the audit trail stays.
    pub fn record_expires_at(&self, policy: &Policy) -> Timestamp {
        let end = match self.stage {
            Stage::Expired { at } | Stage::Revoked { at } | Stage::Locked { at } => at.max(self.expires_at),
            _ => self.expires_at,
        };
        end.plus_seconds(u64::from(policy.keep_gone_records_days) * Timestamp::DAY)
    }

    // --- transitions ------------------------------------------------------

    fn refuse(&self, action: Action) -> DomainError {
        DomainError::InvalidTransition {
            state: self.state(),
            action,
        }
    }

    /// The next revision with `change` applied.
    fn next(&self, change: impl FnOnce(&mut Self)) -> Self {
        let mut next = self.clone();
        change(&mut next);
        next.revision = self.revision.next();
        next
    }

    /// Adds a file whose multipart upload was just created (draft only),
    /// within the policy's file count and transfer size.
    pub fn add_file(
        &self,
        id: FileId,
        ciphertext_bytes: u64,
        part_count: u32,
        upload_id: UploadId,
        policy: &Policy,
    ) -> Result<Self, DomainError> {
        if self.state() != TransferState::Draft {
            return Err(self.refuse(Action::AddFile));
        }
        check_ciphertext_size(ciphertext_bytes)?;
        if part_count == 0 || part_count > crate::file::PartNumber::MAX {
            return Err(DomainError::Malformed {
                field: Field::PartNumber,
            });
        }
        if self.files.iter().any(|f| f.id == id) {
            return Err(DomainError::FileAlreadyAdded);
        }
        if self.files.len() >= policy.max_files {
            return Err(DomainError::TooManyFiles {
                max: policy.max_files,
            });
        }
        let total = self.total_ciphertext_bytes().checked_add(ciphertext_bytes);
        if total.is_none_or(|total| total > policy.max_transfer_bytes) {
            return Err(DomainError::TransferTooLarge {
                max_bytes: policy.max_transfer_bytes,
            });
        }
        let file = TransferFile {
            id,
            ciphertext_bytes,
            part_count,
            upload: UploadStatus::InProgress { upload_id },
        };
        Ok(self.next(|t| t.files.push(file)))
    }

    /// The upload id of a file still being uploaded (draft only).
    pub fn upload_in_progress(&self, id: FileId) -> Result<&UploadId, DomainError> {
        if self.state() != TransferState::Draft {
            return Err(self.refuse(Action::CompleteFile));
        }
        match self.files.iter().find(|f| f.id == id).map(|f| &f.upload) {
            None => Err(DomainError::UnknownFile),
            Some(UploadStatus::InProgress { upload_id }) => Ok(upload_id),
            Some(UploadStatus::Complete) => Err(DomainError::FileAlreadyAdded),
        }
    }

    /// Marks a file complete once the object store reports its size (draft
    /// only). The stored size MUST equal the declared one: the policy was
    /// checked against the declaration. `Ok(None)` if it already was complete
    /// (a retried request), so the caller writes nothing.
    pub fn complete_file(&self, id: FileId, stored_bytes: u64) -> Result<Option<Self>, DomainError> {
        if self.state() != TransferState::Draft {
            return Err(self.refuse(Action::CompleteFile));
        }
        let index = self
            .files
            .iter()
            .position(|f| f.id == id)
            .ok_or(DomainError::UnknownFile)?;
        let file = &self.files[index];
        if file.ciphertext_bytes != stored_bytes {
            return Err(DomainError::SizeMismatch);
        }
        if file.is_complete() {
            return Ok(None);
        }
        Ok(Some(
            self.next(|t| t.files[index].upload = UploadStatus::Complete),
        ))
    }

    /// Removes a file from a draft: the sender changed their mind, whether
    /// its upload is still running or complete. The policy's file count and
    /// transfer size no longer count it, so another file fits in its place.
    /// Returns the next value and the file as it was (its upload id, if
    /// still in progress, is what the caller must abort); `Ok(None)` if the
    /// draft holds no such file (removed already, or never added), so a
    /// retried request writes nothing.
    pub fn remove_file(&self, id: FileId) -> Result<Option<(Self, TransferFile)>, DomainError> {
        if self.state() != TransferState::Draft {
            return Err(self.refuse(Action::RemoveFile));
        }
        let Some(index) = self.files.iter().position(|f| f.id == id) else {
            return Ok(None);
        };
        let removed = self.files[index].clone();
        Ok(Some((
            self.next(|t| {
                t.files.remove(index);
            }),
            removed,
        )))
    }

    /// Stores the key envelope and sealed manifest: draft → keyed. Needs at
    /// least one file, every upload complete, and KDF parameters the policy accepts.
    pub fn set_key(
        &self,
        envelope: KeyEnvelope,
        manifest: SealedManifest,
        policy: &Policy,
    ) -> Result<Self, DomainError> {
        if self.state() != TransferState::Draft {
            return Err(self.refuse(Action::SetKey));
        }
        if self.files.is_empty() {
            return Err(DomainError::NoFiles);
        }
        if !self.files.iter().all(TransferFile::is_complete) {
            return Err(DomainError::UploadIncomplete);
        }
        policy.check_kdf(&envelope.kdf)?;
        Ok(self.next(|t| t.stage = Stage::Keyed { envelope, manifest }))
    }

    /// Announces the transfer: keyed → sent, with the sender's last
    /// `choices` applied in the same change (checked as a new draft's are).
    /// `retrieval_tokens` holds one fresh token per recipient of the final
    /// list ([`SendOptions::recipient_count`]), in recipient order; only
    /// their hashes are kept. The retention clock starts now.
    pub fn send(
        &self,
        choices: &SendOptions,
        retrieval_tokens: &[Token],
        manage_token: &Token,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Self, DomainError> {
        let Stage::Keyed { envelope, manifest } = &self.stage else {
            return Err(self.refuse(Action::Send));
        };
        let (recipients, options) = self.chosen(choices, policy)?;
        if retrieval_tokens.len() != recipients.len() {
            return Err(DomainError::Malformed {
                field: Field::RetrievalToken,
            });
        }
        let stage = Stage::Sent {
            envelope: envelope.clone(),
            manifest: manifest.clone(),
            sent_at: now,
            manage: manage_token.hash(),
        };
        let expires_at = now.plus_seconds(u64::from(options.retention_days) * Timestamp::DAY);
        Ok(self.next(|t| {
            t.recipients = recipients;
            for (recipient, token) in t.recipients.iter_mut().zip(retrieval_tokens) {
                recipient.retrieval = Some(token.hash());
            }
            t.options = options;
            t.stage = stage;
            t.expires_at = expires_at;
        }))
    }

    /// The recipients and options once `choices` replace the draft's, under
    /// the rules of [`Transfer::draft`]: count, duplicates, the open-relay
    /// rule and the retention limit. A reply's recipient (the sender it
    /// answers) cannot be replaced.
    fn chosen(
        &self,
        choices: &SendOptions,
        policy: &Policy,
    ) -> Result<(Vec<Recipient>, TransferOptions), DomainError> {
        let recipients = match &choices.recipients {
            None => self.recipients.clone(),
            Some(_) if self.in_reply_to.is_some() => return Err(DomainError::ReplySessionOnly),
            Some(list) => {
                policy.check_recipients(&self.sender.email, list)?;
                list.iter()
                    .map(|email| Recipient {
                        email: email.clone(),
                        retrieval: None,
                        first_download_at: None,
                    })
                    .collect()
            }
        };
        let mut options = self.options.clone();
        if let Some(language) = choices.language {
            options.language = language;
        }
        if let Some(receipts) = choices.download_receipts {
            options.download_receipts = receipts;
        }
        if let Some(days) = choices.retention_days {
            options.retention_days = policy.retention_days(days)?;
        }
        if let Some(text) = &choices.notification_text {
            options.notification_text.clone_from(text);
        }
        Ok((recipients, options))
    }

    /// Expires a live transfer whose time has come (draft, keyed or sent).
    /// Expiring early is refused as an invalid transition.
    pub fn expire(&self, now: Timestamp) -> Result<Self, DomainError> {
        if self.state().is_terminal() || now < self.expires_at {
            return Err(self.refuse(Action::Expire));
        }
        Ok(self.next(|t| t.stage = Stage::Expired { at: now }))
    }

    /// Withdraws a live transfer (draft, keyed or sent) at the sender's request.
    pub fn revoke(&self, now: Timestamp) -> Result<Self, DomainError> {
        if self.state().is_terminal() {
            return Err(self.refuse(Action::Revoke));
        }
        Ok(self.next(|t| t.stage = Stage::Revoked { at: now }))
    }

    /// Locks a sent transfer after the last allowed wrong password.
    pub fn lock(&self, now: Timestamp) -> Result<Self, DomainError> {
        if self.state() != TransferState::Sent {
            return Err(self.refuse(Action::Lock));
        }
        Ok(self.next(|t| t.stage = Stage::Locked { at: now }))
    }

    /// Records that the objects are deleted (terminal states only, once).
    pub fn mark_purged(&self) -> Result<Self, DomainError> {
        if !self.state().is_terminal() || self.purged {
            return Err(self.refuse(Action::Purge));
        }
        Ok(self.next(|t| t.purged = true))
    }

    // --- retrieval ----------------------------------------------------------

    /// Finds the recipient a retrieval token belongs to, refusing transfers
    /// that are not retrievable. Unsent transfers and wrong tokens give the
    /// same [`DomainError::TransferNotFound`], so neither can be probed.
    pub fn authorize_retrieval(&self, token: &Token, now: Timestamp) -> Result<RecipientIndex, DomainError> {
        let gone = match self.state() {
            TransferState::Draft | TransferState::Keyed => return Err(DomainError::TransferNotFound),
            TransferState::Locked => return Err(DomainError::TransferLocked),
            TransferState::Expired => Some(GoneReason::Expired),
            TransferState::Revoked => Some(GoneReason::Revoked),
            // The expiry job may run late: time decides, not the job.
            TransferState::Sent if now >= self.expires_at => Some(GoneReason::Expired),
            TransferState::Sent => None,
        };
        // Every recipient is compared, with no early exit, so timing does not
        // tell which position (or whether any) matched.
        let mut found = None;
        for (index, recipient) in self.recipients.iter().enumerate() {
            if recipient.retrieval.is_some_and(|hash| hash.matches(token)) {
                found = Some(RecipientIndex(index));
            }
        }
        if let Some(reason) = gone {
            // Why it is gone is told to a holder of one of its links only.
            return Err(DomainError::TransferGone {
                reason: found.map(|_| reason),
            });
        }
        found.ok_or(DomainError::TransferNotFound)
    }

    /// Checks the auth key a recipient derived from the password and, if it
    /// is right, releases the envelope and manifest. A wrong key is reported
    /// as `Ok(None)`: the caller MUST then count the failure
    /// (see [`crate::unlock`]) before answering.
    pub fn unlock(&self, auth_key: &AuthKey) -> Result<Option<(&KeyEnvelope, &SealedManifest)>, DomainError> {
        match &self.stage {
            Stage::Sent {
                envelope, manifest, ..
            } => Ok(envelope
                .auth_hash
                .verifies(auth_key)
                .then_some((envelope, manifest))),
            Stage::Locked { .. } => Err(DomainError::TransferLocked),
            Stage::Expired { .. } | Stage::Revoked { .. } => Err(DomainError::GONE),
            Stage::Draft | Stage::Keyed { .. } => Err(DomainError::TransferNotFound),
        }
    }

    /// Whether `token` is the sender's manage token (sent transfers only; in
    /// constant time).
    pub fn authorize_manage(&self, token: &Token) -> Result<(), DomainError> {
        match &self.stage {
            Stage::Sent { manage, .. } if manage.matches(token) => Ok(()),
            _ => Err(DomainError::TransferNotFound),
        }
    }

    /// Records a recipient's download (sent only). `Ok(None)` if that
    /// recipient had downloaded before: only the first download is written,
    /// so at most one receipt mail per recipient is ever sent.
    pub fn record_download(
        &self,
        recipient: RecipientIndex,
        now: Timestamp,
    ) -> Result<Option<Self>, DomainError> {
        if self.state() != TransferState::Sent {
            return Err(self.refuse(Action::RecordDownload));
        }
        let entry = self
            .recipients
            .get(recipient.0)
            .ok_or(DomainError::TransferNotFound)?;
        if entry.first_download_at.is_some() {
            return Ok(None);
        }
        Ok(Some(self.next(|t| {
            t.recipients[recipient.0].first_download_at = Some(now)
        })))
    }
}
