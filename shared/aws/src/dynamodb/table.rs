//! The single table's shape: key and attribute names, the purge index, and
//! a helper that creates the table (tests; operators get it from the SAM
//! template). `README.md` of this crate documents the layout in full.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use kluis_core::ports::PortError;

use crate::error::backend;

/// Partition key (string).
pub const PK: &str = "PK";
/// Sort key (string).
pub const SK: &str = "SK";
/// Item type: `transfer`, `challenge`, `session`, `counter`, `audit`.
pub const KIND: &str = "kind";
/// The record as JSON (the core's serde form), for every type but counters.
pub const BODY: &str = "body";
/// A transfer's revision (number), checked by every transition.
pub const REVISION: &str = "revision";
/// A transfer's state name, checked by every transition.
pub const STATE: &str = "state";
/// A counter's value (number).
pub const COUNT: &str = "count";
/// Unix seconds after which DynamoDB may delete the item (garbage
/// collection only: reads check expiry themselves).
pub const TTL: &str = "expires";
/// Partition key of the purge index: the constant [`PURGE_PARTITION`] on
/// transfers not yet purged, absent otherwise (a sparse index).
pub const PURGE_PK: &str = "purge_pk";
/// Sort key of the purge index: when the transfer is due for purge (number).
pub const PURGE_DUE: &str = "purge_due";
/// The one value of [`PURGE_PK`].
pub const PURGE_PARTITION: &str = "due";
/// The global secondary index listing transfers by purge time.
pub const PURGE_INDEX: &str = "purge-due";

/// Creates the table with its purge index and TTL attribute, billed per
/// request. Tables on moto are active at once; on AWS wait for `ACTIVE`.
pub async fn create_table(client: &Client, table: &str) -> Result<(), PortError> {
    let string_key = |name: &str| attribute(name, ScalarAttributeType::S);
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_key(PK)?)
        .attribute_definitions(string_key(SK)?)
        .attribute_definitions(string_key(PURGE_PK)?)
        .attribute_definitions(attribute(PURGE_DUE, ScalarAttributeType::N)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(PURGE_INDEX)
                .key_schema(key(PURGE_PK, KeyType::Hash)?)
                .key_schema(key(PURGE_DUE, KeyType::Range)?)
                // The expiry job needs only the transfer's id, which the
                // table key carries; it re-reads the item consistently.
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .map_err(|e| backend("DynamoDB.CreateTable", e))?,
        )
        .send()
        .await
        .map_err(|e| backend("DynamoDB.CreateTable", e))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL)
                .build()
                .map_err(|e| backend("DynamoDB.UpdateTimeToLive", e))?,
        )
        .send()
        .await
        .map_err(|e| backend("DynamoDB.UpdateTimeToLive", e))?;
    Ok(())
}

fn attribute(name: &str, kind: ScalarAttributeType) -> Result<AttributeDefinition, PortError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(|e| backend("DynamoDB.CreateTable", e))
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, PortError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| backend("DynamoDB.CreateTable", e))
}
