//! kluis-runner: parses the options, binds, prints where to open things and
//! serves until SIGTERM or Ctrl-C. Everything else lives in the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use kluis_http::config::Config;
use kluis_runner::options::{Options, OptionsError};

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args_os().skip(1), &Config::from_process()) {
        Ok(options) => options,
        Err(OptionsError::Help) => {
            print!("{}", kluis_runner::options::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("kluis-runner: {error}");
            return ExitCode::from(2);
        }
    };
    kluis_http::log::init();
    let bound = match kluis_runner::bind(&options).await {
        Ok(bound) => bound,
        Err(error) => {
            eprintln!("kluis-runner: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", bound.banner());
    bound.serve(kluis_http::server::shutdown_signal()).await;
    ExitCode::SUCCESS
}
