//! The sender's session once it is open: what a page may learn of it (the
//! page cannot read its HttpOnly cookie, so it asks), and ending it before
//! it expires ("not you?" on a shared computer): the record is deleted, so
//! the token opens nothing anywhere afterwards, whoever holds a copy.

use serde::{Deserialize, Serialize};

use super::{Ports, Service, ServiceError};
use crate::ids::Token;
use crate::ports::{PortError, StateStore};
use crate::timestamp::Timestamp;
use crate::transfer::Sender;

/// A live session as its holder may see it; never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// When the session ends.
    pub expires_at: Timestamp,
    /// Who the session is for.
    pub sender: Sender,
    /// Opened by a reply: it can only finish that reply, never start a
    /// transfer, so a page must not offer it for a new one.
    pub reply_only: bool,
}

impl<P: Ports> Service<P> {
    /// Describes the live session `session`; an unknown or expired one is
    /// [`crate::error::DomainError::SessionInvalid`].
    pub async fn session_info(&self, session: &Token) -> Result<SessionInfo, ServiceError> {
        let stored = self.live_session(session).await?;
        Ok(SessionInfo {
            expires_at: stored.expires_at,
            reply_only: stored.reply.is_some(),
            sender: stored.sender,
        })
    }

    /// Ends `session` server-side. Idempotent: a session that is unknown,
    /// expired or ended before is ended all the same.
    pub async fn end_session(&self, session: &Token) -> Result<(), ServiceError> {
        match self.store.delete_session(session.hash()).await {
            Ok(()) | Err(PortError::NotFound) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}
