//! What the transport knows about a request beyond its headers: the
//! client's address (the peer of the plain server, API Gateway's
//! `sourceIp` on Lambda), which the core's rate limits count per client.

use core::net::IpAddr;

/// The client's IP address, in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client's address as text, or `"unknown"` when the transport gave
/// none (all such clients then share one rate limit, which errs safe).
pub fn client<B>(request: &http::Request<B>) -> String {
    request
        .extensions()
        .get::<ClientIp>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.to_string())
}
