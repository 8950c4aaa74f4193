//! An in-memory [`StateStore`]: the reference for the port's semantics
//! (each operation is one critical section, as each is one conditional
//! request in DynamoDB or one transaction in an embedded database), and a
//! store for handler tests. Not for production: nothing survives a restart.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::PortError;
use super::state_store::{CounterKey, StateStore};
use crate::audit::AuditEvent;
use crate::ids::{ChallengeId, TokenHash, TransferId};
use crate::timestamp::Timestamp;
use crate::transfer::{Precondition, Transfer};
use crate::verification::{SenderSession, VerificationChallenge};

/// A panic while the lock was held left the store in an unknown state.
#[derive(Debug, thiserror::Error)]
#[error("the in-memory store was poisoned by a panic")]
struct Poisoned;

#[derive(Debug, Default)]
struct Records {
    transfers: HashMap<TransferId, Transfer>,
    counters: HashMap<CounterKey, (u32, Timestamp)>,
    challenges: HashMap<ChallengeId, VerificationChallenge>,
    sessions: HashMap<TokenHash, SenderSession>,
    audit: HashMap<TransferId, Vec<AuditEvent>>,
    /// Challenge reads still to answer "not found" (see
    /// [`MemoryStateStore::miss_challenge_reads`]).
    missed_challenge_reads: u32,
}

/// A [`StateStore`] in a mutex.
#[derive(Debug, Default)]
pub struct MemoryStateStore(Mutex<Records>);

impl MemoryStateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `reads` challenge reads answer "not found" whatever is
    /// stored: a test's stand-in for a concurrent twin request that read
    /// just before another stored (the race a conditional write settles).
    pub fn miss_challenge_reads(&self, reads: u32) {
        if let Ok(mut records) = self.0.lock() {
            records.missed_challenge_reads = reads;
        }
    }

    fn records(&self) -> Result<MutexGuard<'_, Records>, PortError> {
        self.0.lock().map_err(|_| PortError::backend(Poisoned))
    }
}

impl StateStore for MemoryStateStore {
    async fn create_transfer(&self, transfer: &Transfer) -> Result<(), PortError> {
        let mut records = self.records()?;
        if records.transfers.contains_key(&transfer.id()) {
            return Err(PortError::ConditionFailed);
        }
        records.transfers.insert(transfer.id(), transfer.clone());
        Ok(())
    }

    async fn get_transfer(&self, id: TransferId) -> Result<Transfer, PortError> {
        self.records()?
            .transfers
            .get(&id)
            .cloned()
            .ok_or(PortError::NotFound)
    }

    async fn replace_transfer(&self, next: &Transfer, expected: Precondition) -> Result<(), PortError> {
        let mut records = self.records()?;
        let stored = records.transfers.get_mut(&next.id()).ok_or(PortError::NotFound)?;
        if stored.revision() != expected.revision || stored.state() != expected.state {
            return Err(PortError::ConditionFailed);
        }
        *stored = next.clone();
        Ok(())
    }

    async fn list_due_for_purge(&self, now: Timestamp, limit: usize) -> Result<Vec<TransferId>, PortError> {
        let records = self.records()?;
        let mut due: Vec<(Timestamp, TransferId)> = records
            .transfers
            .values()
            .filter_map(|t| t.purge_due_at().filter(|at| *at <= now).map(|at| (at, t.id())))
            .collect();
        due.sort_unstable();
        Ok(due.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn increment_counter(
        &self,
        key: &CounterKey,
        limit: u32,
        expires_at: Timestamp,
    ) -> Result<u32, PortError> {
        let mut records = self.records()?;
        let (count, _) = records.counters.entry(*key).or_insert((0, expires_at));
        if *count >= limit {
            return Err(PortError::ConditionFailed);
        }
        *count += 1;
        Ok(*count)
    }

    async fn put_challenge(&self, challenge: &VerificationChallenge) -> Result<(), PortError> {
        let mut records = self.records()?;
        if records.challenges.contains_key(&challenge.id) {
            return Err(PortError::ConditionFailed);
        }
        records.challenges.insert(challenge.id, challenge.clone());
        Ok(())
    }

    async fn get_challenge(&self, id: ChallengeId) -> Result<VerificationChallenge, PortError> {
        let mut records = self.records()?;
        if records.missed_challenge_reads > 0 {
            records.missed_challenge_reads -= 1;
            return Err(PortError::NotFound);
        }
        records.challenges.get(&id).cloned().ok_or(PortError::NotFound)
    }

    async fn take_challenge(&self, id: ChallengeId) -> Result<VerificationChallenge, PortError> {
        self.records()?.challenges.remove(&id).ok_or(PortError::NotFound)
    }

    async fn put_session(&self, session: &SenderSession) -> Result<(), PortError> {
        let mut records = self.records()?;
        if records.sessions.contains_key(&session.token_hash) {
            return Err(PortError::ConditionFailed);
        }
        records.sessions.insert(session.token_hash, session.clone());
        Ok(())
    }

    async fn get_session(&self, token_hash: TokenHash) -> Result<SenderSession, PortError> {
        self.records()?
            .sessions
            .get(&token_hash)
            .cloned()
            .ok_or(PortError::NotFound)
    }

    async fn delete_session(&self, token_hash: TokenHash) -> Result<(), PortError> {
        self.records()?
            .sessions
            .remove(&token_hash)
            .map(|_| ())
            .ok_or(PortError::NotFound)
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<(), PortError> {
        let mut records = self.records()?;
        let events = records.audit.entry(event.transfer).or_default();
        if events.iter().any(|e| e.id == event.id) {
            return Err(PortError::ConditionFailed);
        }
        events.push(event.clone());
        Ok(())
    }

    async fn list_audit(&self, transfer: TransferId) -> Result<Vec<AuditEvent>, PortError> {
        let mut events = self.records()?.audit.get(&transfer).cloned().unwrap_or_default();
        // Stable sort: events of the same second keep their append order.
        events.sort_by_key(|e| e.at);
        Ok(events)
    }
}
