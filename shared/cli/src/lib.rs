//! The kluis command-line client: send files encrypted on this machine and
//! receive them, over the kluis HTTP API. The server never sees a plaintext
//! byte, a file name, the message or the password.
//!
//! The library is what the binary runs and what end-to-end tests call:
//! [`send::send`], [`receive::receive`], [`manage::status`] and
//! [`manage::revoke`]. Files are streamed through the crypto crate's chunk
//! API in bounded memory (see [`upload`] and the crate README).

pub mod api;
pub mod cli;
mod download;
pub mod error;
mod files;
pub mod link;
pub mod manage;
pub mod names;
pub mod progress;
pub mod prompt;
pub mod receive;
pub mod reply;
pub mod retry;
pub mod send;
pub mod upload;

pub use error::{Error, Result};
pub use progress::Ui;
pub use receive::{ReceiveOptions, ReceiveReport, ReceivedFile, receive};
pub use send::{SendFile, SendOptions, SendReport, send};
pub use upload::Tuning;
