//! Item ↔ domain mapping, one module per item type, and the attribute
//! helpers they share. Each record is kept as its core serde JSON in
//! [`BODY`](super::table::BODY); the attributes that conditions, keys,
//! indexes and TTL need are written beside it from the same value, in the
//! same request, so they cannot disagree.

pub mod audit;
pub mod challenge;
pub mod counter;
pub mod session;
pub mod transfer;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use kluis_core::ports::PortError;
use kluis_core::timestamp::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::table::{BODY, KIND, PK, SK, TTL};
use crate::error::{AwsError, malformed};

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The key of an item.
pub fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// A full item: key, type, JSON body and TTL.
pub fn record<T: Serialize>(
    pk: String,
    sk: &str,
    kind: &str,
    body: &T,
    ttl: Option<Timestamp>,
) -> Result<Item, PortError> {
    let mut item = key(pk, sk);
    item.insert(KIND.to_owned(), AttributeValue::S(kind.to_owned()));
    let json = serde_json::to_string(body).map_err(AwsError::from)?;
    item.insert(BODY.to_owned(), AttributeValue::S(json));
    if let Some(at) = ttl {
        item.insert(TTL.to_owned(), number(at.unix_seconds()));
    }
    Ok(item)
}

/// Decodes the JSON body of an item read back.
pub fn body<T: DeserializeOwned>(item: &Item, what: &'static str) -> Result<T, PortError> {
    let json = string(item, BODY, what)?;
    serde_json::from_str(json).map_err(|e| AwsError::from(e).into())
}

/// A number attribute.
pub fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute of an item read back.
pub fn string<'a>(item: &'a Item, name: &str, what: &'static str) -> Result<&'a str, PortError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(malformed(what)),
    }
}

/// A non-negative integer attribute of an item read back.
pub fn integer(item: &Item, name: &str, what: &'static str) -> Result<u64, PortError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(|_| malformed(what)),
        _ => Err(malformed(what)),
    }
}
