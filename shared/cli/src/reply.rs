//! `reply`: a recipient answers a transfer with files, from its retrieval
//! link and its password — the inbound path (partners send to staff).
//!
//! Proving the password (the auth key, counted like an unlock) stands in for
//! the code verification: the API answers with a draft to the original
//! sender and a session, and the ordinary upload, key and send steps finish
//! it. The reply is sealed under the same password as the transfer it
//! answers (with its own salt and content key), since both sides know it
//! already and no new password has to be passed.

use kluis_core::error::Field;
use kluis_core::ids::TransferId as WireTransferId;
use kluis_core::service::reply::{Reply, ReplyStarted};
use kluis_core::service::retrieval::PublicInfo;
use kluis_core::timestamp::Timestamp;
use kluis_core::validate::{EmailAddress, Language, PersonName, PhoneNumber};
use kluis_crypto::{KdfParams, TransferId};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::api::Api;
use crate::error::{Error, Result};
use crate::files;
use crate::link::{self, LinkKind};
use crate::progress::Ui;
use crate::send::{SendFile, fill_and_send, random_request_id};
use crate::upload::Tuning;

/// What to answer, to which transfer. `Debug` leaves the link's token and
/// the password out.
#[derive(Clone)]
pub struct ReplyOptions {
    /// The retrieval link of the transfer answered.
    pub link: String,
    /// That transfer's password; the reply is sealed under it too.
    pub password: Zeroizing<String>,
    /// The replier's name as the original sender sees it.
    pub name: String,
    /// The replier's phone number.
    pub phone: Option<String>,
    /// The confidential message (sealed in the manifest; may be empty).
    pub message: String,
    /// Language of the notice; `None` is the original transfer's.
    pub language: Option<Language>,
    /// Whether the replier is mailed when the original sender downloads.
    pub download_receipts: bool,
    /// The files, in the order the original sender sees them.
    pub files: Vec<SendFile>,
    /// Upload parallelism and retries.
    pub tuning: Tuning,
}

impl std::fmt::Debug for ReplyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let link = self
            .link
            .split_once('#')
            .map_or(self.link.as_str(), |(before, _)| before);
        f.debug_struct("ReplyOptions")
            .field("link", &format_args!("{link}#<redacted>"))
            .field("password", &"<redacted>")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// The outcome of a reply.
#[derive(Debug)]
pub struct ReplyReport {
    /// The reply (a transfer from the replier to the original sender).
    pub transfer_id: WireTransferId,
    /// The transfer answered.
    pub in_reply_to: WireTransferId,
    /// When the reply expires.
    pub expires_at: Timestamp,
    /// Recipients (the original sender) whose notice could not be mailed.
    pub undelivered: Vec<EmailAddress>,
    /// Names and plaintext sizes of the files sent.
    pub files: Vec<(String, u64)>,
}

/// The reply request plus `bearer`, so the session token comes back in the
/// body for a client without cookies.
#[derive(Serialize)]
struct ReplyRequest {
    #[serde(flatten)]
    reply: Reply,
    bearer: bool,
}

/// Runs the whole reply.
pub fn reply(options: &ReplyOptions, ui: &Ui) -> Result<ReplyReport> {
    let usage = |e: kluis_core::error::DomainError| Error::Usage(e.to_string());
    let link = link::parse(&options.link, LinkKind::Retrieve)?;
    let name = PersonName::parse(&options.name, Field::SenderName).map_err(usage)?;
    let phone = options
        .phone
        .as_deref()
        .map(PhoneNumber::parse)
        .transpose()
        .map_err(usage)?;
    if options.files.is_empty() {
        return Err(Error::Usage("at least one file is needed".into()));
    }
    if options.password.trim().is_empty() {
        return Err(Error::Usage("the password must not be empty".into()));
    }
    let local = options
        .files
        .iter()
        .map(files::local)
        .collect::<Result<Vec<_>>>()?;

    let api = Api::new(&link.api)?;
    let token = Zeroizing::new(link.token.reveal());
    let answered = link.transfer;
    let info: PublicInfo = api.get(&format!("/api/retrieve/{answered}"), &token)?;
    ui.note("Checking the password…");
    let kdf = KdfParams {
        m_kib: info.kdf.m_kib,
        t: info.kdf.t,
        p: info.kdf.p,
    };
    let original = TransferId::from(answered);
    let keys = kluis_crypto::derive_password_keys(&options.password, info.salt.as_bytes(), kdf, &original)
        .map_err(|e| Error::Protocol(format!("the transfer's key parameters are refused: {e}")))?;
    let request = ReplyRequest {
        reply: Reply {
            request_id: random_request_id()?,
            auth_key: keys.auth.clone(),
            name,
            phone,
            language: options.language,
            download_receipts: options.download_receipts,
            notification_text: None,
        },
        bearer: true,
    };
    drop(keys);
    let started: ReplyStarted =
        match api.post(&format!("/api/retrieve/{answered}/reply"), Some(&token), &request) {
            Err(Error::Api { code, message, .. }) if code == "wrong_password" => {
                return Err(Error::WrongPassword(message));
            }
            other => other?,
        };
    let session = Zeroizing::new(started.session.session_token.clone());
    let sent = fill_and_send(
        &api,
        &session,
        started.transfer_id,
        &local,
        &options.password,
        options.message.clone(),
        &options.tuning,
        ui,
    )?;
    Ok(ReplyReport {
        transfer_id: sent.transfer_id,
        in_reply_to: answered,
        expires_at: sent.expires_at,
        undelivered: sent.undelivered,
        files: local.iter().map(|f| (f.name.clone(), f.size)).collect(),
    })
}
