//! The `expire` function binary: on Lambda each scheduled event runs the
//! job once; elsewhere `POST /run` does (a cron job or a person).
#![forbid(unsafe_code)]

use kluis_function::aws::AwsPorts;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kluis_function::entry::serve_scheduled("kluis-expire", kluis_expire::run::<AwsPorts>).await
}
