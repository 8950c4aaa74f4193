//! The SESv2 [`Mailer`]: one `SendEmail` per message with simple content
//! (subject, text and HTML bodies in UTF-8), From the service's address and
//! Reply-To the verified sender. Rendering happens in the core.

use aws_config::SdkConfig;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use kluis_core::mail::RenderedMail;
use kluis_core::ports::{Mailer, PortError};

use crate::error::backend;

const CHARSET: &str = "UTF-8";

/// A [`Mailer`] sending through SESv2 from one verified address.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    /// A mailer sending as `from`, which MUST be an SES-verified identity
    /// (or in a verified domain).
    pub fn new(sdk: &SdkConfig, from: impl Into<String>) -> Self {
        Self {
            client: Client::new(sdk),
            from: from.into(),
        }
    }

    /// The SDK client, e.g. for a test to verify an identity.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn content(data: &str) -> Result<Content, PortError> {
    Content::builder()
        .data(data)
        .charset(CHARSET)
        .build()
        .map_err(|e| backend("SESv2.SendEmail", e))
}

impl Mailer for SesMailer {
    async fn send(&self, mail: &RenderedMail) -> Result<(), PortError> {
        let message = Message::builder()
            .subject(content(mail.subject.as_str())?)
            .body(
                Body::builder()
                    .text(content(&mail.text)?)
                    .html(content(&mail.html)?)
                    .build(),
            )
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(mail.to.as_str()).build())
            .set_reply_to_addresses(mail.reply_to.as_ref().map(|r| vec![r.as_str().to_owned()]))
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend("SESv2.SendEmail", e))
    }
}
