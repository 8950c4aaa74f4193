//! `/dev/mail`: the mails that would have been sent, read back from the
//! outbox folder, like Mailpit. A list (newest first), each message with its
//! text and its HTML; the HTML sits in a sandboxed `srcdoc` frame with no
//! script allowed, so mail HTML cannot run in the page, while its links
//! open in a new tab. `/dev/mail.json` gives the same to tests.

use std::path::{Path, PathBuf};

use askama::Template;
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

/// A piece of a text body: plain text, or an `http(s)://` link to make
/// clickable. The template escapes both.
#[derive(Debug, PartialEq, Eq)]
struct Piece<'a> {
    text: &'a str,
    link: bool,
}

/// `text` cut into plain pieces and its `http(s)://` links.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        let (before, tail) = rest.split_at(start);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(tail.len());
        out.push(Piece {
            text: before,
            link: false,
        });
        out.push(Piece {
            text: &tail[..end],
            link: true,
        });
        rest = &tail[end..];
    }
    out.push(Piece {
        text: rest,
        link: false,
    });
    out.retain(|piece| !piece.text.is_empty());
    out
}

/// The list of mails.
#[derive(Template)]
#[template(path = "mailbox/list.html")]
struct ListPage<'a> {
    mails: &'a [Mail],
}

/// One mail: its headers, its HTML in a sandboxed frame, its text.
#[derive(Template)]
#[template(path = "mailbox/mail.html")]
struct MailPage<'a> {
    mail: &'a Mail,
    /// The HTML as the frame's document. `<base target>` opens links in a
    /// new tab; the sandbox allows that (popups) and nothing else: no
    /// script, no forms, no same origin.
    html_document: Option<String>,
    text: Option<Vec<Piece<'a>>>,
}

fn page(rendered: Result<String, askama::Error>) -> Response<Bytes> {
    let html = match rendered {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(%error, "a mailbox page failed to render");
            return response::error(&ApiError::Internal);
        }
    };
    let mut answer = Response::new(Bytes::from(html));
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    answer
}

fn list_page(mails: &[Mail]) -> Response<Bytes> {
    page(ListPage { mails }.render())
}

fn mail_page(mail: &Mail) -> Response<Bytes> {
    let view = MailPage {
        mail,
        html_document: mail
            .html
            .as_ref()
            .map(|html| format!("<base target=\"_blank\">{html}")),
        text: mail.text.as_deref().map(pieces),
    };
    page(view.render())
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

    fn mail(text: &str, html: &str) -> Mail {
        Mail {
            id: "1-a".into(),
            date: "today".into(),
            from: vec!["noreply@example.nl".into()],
            to: vec!["a@example.nl".into()],
            reply_to: vec![],
            subject: "<b>Files</b> & more".into(),
            text: Some(text.into()),
            html: Some(html.into()),
        }
    }

    #[test]
    fn links_in_text_become_anchors_and_everything_is_escaped() {
        assert_eq!(
            pieces("open http://127.0.0.1:8080/r/abc#k=1 <now>"),
            vec![
                Piece {
                    text: "open ",
                    link: false
                },
                Piece {
                    text: "http://127.0.0.1:8080/r/abc#k=1",
                    link: true
                },
                Piece {
                    text: " <now>",
                    link: false
                },
            ]
        );
        let one = mail(
            "open http://127.0.0.1:8080/r/abc#k=1&x=\"2\" <now>",
            "<p onclick=\"x\">'hi'</p>",
        );
        let page = MailPage {
            mail: &one,
            html_document: one.html.as_ref().map(|h| format!("<base target=\"_blank\">{h}")),
            text: one.text.as_deref().map(pieces),
        }
        .render()
        .expect("renders");
        // askama escapes with numeric references: &#38; &#60; &#62; &#34; &#39;.
        assert!(
            page.contains("open <a href=\"http://127.0.0.1:8080/r/abc#k=1&#38;x=\" target=\"_blank\""),
            "{page}"
        );
        assert!(page.contains("&#60;now&#62;"), "{page}");
        assert!(
            page.contains("<h1>&#60;b&#62;Files&#60;/b&#62; &#38; more</h1>"),
            "{page}"
        );
        assert!(!page.contains("<p onclick"), "{page}");
        assert!(
            page.contains("srcdoc=\"&#60;base target=&#34;_blank&#34;&#62;&#60;p onclick"),
            "{page}"
        );
        let list = ListPage {
            mails: std::slice::from_ref(&one),
        }
        .render()
        .expect("renders");
        assert!(
            list.contains("<a href=\"/dev/mail/1-a\">&#60;b&#62;Files"),
            "{list}"
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
