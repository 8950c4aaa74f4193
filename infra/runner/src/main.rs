//! kluis-runner: kluis on one machine.
#![forbid(unsafe_code)]

fn main() {}
