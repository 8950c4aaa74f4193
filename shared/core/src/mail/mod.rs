//! Mail: the [`RenderedMail`] the mailer port transports, and the
//! functions that render each mail from askama templates (`templates/`),
//! text + HTML, Dutch and English.
//!
//! Header safety is a property of the types: `to` and `reply_to` are
//! [`EmailAddress`]es (strict form, no CR/LF possible), and the subject is a
//! [`Subject`], which refuses control characters. Bodies are rendered by
//! askama with HTML escaping for the HTML part.

use core::fmt;

mod dates;
mod links;
mod render;
#[cfg(test)]
mod tests;

pub use links::{Link, PublicBaseUrl};
pub use render::{
    MailError, download_receipt, lockout_notice, recipient_notification, reply_received, revoke_notice,
    sender_summary, verification_code,
};

use crate::error::{DomainError, Field};
use crate::validate::{EmailAddress, check_single_line};

/// A mail subject: one line, no control or invisible format characters, at
/// most [`Subject::MAX_CHARS`] characters (longer text is cut at a character
/// boundary with an ellipsis, since a subject is built from a name).
#[derive(Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    /// Longest subject, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Builds a subject; refuses any control character (CR/LF above all).
    pub fn new(text: &str) -> Result<Self, DomainError> {
        check_single_line(text, Field::Subject)?;
        let text = text.trim();
        if text.chars().count() <= Self::MAX_CHARS {
            return Ok(Self(text.to_owned()));
        }
        let mut cut: String = text.chars().take(Self::MAX_CHARS - 1).collect();
        cut.push('…');
        Ok(Self(cut))
    }

    /// The subject text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject({:?})", self.0)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One message, rendered and ready to transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// The one recipient.
    pub to: EmailAddress,
    /// Where replies go (the verified sender for mail about their transfer).
    pub reply_to: Option<EmailAddress>,
    /// The subject.
    pub subject: Subject,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}
