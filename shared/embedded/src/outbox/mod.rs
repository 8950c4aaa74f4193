//! A [`Mailer`] that sends nothing: each message becomes one RFC 5322
//! `.eml` file in an outbox folder (the single-machine runner shows them on
//! a dev mailbox page; an operator can hand them to any MTA).
//!
//! Messages are formatted by lettre: multipart/alternative with the text
//! and HTML bodies (base64, so any UTF-8 survives and [`read_outbox`] can
//! decode without guessing), From the service's address, Reply-To the
//! verified sender when the core gives one. Each file is written under
//! `.tmp/` and renamed into place, so a reader never sees half a message;
//! names start with the time in nanoseconds, so they sort in sending order.

mod parse;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use kluis_core::mail::RenderedMail;
use kluis_core::ports::{Mailer, OsRandom, PortError, RandomSource};
use kluis_core::validate::EmailAddress;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use tokio::io::AsyncWriteExt as _;

pub use parse::{OutboxMessage, ParseError, parse_message};

/// Why a message could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// Reading or writing the outbox folder failed.
    #[error("outbox I/O: {0}")]
    Io(#[from] std::io::Error),
    /// An address was refused by the message builder.
    #[error("address: {0}")]
    Address(#[from] lettre::address::AddressError),
    /// The message could not be built.
    #[error("message: {0}")]
    Message(#[from] lettre::error::Error),
    /// A file in the outbox is not a message this mailer wrote.
    #[error("{file}: {source}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        source: ParseError,
    },
}

/// Writes each message as an `.eml` file into a folder.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    folder: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    /// An outbox in `folder` (created if absent), sending as `name <from>`.
    pub async fn open(
        folder: impl AsRef<Path>,
        name: &str,
        from: &EmailAddress,
    ) -> Result<Self, OutboxError> {
        let folder = folder.as_ref().to_path_buf();
        tokio::fs::create_dir_all(folder.join(".tmp")).await?;
        let from = Mailbox::new(Some(name.to_owned()), from.as_str().parse()?);
        Ok(Self { folder, from })
    }

    /// The outbox folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Formats `mail` as an RFC 5322 message.
    fn format(&self, mail: &RenderedMail, message_id: &str) -> Result<Vec<u8>, OutboxError> {
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, mail.to.as_str().parse()?))
            .subject(mail.subject.as_str())
            .message_id(Some(format!("<{message_id}@{}>", self.from.email.domain())));
        if let Some(reply_to) = &mail.reply_to {
            builder = builder.reply_to(Mailbox::new(None, reply_to.as_str().parse()?));
        }
        let part = |content_type, body: &str| {
            SinglePart::builder()
                .header(content_type)
                .header(ContentTransferEncoding::Base64)
                .body(body.to_owned())
        };
        let message = builder.multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, &mail.text))
                .singlepart(part(ContentType::TEXT_HTML, &mail.html)),
        )?;
        Ok(message.formatted())
    }

    async fn write(&self, mail: &RenderedMail) -> Result<(), OutboxError> {
        let name = next_name()?;
        let bytes = self.format(mail, &name)?;
        let temp = self.folder.join(".tmp").join(&name);
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            file.write_all(&bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&temp, self.folder.join(format!("{name}.eml"))).await
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        Ok(written?)
    }
}

/// `<nanoseconds since 1970, 20 digits>-<sequence>-<random>`: sorts in
/// sending order within a process, and never collides across processes.
fn next_name() -> Result<String, OutboxError> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut random = [0; 4];
    OsRandom
        .fill(&mut random)
        .map_err(|_| std::io::Error::other("no random bytes for a file name"))?;
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed) % 1_000_000;
    Ok(format!(
        "{nanos:020}-{sequence:06}-{:08x}",
        u32::from_be_bytes(random)
    ))
}

impl Mailer for OutboxMailer {
    async fn send(&self, mail: &RenderedMail) -> Result<(), PortError> {
        self.write(mail).await.map_err(PortError::backend)
    }
}

/// Every message in the outbox `folder`, oldest first (by file name).
pub async fn read_outbox(folder: impl AsRef<Path>) -> Result<Vec<OutboxMessage>, OutboxError> {
    let mut names = Vec::new();
    let mut entries = tokio::fs::read_dir(folder.as_ref()).await?;
    while let Some(entry) = entries.next_entry().await? {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "eml") {
            names.push(path);
        }
    }
    names.sort();
    let mut messages = Vec::with_capacity(names.len());
    for file in names {
        let bytes = tokio::fs::read(&file).await?;
        let message = parse_message(&bytes).map_err(|source| OutboxError::Parse {
            file: file.clone(),
            source,
        })?;
        messages.push(message);
    }
    Ok(messages)
}

#[cfg(test)]
mod tests;
