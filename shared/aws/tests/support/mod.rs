//! Shared test support: the moto server harness and per-test environments.

pub mod moto;
