//! The `transfer` function, step 6 of the wizard: seal the keyed transfer
//! exactly once (a retried or racing send sends no second set of mails),
//! notify every recipient with their own link, summarise to the sender.
//! The optional body carries the sender's last choices (`SendOptions`:
//! recipients, language, receipts, retention, text), applied in the same
//! write; without one, or with `null` (what the CLI sends), the draft is
//! sent as it is.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_core::service::Ports;
use kluis_function::Shared;
use kluis_http::extract::{session_token, transfer_id};
use kluis_http::{Router, body, response};

/// `POST` (session): send.
pub const SEND_PATH: &str = "/api/transfers/{id}/send";

/// The function's routes.
pub fn routes<P: Ports>(service: &Shared<P>) -> Router {
    let service = Arc::clone(service);
    Router::new().route(Method::POST, SEND_PATH, move |request| {
        send::<P>(Arc::clone(&service), request)
    })
}

/// `POST /api/transfers/{id}/send` with an optional `SendOptions` body:
/// 200 `{transfer_id, expires_at, sent_now, undelivered, summary_delivered}`.
pub async fn send<P: Ports>(service: Shared<P>, request: Request<Bytes>) -> Response<Bytes> {
    let outcome = async {
        let session = session_token(&request)?;
        let transfer = transfer_id(&request)?;
        let choices = body::optional_json(&request)?;
        Ok(service.send(&session, transfer, choices).await?)
    };
    response::result(StatusCode::OK, outcome.await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kluis_core::service::testing::MemoryPorts;
    use kluis_core::service::testing::walk;
    use kluis_core::timestamp::Timestamp;
    use kluis_function::testing::{self, call};
    use serde_json::json;

    #[tokio::test]
    async fn sending_twice_mails_each_recipient_once() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(
            &service,
            &session,
            &["a@extern.example", "b@extern.example"],
            false,
        )
        .await;
        walk::upload(&service, &session, transfer, 1000).await;
        service
            .set_key(&session, transfer, walk::key_request(&walk::RIGHT_KEY))
            .await
            .expect("keyed");
        let path = format!("/api/transfers/{transfer}/send");
        let first = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session.reveal()),
            None,
        )
        .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.json);
        assert_eq!(first.json["sent_now"], true);
        let again = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session.reveal()),
            None,
        )
        .await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.json);
        assert_eq!(again.json["sent_now"], false);
        // The first answer carries the summary mail's manage link, for the
        // summary screen; the retry cannot (only its hash is kept).
        let link = first.json["manage_link"].as_str().expect("a manage link");
        assert!(link.contains(&format!("/manage/{transfer}#")), "{link}");
        let summary = service
            .mailer()
            .sent_to("jan@example.nl")
            .pop()
            .expect("a summary");
        assert!(summary.text.contains(link), "the summary mail has the same link");
        assert!(again.json.get("manage_link").is_none(), "{}", again.json);
        assert_eq!(service.mailer().sent_to("a@extern.example").len(), 1);
        assert_eq!(service.mailer().sent_to("b@extern.example").len(), 1);
    }

    /// A keyed transfer from jan@example.nl to `recipients` and its session.
    async fn keyed(service: &Shared<MemoryPorts>, recipients: &[&str]) -> (String, String) {
        let session = testing::session(service, "jan@example.nl").await;
        let transfer = walk::draft(service, &session, recipients, false).await;
        walk::upload(service, &session, transfer, 1000).await;
        service
            .set_key(&session, transfer, walk::key_request(&walk::RIGHT_KEY))
            .await
            .expect("keyed");
        (session.reveal(), format!("/api/transfers/{transfer}/send"))
    }

    #[tokio::test]
    async fn the_last_choices_in_the_body_decide_recipients_expiry_text_and_language() {
        let service = testing::service();
        let (session, path) = keyed(&service, &["a@extern.example"]).await;
        let choices = json!({
            "recipients": ["b@extern.example", "c@extern.example"],
            "language": "nl",
            "download_receipts": true,
            "retention_days": 2,
            "notification_text": "Zie bijlage.",
        });
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session),
            Some(choices),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(answer.json["sent_now"], true);
        let two_days = walk::NOW.plus_seconds(2 * Timestamp::DAY).unix_seconds();
        assert_eq!(answer.json["expires_at"], two_days);
        assert!(service.mailer().sent_to("a@extern.example").is_empty());
        for to in ["b@extern.example", "c@extern.example"] {
            let mails = service.mailer().sent_to(to);
            assert_eq!(mails.len(), 1, "{to}");
            assert!(mails[0].text.contains("Zie bijlage."), "{}", mails[0].text);
            assert!(
                mails[0].text.contains("heeft u via kluis"),
                "in Dutch: {}",
                mails[0].text
            );
        }
    }

    #[tokio::test]
    async fn last_choices_against_the_policy_are_refused_with_their_codes() {
        let service = testing::service();
        let (session, path) = keyed(&service, &["a@extern.example"]).await;
        let routes = routes::<MemoryPorts>(&service);
        let many: Vec<String> = (0..21).map(|i| format!("r{i}@extern.example")).collect();
        let refusals = [
            (json!({ "recipients": [] }), 400, "field_missing"),
            (json!({ "retention_days": 0 }), 400, "malformed"),
            (json!({ "recipients": many }), 422, "too_many_recipients"),
            (
                json!({ "recipients": ["d@extern.example", "D@extern.example"] }),
                422,
                "duplicate_recipient",
            ),
            (json!({ "retention_days": 31 }), 422, "retention_too_long"),
            (json!({ "language": null }), 400, "malformed_json"),
            (json!({ "expiry": 3 }), 400, "malformed_json"),
            (json!([]), 400, "malformed_json"),
            (json!([["d@extern.example"]]), 400, "malformed_json"),
        ];
        for (body, status, code) in refusals {
            let answer = call(&routes, Method::POST, &path, Some(&session), Some(body.clone())).await;
            assert_eq!(
                (answer.status.as_u16(), answer.json["code"].as_str()),
                (status, Some(code)),
                "{body}: {}",
                answer.json
            );
        }
        assert!(
            service.mailer().sent_to("a@extern.example").is_empty(),
            "nothing sent"
        );

        let stranger = testing::session(&service, "eve@extern.example").await;
        let theirs = walk::draft(&service, &stranger, &["jan@example.nl"], false).await;
        walk::upload(&service, &stranger, theirs, 10).await;
        service
            .set_key(&stranger, theirs, walk::key_request(&walk::RIGHT_KEY))
            .await
            .expect("keyed");
        let relay = json!({ "recipients": ["mallory@elsewhere.example"] });
        let answer = call(
            &routes,
            Method::POST,
            &format!("/api/transfers/{theirs}/send"),
            Some(&stranger.reveal()),
            Some(relay),
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.json);
        assert_eq!(answer.json["code"], "no_internal_party");
    }

    #[tokio::test]
    async fn a_reply_cannot_be_sent_to_other_recipients() {
        let service = testing::service();
        walk::sent_transfer(&service, "jan@example.nl", &["a@extern.example"], &[10], false).await;
        let (id, token) = walk::link_for(&service, "a@extern.example");
        let reply = kluis_core::service::reply::Reply {
            request_id: testing::request_id(),
            auth_key: walk::RIGHT_KEY,
            name: kluis_core::validate::PersonName::parse(
                "Anna Partner",
                kluis_core::error::Field::SenderName,
            )
            .expect("a name"),
            phone: None,
            language: None,
            download_receipts: false,
            notification_text: None,
        };
        let started = service.reply(id, &token, reply).await.expect("a reply");
        let session = kluis_core::ids::Token::parse(
            &started.session.session_token,
            kluis_core::error::Field::SessionToken,
        )
        .expect("a token");
        walk::upload(&service, &session, started.transfer_id, 10).await;
        service
            .set_key(&session, started.transfer_id, walk::key_request(&walk::RIGHT_KEY))
            .await
            .expect("keyed");
        let path = format!("/api/transfers/{}/send", started.transfer_id);
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session.reveal()),
            Some(json!({ "recipients": ["mallory@extern.example"] })),
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.json);
        assert_eq!(answer.json["code"], "reply_session_only");
        assert!(service.mailer().sent_to("mallory@extern.example").is_empty());
    }

    #[tokio::test]
    async fn a_retry_after_the_send_ignores_its_body() {
        let service = testing::service();
        let (session, path) = keyed(&service, &["a@extern.example"]).await;
        let routes = routes::<MemoryPorts>(&service);
        let first = call(&routes, Method::POST, &path, Some(&session), None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.json);
        let before = service.mailer().sent().len();
        let other = json!({ "recipients": ["z@extern.example"], "retention_days": 31 });
        let retry = call(&routes, Method::POST, &path, Some(&session), Some(other)).await;
        assert_eq!(retry.status, StatusCode::OK, "{}", retry.json);
        assert_eq!(retry.json["sent_now"], false);
        assert_eq!(retry.json["expires_at"], first.json["expires_at"]);
        assert_eq!(service.mailer().sent().len(), before, "no mail");
    }

    #[tokio::test]
    async fn a_null_body_as_the_cli_sends_it_sends_the_draft_as_it_is() {
        let service = testing::service();
        let (session, path) = keyed(&service, &["a@extern.example"]).await;
        let routes = routes::<MemoryPorts>(&service);
        let answer = call(&routes, Method::POST, &path, Some(&session), Some(json!(null))).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(answer.json["sent_now"], true);
        assert_eq!(service.mailer().sent_to("a@extern.example").len(), 1);
    }

    #[tokio::test]
    async fn a_body_that_is_there_must_be_json() {
        let service = testing::service();
        let (session, path) = keyed(&service, &["a@extern.example"]).await;
        let request = Request::builder()
            .method(Method::POST)
            .uri(&path)
            .header(http::header::AUTHORIZATION, format!("Bearer {session}"))
            .header(http::header::CONTENT_TYPE, "text/plain")
            .body(Bytes::from_static(b"{}"))
            .expect("a request");
        let answer = kluis_http::Api::from(routes::<MemoryPorts>(&service))
            .call(request)
            .await;
        assert_eq!(answer.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(service.mailer().sent_to("a@extern.example").is_empty());
    }

    #[tokio::test]
    async fn a_transfer_without_a_key_cannot_be_sent() {
        let service = testing::service();
        let session = testing::session(&service, "jan@example.nl").await;
        let transfer = walk::draft(&service, &session, &["a@extern.example"], false).await;
        let path = format!("/api/transfers/{transfer}/send");
        let answer = call(
            &routes::<MemoryPorts>(&service),
            Method::POST,
            &path,
            Some(&session.reveal()),
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.json);
        assert!(service.mailer().sent_to("a@extern.example").is_empty());
    }
}
