//! In-memory fakes of the object store and the mailer, and readers for what
//! the mails carry (the code, the links' tokens), for the service's tests
//! and for later end-to-end tests that want a whole [`Service`] in memory.
//! Test support only: nothing here is for production.

pub mod walk;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::{Ports, Service, ServiceOf, Settings};
use crate::error::Field;
use crate::file::{CompletedPart, ETag, PartNumber, UploadId};
use crate::ids::{Token, TransferId};
use crate::link::LinkKind;
use crate::mail::{PublicBaseUrl, RenderedMail};
use crate::policy::Policy;
use crate::ports::{
    ByteRange, CounterRandom, FixedClock, Mailer, MemoryStateStore, ObjectKey, ObjectStore, PortError,
    PresignedUrl,
};
use crate::timestamp::Timestamp;
use crate::validate::EmailAddress;
use crate::verification::VerificationCode;

/// A fake failed in a way a test asked for or did not expect.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FakeFailure(&'static str);

fn fail(why: &'static str) -> PortError {
    PortError::backend(FakeFailure(why))
}

/// The size and ETag of each part put so far, by part number.
type Parts = HashMap<u32, (u64, String)>;

#[derive(Debug, Default)]
struct Objects {
    /// Upload id → its key and parts.
    uploads: HashMap<String, (ObjectKey, Parts)>,
    /// Completed objects and their sizes.
    objects: HashMap<ObjectKey, u64>,
}

/// An [`ObjectStore`] that keeps sizes, not bytes: the service never sees
/// bytes, only sizes, upload ids and URLs. Its presigned URLs are
/// `memory://upload/<upload id>/<part>` and `memory://download/<key>`;
/// [`MemoryObjectStore::put`] performs an upload URL the way a browser would.
#[derive(Debug, Default)]
pub struct MemoryObjectStore {
    objects: Mutex<Objects>,
    next_upload: AtomicU64,
    failing_removals: AtomicBool,
}

impl MemoryObjectStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn objects(&self) -> Result<MutexGuard<'_, Objects>, PortError> {
        self.objects.lock().map_err(|_| fail("poisoned"))
    }

    /// Performs a presigned part upload of `bytes` bytes; returns the ETag.
    pub fn put(&self, url: &str, bytes: u64) -> Result<ETag, PortError> {
        let rest = url
            .strip_prefix("memory://upload/")
            .ok_or(fail("not an upload URL"))?;
        let (upload, part) = rest.rsplit_once('/').ok_or(fail("not an upload URL"))?;
        let part: u32 = part.parse().map_err(|_| fail("not a part number"))?;
        let mut objects = self.objects()?;
        let (_, parts) = objects.uploads.get_mut(upload).ok_or(PortError::NotFound)?;
        let etag = format!("\"{upload}-{part}-{bytes}\"");
        parts.insert(part, (bytes, etag.clone()));
        ETag::parse(&etag).map_err(|_| fail("bad etag"))
    }

    /// Number of completed objects.
    pub fn object_count(&self) -> usize {
        self.objects().map_or(0, |o| o.objects.len())
    }

    /// Number of unfinished uploads.
    pub fn upload_count(&self) -> usize {
        self.objects().map_or(0, |o| o.uploads.len())
    }

    /// From now on, fail (`true`) or perform (`false`) every abort and
    /// delete, as a backend that is down would.
    pub fn set_failing_removals(&self, failing: bool) {
        self.failing_removals.store(failing, Ordering::SeqCst);
    }

    fn check_removals(&self) -> Result<(), PortError> {
        if self.failing_removals.load(Ordering::SeqCst) {
            return Err(fail("the object store was told to fail removals"));
        }
        Ok(())
    }
}

impl ObjectStore for MemoryObjectStore {
    async fn create_multipart_upload(&self, key: &ObjectKey) -> Result<UploadId, PortError> {
        let n = self.next_upload.fetch_add(1, Ordering::SeqCst);
        let id = format!("upload-{n}");
        self.objects()?.uploads.insert(id.clone(), (*key, HashMap::new()));
        UploadId::parse(&id).map_err(|_| fail("bad upload id"))
    }

    async fn presign_part_uploads(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        parts: &[PartNumber],
        valid_for: Duration,
    ) -> Result<Vec<PresignedUrl>, PortError> {
        match self.objects()?.uploads.get(upload.as_str()) {
            Some((stored, _)) if stored == key => {}
            _ => return Err(PortError::NotFound),
        }
        Ok(parts
            .iter()
            .map(|part| PresignedUrl {
                url: format!("memory://upload/{}/{}", upload.as_str(), part.get()),
                headers: Vec::new(),
                expires_at: Timestamp::from_unix_seconds(valid_for.as_secs()),
            })
            .collect())
    }

    async fn complete_multipart_upload(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        parts: &[CompletedPart],
    ) -> Result<(), PortError> {
        let mut objects = self.objects()?;
        let (stored, uploaded) = objects.uploads.get(upload.as_str()).ok_or(PortError::NotFound)?;
        if stored != key {
            return Err(PortError::NotFound);
        }
        let mut size = 0u64;
        for part in parts {
            match uploaded.get(&part.number.get()) {
                Some((bytes, etag)) if etag == part.etag.as_str() => size += bytes,
                _ => return Err(PortError::ConditionFailed),
            }
        }
        objects.uploads.remove(upload.as_str());
        objects.objects.insert(*key, size);
        Ok(())
    }

    async fn abort_multipart_upload(&self, _key: &ObjectKey, upload: &UploadId) -> Result<(), PortError> {
        self.check_removals()?;
        self.objects()?.uploads.remove(upload.as_str());
        Ok(())
    }

    async fn object_size(&self, key: &ObjectKey) -> Result<u64, PortError> {
        self.objects()?
            .objects
            .get(key)
            .copied()
            .ok_or(PortError::NotFound)
    }

    async fn presign_download(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
        valid_for: Duration,
    ) -> Result<PresignedUrl, PortError> {
        if !self.objects()?.objects.contains_key(key) {
            return Err(PortError::NotFound);
        }
        Ok(PresignedUrl {
            url: format!("memory://download/{key}"),
            headers: range
                .map(|r| vec![("Range".to_owned(), r.header_value())])
                .unwrap_or_default(),
            expires_at: Timestamp::from_unix_seconds(valid_for.as_secs()),
        })
    }

    async fn delete_object(&self, key: &ObjectKey) -> Result<(), PortError> {
        self.check_removals()?;
        self.objects()?.objects.remove(key);
        Ok(())
    }

    async fn delete_transfer_objects(&self, transfer: TransferId) -> Result<(), PortError> {
        self.check_removals()?;
        let mut objects = self.objects()?;
        objects.objects.retain(|key, _| key.transfer != transfer);
        objects.uploads.retain(|_, (key, _)| key.transfer != transfer);
        Ok(())
    }
}

/// A [`Mailer`] that records what it sends, and can be told to fail.
#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<RenderedMail>>,
    failing: AtomicBool,
}

impl RecordingMailer {
    /// A mailer that works.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent so far, in order.
    pub fn sent(&self) -> Vec<RenderedMail> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Mail sent to `address`, in order.
    pub fn sent_to(&self, address: &str) -> Vec<RenderedMail> {
        self.sent()
            .into_iter()
            .filter(|m| m.to.as_str() == address)
            .collect()
    }

    /// From now on, refuse (`true`) or accept (`false`) every message.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl Mailer for RecordingMailer {
    async fn send(&self, mail: &RenderedMail) -> Result<(), PortError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(fail("the mailer was told to fail"));
        }
        self.sent.lock().map_err(|_| fail("poisoned"))?.push(mail.clone());
        Ok(())
    }
}

/// The in-memory ports: a state store, the two fakes above, a clock that
/// moves only when told, counter-based ids.
#[derive(Debug)]
pub struct MemoryPorts;

impl Ports for MemoryPorts {
    type Store = MemoryStateStore;
    type Objects = MemoryObjectStore;
    type Mailer = RecordingMailer;
    type Clock = FixedClock;
    type Random = CounterRandom;
}

/// A whole service in memory.
pub type MemoryService = ServiceOf<MemoryPorts>;

/// A service in memory at `now`, with the test base URL `https://kluis.example.nl`.
pub fn memory_service(policy: Policy, now: Timestamp) -> MemoryService {
    let base = PublicBaseUrl::parse("https://kluis.example.nl").expect("the literal base URL is valid");
    Service::new(
        MemoryStateStore::new(),
        MemoryObjectStore::new(),
        RecordingMailer::new(),
        FixedClock::at(now),
        // A start whose high bytes vary, so codes drawn from it are not all zeros.
        CounterRandom::starting_at(0x0123_4567_89AB_CDEF),
        Settings::new(policy, base),
    )
    .expect("the test policy is valid")
}

/// The six-digit code in a verification mail (the first word of six digits).
pub fn code_in(mail: &RenderedMail) -> Option<VerificationCode> {
    mail.text
        .split_whitespace()
        .find(|word| word.len() == VerificationCode::DIGITS && word.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|word| VerificationCode::parse(word).ok())
}

/// The transfer id and token of the first `/retrieve/<id>#<token>` or
/// `/manage/<id>#<token>` link in a mail.
pub fn link_in(mail: &RenderedMail) -> Option<(TransferId, Token)> {
    let (word, kind) = mail.text.split_whitespace().find_map(|word| {
        [LinkKind::Retrieve, LinkKind::Manage]
            .into_iter()
            .find(|kind| word.contains(kind.segment()))
            .map(|kind| (word, kind))
    })?;
    // Text may follow the token (punctuation): the token is exactly TEXT_LEN.
    let (before, fragment) = word.split_once('#')?;
    let token: String = fragment.chars().take(Token::TEXT_LEN).collect();
    let link = crate::link::parse(&format!("{before}#{token}"), kind).ok()?;
    Some((link.transfer, link.token))
}

/// Parses a test address.
pub fn address(text: &str) -> EmailAddress {
    EmailAddress::parse(text, Field::RecipientEmail).expect("test address is valid")
}
