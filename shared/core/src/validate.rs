//! Validated input values: e-mail addresses, names, phone numbers, the
//! notification text and the language. Each type can only be built through
//! its parser, so holding one proves the value passed every rule; stored
//! records are re-validated on deserialization for the same reason.
//!
//! Single-line values refuse every control character (CR and LF above all,
//! since these values reach mail headers and subjects) and the invisible
//! Unicode format characters that can disguise text (bidi overrides,
//! zero-width characters, line separators).

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{DomainError, Field};

/// Whether `c` is refused in user text: C0/C1 controls (CR, LF, tab, NUL,
/// DEL…) and the format characters that reorder or hide text.
pub(crate) fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM/RLM
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}' // byte order mark / zero-width no-break space
        )
}

/// Refuses a value that would break out of a single line (or hide text).
pub(crate) fn check_single_line(text: &str, field: Field) -> Result<(), DomainError> {
    if text.chars().any(is_forbidden_char) {
        return Err(DomainError::ControlCharacter { field });
    }
    Ok(())
}

/// Trims, refuses control characters, and enforces 1..=`max` characters.
fn single_line(text: &str, field: Field, max: usize) -> Result<String, DomainError> {
    check_single_line(text, field)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DomainError::Missing { field });
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::TooLong { field, max });
    }
    Ok(trimmed.to_owned())
}

/// Implements `Display`, `as_str`, serde-as-validated-string for a newtype over `String`.
macro_rules! text_newtype {
    ($name:ident, $parse:expr) => {
        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(text: String) -> Result<Self, DomainError> {
                $parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

/// An e-mail address in the strict form this service accepts: an ASCII
/// dot-atom local part without `%`, `@`, and a DNS host name with at least
/// two labels; exactly as given (surrounding spaces are refused, never
/// trimmed into another address).
///
/// Narrower than RFC 5322 on purpose (no quoted local parts, comments, IP
/// literals or non-ASCII), because addresses go into mail headers and the
/// narrow form cannot carry an injection. `%` is refused because some mail
/// servers still route `a%elsewhere@internal` onward: an internal-looking
/// address must not reach another domain. Stored lower-cased: providers treat
/// addresses case-insensitively, and duplicates and rate limits must too.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Longest address accepted (the SMTP path limit).
    pub const MAX_LEN: usize = 254;
    /// Longest local part accepted.
    pub const MAX_LOCAL_LEN: usize = 64;

    /// Parses an address; `field` says which form field it came from.
    pub fn parse(text: &str, field: Field) -> Result<Self, DomainError> {
        check_single_line(text, field)?;
        if text.is_empty() {
            return Err(DomainError::Missing { field });
        }
        if text.len() > Self::MAX_LEN {
            return Err(DomainError::TooLong {
                field,
                max: Self::MAX_LEN,
            });
        }
        let invalid = DomainError::InvalidEmail { field };
        let (local, domain) = text.split_once('@').ok_or_else(|| invalid.clone())?;
        if local.len() > Self::MAX_LOCAL_LEN || !is_dot_atom(local) || !is_host_name(domain) {
            return Err(invalid);
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    /// The part after `@`, lower-case.
    pub fn domain(&self) -> &str {
        // Construction guarantees exactly one '@'.
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

text_newtype!(EmailAddress, |text: &str| EmailAddress::parse(
    text,
    Field::RecipientEmail
));

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

/// RFC 5322 `atext` without `%` (see [`EmailAddress`]).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$&'*+/=?^_`{|}~-".contains(c)
}

fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// Whether `domain` is a DNS host name usable for mail: two or more labels
/// of letters, digits and inner hyphens, and a top-level label that is not
/// all digits (which would make it an IPv4 address).
pub(crate) fn is_host_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let well_formed = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    well_formed
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

/// A person's display name: one line, 1 to 100 characters after trimming.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// Longest name accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Parses a name. A name holding `=?` is refused as malformed: it could
    /// read as a MIME encoded word (`=?utf-8?b?…?=`) in a mail header, where
    /// a client would decode it into text the sender never typed here.
    pub fn parse(text: &str, field: Field) -> Result<Self, DomainError> {
        let name = single_line(text, field, Self::MAX_CHARS)?;
        if name.contains("=?") {
            return Err(DomainError::Malformed { field });
        }
        Ok(Self(name))
    }
}

text_newtype!(PersonName, |text: &str| PersonName::parse(
    text,
    Field::SenderName
));

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.0)
    }
}

/// A phone number as people type it: an optional leading `+`, digits, and
/// spaces, hyphens, dots or parentheses between them; 6 to 15 digits (E.164
/// allows at most 15).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Longest text accepted, separators included.
    pub const MAX_LEN: usize = 32;
    /// Fewest digits accepted.
    pub const MIN_DIGITS: usize = 6;
    /// Most digits accepted (E.164).
    pub const MAX_DIGITS: usize = 15;

    /// Parses a phone number.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let field = Field::SenderPhone;
        let text = single_line(text, field, Self::MAX_LEN)?;
        let body = text.strip_prefix('+').unwrap_or(&text);
        let allowed = body.chars().all(|c| c.is_ascii_digit() || " -.()".contains(c));
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !allowed || !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits) {
            return Err(DomainError::InvalidPhone);
        }
        Ok(Self(text))
    }
}

text_newtype!(PhoneNumber, |text: &str| PhoneNumber::parse(text));

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.0)
    }
}

/// The sender's own text for the recipients' notification mail. Unlike the
/// confidential message (sealed in the manifest) the mail carries it in the
/// clear, which the wizard tells the sender. Line breaks are allowed: CRLF is
/// normalised to LF, and a lone CR or any other control character is refused.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NotificationText(String);

impl NotificationText {
    /// Longest text accepted, in characters.
    pub const MAX_CHARS: usize = 2000;

    /// Parses the text; `None` for an empty one (the default text is used).
    pub fn parse(text: &str) -> Result<Option<Self>, DomainError> {
        let field = Field::NotificationText;
        let normalised = text.replace("\r\n", "\n");
        if normalised.chars().any(|c| c != '\n' && is_forbidden_char(c)) {
            return Err(DomainError::ControlCharacter { field });
        }
        let trimmed = normalised.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::TooLong {
                field,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Some(Self(trimmed.to_owned())))
    }
}

text_newtype!(NotificationText, |text: &str| NotificationText::parse(text)
    .and_then(|text| text.ok_or(DomainError::Missing {
        field: Field::NotificationText
    })));

/// An optional notification text in a request: absent, `null`, empty and
/// blank all mean "none" (the default text), as [`NotificationText::parse`]
/// says; anything else must be a valid text.
pub fn optional_notification_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NotificationText>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) => NotificationText::parse(&text).map_err(serde::de::Error::custom),
    }
}

impl fmt::Debug for NotificationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotificationText({} chars)", self.0.chars().count())
    }
}

/// The language of the mails about a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Dutch, the default: the service is run by Dutch organisations.
    #[default]
    Nl,
    /// English.
    En,
}

impl Language {
    /// Parses a language tag: `nl` or `en` (case-insensitive).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "nl" => Ok(Self::Nl),
            "en" => Ok(Self::En),
            _ => Err(DomainError::UnsupportedLanguage),
        }
    }

    /// The ISO 639-1 code, also the `lang` attribute of HTML mails.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Nl => "nl",
            Self::En => "en",
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const F: Field = Field::RecipientEmail;

    #[test]
    fn plain_addresses_are_accepted_and_lower_cased() {
        let address = EmailAddress::parse("Jan.de-Vries+kluis@Example.NL", F).expect("valid");
        assert_eq!(address.as_str(), "jan.de-vries+kluis@example.nl");
        assert_eq!(address.domain(), "example.nl");
        assert!(EmailAddress::parse("o'brien@mail.example.co.uk", F).is_ok());
    }

    #[test]
    fn empty_address_is_missing() {
        assert_eq!(EmailAddress::parse("", F), Err(DomainError::Missing { field: F }));
        assert_eq!(
            EmailAddress::parse("   ", F),
            Err(DomainError::InvalidEmail { field: F })
        );
    }

    #[test]
    fn addresses_outside_the_strict_form_are_invalid() {
        for bad in [
            "no-at-sign",
            "two@@example.nl",
            "a@b@example.nl",
            "@example.nl",
            "jan@",
            ".jan@example.nl",
            "jan.@example.nl",
            "ja..n@example.nl",
            "\"quoted\"@example.nl",
            "jan@localhost",
            "jan@-example.nl",
            "jan@example-.nl",
            "jan@exa_mple.nl",
            "jan@example..nl",
            "jan@192.168.1.1",
            "jan@[192.168.1.1]",
            "jän@example.nl",
            "jan@exämple.nl",
            "jan doe@example.nl",
            "<jan@example.nl>",
            "jan@example.nl>",
            "Jan <jan@example.nl>",
            "jan@example.nl,bob@example.nl",
        ] {
            assert_eq!(
                EmailAddress::parse(bad, F),
                Err(DomainError::InvalidEmail { field: F }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn address_with_cr_or_lf_is_refused_as_control_character() {
        for bad in [
            "jan@example.nl\r\nBcc: x@evil.example",
            "jan@example.nl\n",
            "\rjan@example.nl",
            "jan\0@example.nl",
        ] {
            assert_eq!(
                EmailAddress::parse(bad, F),
                Err(DomainError::ControlCharacter { field: F }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let long_local = format!("{}@example.nl", "a".repeat(65));
        assert_eq!(
            EmailAddress::parse(&long_local, F),
            Err(DomainError::InvalidEmail { field: F })
        );
        let long_total = format!("a@{}.nl", "b".repeat(260));
        assert_eq!(
            EmailAddress::parse(&long_total, F),
            Err(DomainError::TooLong { field: F, max: 254 })
        );
        let long_label = format!("a@{}.nl", "b".repeat(64));
        assert_eq!(
            EmailAddress::parse(&long_label, F),
            Err(DomainError::InvalidEmail { field: F })
        );
    }

    #[test]
    fn stored_address_is_revalidated_when_deserialized() {
        let ok: EmailAddress = serde_json::from_str("\"a@example.nl\"").expect("valid");
        assert_eq!(ok.as_str(), "a@example.nl");
        assert!(serde_json::from_str::<EmailAddress>("\"a@example.nl\\r\\nBcc: b@example.nl\"").is_err());
    }

    #[test]
    fn names_are_trimmed_and_limited_to_100_characters() {
        let f = Field::SenderName;
        assert_eq!(
            PersonName::parse("  Anne-Marie Ö'Neill ", f)
                .expect("valid")
                .as_str(),
            "Anne-Marie Ö'Neill"
        );
        assert_eq!(PersonName::parse(" ", f), Err(DomainError::Missing { field: f }));
        assert!(PersonName::parse(&"é".repeat(100), f).is_ok());
        assert_eq!(
            PersonName::parse(&"é".repeat(101), f),
            Err(DomainError::TooLong { field: f, max: 100 })
        );
    }

    #[test]
    fn names_that_could_read_as_mime_encoded_words_are_refused() {
        let f = Field::SenderName;
        for bad in ["=?utf-8?b?QmFuaw==?=", "Jan =?ISO-8859-1?Q?a?= Doe", "a=?"] {
            assert_eq!(
                PersonName::parse(bad, f),
                Err(DomainError::Malformed { field: f }),
                "{bad:?}"
            );
        }
        assert!(PersonName::parse("Jan = Doe? Yes", f).is_ok());
    }

    #[test]
    fn addresses_are_taken_exactly_as_given() {
        for bad in [
            " a@example.nl",
            "a@example.nl ",
            "a @example.nl",
            "\ta@example.nl",
        ] {
            assert!(EmailAddress::parse(bad, F).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn percent_routing_in_the_local_part_is_refused() {
        for bad in [
            "victim%evil.example@example.nl",
            "%@example.nl",
            "a%b@extern.example",
        ] {
            assert_eq!(
                EmailAddress::parse(bad, F),
                Err(DomainError::InvalidEmail { field: F }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_blank_notification_text_in_a_request_means_the_default() {
        #[derive(Deserialize)]
        struct Request {
            #[serde(default, deserialize_with = "optional_notification_text")]
            text: Option<NotificationText>,
        }
        for body in [
            r#"{}"#,
            r#"{"text":null}"#,
            r#"{"text":""}"#,
            r#"{"text":"\r\n \n"}"#,
        ] {
            let parsed: Request = serde_json::from_str(body).expect(body);
            assert!(parsed.text.is_none(), "{body}");
        }
        let parsed: Request = serde_json::from_str(r#"{"text":" Hi\r\nthere "}"#).expect("a text");
        assert_eq!(parsed.text.expect("some").as_str(), "Hi\nthere");
        assert!(serde_json::from_str::<Request>(r#"{"text":"a\u0007"}"#).is_err());
    }

    #[test]
    fn names_with_control_or_invisible_characters_are_refused() {
        let f = Field::SenderName;
        for bad in [
            "Jan\r\nBcc: x",
            "Jan\tDoe",
            "Jan\u{7f}",
            "Jan\u{85}",
            "Jan\u{202E}kcah",
            "Ja\u{200B}n",
            "Jan\u{2028}Doe",
            "\u{FEFF}Jan",
        ] {
            assert_eq!(
                PersonName::parse(bad, f),
                Err(DomainError::ControlCharacter { field: f }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn phone_numbers_as_people_type_them_are_accepted() {
        for good in [
            "+31 6 1234 5678",
            "06-12345678",
            "(020) 123.45.67",
            "+1 (555) 010-9999",
        ] {
            assert!(PhoneNumber::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn phone_numbers_with_letters_too_few_or_too_many_digits_are_invalid() {
        for bad in [
            "call me",
            "12345",
            "+1234567890123456",
            "06 1234 567x",
            "++31612345678",
            "06+12345678",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(DomainError::InvalidPhone), "{bad:?}");
        }
        assert_eq!(
            PhoneNumber::parse(""),
            Err(DomainError::Missing {
                field: Field::SenderPhone
            })
        );
        assert_eq!(
            PhoneNumber::parse("06 1234 5678\n"),
            Err(DomainError::ControlCharacter {
                field: Field::SenderPhone
            })
        );
        assert_eq!(
            PhoneNumber::parse(&"1 ".repeat(20)),
            Err(DomainError::TooLong {
                field: Field::SenderPhone,
                max: 32
            })
        );
    }

    #[test]
    fn notification_text_keeps_line_breaks_and_normalises_crlf() {
        let text = NotificationText::parse("Hallo,\r\n\r\nZie bijlage.\n")
            .expect("valid")
            .expect("not empty");
        assert_eq!(text.as_str(), "Hallo,\n\nZie bijlage.");
    }

    #[test]
    fn empty_notification_text_means_the_default_text() {
        assert_eq!(NotificationText::parse(" \n "), Ok(None));
    }

    #[test]
    fn notification_text_with_lone_cr_or_controls_is_refused() {
        let f = Field::NotificationText;
        for bad in ["a\rb", "a\tb", "a\u{1b}[31mb", "a\u{202E}b"] {
            assert_eq!(
                NotificationText::parse(bad),
                Err(DomainError::ControlCharacter { field: f }),
                "{bad:?}"
            );
        }
        assert_eq!(
            NotificationText::parse(&"x".repeat(2001)),
            Err(DomainError::TooLong { field: f, max: 2000 })
        );
    }

    #[test]
    fn only_dutch_and_english_are_supported() {
        assert_eq!(Language::parse("NL"), Ok(Language::Nl));
        assert_eq!(Language::parse("en"), Ok(Language::En));
        assert_eq!(Language::parse("de"), Err(DomainError::UnsupportedLanguage));
        assert_eq!(Language::default(), Language::Nl);
    }

    proptest! {
        #[test]
        fn no_accepted_single_line_value_contains_cr_or_lf(text in "\\PC{0,20}[\r\n]\\PC{0,20}") {
            prop_assert!(EmailAddress::parse(&text, F).is_err());
            prop_assert!(PersonName::parse(&text, Field::SenderName).is_err());
            prop_assert!(PhoneNumber::parse(&text).is_err());
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(text in "\\PC*|.*") {
            let _ = EmailAddress::parse(&text, F);
            let _ = PersonName::parse(&text, Field::SenderName);
            let _ = PhoneNumber::parse(&text);
            let _ = NotificationText::parse(&text);
        }
    }
}
