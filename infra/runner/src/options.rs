//! Command-line options: `--port`, `--data`, `--web`, with `$PORT` and
//! `$KLUIS_BIND` from the environment (the same variables the function
//! binaries read).

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ffi::OsString;
use std::path::PathBuf;

use kluis_http::config::{Config, ConfigError, DEFAULT_PORT};

/// The usage text of `--help`.
pub const USAGE: &str = "\
usage: kluis-runner [--port PORT] [--data DIR] [--web DIR]

  --port PORT  port on 127.0.0.1 (or $KLUIS_BIND) to serve on; default $PORT or 8080
  --data DIR   folder for all data (state, objects, outbox, signing key); default ./.kluis-data
  --web DIR    folder of the static pages; default ./web

  $KLUIS_INTERNAL_DOMAINS  the organisation's mail domains, comma separated; default example.nl
  $KLUIS_POLICY            the operator's policy as JSON; default the core's
  $KLUIS_BACKEND           embedded (default) or aws (KLUIS_TABLE, KLUIS_BUCKET, KLUIS_MAIL_FROM, AWS_*)
";

/// What the runner serves, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where to listen (port 0: any free port).
    pub address: SocketAddr,
    /// The data folder.
    pub data: PathBuf,
    /// The static pages.
    pub web: PathBuf,
    /// The organisation's mail domains (`$KLUIS_INTERNAL_DOMAINS`, comma
    /// separated): every transfer needs an internal party.
    pub internal_domains: Vec<String>,
}

/// The internal domain without `$KLUIS_INTERNAL_DOMAINS`: a reserved name,
/// so a fresh runner works for trying out and relays for nobody real.
pub const DEFAULT_INTERNAL_DOMAIN: &str = "example.nl";

impl Default for Options {
    fn default() -> Self {
        Self {
            address: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            data: PathBuf::from(".kluis-data"),
            web: PathBuf::from("web"),
            internal_domains: vec![DEFAULT_INTERNAL_DOMAIN.to_owned()],
        }
    }
}

/// Why the command line cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// `--help` was asked for.
    #[error("{USAGE}")]
    Help,
    /// An option this runner does not know.
    #[error("unknown option {0:?}\n{USAGE}")]
    Unknown(OsString),
    /// An option without its value.
    #[error("{0} needs a value\n{USAGE}")]
    MissingValue(&'static str),
    /// `--port` is not a port number.
    #[error("--port is not a port number")]
    Port,
    /// The environment is malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Options {
    /// Options from the arguments (without the program name) over the
    /// environment's defaults.
    pub fn parse<L: Fn(&str) -> Option<OsString>>(
        args: impl IntoIterator<Item = OsString>,
        env: &Config<L>,
    ) -> Result<Self, OptionsError> {
        let mut options = Self {
            address: env.bind_address()?,
            ..Self::default()
        };
        if let Some(domains) = env.optional("KLUIS_INTERNAL_DOMAINS")? {
            options.internal_domains = domains
                .split(',')
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty())
                .collect();
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name| args.next().ok_or(OptionsError::MissingValue(name));
            match arg.to_str() {
                Some("--port") => {
                    let port = value("--port")?;
                    let port = port
                        .to_str()
                        .and_then(|p| p.parse().ok())
                        .ok_or(OptionsError::Port)?;
                    options.address.set_port(port);
                }
                Some("--data") => options.data = value("--data")?.into(),
                Some("--web") => options.web = value("--web")?.into(),
                Some("-h" | "--help") => return Err(OptionsError::Help),
                _ => return Err(OptionsError::Unknown(arg)),
            }
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &'static [(&'static str, &'static str)]) -> Result<Options, OptionsError> {
        let config = Config::from_lookup(move |name: &str| {
            env.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        });
        Options::parse(args.iter().map(OsString::from), &config)
    }

    #[test]
    fn defaults_are_loopback_8080_and_local_folders() {
        assert_eq!(parse(&[], &[]).expect("defaults"), Options::default());
    }

    #[test]
    fn flags_override_the_environment() {
        let o = parse(
            &["--port", "9001", "--data", "/tmp/d", "--web", "w"],
            &[("PORT", "7000")],
        )
        .expect("valid");
        assert_eq!(o.address, SocketAddr::from(([127, 0, 0, 1], 9001)));
        assert_eq!(o.data, PathBuf::from("/tmp/d"));
        assert_eq!(o.web, PathBuf::from("w"));
        assert_eq!(
            parse(&[], &[("PORT", "7000")]).expect("valid").address.port(),
            7000
        );
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(matches!(
            parse(&["--port"], &[]),
            Err(OptionsError::MissingValue("--port"))
        ));
        assert!(matches!(parse(&["--port", "x"], &[]), Err(OptionsError::Port)));
        assert!(matches!(parse(&["--nope"], &[]), Err(OptionsError::Unknown(_))));
        assert!(matches!(parse(&["--help"], &[]), Err(OptionsError::Help)));
    }
}
