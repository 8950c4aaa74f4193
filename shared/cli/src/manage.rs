//! `kluis status` and `kluis revoke`: the sender's manage link, from the
//! summary mail, read or used from the command line.

use kluis_core::service::manage::{Revoked, Status};
use zeroize::Zeroizing;

use crate::api::Api;
use crate::error::Result;
use crate::link::{self, LinkKind};

/// The transfer's state, files and downloads per recipient.
pub fn status(manage_link: &str) -> Result<Status> {
    let link = link::parse(manage_link, LinkKind::Manage)?;
    let token = Zeroizing::new(link.token.reveal());
    Api::new(&link.api)?.get(&format!("/api/manage/{}", link.transfer), &token)
}

/// The transfer's status, or `None` when it is gone: revoked or expired,
/// its files and keys deleted (the server answers both alike, 410
/// `transfer_gone`). Any other refusal is an error.
pub fn status_or_gone(manage_link: &str) -> Result<Option<Status>> {
    match status(manage_link) {
        Ok(status) => Ok(Some(status)),
        Err(crate::error::Error::Api {
            status: 410, code, ..
        }) if code == "transfer_gone" => Ok(None),
        Err(other) => Err(other),
    }
}

/// Revokes the transfer: its files and key are deleted and recipients told.
pub fn revoke(manage_link: &str) -> Result<Revoked> {
    let link = link::parse(manage_link, LinkKind::Manage)?;
    let token = Zeroizing::new(link.token.reveal());
    Api::new(&link.api)?.post(
        &format!("/api/manage/{}/revoke", link.transfer),
        Some(&token),
        &serde_json::json!({}),
    )
}
