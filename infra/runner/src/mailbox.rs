//! `/dev/mail`: the mails that would have been sent, read back from the
//! outbox folder, like Mailpit. A list (newest first), each message with its
//! text and its HTML; the HTML sits in a sandboxed `srcdoc` frame with no
//! script allowed, so mail HTML cannot run in the page, while its links
//! open in a new tab. `/dev/mail.json` gives the same to tests.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use kluis_core::ports::PortError;
use kluis_embedded::{OutboxMessage, outbox::parse_message};
use kluis_http::{ApiError, RouteTemplate, response};
use serde::Serialize;

/// No script at all; inline styles (mail HTML uses them), images inline or
/// from here. The `srcdoc` frame inherits this policy.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One mail with the id it is shown under (its file name without `.eml`).
#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    /// The id in `/dev/mail/<id>`.
    pub id: String,
    /// The `Date` header as written.
    pub date: String,
    /// From addresses.
    pub from: Vec<String>,
    /// To addresses.
    pub to: Vec<String>,
    /// Reply-To addresses.
    pub reply_to: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    /// The text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
}

impl Mail {
    fn new(id: String, m: OutboxMessage) -> Self {
        Self {
            id,
            date: m.date,
            from: m.from,
            to: m.to,
            reply_to: m.reply_to,
            subject: m.subject,
            text: m.text,
            html: m.html,
        }
    }
}

/// Outbox names are digits, dashes and hex; anything else is no mail (and
/// can name no other file).
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Every readable mail in `folder`, newest first. A file that does not
/// parse is skipped: the mailbox shows what it can.
pub async fn read(folder: &Path) -> std::io::Result<Vec<Mail>> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut entries = match tokio::fs::read_dir(folder).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    while let Some(entry) = entries.next_entry().await? {
        let path = entry.path();
        let id = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".eml"))
            .filter(|id| valid_id(id))
            .map(str::to_owned);
        if let Some(id) = id {
            files.push((id, path));
        }
    }
    // Names start with the sending time in nanoseconds: reverse is newest first.
    files.sort_by(|a, b| b.0.cmp(&a.0));
    let mut mails = Vec::with_capacity(files.len());
    for (id, path) in files {
        let bytes = tokio::fs::read(&path).await?;
        match parse_message(&bytes) {
            Ok(message) => mails.push(Mail::new(id, message)),
            Err(error) => tracing::warn!(%error, "an outbox file does not parse"),
        }
    }
    Ok(mails)
}

async fn one(folder: &Path, id: &str) -> std::io::Result<Option<Mail>> {
    if !valid_id(id) {
        return Ok(None);
    }
    match tokio::fs::read(folder.join(format!("{id}.eml"))).await {
        Ok(bytes) => Ok(parse_message(&bytes).ok().map(|m| Mail::new(id.to_owned(), m))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text with its `http(s)://` links made clickable.
fn linkify(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        out.push_str(&escape(&rest[..start]));
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(tail.len());
        let url = escape(&tail[..end]);
        out.push_str(&format!(
            "<a href=\"{url}\" target=\"_blank\" rel=\"noopener noreferrer\">{url}</a>"
        ));
        rest = &tail[end..];
    }
    out.push_str(&escape(rest));
    out
}

fn page(title: &str, body: &str) -> Response<Bytes> {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
         body{{font:15px system-ui,sans-serif;margin:2em;color:#222}}\
         table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;padding:.4em .6em;border-bottom:1px solid #ddd}}\
         pre{{white-space:pre-wrap;background:#f6f6f6;padding:1em}}iframe{{width:100%;height:32em;border:1px solid #ccc}}\
         </style></head><body>{body}</body></html>\n",
        escape(title)
    );
    let mut answer = Response::new(Bytes::from(html));
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    answer
}

fn list_page(mails: &[Mail]) -> Response<Bytes> {
    let mut rows = String::new();
    for mail in mails {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><a href=\"/dev/mail/{}\">{}</a></td></tr>",
            escape(&mail.date),
            escape(&mail.to.join(", ")),
            escape(&mail.id),
            escape(if mail.subject.is_empty() {
                "(no subject)"
            } else {
                &mail.subject
            }),
        ));
    }
    let body = format!(
        "<h1>Dev mailbox</h1><p>{} mail(s) that would have been sent, newest first. Nothing is delivered.</p>\
         <table><thead><tr><th>time</th><th>to</th><th>subject</th></tr></thead><tbody>{rows}</tbody></table>",
        mails.len()
    );
    page("kluis dev mailbox", &body)
}

fn mail_page(mail: &Mail) -> Response<Bytes> {
    let header = |name: &str, value: &str| format!("<tr><th>{name}</th><td>{}</td></tr>", escape(value));
    let mut body = format!(
        "<p><a href=\"/dev/mail\">← all mail</a></p><h1>{}</h1><table>{}{}{}{}</table>",
        escape(&mail.subject),
        header("From", &mail.from.join(", ")),
        header("To", &mail.to.join(", ")),
        header("Reply-To", &mail.reply_to.join(", ")),
        header("Date", &mail.date),
    );
    if let Some(html) = &mail.html {
        // `<base target>` opens links in a new tab; the sandbox allows that
        // (popups) and nothing else: no script, no forms, no same origin.
        let document = format!("<base target=\"_blank\">{html}");
        body.push_str(&format!(
            "<h2>HTML</h2><iframe sandbox=\"allow-popups allow-popups-to-escape-sandbox\" \
             referrerpolicy=\"no-referrer\" srcdoc=\"{}\"></iframe>",
            escape(&document)
        ));
    }
    if let Some(text) = &mail.text {
        body.push_str(&format!("<h2>Text</h2><pre>{}</pre>", linkify(text)));
    }
    page(&mail.subject, &body)
}

/// An outbox that cannot be read is a failing backend: answered (and
/// logged, by kind) as the API answers one.
fn failed(error: std::io::Error) -> Response<Bytes> {
    response::error(&ApiError::Port(PortError::backend(error)))
}

/// Answers `/dev/mail`, `/dev/mail.json` and `/dev/mail/<id>`; `None` for
/// any other path.
pub async fn serve(outbox: &Path, path: &str) -> Option<Response<Bytes>> {
    let (template, answer) = match path {
        "/dev/mail" | "/dev/mail/" => (
            "/dev/mail",
            read(outbox).await.map_or_else(failed, |m| list_page(&m)),
        ),
        "/dev/mail.json" => (
            "/dev/mail.json",
            read(outbox)
                .await
                .map_or_else(failed, |m| response::json(StatusCode::OK, &m)),
        ),
        _ => {
            let id = path.strip_prefix("/dev/mail/")?;
            let answer = match one(outbox, id).await {
                Ok(Some(mail)) => mail_page(&mail),
                Ok(None) => response::error(&ApiError::NotFound),
                Err(e) => failed(e),
            };
            ("/dev/mail/{id}", answer)
        }
    };
    let mut answer = answer;
    answer.extensions_mut().insert(RouteTemplate(template));
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn links_in_text_become_anchors_and_the_rest_is_escaped() {
        let html = linkify("open http://127.0.0.1:8080/r/abc#k=1 <now>");
        assert_eq!(
            html,
            "open <a href=\"http://127.0.0.1:8080/r/abc#k=1\" target=\"_blank\" rel=\"noopener noreferrer\">\
             http://127.0.0.1:8080/r/abc#k=1</a> &lt;now&gt;"
        );
    }

    #[test]
    fn ids_cannot_name_other_files() {
        assert!(valid_id("00000001764270000000000000-000001-0a1b2c3d"));
        for bad in ["", "../x", "a.eml", "a/b", "%2e"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
