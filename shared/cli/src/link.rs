//! Retrieval and manage links: the API base, the transfer id and the bearer
//! token a link carries. The spelling (and the older one still accepted)
//! is `kluis_core::link`'s, the one module that builds and parses links;
//! here a refusal becomes a usage error. The API base is everything before
//! the `/retrieve/` (or `/manage/`) segment, which is the link's origin for
//! a base URL without a path.

use kluis_core::ids::{Token, TransferId};
pub use kluis_core::link::LinkKind;

use crate::error::{Error, Result};

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
    let link = kluis_core::link::parse(text, kind)
        .map_err(|why| Error::Usage(format!("not a kluis {} link: {why}", kind.name())))?;
    Ok(Link {
        api: link.base,
        transfer: link.transfer,
        token: link.token,
    })
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
