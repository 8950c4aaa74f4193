//! kluis-http: the runtime glue every kluis function binary and the
//! single-machine runner share.
//!
//! A function is a plain `async fn(http::Request<Bytes>) -> http::Response<Bytes>`
//! (or a [`Router`] of them). [`run`] serves it under `lambda_http` on Lambda
//! and as a plain HTTP/1 server on `$PORT` anywhere else; [`Api`] wraps it
//! with what every answer needs: a body limit enforced while reading, panic
//! containment, security headers and one access-log line that never holds a
//! query string, a body, a cookie or a token.
//!
//! - [`error`]: [`ApiError`], mapped once to a status and a stable `code`;
//! - [`response`]: JSON answers and the security headers;
//! - [`body`]: reading a body under a limit, parsing JSON;
//! - [`request`]: the client's address as the server saw it;
//! - [`extract`]: path ids, session and link tokens, the session transport;
//! - [`session`]: the session cookie and the CLI's bearer form;
//! - [`router`]: method + path templates (`/api/transfers/{id}`);
//! - [`log`]: JSON logs and the access-log line;
//! - [`config`]: environment variables, failing fast;
//! - [`server`] and [`lambda`]: the two ways to serve an [`Api`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod body;
pub mod config;
pub mod error;
pub mod extract;
pub mod lambda;
pub mod log;
pub mod request;
pub mod response;
pub mod router;
pub mod server;
pub mod session;

pub use api::{Api, DEFAULT_BODY_LIMIT, MAX_TARGET_LEN, check_target};
pub use error::ApiError;
pub use router::{PathParams, RouteTemplate, Router};
pub use server::{RunError, run, run_api};
