//! The conformance suite every [`Mailer`] adapter runs: send rendered
//! messages, read them back from wherever the transport put them (an
//! outbox folder, moto's record of sent mail…) and compare.
//!
//! Reading back is the adapter's business, so the suite takes a
//! [`SentMail`]: each adapter's test supplies how to list what was sent.
//! Messages are found by a marker unique to the run, so a shared backend
//! (one moto server for many tests) may hold other mail too.

use core::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Field;
use crate::mail::{RenderedMail, Subject};
use crate::ports::Mailer;
use crate::validate::EmailAddress;

/// Any error a read-back may meet (I/O, HTTP, parsing).
pub type ReadBackError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One sent message as its transport recorded it, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadBack {
    /// The `To` addresses.
    pub to: Vec<String>,
    /// The `Reply-To` addresses (empty: none), or `None` when the transport
    /// does not record Reply-To at all (then the suite cannot check it).
    pub reply_to: Option<Vec<String>>,
    /// The subject, decoded (no RFC 2047 encoded words left).
    pub subject: String,
    /// The decoded bodies the transport kept (text and/or HTML).
    pub bodies: Vec<String>,
}

/// How a test reads back the mail an adapter sent.
pub trait SentMail: Send + Sync {
    /// Every message sent so far (in any order).
    fn sent(&self) -> impl Future<Output = Result<Vec<ReadBack>, ReadBackError>> + Send;
}

/// A marker unique to this call in this process, and very likely across
/// runs against a long-lived backend.
fn unique_marker() -> String {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("kluis-conformance-{nanos}-{}-{n}", std::process::id())
}

fn address(text: &str) -> EmailAddress {
    EmailAddress::parse(text, Field::RecipientEmail).expect("literal address is valid")
}

/// A message like the ones the core renders, carrying `marker` in its
/// subject and both bodies, with non-ASCII text and a line longer than 78
/// characters so transfer encoding and folding are exercised.
pub fn sample_mail(marker: &str, reply_to: Option<&str>) -> RenderedMail {
    RenderedMail {
        to: address("partner@extern.example"),
        reply_to: reply_to.map(address),
        subject: Subject::new(&format!("Bestanden van Zoë Ünal {marker}")).expect("one line"),
        text: format!(
            "Beste partner,\n\nZoë heeft u bestanden gestuurd: {marker}\n\
             Deze regel is bewust langer dan achtenzeventig tekens, zodat de transportcodering hem moet vouwen.\n"
        ),
        html: format!("<p>Zo&euml; heeft u bestanden gestuurd: <strong>{marker}</strong></p>\n"),
    }
}

async fn the_one_with<R: SentMail>(sent: &R, marker: &str) -> ReadBack {
    let all = sent
        .sent()
        .await
        .unwrap_or_else(|e| panic!("reading back sent mail failed: {e}"));
    let mut found: Vec<ReadBack> = all.into_iter().filter(|m| m.subject.contains(marker)).collect();
    assert_eq!(found.len(), 1, "the message must be sent exactly once: {found:?}");
    found.remove(0)
}

fn check_common(mail: &RenderedMail, back: &ReadBack, marker: &str) {
    assert_eq!(back.to, vec![mail.to.to_string()], "To must be the one recipient");
    assert_eq!(
        back.subject,
        mail.subject.as_str(),
        "the subject must survive encoding"
    );
    assert!(
        back.bodies
            .iter()
            .any(|b| b.contains(&format!("Zoë heeft u bestanden gestuurd: {marker}"))),
        "a body must contain the text, decoded: {:?}",
        back.bodies
    );
}

/// A message with a Reply-To arrives once, with its recipient, subject,
/// body and Reply-To (where the transport records it).
pub async fn a_sent_message_is_read_back_with_its_headers<M: Mailer, R: SentMail>(mailer: &M, sent: &R) {
    let marker = unique_marker();
    let mail = sample_mail(&marker, Some("sender@example.nl"));
    mailer.send(&mail).await.expect("send a message");
    let back = the_one_with(sent, &marker).await;
    check_common(&mail, &back, &marker);
    if let Some(reply_to) = &back.reply_to {
        assert_eq!(
            reply_to,
            &vec!["sender@example.nl".to_owned()],
            "Reply-To must be the sender"
        );
    }
}

/// A message without a Reply-To gets none (the adapter must not invent one).
pub async fn a_message_without_reply_to_has_none<M: Mailer, R: SentMail>(mailer: &M, sent: &R) {
    let marker = unique_marker();
    let mail = sample_mail(&marker, None);
    mailer.send(&mail).await.expect("send a message");
    let back = the_one_with(sent, &marker).await;
    check_common(&mail, &back, &marker);
    if let Some(reply_to) = &back.reply_to {
        assert!(reply_to.is_empty(), "no Reply-To was asked for, got {reply_to:?}");
    }
}

/// Runs every check above.
pub async fn run_all<M: Mailer, R: SentMail>(mailer: &M, sent: &R) {
    a_sent_message_is_read_back_with_its_headers(mailer, sent).await;
    a_message_without_reply_to_has_none(mailer, sent).await;
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::ports::PortError;

    /// The reference transport: keeps each message as it was given.
    #[derive(Default)]
    struct Recording(Mutex<Vec<RenderedMail>>);

    impl Mailer for Recording {
        async fn send(&self, mail: &RenderedMail) -> Result<(), PortError> {
            self.0
                .lock()
                .map_err(|_| PortError::ConditionFailed)?
                .push(mail.clone());
            Ok(())
        }
    }

    impl SentMail for Recording {
        async fn sent(&self) -> Result<Vec<ReadBack>, ReadBackError> {
            let mails = self.0.lock().map_err(|_| "poisoned")?.clone();
            Ok(mails
                .into_iter()
                .map(|m| ReadBack {
                    to: vec![m.to.to_string()],
                    reply_to: Some(m.reply_to.iter().map(ToString::to_string).collect()),
                    subject: m.subject.to_string(),
                    bodies: vec![m.text, m.html],
                })
                .collect())
        }
    }

    #[tokio::test]
    async fn a_recording_mailer_conforms_to_the_mailer_contract() {
        let mailer = Recording::default();
        run_all(&mailer, &mailer).await;
    }
}
