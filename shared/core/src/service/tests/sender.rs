//! Steps 1 and 2: codes, their limits, sessions.

use super::*;
use crate::error::DomainError;
use crate::service::ServiceError;
use crate::verification::VerificationCode;

/// A code that differs from `right` in its first digit.
fn wrong(right: &VerificationCode) -> VerificationCode {
    let digits = right.reveal();
    let first = if digits.starts_with('1') { '2' } else { '1' };
    VerificationCode::parse(&format!("{first}{}", &digits[1..])).expect("six digits")
}

#[tokio::test]
async fn a_code_request_mails_a_code_that_opens_a_session_for_that_address() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let sender = service.session_sender(&session).await.expect("live session");
    assert_eq!(sender.email.as_str(), "jan@example.nl");
    let mails = service.mailer().sent_to("jan@example.nl");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].reply_to, None);
}

#[tokio::test]
async fn a_retried_code_request_mails_once_and_answers_the_same_challenge() {
    let service = service();
    let request = code_request("jan@example.nl");
    let first = service
        .request_code(CLIENT, request.clone())
        .await
        .expect("first try");
    let retry = service.request_code(CLIENT, request).await.expect("retry");
    assert_eq!(first, retry);
    assert_eq!(service.mailer().sent().len(), 1, "one mail for one intent");
    // The retry was not counted against the hourly limit: four more fit.
    for _ in 0..4 {
        service
            .request_code(CLIENT, code_request("jan@example.nl"))
            .await
            .expect("within the limit");
    }
}

#[tokio::test]
async fn twin_code_requests_that_race_count_once_against_the_limits_and_mail_once() {
    let service = service();
    let request = code_request("jan@example.nl");
    let first = service
        .request_code(CLIENT, request.clone())
        .await
        .expect("first try");
    // The twin read before the first stored: it misses the challenge, and
    // the conditional put tells it the first won.
    service.store().miss_challenge_reads(1);
    let twin = service.request_code(CLIENT, request).await.expect("twin");
    assert_eq!(first, twin);
    assert_eq!(service.mailer().sent().len(), 1, "one mail for one intent");
    for _ in 0..4 {
        service
            .request_code(CLIENT, code_request("jan@example.nl"))
            .await
            .expect("the twin did not use up the hour's limit");
    }
    let over = service.request_code(CLIENT, code_request("jan@example.nl")).await;
    assert_eq!(domain(over), DomainError::RateLimited);
}

#[tokio::test]
async fn a_rate_limited_request_leaves_no_challenge_behind() {
    let service = service();
    for _ in 0..5 {
        service
            .request_code(CLIENT, code_request("jan@example.nl"))
            .await
            .expect("within the limit");
    }
    let request = code_request("jan@example.nl");
    let refused = service.request_code(CLIENT, request.clone()).await;
    assert_eq!(domain(refused), DomainError::RateLimited);
    service.clock().advance(Timestamp::HOUR);
    service
        .request_code(CLIENT, request)
        .await
        .expect("the retry an hour later gets a code, not the refused try's challenge");
    assert_eq!(service.mailer().sent().len(), 6);
}

#[tokio::test]
async fn a_sixth_code_request_for_an_address_within_the_hour_is_rate_limited() {
    let service = service();
    for _ in 0..5 {
        service
            .request_code(CLIENT, code_request("jan@example.nl"))
            .await
            .expect("within the limit");
    }
    let sixth = service.request_code(CLIENT, code_request("jan@example.nl")).await;
    assert_eq!(domain(sixth), DomainError::RateLimited);
    assert_eq!(service.mailer().sent().len(), 5, "no mail for a refused request");
    service.clock().advance(Timestamp::HOUR);
    service
        .request_code(CLIENT, code_request("jan@example.nl"))
        .await
        .expect("a new hour, a new allowance");
}

#[tokio::test]
async fn a_client_asking_codes_for_many_addresses_is_rate_limited() {
    let service = service();
    for n in 0..20 {
        service
            .request_code(CLIENT, code_request(&format!("user{n}@example.nl")))
            .await
            .expect("within the limit");
    }
    let refused = service
        .request_code(CLIENT, code_request("user20@example.nl"))
        .await;
    assert_eq!(domain(refused), DomainError::RateLimited);
    service
        .request_code("198.51.100.9", code_request("user20@example.nl"))
        .await
        .expect("another client is not affected");
}

#[tokio::test]
async fn when_the_code_is_wrong_five_times_verification_is_locked() {
    let service = service();
    let requested = service
        .request_code(CLIENT, code_request("jan@example.nl"))
        .await
        .expect("requested");
    let mail = service.mailer().sent().pop().expect("a mail");
    let right = crate::service::testing::code_in(&mail).expect("a code");
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        let answer = VerifyCode {
            challenge_id: requested.challenge_id,
            code: wrong(&right),
        };
        outcomes.push(domain(service.verify_code(answer).await));
    }
    assert_eq!(outcomes[0], DomainError::WrongCode { remaining: 4 });
    assert_eq!(outcomes[3], DomainError::WrongCode { remaining: 1 });
    assert_eq!(outcomes[4], DomainError::CodeAttemptsExhausted);
    let late = service
        .verify_code(VerifyCode {
            challenge_id: requested.challenge_id,
            code: right,
        })
        .await;
    assert_eq!(
        domain(late),
        DomainError::CodeAttemptsExhausted,
        "the right code no longer helps"
    );
}

#[tokio::test]
async fn a_code_older_than_its_validity_is_refused() {
    let service = service();
    let requested = service
        .request_code(CLIENT, code_request("jan@example.nl"))
        .await
        .expect("requested");
    let code = crate::service::testing::code_in(&service.mailer().sent()[0]).expect("a code");
    service.clock().advance(15 * Timestamp::MINUTE);
    let late = service
        .verify_code(VerifyCode {
            challenge_id: requested.challenge_id,
            code,
        })
        .await;
    assert_eq!(domain(late), DomainError::CodeExpired);
}

#[tokio::test]
async fn a_code_opens_one_session_only() {
    let service = service();
    let requested = service
        .request_code(CLIENT, code_request("jan@example.nl"))
        .await
        .expect("requested");
    let code = crate::service::testing::code_in(&service.mailer().sent()[0]).expect("a code");
    let answer = VerifyCode {
        challenge_id: requested.challenge_id,
        code,
    };
    service.verify_code(answer.clone()).await.expect("first use");
    assert_eq!(
        domain(service.verify_code(answer).await),
        DomainError::CodeExpired
    );
}

#[tokio::test]
async fn when_the_code_mail_fails_the_retry_mails_a_fresh_code() {
    let service = service();
    let request = code_request("jan@example.nl");
    service.mailer().set_failing(true);
    let failed = service.request_code(CLIENT, request.clone()).await;
    assert!(matches!(failed, Err(ServiceError::Port(_))));
    assert_eq!(failed.err().map(|e| e.http_status()), Some(503));
    service.mailer().set_failing(false);
    service.request_code(CLIENT, request).await.expect("retry");
    assert_eq!(service.mailer().sent().len(), 1);
}

#[tokio::test]
async fn an_unknown_or_expired_session_cannot_start_a_transfer() {
    let service = service();
    let stranger = Token::from_bytes([9; 32]);
    let refused = service
        .create_draft(&stranger, draft_request(&["a@example.nl"], false))
        .await;
    assert_eq!(domain(refused), DomainError::SessionInvalid);
    let session = sign_in(&service, "jan@example.nl").await;
    service.clock().advance(120 * Timestamp::MINUTE);
    let late = service
        .create_draft(&session, draft_request(&["a@example.nl"], false))
        .await;
    assert_eq!(domain(late), DomainError::SessionInvalid);
}

#[tokio::test]
async fn a_live_session_is_described_and_an_expired_or_unknown_one_is_invalid() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let info = service.session_info(&session).await.expect("a live session");
    assert_eq!(info.sender.email.as_str(), "jan@example.nl");
    assert_eq!(info.expires_at, NOW.plus_seconds(120 * Timestamp::MINUTE));
    assert!(!info.reply_only);
    assert_eq!(
        domain(service.session_info(&Token::from_bytes([9; 32])).await),
        DomainError::SessionInvalid
    );
    service.clock().advance(120 * Timestamp::MINUTE);
    assert_eq!(
        domain(service.session_info(&session).await),
        DomainError::SessionInvalid
    );
}

#[tokio::test]
async fn an_ended_session_opens_nothing_and_ending_it_again_is_fine() {
    let service = service();
    let session = sign_in(&service, "jan@example.nl").await;
    let other = sign_in(&service, "jan@example.nl").await;
    let transfer = draft(&service, &session, &["a@extern.example"], false).await;
    service.end_session(&session).await.expect("ended");
    assert_eq!(
        domain(service.session_info(&session).await),
        DomainError::SessionInvalid
    );
    assert_eq!(
        domain(
            service
                .create_draft(&session, draft_request(&["a@extern.example"], false))
                .await
        ),
        DomainError::SessionInvalid
    );
    assert_eq!(
        domain(
            service
                .send(
                    &session,
                    transfer,
                    crate::service::transfer::SendOptions::default()
                )
                .await
        ),
        DomainError::SessionInvalid
    );
    service.end_session(&session).await.expect("again: still fine");
    service
        .end_session(&Token::from_bytes([9; 32]))
        .await
        .expect("an unknown session: fine");
    service
        .session_info(&other)
        .await
        .expect("the sender's other session stays");
}

#[test]
fn the_public_policy_is_the_services_policy() {
    let service = service();
    let public = service.public_policy();
    assert_eq!(public.internal_domains, ["example.nl"]);
    assert_eq!(public.max_recipients, 20);
    assert_eq!(public.own_password, crate::policy::OwnPassword::default());
}
