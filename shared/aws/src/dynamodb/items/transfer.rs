//! Transfer items: `PK = T#<transfer id>`, `SK = TRANSFER`, with the state
//! and revision that guard every transition and the sparse purge-index
//! attributes.

use aws_sdk_dynamodb::types::AttributeValue;
use kluis_core::ids::TransferId;
use kluis_core::ports::PortError;
use kluis_core::timestamp::Timestamp;
use kluis_core::transfer::Transfer;

use super::{Item, body, number, record, string};
use crate::dynamodb::table::{PK, PURGE_DUE, PURGE_PARTITION, PURGE_PK, REVISION, STATE};
use crate::error::malformed;

const SK: &str = "TRANSFER";
const KIND: &str = "transfer";
const PK_PREFIX: &str = "T#";

/// The partition key of a transfer (shared with its audit events).
pub fn partition(id: TransferId) -> String {
    format!("{PK_PREFIX}{id}")
}

/// The key of a transfer's item.
pub fn key(id: TransferId) -> Item {
    super::key(partition(id), SK)
}

/// The item of a transfer, collectable by TTL at `ttl`.
pub fn to_item(transfer: &Transfer, ttl: Timestamp) -> Result<Item, PortError> {
    let mut item = record(partition(transfer.id()), SK, KIND, transfer, Some(ttl))?;
    item.insert(
        STATE.to_owned(),
        AttributeValue::S(transfer.state().as_str().to_owned()),
    );
    item.insert(REVISION.to_owned(), number(transfer.revision().get()));
    // Sparse: a purged transfer has no purge attributes, so it leaves the
    // index the moment it is replaced.
    if let Some(due) = transfer.purge_due_at() {
        item.insert(PURGE_PK.to_owned(), AttributeValue::S(PURGE_PARTITION.to_owned()));
        item.insert(PURGE_DUE.to_owned(), number(due.unix_seconds()));
    }
    Ok(item)
}

/// The transfer of an item read back.
pub fn from_item(item: &Item) -> Result<Transfer, PortError> {
    body(item, "transfer item")
}

/// The id of a transfer from its item's key (as the purge index returns it).
pub fn id_from_key(item: &Item) -> Result<TransferId, PortError> {
    string(item, PK, "transfer key")?
        .strip_prefix(PK_PREFIX)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| malformed("transfer key"))
}

#[cfg(test)]
mod tests {
    use kluis_core::ports::conformance::{NOW, sample_transfer};

    use super::*;
    use crate::dynamodb::table::TTL;

    fn ttl() -> Timestamp {
        NOW.plus_seconds(86_400)
    }

    #[test]
    fn a_transfer_item_reads_back_as_the_same_transfer() {
        let transfer = sample_transfer(1);
        let item = to_item(&transfer, ttl()).expect("serialisable");
        assert_eq!(from_item(&item).expect("decodes"), transfer);
        assert_eq!(id_from_key(&item).expect("key parses"), transfer.id());
    }

    #[test]
    fn the_guard_and_ttl_attributes_come_from_the_same_value() {
        let transfer = sample_transfer(1);
        let item = to_item(&transfer, ttl()).expect("serialisable");
        assert_eq!(item.get(STATE), Some(&AttributeValue::S("draft".to_owned())));
        assert_eq!(item.get(REVISION), Some(&number(transfer.revision().get())));
        assert_eq!(item.get(TTL), Some(&number(ttl().unix_seconds())));
    }

    #[test]
    fn a_purged_transfer_leaves_the_purge_index() {
        let revoked = sample_transfer(1).revoke(NOW).expect("revocable");
        let live = to_item(&revoked, ttl()).expect("serialisable");
        assert_eq!(live.get(PURGE_DUE), Some(&number(NOW.unix_seconds())));
        assert!(live.contains_key(PURGE_PK));

        let purged = to_item(&revoked.mark_purged().expect("terminal"), ttl()).expect("serialisable");
        assert!(!purged.contains_key(PURGE_PK) && !purged.contains_key(PURGE_DUE));
    }

    #[test]
    fn a_key_that_is_not_a_transfer_key_is_malformed_not_a_panic() {
        for pk in ["C#abc", "T#not-an-id", "T#"] {
            let item = super::super::key(pk.to_owned(), SK);
            assert!(matches!(id_from_key(&item), Err(PortError::Backend(_))), "{pk}");
        }
    }

    #[test]
    fn a_corrupt_body_is_a_backend_error_not_a_panic() {
        let mut item = to_item(&sample_transfer(1), ttl()).expect("serialisable");
        item.insert(
            crate::dynamodb::table::BODY.to_owned(),
            AttributeValue::S("{\"id\":".to_owned()),
        );
        assert!(matches!(from_item(&item), Err(PortError::Backend(_))));
        item.remove(crate::dynamodb::table::BODY);
        assert!(matches!(from_item(&item), Err(PortError::Backend(_))));
    }
}
