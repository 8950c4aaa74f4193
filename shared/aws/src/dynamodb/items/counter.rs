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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;

    fn answer(count: &str) -> Item {
        HashMap::from([(COUNT.to_owned(), AttributeValue::N(count.to_owned()))])
    }

    #[test]
    fn the_updated_count_is_read_from_the_answer() {
        assert_eq!(count_from(&answer("7")).expect("a count"), 7);
    }

    #[test]
    fn a_missing_negative_or_huge_count_is_malformed() {
        for bad in [HashMap::new(), answer("-1"), answer("4294967296"), answer("1.5")] {
            assert!(matches!(count_from(&bad), Err(PortError::Backend(_))));
        }
    }
}
