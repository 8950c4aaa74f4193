//! The service's settings from the environment, read once at start; a
//! missing or malformed variable stops the process with a message naming it.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `KLUIS_BASE_URL` | where the pages live; links in mail are built on it (required) |
//! | `KLUIS_POLICY` | the operator's policy as JSON (`kluis_core::policy::Policy`; missing keys take the defaults) |
//! | `KLUIS_INTERNAL_DOMAINS` | the organisation's mail domains, comma separated; overrides the policy's list |

use std::ffi::OsString;

use kluis_core::error::DomainError;
use kluis_core::mail::PublicBaseUrl;
use kluis_core::policy::Policy;
use kluis_core::service::Settings;
use kluis_http::config::{Config, ConfigError};

/// The public base URL.
pub const BASE_URL_VAR: &str = "KLUIS_BASE_URL";
/// The policy as JSON.
pub const POLICY_VAR: &str = "KLUIS_POLICY";
/// The internal mail domains, comma separated.
pub const INTERNAL_DOMAINS_VAR: &str = "KLUIS_INTERNAL_DOMAINS";

/// Why the settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A variable is missing or unreadable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `KLUIS_POLICY` is not a policy.
    #[error("environment variable {POLICY_VAR} is not a policy: {0}")]
    PolicyJson(String),
    /// The policy or the base URL is refused by the core.
    #[error("the settings are refused: {0}")]
    Refused(#[from] DomainError),
}

/// The policy: `KLUIS_POLICY` (or the defaults) with the internal domains
/// of `KLUIS_INTERNAL_DOMAINS` when set, else `default_domains` when the
/// policy names none. Validated.
pub fn policy<L: Fn(&str) -> Option<OsString>>(
    env: &Config<L>,
    default_domains: &[&str],
) -> Result<Policy, SettingsError> {
    let mut policy = match env.optional(POLICY_VAR)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| SettingsError::PolicyJson(e.to_string()))?,
        None => Policy::default(),
    };
    if let Some(domains) = env.optional(INTERNAL_DOMAINS_VAR)? {
        policy.internal_domains = domains
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect();
    }
    if policy.internal_domains.is_empty() {
        policy.internal_domains = default_domains.iter().map(|d| (*d).to_owned()).collect();
    }
    policy.validate()?;
    Ok(policy)
}

/// The service settings of a function: the policy (no default domains:
/// an operator must name theirs) and `KLUIS_BASE_URL`.
pub fn from_env<L: Fn(&str) -> Option<OsString>>(env: &Config<L>) -> Result<Settings, SettingsError> {
    let policy = policy(env, &[])?;
    let base = PublicBaseUrl::parse(&env.required(BASE_URL_VAR)?)?;
    Ok(Settings::new(policy, base))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> Config<impl Fn(&str) -> Option<OsString>> {
        Config::from_lookup(move |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn settings_read_the_base_url_the_policy_and_the_domains() {
        let settings = from_env(&env(&[
            (BASE_URL_VAR, "https://kluis.example.nl"),
            (
                POLICY_VAR,
                r#"{"max_recipients": 3, "internal_domains": ["a.example"]}"#,
            ),
            (INTERNAL_DOMAINS_VAR, "example.nl, *.example.nl"),
        ]))
        .expect("valid settings");
        assert_eq!(settings.policy.max_recipients, 3);
        assert_eq!(settings.policy.internal_domains, ["example.nl", "*.example.nl"]);
    }

    #[test]
    fn a_missing_base_url_is_named() {
        let error = from_env(&env(&[(INTERNAL_DOMAINS_VAR, "example.nl")])).expect_err("no base");
        assert_eq!(error.to_string(), "missing environment variable KLUIS_BASE_URL");
    }

    #[test]
    fn a_function_without_internal_domains_refuses_to_start() {
        let error = from_env(&env(&[(BASE_URL_VAR, "https://kluis.example.nl")])).expect_err("no domains");
        assert!(matches!(error, SettingsError::Refused(_)), "{error}");
    }

    #[test]
    fn a_policy_with_an_unknown_key_or_a_weak_floor_is_refused() {
        let unknown = policy(&env(&[(POLICY_VAR, r#"{"max_recipientz": 3}"#)]), &["example.nl"]);
        assert!(matches!(unknown, Err(SettingsError::PolicyJson(_))));
        let weak = policy(
            &env(&[(POLICY_VAR, r#"{"min_kdf": {"m_kib": 1024, "t": 1, "p": 1}}"#)]),
            &["example.nl"],
        );
        assert!(weak.is_err(), "a KDF floor under the format's floor is refused");
    }

    #[test]
    fn the_runner_default_domain_applies_only_when_none_is_set() {
        let fallback = policy(&env(&[]), &["example.nl"]).expect("valid");
        assert_eq!(fallback.internal_domains, ["example.nl"]);
        let named = policy(&env(&[(INTERNAL_DOMAINS_VAR, "ngo.example")]), &["example.nl"]).expect("valid");
        assert_eq!(named.internal_domains, ["ngo.example"]);
    }
}
