//! Links in mail: the operator's public base URL, and the retrieval and
//! manage links built on it (spelled by [`crate::link`], which also parses them). Tokens go in the URL fragment, which browsers
//! never send to a server, so they stay out of access logs and CDNs.

use core::fmt;

use crate::error::{DomainError, Field};
use crate::ids::{Token, TransferId};
use crate::link::{self, LinkKind};

/// The operator's public origin (and optional path) where the pages live,
/// e.g. `https://kluis.example.nl`. Only `https`, except `http://localhost`
/// and `http://127.0.0.1` for the single-machine runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBaseUrl(String);

impl PublicBaseUrl {
    /// Longest base URL accepted.
    pub const MAX_LEN: usize = 200;

    /// Validates the operator's setting.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let field = Field::BaseUrl;
        let text = text.trim().trim_end_matches('/');
        if text.len() > Self::MAX_LEN {
            return Err(DomainError::TooLong {
                field,
                max: Self::MAX_LEN,
            });
        }
        let rest = if let Some(rest) = text.strip_prefix("https://") {
            rest
        } else if let Some(rest) = ["http://localhost", "http://127.0.0.1"].iter().find_map(|local| {
            text.strip_prefix(local)
                .filter(|r| r.is_empty() || r.starts_with([':', '/']))
        }) {
            rest
        } else {
            return Err(DomainError::Malformed { field });
        };
        // No quotes, spaces, angle brackets, query or fragment: the base is
        // pasted into HTML attributes and plain text, and fragments are ours.
        let safe = rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/%".contains(c));
        if !safe || text.len() <= "https://".len() {
            return Err(DomainError::Malformed { field });
        }
        Ok(Self(text.to_owned()))
    }

    /// The link a recipient opens: `<base>/retrieve/<transfer>#<token>`.
    /// The transfer id is in the path (it is no secret, and the page and
    /// logs may name it); the token only in the fragment.
    pub fn retrieval_link(&self, transfer: TransferId, token: &Token) -> Link {
        Link(link::build(&self.0, LinkKind::Retrieve, transfer, token))
    }

    /// The link the sender opens to see status and revoke: `<base>/manage/<transfer>#<token>`.
    pub fn manage_link(&self, transfer: TransferId, token: &Token) -> Link {
        Link(link::build(&self.0, LinkKind::Manage, transfer, token))
    }
}

/// A link for a mail body, built only from a validated base and base64url ids.
#[derive(Clone, PartialEq, Eq)]
pub struct Link(String);

impl Link {
    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The fragment holds a bearer token.
        let visible = self
            .0
            .split_once('#')
            .map_or(self.0.as_str(), |(before, _)| before);
        write!(f, "Link({visible}#<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_bases_and_local_http_are_accepted() {
        for good in [
            "https://kluis.example.nl",
            "https://example.nl/kluis/",
            "http://localhost:8080",
            "http://127.0.0.1",
        ] {
            assert!(PublicBaseUrl::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn other_schemes_hosts_and_unsafe_characters_are_refused() {
        for bad in [
            "http://kluis.example.nl",
            "http://localhost.evil.example",
            "javascript:alert(1)",
            "https://",
            "https://example.nl/\"onmouseover=\"x",
            "https://example.nl/<b>",
            "https://example.nl/a b",
            "https://example.nl/?q=1",
            "https://example.nl/#frag",
            "kluis.example.nl",
        ] {
            assert_eq!(
                PublicBaseUrl::parse(bad),
                Err(DomainError::Malformed {
                    field: Field::BaseUrl
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn links_put_the_token_in_the_fragment_and_debug_hides_it() {
        let base = PublicBaseUrl::parse("https://kluis.example.nl/").expect("valid");
        let token = Token::from_bytes([1; 32]);
        let transfer = TransferId::from_bytes([2; 16]);
        let link = base.retrieval_link(transfer, &token);
        assert_eq!(
            link.as_str(),
            format!("https://kluis.example.nl/retrieve/{transfer}#{}", token.reveal())
        );
        assert!(
            base.manage_link(transfer, &token)
                .as_str()
                .starts_with(&format!("https://kluis.example.nl/manage/{transfer}#"))
        );
        assert!(!format!("{link:?}").contains(&token.reveal()));
    }
}
