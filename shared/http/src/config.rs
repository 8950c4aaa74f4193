//! Configuration from the environment, read once at start: a missing or
//! malformed variable stops the binary with a message naming it, instead of
//! failing on the first request.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::str::FromStr;
use std::ffi::OsString;

/// Why the configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set, or empty.
    #[error("missing environment variable {name}")]
    Missing {
        /// The variable.
        name: String,
    },
    /// A variable is not valid Unicode.
    #[error("environment variable {name} is not valid UTF-8")]
    NotUnicode {
        /// The variable.
        name: String,
    },
    /// A variable does not parse as what it configures.
    #[error("environment variable {name} is not {expected}")]
    Invalid {
        /// The variable.
        name: String,
        /// What it should be, e.g. "a port number".
        expected: &'static str,
    },
}

/// The port the plain server listens on without `$PORT`.
pub const DEFAULT_PORT: u16 = 8080;

/// Variables looked up through a function: the process environment in
/// binaries, a fixed list in tests (setting process variables is `unsafe`).
#[derive(Debug, Clone)]
pub struct Config<L> {
    lookup: L,
}

impl Config<fn(&str) -> Option<OsString>> {
    /// The process environment.
    pub fn from_process() -> Self {
        Self {
            lookup: |name| std::env::var_os(name),
        }
    }
}

impl<L: Fn(&str) -> Option<OsString>> Config<L> {
    /// Variables from `lookup`.
    pub const fn from_lookup(lookup: L) -> Self {
        Self { lookup }
    }

    /// The value of `name`, or `None` when it is unset or empty.
    pub fn optional(&self, name: &str) -> Result<Option<String>, ConfigError> {
        match (self.lookup)(name) {
            None => Ok(None),
            Some(value) if value.is_empty() => Ok(None),
            Some(value) => value
                .into_string()
                .map(Some)
                .map_err(|_| ConfigError::NotUnicode {
                    name: name.to_owned(),
                }),
        }
    }

    /// The value of `name`; an error naming it when unset or empty.
    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name)?.ok_or_else(|| ConfigError::Missing {
            name: name.to_owned(),
        })
    }

    /// `name` parsed as `T`, or `default` when unset.
    pub fn parse_or<T: FromStr>(
        &self,
        name: &str,
        default: T,
        expected: &'static str,
    ) -> Result<T, ConfigError> {
        match self.optional(name)? {
            None => Ok(default),
            Some(text) => text.trim().parse().map_err(|_| ConfigError::Invalid {
                name: name.to_owned(),
                expected,
            }),
        }
    }

    /// Where the plain server listens: `$KLUIS_BIND` (an IP address, default
    /// 127.0.0.1 so nothing is exposed by accident) and `$PORT` (default 8080).
    pub fn bind_address(&self) -> Result<SocketAddr, ConfigError> {
        let ip = self.parse_or("KLUIS_BIND", IpAddr::V4(Ipv4Addr::LOCALHOST), "an IP address")?;
        let port = self.parse_or("PORT", DEFAULT_PORT, "a port number")?;
        Ok(SocketAddr::new(ip, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &'static [(&'static str, &'static str)]) -> Config<impl Fn(&str) -> Option<OsString>> {
        Config::from_lookup(move |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let e = config(&[("KLUIS_TABLE", "")])
            .required("KLUIS_TABLE")
            .expect_err("empty is missing");
        assert_eq!(e.to_string(), "missing environment variable KLUIS_TABLE");
        assert!(config(&[]).required("KLUIS_BUCKET").is_err());
        assert_eq!(config(&[("A", "x")]).required("A"), Ok("x".to_owned()));
    }

    #[test]
    fn the_server_binds_to_loopback_on_8080_by_default() {
        assert_eq!(
            config(&[]).bind_address(),
            Ok(SocketAddr::from(([127, 0, 0, 1], 8080)))
        );
        assert_eq!(
            config(&[("PORT", "9000"), ("KLUIS_BIND", "0.0.0.0")]).bind_address(),
            Ok(SocketAddr::from(([0, 0, 0, 0], 9000)))
        );
    }

    #[test]
    fn a_malformed_port_fails_fast() {
        let e = config(&[("PORT", "eighty")])
            .bind_address()
            .expect_err("not a port");
        assert_eq!(e.to_string(), "environment variable PORT is not a port number");
    }
}
