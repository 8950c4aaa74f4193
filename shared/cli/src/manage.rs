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
