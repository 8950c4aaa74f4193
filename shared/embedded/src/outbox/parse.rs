//! Reads back the `.eml` files the outbox writes (for the dev mailbox page
//! and tests), with the maintained `mail-parser` crate: headers unfolded,
//! encoded words, transfer encodings and charsets decoded as any mail
//! reader would. A file is refused only when it is not a message at all:
//! no `From` or no `Date` header (the outbox always writes both).

use mail_parser::{Address, HeaderName, MessageParser};

/// Why a file is not a readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing in the file reads as a mail message.
    #[error("the file is not a mail message")]
    NotAMessage,
    /// A header every outbox message carries is missing.
    #[error("the message has no {0} header")]
    Missing(&'static str),
}

/// One message read back from the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutboxMessage {
    /// The `From` address.
    pub from: Vec<String>,
    /// The `To` addresses.
    pub to: Vec<String>,
    /// The `Reply-To` addresses (empty: none).
    pub reply_to: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    /// The `Date` header as written.
    pub date: String,
    /// The text/plain body, decoded.
    pub text: Option<String>,
    /// The text/html body, decoded.
    pub html: Option<String>,
}

/// Parses one message as the outbox wrote it.
pub fn parse_message(bytes: &[u8]) -> Result<OutboxMessage, ParseError> {
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or(ParseError::NotAMessage)?;
    let from = addresses(message.from());
    if from.is_empty() {
        return Err(ParseError::Missing("From"));
    }
    let date = message
        .header_raw(HeaderName::Date)
        .map(|raw| raw.trim().to_owned())
        .filter(|raw| !raw.is_empty())
        .ok_or(ParseError::Missing("Date"))?;
    Ok(OutboxMessage {
        from,
        to: addresses(message.to()),
        reply_to: addresses(message.reply_to()),
        subject: message.subject().unwrap_or_default().to_owned(),
        date,
        text: message.body_text(0).map(|text| lines(&text)),
        html: message.body_html(0).map(|html| lines(&html)),
    })
}

/// A body with the wire's CRLF line ends back as the `\n` it was rendered
/// with.
fn lines(body: &str) -> String {
    body.replace("\r\n", "\n")
}

/// The bare addresses of an address-list header.
fn addresses(header: Option<&Address<'_>>) -> Vec<String> {
    header
        .map(|list| {
            list.iter()
                .filter_map(|addr| addr.address())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_charsets_and_transfer_encodings_are_decoded() {
        // A subject in two encoded words (one in Latin-1), a quoted-printable
        // Latin-1 text part and a base64 UTF-8 HTML part: what the
        // hand-written reader before mail-parser could not read (it took
        // every body as UTF-8).
        let raw = "From: kluis <noreply@example.nl>\r\n\
            To: a@example.nl, \"B\" <b@example.nl>\r\n\
            Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\
            Subject: =?utf-8?q?Zo=C3=AB?= =?iso-8859-1?q?_caf=E9?=\r\n\
            MIME-Version: 1.0\r\n\
            Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
            \r\n\
            --b1\r\n\
            Content-Type: text/plain; charset=iso-8859-1\r\n\
            Content-Transfer-Encoding: quoted-printable\r\n\
            \r\n\
            Caf=E9 open\r\n\
            --b1\r\n\
            Content-Type: text/html; charset=utf-8\r\n\
            Content-Transfer-Encoding: base64\r\n\
            \r\n\
            PHA+Q2Fmw6k8L3A+\r\n\
            --b1--\r\n";
        let message = parse_message(raw.as_bytes()).expect("a message");
        assert_eq!(message.subject, "Zoë café");
        assert_eq!(message.from, vec!["noreply@example.nl"]);
        assert_eq!(message.to, vec!["a@example.nl", "b@example.nl"]);
        assert_eq!(message.date, "Tue, 1 Dec 2026 10:00:00 +0000");
        assert_eq!(message.text.as_deref(), Some("Café open"));
        assert_eq!(message.html.as_deref(), Some("<p>Café</p>"));
    }

    #[test]
    fn text_that_is_not_a_message_is_refused_clearly() {
        assert!(parse_message(&[0xff, 0xfe]).is_err());
        assert_eq!(
            parse_message(b"Subject: no sender\r\n\r\nbody"),
            Err(ParseError::Missing("From"))
        );
        assert_eq!(
            parse_message(b"From: a@example.nl\r\nSubject: undated\r\n\r\nbody"),
            Err(ParseError::Missing("Date"))
        );
    }
}
