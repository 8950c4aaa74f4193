//! The mailer port: transports one already rendered message. Templates are
//! rendered in one place ([`crate::mail`]); SES, SMTP and the .eml outbox
//! only transport.

use core::future::Future;

use super::PortError;
use crate::mail::RenderedMail;

/// Sends rendered mail. The adapter sets `From` (the service's own address,
/// from its configuration) and MUST take `To`, `Reply-To` and `Subject` only
/// from the [`RenderedMail`], whose types already guarantee they are single
/// header-safe lines.
pub trait Mailer: Send + Sync {
    /// Sends one message.
    fn send(&self, mail: &RenderedMail) -> impl Future<Output = Result<(), PortError>> + Send;
}
