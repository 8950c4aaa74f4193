//! Rendering the seven mails: one view struct per mail (plain values,
//! prepared here), four askama templates per view (Dutch and English, text
//! and HTML, under `templates/`), and one function per mail that picks the
//! language, fills the view and builds the [`RenderedMail`].
//!
//! What a mail may contain is decided here, by what the views hold: never a
//! password, a file name or the confidential message (the server has none of
//! them), only names, addresses, counts, dates and links.

use askama::Template;

use super::dates::format_date_time;
use super::links::Link;
use super::{RenderedMail, Subject};
use crate::error::DomainError;
use crate::policy::Policy;
use crate::timestamp::Timestamp;
use crate::transfer::{RecipientIndex, Sender, Transfer};
use crate::validate::{EmailAddress, Language};
use crate::verification::VerificationCode;

/// Why a mail could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// A template failed to render (a bug: every view is complete).
    #[error("a mail template failed to render")]
    Template(#[from] askama::Error),
    /// The data for the mail was refused (e.g. a recipient that is not there).
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// Declares the four templates of one view and how to pick one by language.
macro_rules! localized_templates {
    ($view:ident: $nl_text:tt, $nl_html:tt, $en_text:tt, $en_html:tt) => {
        impl $view {
            fn render(&self, language: Language) -> Result<(String, String), askama::Error> {
                #[derive(Template)]
                #[template(path = $nl_text)]
                struct NlText<'a> {
                    v: &'a $view,
                }
                #[derive(Template)]
                #[template(path = $nl_html)]
                struct NlHtml<'a> {
                    v: &'a $view,
                }
                #[derive(Template)]
                #[template(path = $en_text)]
                struct EnText<'a> {
                    v: &'a $view,
                }
                #[derive(Template)]
                #[template(path = $en_html)]
                struct EnHtml<'a> {
                    v: &'a $view,
                }
                Ok(match language {
                    Language::Nl => (NlText { v: self }.render()?, NlHtml { v: self }.render()?),
                    Language::En => (EnText { v: self }.render()?, EnHtml { v: self }.render()?),
                })
            }
        }
    };
}

struct VerificationCodeView {
    code: String,
    minutes: u32,
}
localized_templates!(VerificationCodeView:
    "nl/verification_code.txt", "nl/verification_code.html",
    "en/verification_code.txt", "en/verification_code.html");

struct RecipientNotificationView {
    sender_name: String,
    sender_email: String,
    /// The sender's own text, line by line; `None` for the default text.
    text_lines: Option<Vec<String>>,
    link: String,
    expires: String,
}
localized_templates!(RecipientNotificationView:
    "nl/recipient_notification.txt", "nl/recipient_notification.html",
    "en/recipient_notification.txt", "en/recipient_notification.html");

struct SenderSummaryView {
    recipients: Vec<String>,
    file_count: usize,
    expires: String,
    download_receipts: bool,
    manage_link: String,
}
localized_templates!(SenderSummaryView:
    "nl/sender_summary.txt", "nl/sender_summary.html",
    "en/sender_summary.txt", "en/sender_summary.html");

struct DownloadReceiptView {
    recipient: String,
    downloaded_at: String,
    created_at: String,
}
localized_templates!(DownloadReceiptView:
    "nl/download_receipt.txt", "nl/download_receipt.html",
    "en/download_receipt.txt", "en/download_receipt.html");

struct LockoutNoticeView {
    created_at: String,
    attempts: u32,
    recipients: Vec<String>,
}
localized_templates!(LockoutNoticeView:
    "nl/lockout_notice.txt", "nl/lockout_notice.html",
    "en/lockout_notice.txt", "en/lockout_notice.html");

struct RevokeNoticeView {
    sender_name: String,
    sender_email: String,
    created_at: String,
}
localized_templates!(RevokeNoticeView:
    "nl/revoke_notice.txt", "nl/revoke_notice.html",
    "en/revoke_notice.txt", "en/revoke_notice.html");

struct ReplyReceivedView {
    partner: String,
    original_created_at: String,
    file_count: usize,
    link: String,
    expires: String,
}
localized_templates!(ReplyReceivedView:
    "nl/reply_received.txt", "nl/reply_received.html",
    "en/reply_received.txt", "en/reply_received.html");

fn pick(language: Language, nl: &str, en: &str) -> String {
    match language {
        Language::Nl => nl.to_owned(),
        Language::En => en.to_owned(),
    }
}

fn mail(
    to: &EmailAddress,
    reply_to: Option<&EmailAddress>,
    subject: &str,
    (text, html): (String, String),
) -> Result<RenderedMail, MailError> {
    Ok(RenderedMail {
        to: to.clone(),
        reply_to: reply_to.cloned(),
        subject: Subject::new(subject)?,
        text,
        html,
    })
}

fn addresses(transfer: &Transfer) -> Vec<String> {
    transfer
        .recipients()
        .iter()
        .map(|r| r.email.to_string())
        .collect()
}

/// The one-time code, to the address being verified.
pub fn verification_code(
    sender: &Sender,
    code: &VerificationCode,
    language: Language,
    policy: &Policy,
) -> Result<RenderedMail, MailError> {
    let view = VerificationCodeView {
        code: code.reveal().to_owned(),
        minutes: policy.code_validity_minutes,
    };
    let subject = pick(
        language,
        "Uw verificatiecode voor kluis",
        "Your kluis verification code",
    );
    mail(&sender.email, None, &subject, view.render(language)?)
}

/// The notification to one recipient: who sent, their text or the default,
/// the retrieval link, the expiry, and that the password comes by phone or
/// WhatsApp. Replies go to the sender.
pub fn recipient_notification(
    transfer: &Transfer,
    recipient: &EmailAddress,
    link: &Link,
) -> Result<RenderedMail, MailError> {
    let language = transfer.options().language;
    let sender = transfer.sender();
    let view = RecipientNotificationView {
        sender_name: sender.name.to_string(),
        sender_email: sender.email.to_string(),
        text_lines: transfer
            .options()
            .notification_text
            .as_ref()
            .map(|text| text.as_str().lines().map(str::to_owned).collect()),
        link: link.as_str().to_owned(),
        expires: format_date_time(transfer.expires_at(), language),
    };
    let subject = match language {
        Language::Nl => format!("{} heeft u bestanden gestuurd via kluis", sender.name),
        Language::En => format!("{} sent you files with kluis", sender.name),
    };
    mail(recipient, Some(&sender.email), &subject, view.render(language)?)
}

/// The summary to the sender after sending, with the manage link.
pub fn sender_summary(transfer: &Transfer, manage_link: &Link) -> Result<RenderedMail, MailError> {
    let language = transfer.options().language;
    let view = SenderSummaryView {
        recipients: addresses(transfer),
        file_count: transfer.files().len(),
        expires: format_date_time(transfer.expires_at(), language),
        download_receipts: transfer.options().download_receipts,
        manage_link: manage_link.as_str().to_owned(),
    };
    let subject = pick(
        language,
        "Uw bestanden zijn verstuurd",
        "Your files have been sent",
    );
    mail(&transfer.sender().email, None, &subject, view.render(language)?)
}

/// The download receipt to the sender, for a recipient's first download.
pub fn download_receipt(
    transfer: &Transfer,
    recipient: RecipientIndex,
    downloaded_at: Timestamp,
) -> Result<RenderedMail, MailError> {
    let language = transfer.options().language;
    let who = transfer
        .recipients()
        .get(recipient.0)
        .ok_or(DomainError::TransferNotFound)?;
    let view = DownloadReceiptView {
        recipient: who.email.to_string(),
        downloaded_at: format_date_time(downloaded_at, language),
        created_at: format_date_time(transfer.created_at(), language),
    };
    let subject = match language {
        Language::Nl => format!("{} heeft uw bestanden gedownload", who.email),
        Language::En => format!("{} downloaded your files", who.email),
    };
    mail(&transfer.sender().email, None, &subject, view.render(language)?)
}

/// The lockout notice to the sender, after `attempts` wrong passwords.
pub fn lockout_notice(transfer: &Transfer, attempts: u32) -> Result<RenderedMail, MailError> {
    let language = transfer.options().language;
    let view = LockoutNoticeView {
        created_at: format_date_time(transfer.created_at(), language),
        attempts,
        recipients: addresses(transfer),
    };
    let subject = pick(
        language,
        "Uw verzending is geblokkeerd",
        "Your transfer has been locked",
    );
    mail(&transfer.sender().email, None, &subject, view.render(language)?)
}

/// The notice to one recipient that the sender withdrew the transfer.
pub fn revoke_notice(transfer: &Transfer, recipient: &EmailAddress) -> Result<RenderedMail, MailError> {
    let language = transfer.options().language;
    let sender = transfer.sender();
    let view = RevokeNoticeView {
        sender_name: sender.name.to_string(),
        sender_email: sender.email.to_string(),
        created_at: format_date_time(transfer.created_at(), language),
    };
    let subject = match language {
        Language::Nl => format!("{} heeft een verzending ingetrokken", sender.name),
        Language::En => format!("{} withdrew a transfer", sender.name),
    };
    mail(recipient, Some(&sender.email), &subject, view.render(language)?)
}

/// The notice to the original sender that a recipient replied with files;
/// `link` is the original sender's retrieval link for the reply.
pub fn reply_received(original: &Transfer, reply: &Transfer, link: &Link) -> Result<RenderedMail, MailError> {
    let language = original.options().language;
    let partner = &reply.sender().email;
    let view = ReplyReceivedView {
        partner: partner.to_string(),
        original_created_at: format_date_time(original.created_at(), language),
        file_count: reply.files().len(),
        link: link.as_str().to_owned(),
        expires: format_date_time(reply.expires_at(), language),
    };
    let subject = match language {
        Language::Nl => format!("{partner} heeft geantwoord met bestanden"),
        Language::En => format!("{partner} replied with files"),
    };
    mail(
        &original.sender().email,
        Some(partner),
        &subject,
        view.render(language)?,
    )
}
