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
