//! The data folder and the embedded adapters in it:
//!
//! ```text
//! DATA/state.redb    the state store (transfers, sessions, counters, audit)
//! DATA/objects/      the object store's files
//! DATA/outbox/       every mail as an .eml file (the dev mailbox reads it)
//! DATA/signing.key   the object URL signing key, readable by this user only
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app::OBJECTS_PATH;
use crate::backend::EmbeddedPorts;
use crate::clock::DevClock;
use kluis_core::error::{DomainError, Field};
use kluis_core::mail::PublicBaseUrl;
use kluis_core::policy::Policy;
use kluis_core::ports::OsRandom;
use kluis_core::service::{Service, Settings};
use kluis_core::validate::EmailAddress;
use kluis_embedded::outbox::OutboxError;
use kluis_embedded::{DiskObjectStore, OpenError, OutboxMailer, RedbStateStore, SigningKey, StateError};

/// The address the outbox mails are from (nothing is delivered).
pub const SERVICE_ADDRESS: &str = "kluis@kluis.localhost";

/// Why the data folder cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file or folder could not be made or read.
    #[error("{path}: {source}")]
    Io {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The signing key file is not 32 bytes.
    #[error("{0}: not a signing key (32 bytes expected); delete it to make a new one")]
    BadKey(PathBuf),
    /// No random bytes for a new key.
    #[error("no random bytes for a new signing key")]
    Random,
    /// The state store did not open (another runner on the same folder?).
    #[error("the state store did not open: {0}")]
    State(#[from] StateError),
    /// The object store did not open.
    #[error("the object store did not open: {0}")]
    Objects(#[from] OpenError),
    /// The outbox did not open.
    #[error("the outbox did not open: {0}")]
    Outbox(#[from] OutboxError),
    /// The policy or the public URL is refused by the core.
    #[error("the settings are refused: {0}")]
    Settings(#[from] DomainError),
}

/// The embedded adapters over one data folder and the service over them;
/// the handlers' dependencies.
#[derive(Debug, Clone)]
pub struct Deps {
    /// Ciphertexts behind signed URLs (the runner serves them).
    pub objects: DiskObjectStore,
    /// The outbox (the dev mailbox reads its folder).
    pub mailer: OutboxMailer,
    /// Every use case, over the state store, these two and the runner's clock.
    pub service: kluis_function::Shared<EmbeddedPorts>,
}

impl Deps {
    /// Opens (creating as needed) the adapters under `data` for a runner
    /// reachable at `base_url` (e.g. `http://127.0.0.1:8080`): object URLs
    /// and mail links are built on it.
    pub async fn open(
        data: &Path,
        base_url: &str,
        policy: Policy,
        clock: DevClock,
    ) -> Result<Self, DataError> {
        let objects_url = format!("{base_url}{OBJECTS_PATH}");
        let objects_url = objects_url.as_str();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DataError::Io { path, source }
        };
        tokio::fs::create_dir_all(data).await.map_err(io(data))?;
        let key = signing_key(&data.join("signing.key")).await?;
        let objects = DiskObjectStore::open(data.join("objects"), objects_url, key).await?;
        let state_path = data.join("state.redb");
        // redb opens and creates its tables synchronously: off the runtime.
        let state = tokio::task::spawn_blocking(move || RedbStateStore::open(state_path))
            .await
            .map_err(|e| DataError::Io {
                path: data.join("state.redb"),
                source: std::io::Error::other(e),
            })??;
        let from = EmailAddress::parse(SERVICE_ADDRESS, Field::SenderEmail).map_err(|_| DataError::Io {
            path: data.join("outbox"),
            source: std::io::Error::other("the service address does not parse"),
        })?;
        let mailer = OutboxMailer::open(data.join("outbox"), "kluis", &from).await?;
        let settings = Settings::new(policy, PublicBaseUrl::parse(base_url)?);
        let service = Service::new(state, objects.clone(), mailer.clone(), clock, OsRandom, settings)?;
        Ok(Self {
            objects,
            mailer,
            service: Arc::new(service),
        })
    }
}

/// The key in `path`, or a new one written there (mode 0600) when absent.
async fn signing_key(path: &Path) -> Result<SigningKey, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => {
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| DataError::BadKey(path.to_path_buf()))?;
            Ok(SigningKey::from_bytes(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(&OsRandom).map_err(|_| DataError::Random)?;
            let mut options = tokio::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            options.mode(0o600);
            let mut file = options.open(path).await.map_err(io)?;
            tokio::io::AsyncWriteExt::write_all(&mut file, &key.to_bytes())
                .await
                .map_err(io)?;
            file.sync_all().await.map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}
