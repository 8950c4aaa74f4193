//! The `kluis` binary: parses the arguments, runs the command and turns an
//! error into a message on stderr and the exit code the README lists.

use clap::Parser;

fn main() {
    let args = kluis::cli::Args::parse();
    if let Err(error) = kluis::cli::run(args, &kluis::Ui::detect()) {
        eprintln!("kluis: {error}");
        std::process::exit(error.exit_code());
    }
}
