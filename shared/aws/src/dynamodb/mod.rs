//! The DynamoDB [`StateStore`]: one table, one conditional request per
//! port operation, so races are decided by DynamoDB, never by
//! read-then-write here. Layout and guards: this crate's `README.md`.

mod items;
pub mod table;

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt::Debug;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use kluis_core::audit::AuditEvent;
use kluis_core::ids::{ChallengeId, TokenHash, TransferId};
use kluis_core::policy::Policy;
use kluis_core::ports::{CounterKey, PortError, StateStore};
use kluis_core::timestamp::Timestamp;
use kluis_core::transfer::{Precondition, Transfer};
use kluis_core::verification::{SenderSession, VerificationChallenge};

use crate::error::backend;
use items::{Item, audit, challenge, counter, number, session, transfer};
use table::{COUNT, KIND, PK, PURGE_DUE, PURGE_INDEX, PURGE_PARTITION, PURGE_PK, REVISION, SK, STATE, TTL};

/// Create-if-absent: the condition of every put that must not overwrite.
const ABSENT: &str = "attribute_not_exists(#pk)";

/// A [`StateStore`] on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStateStore {
    client: Client,
    table: String,
    /// Only `keep_gone_records_days` is read: it sets transfers' TTL.
    policy: Policy,
}

impl DynamoStateStore {
    /// A store on `table`; transfer TTLs follow `policy`.
    pub fn new(client: Client, table: impl Into<String>, policy: Policy) -> Self {
        Self {
            client,
            table: table.into(),
            policy,
        }
    }

    /// The SDK client, e.g. for a test to inspect raw items.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Puts `item` only if no item has its key.
    async fn put_new(&self, item: Item) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(ABSENT)
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| write_error("DynamoDB.PutItem", e))
    }

    /// A strongly consistent read of one item (`NotFound` if absent).
    async fn get(&self, key: Item) -> Result<Item, PortError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("DynamoDB.GetItem", e))?
            .item
            .ok_or(PortError::NotFound)
    }
}

/// Maps a write's error: a failed condition (or a cancelled transaction)
/// is the port's `ConditionFailed`, anything else a backend failure.
fn write_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match error.code() {
        Some("ConditionalCheckFailedException" | "TransactionCanceledException") => {
            PortError::ConditionFailed
        }
        _ => backend(operation, error),
    }
}

impl StateStore for DynamoStateStore {
    async fn create_transfer(&self, transfer: &Transfer) -> Result<(), PortError> {
        let ttl = transfer.record_expires_at(&self.policy);
        self.put_new(transfer::to_item(transfer, ttl)?).await
    }

    async fn get_transfer(&self, id: TransferId) -> Result<Transfer, PortError> {
        transfer::from_item(&self.get(transfer::key(id)).await?)
    }

    async fn replace_transfer(&self, next: &Transfer, expected: Precondition) -> Result<(), PortError> {
        let ttl = next.record_expires_at(&self.policy);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(transfer::to_item(next, ttl)?))
            .condition_expression("attribute_exists(#pk) AND #rev = :rev AND #state = :state")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#rev", REVISION)
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":rev", number(expected.revision.get()))
            .expression_attribute_values(":state", AttributeValue::S(expected.state.as_str().to_owned()))
            // Tells "absent" from "other revision" without a second read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let Err(error) = result else { return Ok(()) };
        let old_item_returned = match error.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item.is_some(),
            _ => return Err(backend("DynamoDB.PutItem", error)),
        };
        if old_item_returned {
            return Err(PortError::ConditionFailed);
        }
        // An emulator may not return the old item: decide by a consistent read.
        match self.get(transfer::key(next.id())).await {
            Ok(_) => Err(PortError::ConditionFailed),
            Err(other) => Err(other),
        }
    }

    async fn list_due_for_purge(&self, now: Timestamp, limit: usize) -> Result<Vec<TransferId>, PortError> {
        let mut due = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        while due.len() < limit {
            let page_limit = i32::try_from(limit - due.len()).unwrap_or(i32::MAX);
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(PURGE_INDEX)
                .key_condition_expression("#ppk = :due AND #pdue <= :now")
                .expression_attribute_names("#ppk", PURGE_PK)
                .expression_attribute_names("#pdue", PURGE_DUE)
                .expression_attribute_values(":due", AttributeValue::S(PURGE_PARTITION.to_owned()))
                .expression_attribute_values(":now", number(now.unix_seconds()))
                .scan_index_forward(true)
                .limit(page_limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("DynamoDB.Query", e))?;
            for item in page.items() {
                due.push(transfer::id_from_key(item)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        due.truncate(limit);
        Ok(due)
    }

    async fn increment_counter(
        &self,
        key: &CounterKey,
        limit: u32,
        expires_at: Timestamp,
    ) -> Result<u32, PortError> {
        // `attribute_not_exists` would let a zero limit create the counter at 1.
        if limit == 0 {
            return Err(PortError::ConditionFailed);
        }
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter::key(key)))
            // `if_not_exists` keeps the first TTL: a window does not slide.
            .update_expression(
                "SET #kind = if_not_exists(#kind, :kind), #ttl = if_not_exists(#ttl, :ttl) ADD #count :one",
            )
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#count", COUNT)
            .expression_attribute_values(":kind", AttributeValue::S(counter::KIND.to_owned()))
            .expression_attribute_values(":ttl", number(expires_at.unix_seconds()))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":limit", number(u64::from(limit)))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| write_error("DynamoDB.UpdateItem", e))?;
        counter::count_from(updated.attributes.as_ref().unwrap_or(&HashMap::new()))
    }

    async fn put_challenge(&self, challenge: &VerificationChallenge) -> Result<(), PortError> {
        self.put_new(challenge::to_item(challenge)?).await
    }

    async fn get_challenge(&self, id: ChallengeId) -> Result<VerificationChallenge, PortError> {
        challenge::from_item(&self.get(challenge::key(id)).await?)
    }

    async fn take_challenge(&self, id: ChallengeId) -> Result<VerificationChallenge, PortError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(challenge::key(id)))
            // Of racing takes only the one that deletes an existing item wins.
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| match write_error("DynamoDB.DeleteItem", e) {
                PortError::ConditionFailed => PortError::NotFound,
                other => other,
            })?;
        challenge::from_item(deleted.attributes.as_ref().ok_or(PortError::NotFound)?)
    }

    async fn put_session(&self, session: &SenderSession) -> Result<(), PortError> {
        self.put_new(session::to_item(session)?).await
    }

    async fn get_session(&self, token_hash: TokenHash) -> Result<SenderSession, PortError> {
        session::from_item(&self.get(session::key(token_hash)).await?)
    }

    async fn delete_session(&self, token_hash: TokenHash) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session::key(token_hash)))
            // Tells "there was none" apart without a read first.
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match write_error("DynamoDB.DeleteItem", e) {
                PortError::ConditionFailed => PortError::NotFound,
                other => other,
            })
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<(), PortError> {
        self.put_new(audit::to_item(event)?).await
    }

    async fn list_audit(&self, transfer_id: TransferId) -> Result<Vec<AuditEvent>, PortError> {
        let mut events = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :audit)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", AttributeValue::S(transfer::partition(transfer_id)))
                .expression_attribute_values(":audit", AttributeValue::S(audit::SK_PREFIX.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("DynamoDB.Query", e))?;
            for item in page.items() {
                events.push(audit::from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        // Sort keys order events by id; the port wants them by time.
        events.sort_by_key(|event| event.at);
        Ok(events)
    }
}
