//! A [`StateStore`] in a redb file: one write transaction per operation,
//! so every conditional write is atomic exactly as the port specifies (redb
//! runs one write transaction at a time; a condition read inside it cannot
//! go stale before the commit).
//!
//! Records are stored as JSON (the core's serde forms) under their id's
//! text form. Two indexes are kept in the same transactions as the records:
//! transfers by purge due time (sparse, like the DynamoDB index) and audit
//! events by transfer and time. Expired records are not swept: the core
//! checks expiry itself, and the scheduled purge removes transfers.

use std::path::Path;
use std::sync::Arc;

use kluis_core::audit::AuditEvent;
use kluis_core::ids::{ChallengeId, TokenHash, TransferId};
use kluis_core::ports::{CounterKey, PortError, StateStore};
use kluis_core::timestamp::Timestamp;
use kluis_core::transfer::{Precondition, Transfer};
use kluis_core::verification::{SenderSession, VerificationChallenge};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

const TRANSFERS: TableDefinition<&str, &[u8]> = TableDefinition::new("transfers");
/// `"{due:020}#{transfer}"` → (): zero-padded so text order is time order.
const PURGE_DUE: TableDefinition<&str, ()> = TableDefinition::new("purge_due");
/// Counter text key → (count, expires at in unix seconds).
const COUNTERS: TableDefinition<&str, (u32, u64)> = TableDefinition::new("counters");
const CHALLENGES: TableDefinition<&str, &[u8]> = TableDefinition::new("challenges");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// `"{transfer}#{at:020}#{sequence:010}"` → event: listed in time order,
/// same-second events in append order.
const AUDIT: TableDefinition<&str, &[u8]> = TableDefinition::new("audit");
/// `"{transfer}#{event id}"` → (): makes appends idempotent.
const AUDIT_IDS: TableDefinition<&str, ()> = TableDefinition::new("audit_ids");

/// Why the redb store failed (always a backend failure for the port).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The database failed.
    #[error("redb: {0}")]
    Redb(#[from] redb::Error),
    /// A stored record did not decode (or a record did not encode).
    #[error("record codec: {0}")]
    Codec(#[from] serde_json::Error),
    /// The blocking task running the transaction panicked or was cancelled.
    #[error("the database task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
}

fn backend(error: impl Into<StateError>) -> PortError {
    PortError::backend(error.into())
}

/// Turns any redb error into a port error in one `?`.
fn or_backend<T, E: Into<redb::Error>>(result: Result<T, E>) -> Result<T, PortError> {
    result.map_err(|e| backend(e.into()))
}

fn encode(value: &impl Serialize) -> Result<Vec<u8>, PortError> {
    serde_json::to_vec(value).map_err(backend)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PortError> {
    serde_json::from_slice(bytes).map_err(backend)
}

fn purge_key(due: Timestamp, id: TransferId) -> String {
    format!("{:020}#{id}", due.unix_seconds())
}

/// The redb-backed store. Cheap to clone (the database is shared).
#[derive(Clone)]
pub struct RedbStateStore {
    db: Arc<Database>,
}

impl core::fmt::Debug for RedbStateStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RedbStateStore")
    }
}

impl RedbStateStore {
    /// Opens (or creates) the database file at `path` and its tables.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let db = Database::create(path).map_err(redb::Error::from)?;
        // Create every table up front so read transactions never meet a
        // missing one.
        let txn = db.begin_write().map_err(redb::Error::from)?;
        create_tables(&txn)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Runs `op` in one write transaction on the blocking pool, committing
    /// only if it returns `Ok`: a refused condition writes nothing.
    async fn write<T: Send + 'static>(
        &self,
        op: impl FnOnce(&WriteTransaction) -> Result<T, PortError> + Send + 'static,
    ) -> Result<T, PortError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let txn = or_backend(db.begin_write())?;
            let value = op(&txn)?;
            or_backend(txn.commit())?;
            Ok(value)
        })
        .await
        .map_err(backend)?
    }

    /// Reads one JSON record by key.
    async fn read<T: DeserializeOwned + Send + 'static>(
        &self,
        table: TableDefinition<'static, &'static str, &'static [u8]>,
        key: String,
    ) -> Result<T, PortError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let txn = or_backend(db.begin_read())?;
            let table = or_backend(txn.open_table(table))?;
            let guard = or_backend(table.get(key.as_str()))?.ok_or(PortError::NotFound)?;
            decode(guard.value())
        })
        .await
        .map_err(backend)?
    }
}

fn create_tables(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(TRANSFERS)?;
    txn.open_table(PURGE_DUE)?;
    txn.open_table(COUNTERS)?;
    txn.open_table(CHALLENGES)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(AUDIT)?;
    txn.open_table(AUDIT_IDS)?;
    Ok(())
}

/// Inserts `value` under `key` unless the key exists (`ConditionFailed`).
fn insert_new(
    txn: &WriteTransaction,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
    value: &[u8],
) -> Result<(), PortError> {
    let mut table = or_backend(txn.open_table(table))?;
    if or_backend(table.get(key))?.is_some() {
        return Err(PortError::ConditionFailed);
    }
    or_backend(table.insert(key, value))?;
    Ok(())
}

/// Writes a transfer and moves its purge index entry from `old` to it.
fn write_transfer(txn: &WriteTransaction, next: &Transfer, old: Option<&Transfer>) -> Result<(), PortError> {
    let bytes = encode(next)?;
    or_backend(
        or_backend(txn.open_table(TRANSFERS))?.insert(next.id().to_string().as_str(), bytes.as_slice()),
    )?;
    let mut index = or_backend(txn.open_table(PURGE_DUE))?;
    if let Some(due) = old.and_then(Transfer::purge_due_at) {
        or_backend(index.remove(purge_key(due, next.id()).as_str()))?;
    }
    if let Some(due) = next.purge_due_at() {
        or_backend(index.insert(purge_key(due, next.id()).as_str(), ()))?;
    }
    Ok(())
}

impl StateStore for RedbStateStore {
    async fn create_transfer(&self, transfer: &Transfer) -> Result<(), PortError> {
        let transfer = transfer.clone();
        self.write(move |txn| {
            let exists =
                or_backend(or_backend(txn.open_table(TRANSFERS))?.get(transfer.id().to_string().as_str()))?
                    .is_some();
            if exists {
                return Err(PortError::ConditionFailed);
            }
            write_transfer(txn, &transfer, None)
        })
        .await
    }

    async fn get_transfer(&self, id: TransferId) -> Result<Transfer, PortError> {
        self.read(TRANSFERS, id.to_string()).await
    }

    async fn replace_transfer(&self, next: &Transfer, expected: Precondition) -> Result<(), PortError> {
        let next = next.clone();
        self.write(move |txn| {
            let stored: Transfer = {
                let table = or_backend(txn.open_table(TRANSFERS))?;
                let guard =
                    or_backend(table.get(next.id().to_string().as_str()))?.ok_or(PortError::NotFound)?;
                decode(guard.value())?
            };
            if stored.revision() != expected.revision || stored.state() != expected.state {
                return Err(PortError::ConditionFailed);
            }
            write_transfer(txn, &next, Some(&stored))
        })
        .await
    }

    async fn list_due_for_purge(&self, now: Timestamp, limit: usize) -> Result<Vec<TransferId>, PortError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let txn = or_backend(db.begin_read())?;
            let index = or_backend(txn.open_table(PURGE_DUE))?;
            // '~' sorts after every base64url character, so this bound
            // includes every id due at exactly `now`.
            let end = format!("{:020}#~", now.unix_seconds());
            let mut due = Vec::new();
            for entry in or_backend(index.range::<&str>(..=end.as_str()))?.take(limit) {
                let (key, ()) = or_backend(entry).map(|(k, v)| (k, v.value()))?;
                let id = key
                    .value()
                    .split_once('#')
                    .and_then(|(_, id)| id.parse::<TransferId>().ok())
                    .ok_or_else(|| {
                        backend(StateError::Codec(serde::de::Error::custom("bad purge index key")))
                    })?;
                due.push(id);
            }
            Ok(due)
        })
        .await
        .map_err(backend)?
    }

    async fn increment_counter(
        &self,
        key: &CounterKey,
        limit: u32,
        expires_at: Timestamp,
    ) -> Result<u32, PortError> {
        let key = key.to_string();
        self.write(move |txn| {
            let mut table = or_backend(txn.open_table(COUNTERS))?;
            let current = or_backend(table.get(key.as_str()))?.map(|g| g.value());
            // An existing counter keeps its first expiry: windows do not slide.
            let (count, expiry) = current.unwrap_or((0, expires_at.unix_seconds()));
            if count >= limit {
                return Err(PortError::ConditionFailed);
            }
            or_backend(table.insert(key.as_str(), (count + 1, expiry)))?;
            Ok(count + 1)
        })
        .await
    }

    async fn put_challenge(&self, challenge: &VerificationChallenge) -> Result<(), PortError> {
        let (key, bytes) = (challenge.id.to_string(), encode(challenge)?);
        self.write(move |txn| insert_new(txn, CHALLENGES, &key, &bytes))
            .await
    }

    async fn get_challenge(&self, id: ChallengeId) -> Result<VerificationChallenge, PortError> {
        self.read(CHALLENGES, id.to_string()).await
    }

    async fn take_challenge(&self, id: ChallengeId) -> Result<VerificationChallenge, PortError> {
        let key = id.to_string();
        self.write(move |txn| {
            let mut table = or_backend(txn.open_table(CHALLENGES))?;
            let removed = or_backend(table.remove(key.as_str()))?.ok_or(PortError::NotFound)?;
            decode(removed.value())
        })
        .await
    }

    async fn put_session(&self, session: &SenderSession) -> Result<(), PortError> {
        let (key, bytes) = (session.token_hash.to_string(), encode(session)?);
        self.write(move |txn| insert_new(txn, SESSIONS, &key, &bytes))
            .await
    }

    async fn get_session(&self, token_hash: TokenHash) -> Result<SenderSession, PortError> {
        self.read(SESSIONS, token_hash.to_string()).await
    }

    async fn delete_session(&self, token_hash: TokenHash) -> Result<(), PortError> {
        let key = token_hash.to_string();
        self.write(move |txn| {
            let mut table = or_backend(txn.open_table(SESSIONS))?;
            or_backend(table.remove(key.as_str()))?.ok_or(PortError::NotFound)?;
            Ok(())
        })
        .await
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<(), PortError> {
        let bytes = encode(event)?;
        let (transfer, id, at) = (event.transfer, event.id, event.at);
        self.write(move |txn| {
            let mut ids = or_backend(txn.open_table(AUDIT_IDS))?;
            let id_key = format!("{transfer}#{id}");
            if or_backend(ids.get(id_key.as_str()))?.is_some() {
                return Err(PortError::ConditionFailed);
            }
            or_backend(ids.insert(id_key.as_str(), ()))?;
            let mut audit = or_backend(txn.open_table(AUDIT))?;
            let (from, to) = (format!("{transfer}#"), format!("{transfer}#~"));
            let sequence = or_backend(audit.range::<&str>(from.as_str()..to.as_str()))?.count();
            let key = format!("{transfer}#{:020}#{sequence:010}", at.unix_seconds());
            or_backend(audit.insert(key.as_str(), bytes.as_slice()))?;
            Ok(())
        })
        .await
    }

    async fn list_audit(&self, transfer: TransferId) -> Result<Vec<AuditEvent>, PortError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let txn = or_backend(db.begin_read())?;
            let audit = or_backend(txn.open_table(AUDIT))?;
            let (from, to) = (format!("{transfer}#"), format!("{transfer}#~"));
            let mut events = Vec::new();
            for entry in or_backend(audit.range::<&str>(from.as_str()..to.as_str()))? {
                let (_, value) = or_backend(entry)?;
                events.push(decode(value.value())?);
            }
            Ok(events)
        })
        .await
        .map_err(backend)?
    }
}

#[cfg(test)]
mod tests {
    use kluis_core::ports::conformance::{NOW, sample_transfer};

    use super::*;

    #[tokio::test]
    async fn records_survive_reopening_the_database_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("state.redb");
        let transfer = sample_transfer(1);
        let key = CounterKey::UnlockFailures(transfer.id());
        {
            let store = RedbStateStore::open(&path).expect("open");
            store.create_transfer(&transfer).await.expect("create");
            store.increment_counter(&key, 3, NOW).await.expect("count");
        }
        let store = RedbStateStore::open(&path).expect("reopen");
        assert_eq!(store.get_transfer(transfer.id()).await.expect("read"), transfer);
        assert_eq!(store.increment_counter(&key, 3, NOW).await.expect("count"), 2);
    }

    #[tokio::test]
    async fn a_counter_keeps_its_first_expiry() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = RedbStateStore::open(dir.path().join("state.redb")).expect("open");
        let key = CounterKey::UnlockFailures(TransferId::from_bytes([1; 16]));
        store.increment_counter(&key, 5, NOW).await.expect("count");
        store
            .increment_counter(&key, 5, NOW.plus_seconds(3600))
            .await
            .expect("count");
        let txn = store.db.begin_read().expect("read");
        let stored = txn
            .open_table(COUNTERS)
            .expect("table")
            .get(key.to_string().as_str())
            .expect("get")
            .map(|g| g.value());
        assert_eq!(stored, Some((2, NOW.unix_seconds())));
    }

    #[tokio::test]
    async fn a_corrupt_record_is_a_backend_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = RedbStateStore::open(dir.path().join("state.redb")).expect("open");
        let id = TransferId::from_bytes([9; 16]);
        let txn = store.db.begin_write().expect("write");
        txn.open_table(TRANSFERS)
            .expect("table")
            .insert(id.to_string().as_str(), b"{not json".as_slice())
            .expect("insert");
        txn.commit().expect("commit");
        assert!(matches!(store.get_transfer(id).await, Err(PortError::Backend(_))));
        let next = sample_transfer(9).revoke(NOW).expect("revocable");
        assert!(matches!(
            store
                .replace_transfer(&next, sample_transfer(9).precondition())
                .await,
            Err(PortError::Backend(_))
        ));
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_refused_on_open() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("state.redb");
        std::fs::write(&path, b"not a redb file at all").expect("write");
        assert!(RedbStateStore::open(&path).is_err());
    }
}
