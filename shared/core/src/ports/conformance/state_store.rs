//! The conformance suite every [`StateStore`] adapter runs: the port's
//! contract as executable checks, including the two races the design names.
//! Each check panics with a message on a violation, like an assertion; call
//! them from `#[tokio::test(flavor = "multi_thread")]` tests with a fresh,
//! empty store. Re-exported at [`super`] so `conformance::run_all` keeps working.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::audit::{AuditEvent, AuditKind};
use crate::error::Field;
use crate::ids::{ChallengeId, EventId, Token, TransferId};
use crate::policy::Policy;
use crate::ports::{CounterKey, PortError, StateStore};
use crate::timestamp::Timestamp;
use crate::transfer::{NewTransfer, Sender, Transfer, TransferState};
use crate::validate::{EmailAddress, Language, PersonName};
use crate::verification::{SenderSession, VerificationChallenge, VerificationCode};

/// The moment the suite's records are made at.
pub const NOW: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);

fn policy() -> Policy {
    Policy {
        internal_domains: vec!["example.nl".to_owned()],
        ..Policy::default()
    }
}

fn sender() -> Sender {
    Sender {
        name: PersonName::parse("Conformance", Field::SenderName).expect("literal name is valid"),
        email: EmailAddress::parse("sender@example.nl", Field::SenderEmail)
            .expect("literal address is valid"),
        phone: None,
    }
}

/// A valid draft transfer with id bytes all `n`.
pub fn sample_transfer(n: u8) -> Transfer {
    let new = NewTransfer {
        id: TransferId::from_bytes([n; 16]),
        sender: sender(),
        recipients: vec![
            EmailAddress::parse("partner@extern.example", Field::RecipientEmail)
                .expect("literal address is valid"),
        ],
        language: Language::En,
        download_receipts: false,
        retention_days: None,
        notification_text: None,
        in_reply_to: None,
    };
    Transfer::draft(new, &policy(), NOW).expect("the sample transfer satisfies the policy")
}

fn is_condition_failed<T>(result: &Result<T, PortError>) -> bool {
    matches!(result, Err(PortError::ConditionFailed))
}

/// Create-if-absent, read, replace-if-revision-and-state, and `NotFound`.
pub async fn transfers_are_created_once_and_replaced_conditionally<S: StateStore>(store: &S) {
    let draft = sample_transfer(1);
    assert!(
        matches!(store.get_transfer(draft.id()).await, Err(PortError::NotFound)),
        "absent transfer must be NotFound"
    );
    store
        .create_transfer(&draft)
        .await
        .expect("create a new transfer");
    assert!(
        is_condition_failed(&store.create_transfer(&draft).await),
        "second create must be ConditionFailed"
    );
    assert_eq!(store.get_transfer(draft.id()).await.expect("read back"), draft);

    let revoked = draft.revoke(NOW).expect("a draft can be revoked");
    store
        .replace_transfer(&revoked, draft.precondition())
        .await
        .expect("replace from the stored revision");
    assert_eq!(
        store.get_transfer(draft.id()).await.expect("read back").state(),
        TransferState::Revoked
    );
    let stale = draft.revoke(NOW).expect("a draft can be revoked");
    assert!(
        is_condition_failed(&store.replace_transfer(&stale, draft.precondition()).await),
        "replace from a stale revision must be ConditionFailed"
    );
    let absent = sample_transfer(2).revoke(NOW).expect("a draft can be revoked");
    assert!(matches!(
        store
            .replace_transfer(&absent, sample_transfer(2).precondition())
            .await,
        Err(PortError::NotFound)
    ));
}

/// 20 concurrent transitions from the same revision: exactly one wins.
pub async fn of_twenty_racing_transitions_exactly_one_wins<S: StateStore + 'static>(store: Arc<S>) {
    let draft = sample_transfer(3);
    store
        .create_transfer(&draft)
        .await
        .expect("create a new transfer");
    let tasks: Vec<_> = (0..20u64)
        .map(|i| {
            let store = Arc::clone(&store);
            let draft = draft.clone();
            tokio::spawn(async move {
                let next = draft.revoke(NOW.plus_seconds(i)).expect("a draft can be revoked");
                store.replace_transfer(&next, draft.precondition()).await
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.expect("task did not panic") {
            Ok(()) => wins += 1,
            Err(PortError::ConditionFailed) => {}
            Err(other) => panic!("a losing transition must be ConditionFailed, got {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one of 20 racing transitions must win");
}

/// 50 concurrent increments against a limit of 10: exactly 10 succeed, with
/// the counts 1 to 10 each returned once.
pub async fn of_fifty_racing_increments_exactly_ten_succeed<S: StateStore + 'static>(store: Arc<S>) {
    let key = CounterKey::UnlockFailures(TransferId::from_bytes([4; 16]));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.increment_counter(&key, 10, NOW.plus_seconds(3600)).await })
        })
        .collect();
    let mut counts = BTreeSet::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task did not panic") {
            Ok(count) => assert!(counts.insert(count), "count {count} returned twice"),
            Err(PortError::ConditionFailed) => refused += 1,
            Err(other) => panic!("an increment at the limit must be ConditionFailed, got {other:?}"),
        }
    }
    assert_eq!(
        counts,
        (1..=10).collect(),
        "exactly the counts 1..=10 must be handed out"
    );
    assert_eq!(refused, 40);
}

/// Challenges are put once and taken once; sessions are put once.
pub async fn challenges_are_taken_once_and_sessions_put_once<S: StateStore>(store: &S) {
    let code = VerificationCode::from_number(123_456);
    let challenge =
        VerificationChallenge::issue(ChallengeId::from_bytes([5; 16]), sender(), &code, &policy(), NOW);
    store
        .put_challenge(&challenge)
        .await
        .expect("put a new challenge");
    assert!(
        is_condition_failed(&store.put_challenge(&challenge).await),
        "second put must be ConditionFailed"
    );
    assert_eq!(
        store.get_challenge(challenge.id).await.expect("read back"),
        challenge
    );
    assert_eq!(
        store.take_challenge(challenge.id).await.expect("first take"),
        challenge
    );
    assert!(
        matches!(store.take_challenge(challenge.id).await, Err(PortError::NotFound)),
        "second take must be NotFound"
    );

    let session = SenderSession::open(&Token::from_bytes([6; 32]), &challenge, &policy(), NOW);
    store.put_session(&session).await.expect("put a new session");
    assert!(
        is_condition_failed(&store.put_session(&session).await),
        "second put must be ConditionFailed"
    );
    assert_eq!(
        store.get_session(session.token_hash).await.expect("read back"),
        session
    );
    assert!(matches!(
        store.get_session(Token::from_bytes([7; 32]).hash()).await,
        Err(PortError::NotFound)
    ));
}

/// A deleted session is gone for good and a second delete is `NotFound`;
/// the sender's other sessions stay.
pub async fn sessions_are_deleted_once_and_alone<S: StateStore>(store: &S) {
    let code = VerificationCode::from_number(654_321);
    let challenge =
        VerificationChallenge::issue(ChallengeId::from_bytes([8; 16]), sender(), &code, &policy(), NOW);
    let ended = SenderSession::open(&Token::from_bytes([9; 32]), &challenge, &policy(), NOW);
    let other = SenderSession::open(&Token::from_bytes([10; 32]), &challenge, &policy(), NOW);
    store.put_session(&ended).await.expect("put a new session");
    store.put_session(&other).await.expect("put a second session");
    store
        .delete_session(ended.token_hash)
        .await
        .expect("delete a stored session");
    assert!(
        matches!(
            store.get_session(ended.token_hash).await,
            Err(PortError::NotFound)
        ),
        "a deleted session must be NotFound"
    );
    assert!(
        matches!(
            store.delete_session(ended.token_hash).await,
            Err(PortError::NotFound)
        ),
        "a second delete must be NotFound"
    );
    assert!(
        matches!(
            store.delete_session(Token::from_bytes([11; 32]).hash()).await,
            Err(PortError::NotFound)
        ),
        "deleting a session never stored must be NotFound"
    );
    assert_eq!(
        store
            .get_session(other.token_hash)
            .await
            .expect("the other session stays"),
        other
    );
}

/// Transfers due for purge are listed earliest first, up to the limit;
/// purged ones and ones not yet due are not.
pub async fn due_transfers_are_listed_earliest_first<S: StateStore>(store: &S) {
    let live = sample_transfer(10); // due at its draft expiry, in the future
    let revoked_late = sample_transfer(11)
        .revoke(NOW.plus_seconds(20))
        .expect("revocable");
    let revoked_early = sample_transfer(12)
        .revoke(NOW.plus_seconds(10))
        .expect("revocable");
    let purged = sample_transfer(13)
        .revoke(NOW)
        .expect("revocable")
        .mark_purged()
        .expect("terminal");
    for t in [&live, &revoked_late, &revoked_early, &purged] {
        store.create_transfer(t).await.expect("create a new transfer");
    }
    let due = store
        .list_due_for_purge(NOW.plus_seconds(60), 10)
        .await
        .expect("list");
    assert_eq!(due, vec![revoked_early.id(), revoked_late.id()]);
    let first = store
        .list_due_for_purge(NOW.plus_seconds(60), 1)
        .await
        .expect("list");
    assert_eq!(first, vec![revoked_early.id()]);
}

/// Audit events are appended once and listed oldest first.
pub async fn audit_events_are_appended_once_and_listed_in_order<S: StateStore>(store: &S) {
    let transfer = TransferId::from_bytes([20; 16]);
    let event = |n: u8, at: u64, kind: AuditKind| AuditEvent {
        id: EventId::from_bytes([n; 16]),
        transfer,
        at: NOW.plus_seconds(at),
        kind,
    };
    let later = event(2, 10, AuditKind::Sent);
    let earlier = event(1, 0, AuditKind::Created { recipients: 1 });
    store.append_audit(&later).await.expect("append");
    store.append_audit(&earlier).await.expect("append");
    assert!(
        is_condition_failed(&store.append_audit(&earlier).await),
        "a retried append must be ConditionFailed"
    );
    assert_eq!(
        store.list_audit(transfer).await.expect("list"),
        vec![earlier, later]
    );
    assert_eq!(
        store
            .list_audit(TransferId::from_bytes([21; 16]))
            .await
            .expect("list"),
        vec![]
    );
}

/// Runs every check above against stores made by `fresh` (one per check).
pub async fn run_all<S: StateStore + 'static>(fresh: impl Fn() -> S) {
    transfers_are_created_once_and_replaced_conditionally(&fresh()).await;
    of_twenty_racing_transitions_exactly_one_wins(Arc::new(fresh())).await;
    of_fifty_racing_increments_exactly_ten_succeed(Arc::new(fresh())).await;
    challenges_are_taken_once_and_sessions_put_once(&fresh()).await;
    sessions_are_deleted_once_and_alone(&fresh()).await;
    due_transfers_are_listed_earliest_first(&fresh()).await;
    audit_events_are_appended_once_and_listed_in_order(&fresh()).await;
}

#[cfg(test)]
mod tests {
    use crate::ports::MemoryStateStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_in_memory_store_conforms_to_the_state_store_contract() {
        super::run_all(MemoryStateStore::new).await;
    }
}
