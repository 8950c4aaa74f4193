//! The operator's policy: who may send to whom, how much, for how long, how
//! strong the password derivation must be, and the limits on guessing.
//! Deserialized from the operator's configuration (missing keys take the
//! defaults below) and checked once at start-up with [`Policy::validate`].

use serde::{Deserialize, Serialize};

use crate::envelope::KdfParams;
use crate::error::{DomainError, Field};
use crate::timestamp::Timestamp;
use crate::validate::{EmailAddress, is_host_name};

/// The operator's settings. Field names carry their unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The organisation's mail domains. `example.nl` matches that domain
    /// exactly; `*.example.nl` matches its subdomains (not itself).
    pub internal_domains: Vec<String>,
    /// Most recipients per transfer.
    pub max_recipients: usize,
    /// Most files per transfer; at most the format's
    /// [`kluis_crypto::manifest::MAX_FILES`] (100), so a manifest listing
    /// them always fits the format's largest manifest.
    pub max_files: usize,
    /// Most ciphertext bytes per transfer, all files together.
    pub max_transfer_bytes: u64,
    /// Retention offered by default, in days after sending.
    pub default_retention_days: u32,
    /// Longest retention a sender may choose.
    pub max_retention_days: u32,
    /// Weakest Argon2id parameters accepted; never below [`KdfParams::MINIMUM`].
    pub min_kdf: KdfParams,
    /// Wrong passwords before a transfer locks.
    pub unlock_attempts: u32,
    /// How long a verification code is valid.
    pub code_validity_minutes: u32,
    /// Tries per verification code.
    pub attempts_per_code: u32,
    /// Codes that may be requested for one address per hour.
    pub codes_per_address_per_hour: u32,
    /// Codes that may be requested from one client (network address) per hour.
    pub codes_per_client_per_hour: u32,
    /// How long a verified sender's session lasts.
    pub session_minutes: u32,
    /// How long an unsent transfer (draft or keyed) lives before it expires.
    pub draft_hours: u32,
    /// How long the record of a gone transfer is kept after expiry, so its
    /// link answers "gone" rather than "not found", and the audit trail stays.
    pub keep_gone_records_days: u32,
    /// The rules for a password the sender types instead of the generated
    /// one (checked by the browser only; see [`OwnPassword`]).
    pub own_password: OwnPassword,
}

/// The rules for a password the sender types instead of the generated one.
///
/// Only the browser applies them: the server never sees a password (it
/// stores what the client derived from it), so it cannot check one. The
/// policy carries them so that every page of a deployment applies the
/// operator's rules, served by `GET /api/policy`. A client that ignores
/// them weakens only its own transfer, which the online guessing limit
/// (`unlock_attempts`) and the key derivation still protect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnPassword {
    /// Fewest characters (Unicode scalar values) the password has after the
    /// format's normalization (`docs/format.md`, "Password normalization").
    pub min_length: u32,
    /// Lowest strength on the zxcvbn scale, 0 (guessable in a few tries) to
    /// 4 (very hard to guess).
    pub min_score: u8,
}

impl OwnPassword {
    /// The shortest `min_length` a policy may set: the floor NIST SP
    /// 800-63B sets for a password a person chooses.
    pub const SHORTEST: u32 = 8;
    /// The longest `min_length` a policy may set: beyond it nobody types a
    /// password, and a larger value is more likely a slip than a rule.
    pub const LONGEST: u32 = 128;
    /// The top of the zxcvbn scale.
    pub const TOP_SCORE: u8 = 4;
}

impl Default for OwnPassword {
    fn default() -> Self {
        Self {
            min_length: 12,
            min_score: 3,
        }
    }
}

/// What the send wizard shows and checks before the server does
/// (`GET /api/policy`, public): the limits a sender meets and the rules for
/// an own password. The guessing limits and the key-derivation floor stay
/// out: a page has no use for them, and an attacker no need to be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicPolicy {
    /// The organisation's mail domains (`*.` prefix: its subdomains).
    pub internal_domains: Vec<String>,
    /// Most recipients per transfer.
    pub max_recipients: usize,
    /// Most files per transfer.
    pub max_files: usize,
    /// Most ciphertext bytes per transfer, all files together.
    pub max_transfer_bytes: u64,
    /// Retention offered by default, in days after sending.
    pub default_retention_days: u32,
    /// Longest retention a sender may choose.
    pub max_retention_days: u32,
    /// How long a verified sender's session lasts.
    pub session_minutes: u32,
    /// How long a verification code is valid.
    pub code_validity_minutes: u32,
    /// The rules for a password the sender types.
    pub own_password: OwnPassword,
}

impl From<&Policy> for PublicPolicy {
    fn from(policy: &Policy) -> Self {
        Self {
            internal_domains: policy.internal_domains.clone(),
            max_recipients: policy.max_recipients,
            max_files: policy.max_files,
            max_transfer_bytes: policy.max_transfer_bytes,
            default_retention_days: policy.default_retention_days,
            max_retention_days: policy.max_retention_days,
            session_minutes: policy.session_minutes,
            code_validity_minutes: policy.code_validity_minutes,
            own_password: policy.own_password,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            internal_domains: Vec::new(),
            max_recipients: 20,
            max_files: 100,
            max_transfer_bytes: 5 * 1024 * 1024 * 1024,
            default_retention_days: 7,
            max_retention_days: 30,
            min_kdf: KdfParams::MINIMUM,
            unlock_attempts: 10,
            code_validity_minutes: 15,
            attempts_per_code: 5,
            codes_per_address_per_hour: 5,
            codes_per_client_per_hour: 20,
            session_minutes: 120,
            draft_hours: 24,
            keep_gone_records_days: 30,
            own_password: OwnPassword::default(),
        }
    }
}

// `Policy::validate`'s messages name the format's numbers.
const _: () = assert!(
    kluis_crypto::manifest::MAX_FILES == 100
        && KdfParams::MINIMUM.m_kib == 65_536
        && KdfParams::MINIMUM.t == 3
        && KdfParams::MINIMUM.p == 1
);

/// A rate-limit or attempt counter the caller must increment, with its limit
/// and the moment the store may forget it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Most increments allowed.
    pub max: u32,
    /// When the counter may be dropped (end of its window or of what it guards).
    pub expires_at: Timestamp,
}

impl Policy {
    /// Refuses settings that contradict themselves or weaken a guarantee.
    /// Run at start-up: a function MUST NOT serve with an invalid policy.
    pub fn validate(&self) -> Result<(), DomainError> {
        let invalid = |reason| Err(DomainError::InvalidPolicy { reason });
        if self.internal_domains.is_empty() {
            return invalid("internal_domains must name at least one domain");
        }
        for entry in &self.internal_domains {
            let domain = entry.strip_prefix("*.").unwrap_or(entry);
            if !is_host_name(domain) || domain.bytes().any(|b| b.is_ascii_uppercase()) {
                return invalid("internal_domains must be lower-case host names, optionally prefixed by *.");
            }
        }
        if self.max_recipients == 0 || self.max_files == 0 || self.max_transfer_bytes == 0 {
            return invalid("max_recipients, max_files and max_transfer_bytes must be at least 1");
        }
        if self.max_files > kluis_crypto::manifest::MAX_FILES {
            // The sealed manifest lists every file; more than the format's
            // maximum could not be sealed, whatever their names.
            return invalid("max_files must be at most 100, the most files a manifest may list");
        }
        if self.default_retention_days == 0 || self.default_retention_days > self.max_retention_days {
            return invalid("default_retention_days must be between 1 and max_retention_days");
        }
        if !self.min_kdf.at_least(&KdfParams::MINIMUM) {
            return invalid("min_kdf must be at least m_kib = 65536, t = 3, p = 1");
        }
        if self.unlock_attempts == 0 || self.attempts_per_code == 0 {
            return invalid("unlock_attempts and attempts_per_code must be at least 1");
        }
        if self.codes_per_address_per_hour == 0 || self.codes_per_client_per_hour == 0 {
            return invalid("codes per hour must be at least 1");
        }
        if self.code_validity_minutes == 0 || self.session_minutes == 0 || self.draft_hours == 0 {
            return invalid("code_validity_minutes, session_minutes and draft_hours must be at least 1");
        }
        let own = self.own_password;
        if !(OwnPassword::SHORTEST..=OwnPassword::LONGEST).contains(&own.min_length) {
            return invalid("own_password.min_length must be between 8 and 128");
        }
        if own.min_score > OwnPassword::TOP_SCORE {
            return invalid("own_password.min_score must be between 0 and 4 (the zxcvbn scale)");
        }
        Ok(())
    }

    /// Whether `address` is in one of the internal domains.
    pub fn is_internal(&self, address: &EmailAddress) -> bool {
        let domain = address.domain();
        self.internal_domains
            .iter()
            .any(|entry| match entry.strip_prefix("*.") {
                Some(parent) => domain
                    .strip_suffix(parent)
                    .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                None => domain == entry,
            })
    }

    /// The open-relay rule: the sender or every recipient is internal.
    pub fn check_parties(
        &self,
        sender: &EmailAddress,
        recipients: &[EmailAddress],
    ) -> Result<(), DomainError> {
        if recipients.is_empty() {
            return Err(DomainError::Missing {
                field: Field::Recipients,
            });
        }
        if self.is_internal(sender) || recipients.iter().all(|r| self.is_internal(r)) {
            Ok(())
        } else {
            Err(DomainError::NoInternalParty)
        }
    }

    /// Checks the recipient list: present, within the limit, no duplicates,
    /// and the open-relay rule.
    pub fn check_recipients(
        &self,
        sender: &EmailAddress,
        recipients: &[EmailAddress],
    ) -> Result<(), DomainError> {
        if recipients.len() > self.max_recipients {
            return Err(DomainError::TooManyRecipients {
                max: self.max_recipients,
            });
        }
        let mut sorted: Vec<&EmailAddress> = recipients.iter().collect();
        sorted.sort_unstable();
        if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(DomainError::DuplicateRecipient);
        }
        self.check_parties(sender, recipients)
    }

    /// The retention to use: the default when none is asked for, else the
    /// asked one if it is within 1..=max.
    pub fn retention_days(&self, requested: Option<u32>) -> Result<u32, DomainError> {
        match requested {
            None => Ok(self.default_retention_days),
            Some(0) => Err(DomainError::Malformed {
                field: Field::RetentionDays,
            }),
            Some(days) if days > self.max_retention_days => Err(DomainError::RetentionTooLong {
                max_days: self.max_retention_days,
            }),
            Some(days) => Ok(days),
        }
    }

    /// Refuses Argon2id parameters below the policy's minimum.
    pub fn check_kdf(&self, params: &KdfParams) -> Result<(), DomainError> {
        if !params.at_least(&self.min_kdf) {
            return Err(DomainError::KdfTooWeak);
        }
        // Above the format's ceiling no client would derive (it refuses, so a
        // hostile envelope cannot exhaust its memory): nobody could unlock.
        if !params.is_acceptable() {
            return Err(DomainError::Malformed {
                field: Field::KdfParams,
            });
        }
        Ok(())
    }

    /// The per-address hourly limit on code requests, for the window holding `now`.
    pub fn codes_per_address_limit(&self, now: Timestamp) -> Limit {
        self.hourly(self.codes_per_address_per_hour, now)
    }

    /// The per-client hourly limit on code requests, for the window holding `now`.
    pub fn codes_per_client_limit(&self, now: Timestamp) -> Limit {
        self.hourly(self.codes_per_client_per_hour, now)
    }

    fn hourly(&self, max: u32, now: Timestamp) -> Limit {
        // Fixed hourly windows: a burst at a window edge can reach twice the
        // limit, which is acceptable for a limit of a few codes and lets both
        // DynamoDB and an embedded store count with one conditional increment.
        let window = now.window_start(Timestamp::HOUR);
        Limit {
            max,
            expires_at: window.plus_seconds(Timestamp::HOUR),
        }
    }

    /// How long a code lives, in seconds.
    pub const fn code_validity_secs(&self) -> u64 {
        self.code_validity_minutes as u64 * Timestamp::MINUTE
    }

    /// How long a session lives, in seconds.
    pub const fn session_secs(&self) -> u64 {
        self.session_minutes as u64 * Timestamp::MINUTE
    }

    /// How long an unsent transfer lives, in seconds.
    pub const fn draft_secs(&self) -> u64 {
        self.draft_hours as u64 * Timestamp::HOUR
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn policy() -> Policy {
        Policy {
            internal_domains: vec!["example.nl".into(), "*.gemeente.example".into()],
            ..Policy::default()
        }
    }

    pub(crate) fn email(text: &str) -> EmailAddress {
        EmailAddress::parse(text, Field::RecipientEmail).expect("test address is valid")
    }

    #[test]
    fn defaults_match_the_issue() {
        let p = Policy::default();
        assert_eq!(
            p.min_kdf,
            KdfParams {
                m_kib: 65_536,
                t: 3,
                p: 1
            }
        );
        assert_eq!(p.code_validity_minutes, 15);
        assert_eq!(p.attempts_per_code, 5);
        assert!(p.default_retention_days <= p.max_retention_days);
    }

    #[test]
    fn a_policy_with_internal_domains_and_defaults_is_valid() {
        assert_eq!(policy().validate(), Ok(()));
    }

    #[test]
    fn a_policy_without_internal_domains_is_invalid() {
        assert!(matches!(
            Policy::default().validate(),
            Err(DomainError::InvalidPolicy { .. })
        ));
    }

    #[test]
    fn a_policy_with_a_malformed_or_upper_case_domain_is_invalid() {
        for bad in ["localhost", "Example.nl", "*.", "exa mple.nl", "*.*.example.nl"] {
            let p = Policy {
                internal_domains: vec![bad.into()],
                ..policy()
            };
            assert!(
                matches!(p.validate(), Err(DomainError::InvalidPolicy { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_policy_cannot_lower_the_kdf_floor() {
        let p = Policy {
            min_kdf: KdfParams {
                m_kib: 19_456,
                t: 2,
                p: 1,
            },
            ..policy()
        };
        assert!(matches!(p.validate(), Err(DomainError::InvalidPolicy { .. })));
        let stronger = Policy {
            min_kdf: KdfParams {
                m_kib: 262_144,
                t: 4,
                p: 1,
            },
            ..policy()
        };
        assert_eq!(stronger.validate(), Ok(()));
    }

    #[test]
    fn a_policy_with_default_retention_above_maximum_or_zero_is_invalid() {
        for (default, max) in [(31, 30), (0, 30)] {
            let p = Policy {
                default_retention_days: default,
                max_retention_days: max,
                ..policy()
            };
            assert!(matches!(p.validate(), Err(DomainError::InvalidPolicy { .. })));
        }
    }

    #[test]
    fn a_policy_with_a_zero_limit_is_invalid() {
        let zeroed: [fn(&mut Policy); 9] = [
            |p| p.max_recipients = 0,
            |p| p.max_files = 0,
            |p| p.max_transfer_bytes = 0,
            |p| p.unlock_attempts = 0,
            |p| p.attempts_per_code = 0,
            |p| p.codes_per_address_per_hour = 0,
            |p| p.codes_per_client_per_hour = 0,
            |p| p.code_validity_minutes = 0,
            |p| p.session_minutes = 0,
        ];
        for zero in zeroed {
            let mut p = policy();
            zero(&mut p);
            assert!(
                matches!(p.validate(), Err(DomainError::InvalidPolicy { .. })),
                "{p:?}"
            );
        }
    }

    #[test]
    fn own_password_rules_default_to_twelve_characters_and_score_three() {
        assert_eq!(
            Policy::default().own_password,
            OwnPassword {
                min_length: 12,
                min_score: 3
            }
        );
    }

    #[test]
    fn own_password_rules_outside_their_ranges_are_invalid() {
        for (min_length, min_score) in [(7, 3), (0, 3), (129, 3), (12, 5), (12, 255)] {
            let p = Policy {
                own_password: OwnPassword {
                    min_length,
                    min_score,
                },
                ..policy()
            };
            assert!(
                matches!(p.validate(), Err(DomainError::InvalidPolicy { .. })),
                "{min_length}, {min_score}"
            );
        }
        for (min_length, min_score) in [(8, 0), (128, 4), (16, 2)] {
            let p = Policy {
                own_password: OwnPassword {
                    min_length,
                    min_score,
                },
                ..policy()
            };
            assert_eq!(p.validate(), Ok(()), "{min_length}, {min_score}");
        }
    }

    #[test]
    fn own_password_rules_are_read_per_key_and_unknown_keys_refused() {
        let p: Policy =
            serde_json::from_str(r#"{"internal_domains":["example.nl"],"own_password":{"min_score":4}}"#)
                .expect("valid");
        assert_eq!(
            p.own_password,
            OwnPassword {
                min_length: 12,
                min_score: 4
            }
        );
        assert!(serde_json::from_str::<Policy>(r#"{"own_password":{"min_lenght":14}}"#).is_err());
    }

    #[test]
    fn the_public_policy_carries_the_senders_limits_and_no_guessing_limits() {
        let public = serde_json::to_value(PublicPolicy::from(&policy())).expect("serialises");
        let keys: Vec<&str> = public
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "code_validity_minutes",
                "default_retention_days",
                "internal_domains",
                "max_files",
                "max_recipients",
                "max_retention_days",
                "max_transfer_bytes",
                "own_password",
                "session_minutes",
            ]
        );
        assert_eq!(public["own_password"]["min_length"], 12);
        assert_eq!(public["internal_domains"][1], "*.gemeente.example");
    }

    #[test]
    fn a_policy_allowing_more_files_than_a_manifest_can_list_is_invalid() {
        let most = Policy {
            max_files: kluis_crypto::manifest::MAX_FILES,
            ..policy()
        };
        assert_eq!(most.validate(), Ok(()));
        let one_more = Policy {
            max_files: kluis_crypto::manifest::MAX_FILES + 1,
            ..policy()
        };
        assert!(matches!(
            one_more.validate(),
            Err(DomainError::InvalidPolicy { .. })
        ));
    }

    #[test]
    fn internal_domains_match_exactly_and_wildcards_match_subdomains_only() {
        let p = policy();
        assert!(p.is_internal(&email("a@example.nl")));
        assert!(!p.is_internal(&email("a@mail.example.nl")));
        assert!(!p.is_internal(&email("a@notexample.nl")));
        assert!(p.is_internal(&email("a@zorg.gemeente.example")));
        assert!(!p.is_internal(&email("a@gemeente.example")));
        assert!(!p.is_internal(&email("a@evilgemeente.example")));
    }

    #[test]
    fn internal_sender_may_send_to_external_recipients() {
        assert_eq!(
            policy().check_parties(&email("staff@example.nl"), &[email("partner@extern.example")]),
            Ok(())
        );
    }

    #[test]
    fn external_sender_may_send_when_every_recipient_is_internal() {
        let recipients = [email("a@example.nl"), email("b@zorg.gemeente.example")];
        assert_eq!(
            policy().check_parties(&email("partner@extern.example"), &recipients),
            Ok(())
        );
    }

    #[test]
    fn external_sender_may_not_send_to_any_external_recipient() {
        let recipients = [email("a@example.nl"), email("stranger@other.example")];
        assert_eq!(
            policy().check_parties(&email("partner@extern.example"), &recipients),
            Err(DomainError::NoInternalParty)
        );
    }

    #[test]
    fn a_transfer_without_recipients_is_refused() {
        assert_eq!(
            policy().check_recipients(&email("staff@example.nl"), &[]),
            Err(DomainError::Missing {
                field: Field::Recipients
            })
        );
    }

    #[test]
    fn more_recipients_than_the_maximum_are_refused() {
        let p = Policy {
            max_recipients: 2,
            ..policy()
        };
        let recipients: Vec<_> = (0..3).map(|i| email(&format!("r{i}@example.nl"))).collect();
        assert_eq!(
            p.check_recipients(&email("staff@example.nl"), &recipients),
            Err(DomainError::TooManyRecipients { max: 2 })
        );
        assert_eq!(
            p.check_recipients(&email("staff@example.nl"), &recipients[..2]),
            Ok(())
        );
    }

    #[test]
    fn the_same_recipient_twice_is_refused_whatever_the_case() {
        let recipients = [email("Bob@example.nl"), email("bob@EXAMPLE.nl")];
        assert_eq!(
            policy().check_recipients(&email("staff@example.nl"), &recipients),
            Err(DomainError::DuplicateRecipient)
        );
    }

    #[test]
    fn retention_defaults_and_is_capped() {
        let p = policy();
        assert_eq!(p.retention_days(None), Ok(7));
        assert_eq!(p.retention_days(Some(30)), Ok(30));
        assert_eq!(
            p.retention_days(Some(31)),
            Err(DomainError::RetentionTooLong { max_days: 30 })
        );
        assert_eq!(
            p.retention_days(Some(0)),
            Err(DomainError::Malformed {
                field: Field::RetentionDays
            })
        );
    }

    #[test]
    fn kdf_parameters_below_the_policy_minimum_are_too_weak() {
        let p = Policy {
            min_kdf: KdfParams {
                m_kib: 131_072,
                t: 3,
                p: 1,
            },
            ..policy()
        };
        assert_eq!(p.check_kdf(&KdfParams::MINIMUM), Err(DomainError::KdfTooWeak));
        assert_eq!(
            p.check_kdf(&KdfParams {
                m_kib: 131_072,
                t: 3,
                p: 1
            }),
            Ok(())
        );
    }

    #[test]
    fn kdf_parameters_above_the_format_ceiling_are_refused() {
        let p = policy();
        for too_costly in [
            KdfParams {
                m_kib: 1024 * 1024 + 1,
                t: 3,
                p: 1,
            },
            KdfParams {
                m_kib: 65_536,
                t: 17,
                p: 1,
            },
            KdfParams {
                m_kib: 65_536,
                t: 3,
                p: 9,
            },
        ] {
            assert_eq!(
                p.check_kdf(&too_costly),
                Err(DomainError::Malformed {
                    field: Field::KdfParams
                }),
                "{too_costly:?}"
            );
        }
        assert_eq!(
            p.check_kdf(&KdfParams {
                m_kib: 1024 * 1024,
                t: 16,
                p: 8
            }),
            Ok(())
        );
    }

    #[test]
    fn code_request_limits_last_until_the_end_of_the_hour() {
        let p = policy();
        let now = Timestamp::from_unix_seconds(10 * Timestamp::HOUR + 125);
        let limit = p.codes_per_address_limit(now);
        assert_eq!(
            limit,
            Limit {
                max: 5,
                expires_at: Timestamp::from_unix_seconds(11 * Timestamp::HOUR)
            }
        );
        assert_eq!(p.codes_per_client_limit(now).max, 20);
    }

    #[test]
    fn operator_configuration_fills_missing_keys_with_defaults_and_refuses_unknown_ones() {
        let p: Policy =
            serde_json::from_str(r#"{"internal_domains":["example.nl"],"max_files":3}"#).expect("valid");
        assert_eq!(p.max_files, 3);
        assert_eq!(p.max_recipients, Policy::default().max_recipients);
        assert!(serde_json::from_str::<Policy>(r#"{"max_fiels":3}"#).is_err());
    }
}
