//! Retrieval and manage links: the API base, the transfer id and the bearer
//! token a link carries.
//!
//! Two spellings exist: `{base}/retrieve/{id}#{token}` (the current one) and
//! the older `{base}/retrieve/#t={id}&k={token}`, still in mails sent before
//! the change; both are accepted, for `/manage/` links too. The API base is
//! everything before the `/retrieve/` (or `/manage/`) segment, which is the
//! link's origin for a base URL without a path.

use kluis_core::error::Field;
use kluis_core::ids::{Token, TransferId};

use crate::error::{Error, Result};

/// Which page a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A recipient's retrieval link (retrieval token).
    Retrieve,
    /// The sender's manage link (manage token).
    Manage,
}

impl LinkKind {
    fn segment(self) -> &'static str {
        match self {
            Self::Retrieve => "/retrieve/",
            Self::Manage => "/manage/",
        }
    }

    fn field(self) -> Field {
        match self {
            Self::Retrieve => Field::RetrievalToken,
            Self::Manage => Field::ManageToken,
        }
    }
}

/// A parsed link. `Debug` does not show the token.
#[derive(Debug, Clone)]
pub struct Link {
    /// Where the API lives (`{api}/api/...`), without a trailing slash.
    pub api: String,
    /// The transfer.
    pub transfer: TransferId,
    /// The bearer token from the fragment.
    pub token: Token,
}

/// Parses a link of `kind` in either spelling.
pub fn parse(text: &str, kind: LinkKind) -> Result<Link> {
    let text = text.trim();
    let bad = |why: &str| Error::Usage(format!("not a kluis {} link: {why}", kind_name(kind)));
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return Err(bad("it must start with https://"));
    }
    let (before, fragment) = text
        .split_once('#')
        .ok_or_else(|| bad("the part after '#' is missing"))?;
    let at = before
        .rfind(kind.segment())
        .ok_or_else(|| bad(&format!("no {} in it", kind.segment())))?;
    let api = &before[..at];
    let path_id = &before[at + kind.segment().len()..];
    let (id_text, token_text) = if path_id.is_empty() {
        // Older form: `#t={id}&k={token}`, members in any order.
        let mut id = None;
        let mut token = None;
        for pair in fragment.split('&') {
            match pair.split_once('=') {
                Some(("t", value)) => id = Some(value),
                Some(("k", value)) => token = Some(value),
                _ => return Err(bad("unexpected text after '#'")),
            }
        }
        (
            id.ok_or_else(|| bad("no transfer id"))?,
            token.ok_or_else(|| bad("no token"))?,
        )
    } else {
        (path_id.trim_end_matches('/'), fragment)
    };
    let transfer = id_text
        .parse::<TransferId>()
        .map_err(|_| bad("the transfer id is malformed"))?;
    let token = Token::parse(token_text, kind.field()).map_err(|_| bad("the token is malformed"))?;
    if api.len() <= "https://".len() || api.contains(['?', ' ']) {
        return Err(bad("no server address before the path"));
    }
    Ok(Link {
        api: api.to_owned(),
        transfer,
        token,
    })
}

fn kind_name(kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Retrieve => "retrieval",
        LinkKind::Manage => "manage",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AAECAwQFBgcICQoLDA0ODw";
    const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    #[test]
    fn the_path_form_gives_origin_id_and_token() {
        let link = parse(
            &format!("http://127.0.0.1:8080/retrieve/{ID}#{TOKEN}"),
            LinkKind::Retrieve,
        )
        .expect("valid");
        assert_eq!(link.api, "http://127.0.0.1:8080");
        assert_eq!(link.transfer.to_string(), ID);
        assert_eq!(link.token.reveal(), TOKEN);
    }

    #[test]
    fn the_older_fragment_form_is_accepted_too() {
        for text in [
            format!("https://kluis.example.nl/retrieve/#t={ID}&k={TOKEN}"),
            format!("https://kluis.example.nl/retrieve/#k={TOKEN}&t={ID}"),
        ] {
            let link = parse(&text, LinkKind::Retrieve).expect("valid");
            assert_eq!(link.api, "https://kluis.example.nl");
            assert_eq!(link.transfer.to_string(), ID);
            assert_eq!(link.token.reveal(), TOKEN);
        }
    }

    #[test]
    fn a_base_with_a_path_keeps_the_path() {
        let link = parse(
            &format!("https://example.nl/kluis/manage/{ID}#{TOKEN}"),
            LinkKind::Manage,
        )
        .expect("valid");
        assert_eq!(link.api, "https://example.nl/kluis");
    }

    #[test]
    fn fail_links_without_token_id_or_kind_are_refused_without_echoing_the_token() {
        for text in [
            format!("https://kluis.example.nl/retrieve/{ID}"),
            format!("https://kluis.example.nl/retrieve/{ID}#"),
            format!("https://kluis.example.nl/retrieve/nope#{TOKEN}"),
            format!("https://kluis.example.nl/manage/{ID}#{TOKEN}"),
            format!("ftp://kluis.example.nl/retrieve/{ID}#{TOKEN}"),
            format!("https://kluis.example.nl/retrieve/#t={ID}"),
            format!("https:///retrieve/{ID}#{TOKEN}"),
        ] {
            let error = parse(&text, LinkKind::Retrieve).expect_err(&text);
            assert_eq!(error.exit_code(), 2);
            assert!(!error.to_string().contains(TOKEN), "{error}");
        }
    }
}
