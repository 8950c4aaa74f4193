//! The `sender` function binary: its routes over the AWS adapters, under
//! `lambda_http` on Lambda and as plain HTTP on `$PORT` anywhere else.
#![forbid(unsafe_code)]

use kluis_function::aws::AwsPorts;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kluis_function::entry::serve_http("kluis-sender", kluis_sender::routes::<AwsPorts>).await
}
