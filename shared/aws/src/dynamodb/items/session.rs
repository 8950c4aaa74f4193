//! Sender session items: `PK = S#<token hash>`, `SK = SESSION`, TTL at the
//! session's expiry. Only the token's hash is ever stored.

use kluis_core::ids::TokenHash;
use kluis_core::ports::PortError;
use kluis_core::verification::SenderSession;

use super::{Item, body, record};

const SK: &str = "SESSION";
const KIND: &str = "session";

/// The key of a session's item.
pub fn key(token_hash: TokenHash) -> Item {
    super::key(format!("S#{token_hash}"), SK)
}

/// The item of a session.
pub fn to_item(session: &SenderSession) -> Result<Item, PortError> {
    record(
        format!("S#{}", session.token_hash),
        SK,
        KIND,
        session,
        Some(session.expires_at),
    )
}

/// The session of an item read back.
pub fn from_item(item: &Item) -> Result<SenderSession, PortError> {
    body(item, "session item")
}
