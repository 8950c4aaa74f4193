//! Configuration from the environment: the standard AWS chain (region,
//! credentials, `AWS_ENDPOINT_URL`) plus kluis's own table, bucket and
//! mail settings. Read once at start-up; a missing variable fails fast.

use aws_config::{BehaviorVersion, SdkConfig};

/// The DynamoDB table name.
pub const TABLE_VAR: &str = "KLUIS_TABLE";
/// The S3 bucket name.
pub const BUCKET_VAR: &str = "KLUIS_BUCKET";
/// The service's From address for SESv2.
pub const MAIL_FROM_VAR: &str = "KLUIS_MAIL_FROM";
/// `true` to address S3 buckets by path (emulators such as moto), not by host.
pub const FORCE_PATH_STYLE_VAR: &str = "KLUIS_S3_FORCE_PATH_STYLE";

/// A setting is missing or unreadable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set (or not Unicode).
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// A variable has a value the adapter does not understand.
    #[error("environment variable {0} has an invalid value")]
    Invalid(&'static str),
}

/// kluis's own AWS settings (the SDK reads its own variables itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// DynamoDB table of the state store.
    pub table: String,
    /// S3 bucket of the object store.
    pub bucket: String,
    /// From address of every mail (an SES-verified identity).
    pub mail_from: String,
    /// Path-style S3 addressing, needed by most emulators.
    pub force_path_style: bool,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        Ok(Self {
            table: required(TABLE_VAR)?,
            bucket: required(BUCKET_VAR)?,
            mail_from: required(MAIL_FROM_VAR)?,
            force_path_style: parse_flag(FORCE_PATH_STYLE_VAR, lookup(FORCE_PATH_STYLE_VAR))?,
        })
    }
}

fn parse_flag(name: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(_) => Err(ConfigError::Invalid(name)),
    }
}

/// The SDK configuration from the standard AWS environment: region,
/// credentials and `AWS_ENDPOINT_URL` (or per-service endpoint variables).
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn settings_read_every_variable_and_default_to_virtual_host_style() {
        let settings = Settings::from_lookup(lookup(&[
            (TABLE_VAR, "t"),
            (BUCKET_VAR, "b"),
            (MAIL_FROM_VAR, "kluis@example.nl"),
        ]))
        .expect("complete settings");
        assert_eq!(settings.table, "t");
        assert!(!settings.force_path_style);
    }

    #[test]
    fn a_missing_table_is_named_in_the_error() {
        let error = Settings::from_lookup(lookup(&[(BUCKET_VAR, "b"), (MAIL_FROM_VAR, "m")]))
            .expect_err("table missing");
        assert!(error.to_string().contains(TABLE_VAR));
    }

    #[test]
    fn path_style_accepts_true_and_one_and_refuses_other_words() {
        for (value, expected) in [("true", true), ("1", true), ("FALSE", false), ("0", false)] {
            assert_eq!(
                parse_flag(FORCE_PATH_STYLE_VAR, Some(value.to_owned())).ok(),
                Some(expected)
            );
        }
        assert!(parse_flag(FORCE_PATH_STYLE_VAR, Some("yes please".to_owned())).is_err());
    }
}
