//! The mail links, built and parsed here only: `{base}/retrieve/{id}#{token}`
//! for a recipient, `{base}/manage/{id}#{token}` for the sender
//! (`docs/api.yaml`, "Links"). The transfer id is in the path (no secret);
//! the bearer token only in the fragment, which no browser sends to a server.
//!
//! The mails build them ([`crate::mail::PublicBaseUrl`]); the command-line
//! client parses them. [`parse`] also accepts the older spelling
//! `{base}/retrieve/#t={id}&k={token}` (members in any order), still in
//! mails sent before the change.

use crate::error::Field;
use crate::ids::{Token, TransferId};

/// Which page a link opens, and so which token it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A recipient's retrieval link (retrieval token).
    Retrieve,
    /// The sender's manage link (manage token).
    Manage,
}

impl LinkKind {
    /// The path segment that names the page, with its slashes.
    pub const fn segment(self) -> &'static str {
        match self {
            Self::Retrieve => "/retrieve/",
            Self::Manage => "/manage/",
        }
    }

    /// The token's field, for refusals.
    pub const fn token_field(self) -> Field {
        match self {
            Self::Retrieve => Field::RetrievalToken,
            Self::Manage => Field::ManageToken,
        }
    }

    /// What people call it: `retrieval` or `manage`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Retrieve => "retrieval",
            Self::Manage => "manage",
        }
    }
}

/// The link of `kind` to `transfer` under `base` (no trailing slash).
pub fn build(base: &str, kind: LinkKind, transfer: TransferId, token: &Token) -> String {
    format!("{base}{}{transfer}#{}", kind.segment(), token.reveal())
}

/// A parsed link. `Debug` does not show the token.
#[derive(Debug, Clone)]
pub struct ParsedLink {
    /// Everything before the page's segment: the origin, and the base's
    /// path if it has one; no trailing slash.
    pub base: String,
    /// The transfer.
    pub transfer: TransferId,
    /// The bearer token from the fragment.
    pub token: Token,
}

/// Why a text is not a link of the kind asked for. The messages never
/// repeat the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Neither `https://` nor `http://`.
    #[error("it must start with https://")]
    Scheme,
    /// No `#`.
    #[error("the part after '#' is missing")]
    NoFragment,
    /// No `/retrieve/` (or `/manage/`).
    #[error("no {0} in it")]
    NoSegment(&'static str),
    /// The older spelling has something other than `t=` and `k=`.
    #[error("unexpected text after '#'")]
    Fragment,
    /// No transfer id.
    #[error("no transfer id")]
    NoTransfer,
    /// No token.
    #[error("no token")]
    NoToken,
    /// The transfer id does not parse.
    #[error("the transfer id is malformed")]
    Transfer,
    /// The token does not parse.
    #[error("the token is malformed")]
    Token,
    /// Nothing (or something odd) before the page's segment.
    #[error("no server address before the path")]
    NoBase,
}

/// Parses a link of `kind`, in either spelling.
pub fn parse(text: &str, kind: LinkKind) -> Result<ParsedLink, LinkError> {
    let text = text.trim();
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return Err(LinkError::Scheme);
    }
    let (before, fragment) = text.split_once('#').ok_or(LinkError::NoFragment)?;
    let at = before
        .rfind(kind.segment())
        .ok_or(LinkError::NoSegment(kind.segment()))?;
    let base = &before[..at];
    let path_id = &before[at + kind.segment().len()..];
    let (id_text, token_text) = if path_id.is_empty() {
        // The older spelling: `#t={id}&k={token}`, members in any order.
        let mut id = None;
        let mut token = None;
        for pair in fragment.split('&') {
            match pair.split_once('=') {
                Some(("t", value)) => id = Some(value),
                Some(("k", value)) => token = Some(value),
                _ => return Err(LinkError::Fragment),
            }
        }
        (id.ok_or(LinkError::NoTransfer)?, token.ok_or(LinkError::NoToken)?)
    } else {
        (path_id.trim_end_matches('/'), fragment)
    };
    let transfer = id_text.parse::<TransferId>().map_err(|_| LinkError::Transfer)?;
    let token = Token::parse(token_text, kind.token_field()).map_err(|_| LinkError::Token)?;
    if base.len() <= "https://".len() || base.contains(['?', ' ']) {
        return Err(LinkError::NoBase);
    }
    Ok(ParsedLink {
        base: base.to_owned(),
        transfer,
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AAECAwQFBgcICQoLDA0ODw";
    const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn token() -> Token {
        Token::parse(TOKEN, Field::RetrievalToken).expect("valid")
    }

    #[test]
    fn a_built_link_parses_back_to_its_parts() {
        let transfer: TransferId = ID.parse().expect("valid");
        for kind in [LinkKind::Retrieve, LinkKind::Manage] {
            let text = build("https://example.nl/kluis", kind, transfer, &token());
            assert_eq!(
                text,
                format!("https://example.nl/kluis{}{ID}#{TOKEN}", kind.segment())
            );
            let link = parse(&text, kind).expect("parses");
            assert_eq!(link.base, "https://example.nl/kluis");
            assert_eq!(link.transfer, transfer);
            assert_eq!(link.token.reveal(), TOKEN);
        }
    }

    #[test]
    fn the_older_fragment_spelling_is_accepted_too() {
        for text in [
            format!("https://kluis.example.nl/retrieve/#t={ID}&k={TOKEN}"),
            format!("https://kluis.example.nl/retrieve/#k={TOKEN}&t={ID}"),
        ] {
            let link = parse(&text, LinkKind::Retrieve).expect("valid");
            assert_eq!(link.base, "https://kluis.example.nl");
            assert_eq!(link.transfer.to_string(), ID);
            assert_eq!(link.token.reveal(), TOKEN);
        }
    }

    #[test]
    fn links_without_token_id_or_kind_are_refused_without_echoing_the_token() {
        for (text, why) in [
            (
                format!("https://kluis.example.nl/retrieve/{ID}"),
                LinkError::NoFragment,
            ),
            (
                format!("https://kluis.example.nl/retrieve/{ID}#"),
                LinkError::Token,
            ),
            (
                format!("https://kluis.example.nl/retrieve/nope#{TOKEN}"),
                LinkError::Transfer,
            ),
            (
                format!("https://kluis.example.nl/manage/{ID}#{TOKEN}"),
                LinkError::NoSegment("/retrieve/"),
            ),
            (
                format!("ftp://kluis.example.nl/retrieve/{ID}#{TOKEN}"),
                LinkError::Scheme,
            ),
            (
                format!("https://kluis.example.nl/retrieve/#t={ID}"),
                LinkError::NoToken,
            ),
            (format!("https:///retrieve/{ID}#{TOKEN}"), LinkError::NoBase),
        ] {
            let error = parse(&text, LinkKind::Retrieve).expect_err(&text);
            assert_eq!(error, why, "{text}");
            assert!(!error.to_string().contains(TOKEN), "{error}");
        }
    }
}
