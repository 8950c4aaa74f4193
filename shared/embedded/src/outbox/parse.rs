//! Reads back the `.eml` files the outbox writes (for the dev mailbox page
//! and tests): headers unfolded, RFC 2047 encoded words decoded, the text
//! and HTML parts of a multipart/alternative body decoded from base64,
//! quoted-printable or 7/8 bit. Not a general MIME parser: it understands
//! what lettre writes and refuses the rest with a clear error.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Why a file is not a readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The file is not UTF-8 text (lettre writes 7-bit ASCII).
    #[error("the message is not text")]
    NotText,
    /// No blank line ends the headers.
    #[error("the headers do not end")]
    NoBody,
    /// The message has no boundary for its multipart body.
    #[error("the multipart body has no boundary")]
    NoBoundary,
    /// A body is not valid in its transfer encoding.
    #[error("a body part is not valid {0}")]
    Encoding(&'static str),
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
    let text = core::str::from_utf8(bytes).map_err(|_| ParseError::NotText)?;
    let (headers, body) = split_head(text).ok_or(ParseError::NoBody)?;
    let mut message = OutboxMessage::default();
    for (name, value) in &headers {
        match name.to_ascii_lowercase().as_str() {
            "from" => message.from = addresses(value),
            "to" => message.to = addresses(value),
            "reply-to" => message.reply_to = addresses(value),
            "subject" => message.subject = decode_words(value),
            "date" => message.date.clone_from(value),
            _ => {}
        }
    }
    let content_type = header(&headers, "content-type").unwrap_or_default();
    if content_type.to_ascii_lowercase().starts_with("multipart/") {
        let boundary = parameter(&content_type, "boundary").ok_or(ParseError::NoBoundary)?;
        for part in parts(body, &boundary) {
            let (part_headers, part_body) = split_head(part).ok_or(ParseError::NoBody)?;
            store_part(&mut message, &part_headers, part_body)?;
        }
    } else {
        store_part(&mut message, &headers, body)?;
    }
    Ok(message)
}

fn store_part(
    message: &mut OutboxMessage,
    headers: &[(String, String)],
    body: &str,
) -> Result<(), ParseError> {
    let content_type = header(headers, "content-type")
        .unwrap_or_else(|| "text/plain".to_owned())
        .to_ascii_lowercase();
    let encoding = header(headers, "content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let decoded = decode_body(body, &encoding)?;
    if content_type.starts_with("text/html") {
        message.html = Some(decoded);
    } else if content_type.starts_with("text/plain") {
        message.text = Some(decoded);
    }
    Ok(())
}

/// Splits at the first blank line into unfolded headers and the body.
fn split_head(text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .or_else(|| text.strip_suffix("\r\n").map(|h| (h, "")))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            // A folded line continues the previous header (RFC 5322 §2.2.3).
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Some((headers, body))
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// A `name=value` or `name="value"` parameter of a header value.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (n, v) = p.trim().split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The parts between `--boundary` lines, up to `--boundary--`.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut sections: Vec<&str> = body.split(delimiter.as_str()).collect();
    if sections.is_empty() {
        return Vec::new();
    }
    sections.remove(0); // the preamble
    sections
        .into_iter()
        .take_while(|s| !s.starts_with("--"))
        .map(|s| {
            s.strip_prefix("\r\n")
                .or_else(|| s.strip_prefix('\n'))
                .unwrap_or(s)
        })
        .collect()
}

fn decode_body(body: &str, encoding: &str) -> Result<String, ParseError> {
    let bytes = match encoding {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            STANDARD
                .decode(compact)
                .map_err(|_| ParseError::Encoding("base64"))?
        }
        "quoted-printable" => {
            quoted_printable(body, false).ok_or(ParseError::Encoding("quoted-printable"))?
        }
        _ => body.trim_end_matches(['\r', '\n']).as_bytes().to_vec(),
    };
    let text = String::from_utf8(bytes).map_err(|_| ParseError::Encoding("UTF-8"))?;
    // MIME canonical text has CRLF line ends; the core renders LF.
    Ok(text.replace("\r\n", "\n"))
}

/// Decodes quoted-printable; `underscore_is_space` for RFC 2047 `Q` words.
fn quoted_printable(text: &str, underscore_is_space: bool) -> Option<Vec<u8>> {
    let text = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'_' if underscore_is_space => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Decodes RFC 2047 encoded words; adjacent words are joined as bytes
/// before UTF-8 decoding, since a character may be split between them.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut gap = String::new();
    for token in value.split_inclusive([' ', '\t']) {
        let word = token.trim_end_matches([' ', '\t']);
        let trailing = &token[word.len()..];
        if word.is_empty() && !pending.is_empty() {
            gap.push_str(trailing);
            continue;
        }
        match encoded_word(word) {
            Some(bytes) => {
                // Whitespace between two encoded words is not text (RFC 2047 §6.2).
                pending.extend(bytes);
                gap = trailing.to_owned();
            }
            None => {
                if !pending.is_empty() {
                    out.push_str(&String::from_utf8_lossy(&pending));
                    pending.clear();
                    out.push_str(&gap);
                }
                out.push_str(token);
            }
        }
    }
    out.push_str(&String::from_utf8_lossy(&pending));
    out.trim_end().to_owned()
}

fn encoded_word(word: &str) -> Option<Vec<u8>> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut fields = inner.splitn(3, '?');
    let (_charset, encoding, text) = (fields.next()?, fields.next()?, fields.next()?);
    match encoding {
        "b" | "B" => STANDARD.decode(text).ok(),
        "q" | "Q" => quoted_printable(text, true),
        _ => None,
    }
}

/// The addresses of an address-list header: `a@b`, `Name <a@b>`, comma separated.
fn addresses(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|item| {
            let item = item.trim();
            let address = match (item.rfind('<'), item.rfind('>')) {
                (Some(open), Some(close)) if open < close => &item[open + 1..close],
                _ => item,
            };
            (!address.is_empty()).then(|| address.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_split_inside_a_character_are_joined_before_decoding() {
        // "Zoë" with the two bytes of "ë" in different words.
        let z = STANDARD.encode([b'Z', b'o', 0xc3]);
        let e = STANDARD.encode([0xab, b'!']);
        assert_eq!(
            decode_words(&format!("=?utf-8?b?{z}?=  =?utf-8?b?{e}?= done")),
            "Zoë! done"
        );
        assert_eq!(decode_words("plain words stay"), "plain words stay");
        assert_eq!(decode_words("=?utf-8?q?a_b=3D?="), "a b=");
    }

    #[test]
    fn address_lists_yield_bare_addresses() {
        assert_eq!(
            addresses("kluis <noreply@example.nl>, b@example.nl"),
            vec!["noreply@example.nl", "b@example.nl"]
        );
    }

    #[test]
    fn text_that_is_not_a_message_is_refused_clearly() {
        assert_eq!(parse_message(&[0xff, 0xfe]), Err(ParseError::NotText));
        assert_eq!(parse_message(b"Subject: no body"), Err(ParseError::NoBody));
        assert_eq!(
            parse_message(b"Content-Type: multipart/alternative\r\n\r\nx"),
            Err(ParseError::NoBoundary)
        );
        assert_eq!(
            parse_message(b"Content-Transfer-Encoding: base64\r\n\r\n!!!"),
            Err(ParseError::Encoding("base64"))
        );
    }
}
