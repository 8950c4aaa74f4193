//! Audit event items: `PK = T#<transfer id>` (the transfer's partition, so
//! one query lists its trail), `SK = A#<event id>`, no TTL: the trail
//! outlives the transfer record for the operator to keep or export.

use kluis_core::audit::AuditEvent;
use kluis_core::ports::PortError;

use super::{Item, body, record, transfer};

const KIND: &str = "audit";

/// Prefix of every audit sort key, for `begins_with` in the listing query.
pub const SK_PREFIX: &str = "A#";

/// The item of an event. The event id alone is the sort key so that a
/// retried append of the same event (same id) always meets the condition.
pub fn to_item(event: &AuditEvent) -> Result<Item, PortError> {
    record(
        transfer::partition(event.transfer),
        &format!("{SK_PREFIX}{}", event.id),
        KIND,
        event,
        None,
    )
}

/// The event of an item read back.
pub fn from_item(item: &Item) -> Result<AuditEvent, PortError> {
    body(item, "audit item")
}
