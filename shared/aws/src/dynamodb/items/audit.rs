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

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;
    use kluis_core::audit::AuditKind;
    use kluis_core::ids::{EventId, TransferId};
    use kluis_core::ports::conformance::NOW;

    use super::*;
    use crate::dynamodb::table::{PK, SK, TTL};

    #[test]
    fn an_event_lives_in_its_transfers_partition_without_ttl() {
        let event = AuditEvent {
            id: EventId::from_bytes([2; 16]),
            transfer: TransferId::from_bytes([1; 16]),
            at: NOW,
            kind: AuditKind::Sent,
        };
        let item = to_item(&event).expect("serialisable");
        assert_eq!(
            item.get(PK),
            Some(&AttributeValue::S(transfer::partition(event.transfer)))
        );
        assert_eq!(item.get(SK), Some(&AttributeValue::S(format!("A#{}", event.id))));
        assert!(!item.contains_key(TTL));
        assert_eq!(from_item(&item).expect("decodes"), event);
    }
}
