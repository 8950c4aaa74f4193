//! Serving an [`Api`] under `lambda_http` (API Gateway HTTP API and
//! function URL events, payload 2.0): the event becomes an
//! `http::Request<Bytes>`, the answer an event response.

use bytes::Bytes;
use http::{Request, Response};
use lambda_http::{Body, service_fn};

use crate::api::Api;
use crate::request::ClientIp;

/// Whether this process runs on Lambda (the runtime API is announced).
pub fn on_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Polls the Lambda runtime for events and answers each with `api`.
pub async fn serve(api: Api) -> Result<(), lambda_http::Error> {
    lambda_http::run(service_fn(move |event: lambda_http::Request| {
        let api = api.clone();
        async move { Ok::<_, lambda_http::Error>(to_event(api.call(from_event(event)).await)) }
    }))
    .await
}

/// An event request as a plain request.
pub fn from_event(event: lambda_http::Request) -> Request<Bytes> {
    let client = match event.extensions().get::<lambda_http::request::RequestContext>() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
            context.http.source_ip.as_deref().and_then(|ip| ip.parse().ok())
        }
        _ => None,
    };
    let mut request = event.map(|body| match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        // `Body` is non-exhaustive; a future kind of body is refused as empty.
        _ => Bytes::new(),
    });
    if let Some(ip) = client {
        request.extensions_mut().insert(ClientIp(ip));
    }
    request
}

/// A plain answer as an event response: text when it is UTF-8 (JSON), else
/// binary (base64 on the wire, decoded by the gateway).
pub fn to_event(response: Response<Bytes>) -> Response<Body> {
    response.map(|bytes| {
        if bytes.is_empty() {
            Body::Empty
        } else {
            match String::from_utf8(bytes.to_vec()) {
                Ok(text) => Body::Text(text),
                Err(e) => Body::Binary(e.into_bytes()),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_bodies_become_bytes_and_answers_become_text_or_binary() {
        let event = lambda_http::Request::new(Body::Text("{}".to_owned()));
        assert_eq!(from_event(event).body().as_ref(), b"{}");
        let event = lambda_http::Request::new(Body::Binary(vec![0xff]));
        assert_eq!(from_event(event).body().as_ref(), [0xff]);
        assert!(
            matches!(to_event(Response::new(Bytes::from_static(b"{}"))).body(), Body::Text(t) if t == "{}")
        );
        assert!(
            matches!(to_event(Response::new(Bytes::from_static(&[0xff]))).body(), Body::Binary(b) if b == &[0xff])
        );
        assert!(matches!(
            to_event(Response::new(Bytes::new())).body(),
            Body::Empty
        ));
    }
}
