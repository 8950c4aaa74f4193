//! Counter items: `PK = N#<counter key>`, `SK = COUNTER`, a number
//! attribute incremented in place, TTL set once when the counter is made.
//! Counter keys hold fingerprints, never addresses.

use kluis_core::ports::{CounterKey, PortError};

use super::{Item, integer};
use crate::dynamodb::table::COUNT;
use crate::error::malformed;

/// The item type name, written on creation.
pub const KIND: &str = "counter";

/// The key of a counter's item.
pub fn key(counter: &CounterKey) -> Item {
    super::key(format!("N#{counter}"), "COUNTER")
}

/// The count an `UpdateItem` returned (`UPDATED_NEW` attributes).
pub fn count_from(attributes: &Item) -> Result<u32, PortError> {
    let count = integer(attributes, COUNT, "counter value")?;
    u32::try_from(count).map_err(|_| malformed("counter value"))
}
