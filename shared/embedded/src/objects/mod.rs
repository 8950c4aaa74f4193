//! An [`ObjectStore`] on the local disk that serves its own presigned URLs,
//! so the browser uploads and downloads straight to and from it exactly as
//! it does with S3 (bytes never pass through a function).
//!
//! The store hands out URLs under its `base_url` (e.g.
//! `http://127.0.0.1:8080/objects`) signed by [`signing`]; whoever mounts
//! [`DiskObjectStore::serve`] under that URL's path answers them. Every
//! part is written to `tmp/` and renamed into place, so a reader never sees
//! a half-written part, and a crash leaves only `tmp/` litter, which
//! [`DiskObjectStore::open`] clears.
//!
//! An object is its parts: completing an upload hard-links the listed part
//! files into a folder in `tmp/` (`00001`, `00002`, … in object order) and
//! renames that folder to the object's path, so completion costs a few
//! syscalls per part however large the object, and no byte is written twice.
//! A download streams the parts in order (the folders are in `layout`).

mod body;
mod layout;
pub mod serve;
pub mod signing;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kluis_core::file::{CompletedPart, PartNumber, UploadId};
use kluis_core::ids::TransferId;
use kluis_core::ports::{
    ByteRange, Clock, ObjectKey, ObjectStore, OsRandom, PortError, PresignedUrl, RandomSource, SystemClock,
};

pub use body::ObjectBody;
use layout::{Layout, etag_hex, part_prefix};
use signing::{SignedFields, SigningKey};

/// S3's smallest part: every part but the last must be at least this big.
/// The embedded store enforces it too, so a client that works here works on S3.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// S3's largest part, the default limit of one part PUT.
pub const DEFAULT_MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// Why the store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The base URL is not `http(s)://authority[/path]` without query or fragment.
    #[error("the object base URL must be http(s)://host[:port][/path], without query or fragment")]
    BaseUrl,
    /// The root folder could not be prepared.
    #[error("preparing the object folder {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Why an operation failed inside the store (a backend failure for the port).
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Reading or writing the disk failed.
    #[error("object store I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The OS random source failed.
    #[error("no random bytes for an upload id")]
    Random,
}

fn backend(error: impl Into<ObjectError>) -> PortError {
    PortError::backend(error.into())
}

fn is_not_found(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::NotFound
}

/// Files on disk, URLs signed with HMAC-SHA256.
#[derive(Clone)]
pub struct DiskObjectStore {
    inner: Arc<Inner>,
}

struct Inner {
    layout: Layout,
    base_url: String,
    /// The path part of `base_url` (`""` or `/objects`): requests arrive under it.
    mount: String,
    key: SigningKey,
    max_part_bytes: u64,
    clock: Arc<dyn Clock>,
    /// Serialises the operations that create, consume or remove uploads and
    /// objects (complete, abort, delete), so none sees another half done.
    structure: tokio::sync::Mutex<()>,
}

impl core::fmt::Debug for DiskObjectStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DiskObjectStore")
            .field("root", &self.inner.layout.root())
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl DiskObjectStore {
    /// Opens a store rooted at `root` (created if absent) whose URLs start
    /// with `base_url`. Clears `root/tmp`: only one store may use a root.
    pub async fn open(root: impl AsRef<Path>, base_url: &str, key: SigningKey) -> Result<Self, OpenError> {
        Self::open_with(root, base_url, key, DEFAULT_MAX_PART_BYTES, Arc::new(SystemClock)).await
    }

    /// [`DiskObjectStore::open`] with a part size limit and a clock (tests
    /// make URLs expire with a [`kluis_core::ports::FixedClock`]).
    pub async fn open_with(
        root: impl AsRef<Path>,
        base_url: &str,
        key: SigningKey,
        max_part_bytes: u64,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OpenError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let mount = mount_path(&base_url).ok_or(OpenError::BaseUrl)?.to_owned();
        let layout = Layout::new(root.as_ref().to_path_buf());
        let tmp = layout.tmp();
        let io = |source| OpenError::Io {
            path: tmp.clone(),
            source,
        };
        match tokio::fs::remove_dir_all(&tmp).await {
            Err(e) if !is_not_found(&e) => return Err(io(e)),
            _ => {}
        }
        tokio::fs::create_dir_all(&tmp).await.map_err(io)?;
        Ok(Self {
            inner: Arc::new(Inner {
                layout,
                base_url,
                mount,
                key,
                max_part_bytes,
                clock,
                structure: tokio::sync::Mutex::new(()),
            }),
        })
    }

    fn expires(&self, valid_for: Duration) -> u64 {
        self.inner
            .clock
            .now()
            .unix_seconds()
            .saturating_add(valid_for.as_secs().max(1))
    }

    /// Builds a signed URL for `key` with the given extra query fields.
    fn presign(
        &self,
        method: &str,
        key: &ObjectKey,
        upload: &str,
        part: &str,
        range: &str,
        expires: u64,
    ) -> String {
        let path = format!("{}/{key}", self.inner.mount);
        let expires = expires.to_string();
        let fields = SignedFields {
            method,
            path: &path,
            upload,
            part,
            range,
            expires: &expires,
        };
        let signature = self.inner.key.sign(&fields);
        let mut query = String::new();
        if !upload.is_empty() {
            query.push_str(&format!("upload={upload}&part={part}&"));
        }
        if !range.is_empty() {
            query.push_str(&format!("range={range}&"));
        }
        format!(
            "{}/{key}?{query}expires={expires}&sig={signature}",
            self.inner.base_url
        )
    }

    /// A path in `tmp/` no one else uses.
    fn temp_path(&self) -> Result<PathBuf, PortError> {
        let mut bytes = [0; 16];
        OsRandom
            .fill(&mut bytes)
            .map_err(|_| backend(ObjectError::Random))?;
        Ok(self
            .inner
            .layout
            .tmp()
            .join(format!("{}.tmp", URL_SAFE_NO_PAD.encode(bytes))))
    }
}

/// The path of an `http(s)://authority[/path]` URL, or `None` if it is not one.
fn mount_path(base_url: &str) -> Option<&str> {
    let rest = base_url
        .strip_prefix("http://")
        .or_else(|| base_url.strip_prefix("https://"))?;
    if rest.contains(['?', '#']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    (!rest.is_empty() && !rest.starts_with('/')).then_some(path)
}

/// Removes a folder tree; absence is success (idempotent deletes).
async fn remove_tree(path: &Path) -> Result<(), PortError> {
    match tokio::fs::remove_dir_all(path).await {
        Err(e) if !is_not_found(&e) => Err(backend(e)),
        _ => Ok(()),
    }
}

impl ObjectStore for DiskObjectStore {
    async fn create_multipart_upload(&self, key: &ObjectKey) -> Result<UploadId, PortError> {
        let mut bytes = [0; 16];
        OsRandom.fill(&mut bytes)?;
        let upload =
            UploadId::parse(&URL_SAFE_NO_PAD.encode(bytes)).map_err(|_| backend(ObjectError::Random))?;
        let folder = self
            .inner
            .layout
            .upload(key, &upload)
            .ok_or_else(|| backend(ObjectError::Random))?;
        let _guard = self.inner.structure.lock().await;
        tokio::fs::create_dir_all(&folder).await.map_err(backend)?;
        Ok(upload)
    }

    async fn presign_part_uploads(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        parts: &[PartNumber],
        valid_for: Duration,
    ) -> Result<Vec<PresignedUrl>, PortError> {
        // An id this store never issued cannot name an upload.
        self.inner.layout.upload(key, upload).ok_or(PortError::NotFound)?;
        let expires = self.expires(valid_for);
        Ok(parts
            .iter()
            .map(|part| PresignedUrl {
                url: self.presign("PUT", key, upload.as_str(), &part.get().to_string(), "", expires),
                headers: Vec::new(),
                expires_at: kluis_core::Timestamp::from_unix_seconds(expires),
            })
            .collect())
    }

    async fn complete_multipart_upload(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        parts: &[CompletedPart],
    ) -> Result<(), PortError> {
        let folder = self.inner.layout.upload(key, upload).ok_or(PortError::NotFound)?;
        let _guard = self.inner.structure.lock().await;
        if !tokio::fs::try_exists(&folder).await.map_err(backend)? {
            return Err(PortError::NotFound);
        }
        // S3's rules: at least one part, ascending, each as uploaded (ETag),
        // all but the last at least 5 MiB. A violation is the caller's
        // condition not holding; nothing is written.
        if parts.is_empty() || parts.windows(2).any(|w| w[0].number >= w[1].number) {
            return Err(PortError::ConditionFailed);
        }
        let mut files = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let hex = etag_hex(part.etag.as_str()).ok_or(PortError::ConditionFailed)?;
            let file = folder.join(format!("{}{hex}", part_prefix(part.number)));
            let size = match tokio::fs::metadata(&file).await {
                Ok(meta) => meta.len(),
                Err(e) if is_not_found(&e) => return Err(PortError::ConditionFailed),
                Err(e) => return Err(backend(e)),
            };
            if i + 1 < parts.len() && size < MIN_PART_BYTES {
                return Err(PortError::ConditionFailed);
            }
            files.push(file);
        }
        let target = self.inner.layout.object(key);
        let parent = self.inner.layout.objects(key.transfer);
        let temp = self.temp_path()?;
        if let Err(e) = link_parts(&files, &temp, &target, &parent).await {
            // Only links were made: the upload's parts are untouched, so the
            // caller can retry the completion.
            let _ = tokio::fs::remove_dir_all(&temp).await;
            return Err(backend(e));
        }
        // The object is in place: the upload is consumed. Should removing its
        // parts fail, a retry sees the object and the delete of the transfer
        // removes the leftovers. The object's links keep the part data alive.
        remove_tree(&folder).await
    }

    async fn abort_multipart_upload(&self, key: &ObjectKey, upload: &UploadId) -> Result<(), PortError> {
        let Some(folder) = self.inner.layout.upload(key, upload) else {
            return Ok(());
        };
        let _guard = self.inner.structure.lock().await;
        remove_tree(&folder).await
    }

    async fn object_size(&self, key: &ObjectKey) -> Result<u64, PortError> {
        match object_parts(self.inner.layout.object(key)).await {
            Ok(parts) => Ok(parts.iter().map(|p| p.len).sum()),
            Err(e) if is_not_found(&e) => Err(PortError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }

    async fn presign_download(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
        valid_for: Duration,
    ) -> Result<PresignedUrl, PortError> {
        let expires = self.expires(valid_for);
        let range_text = range
            .map(|r| format!("{}-{}", r.first(), r.last()))
            .unwrap_or_default();
        Ok(PresignedUrl {
            url: self.presign("GET", key, "", "", &range_text, expires),
            headers: range
                .map(|r| vec![("Range".to_owned(), r.header_value())])
                .unwrap_or_default(),
            expires_at: kluis_core::Timestamp::from_unix_seconds(expires),
        })
    }

    async fn delete_object(&self, key: &ObjectKey) -> Result<(), PortError> {
        let target = self.inner.layout.object(key);
        let aside = self.temp_path()?;
        let _guard = self.inner.structure.lock().await;
        // Moved into `tmp/` first, in one rename: a reader finds the whole
        // object or none, never a folder being emptied.
        match tokio::fs::rename(&target, &aside).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(backend(e)),
        }
        // The key is free whatever happens here: what is left in `tmp/` is
        // cleared by the next `open`. A one-file object of the earlier
        // layout is a file, not a folder.
        if remove_tree(&aside).await.is_err() {
            let _ = tokio::fs::remove_file(&aside).await;
        }
        Ok(())
    }

    async fn delete_transfer_objects(&self, transfer: TransferId) -> Result<(), PortError> {
        let _guard = self.inner.structure.lock().await;
        remove_tree(&self.inner.layout.uploads(transfer)).await?;
        remove_tree(&self.inner.layout.objects(transfer)).await
    }
}

/// Builds the object `target` from the part `files` without copying a byte:
/// a folder `temp` (in `tmp/`) gets one hard link per part, named
/// `00001`, `00002`, … in object order, and is renamed to `target`.
///
/// Links, not renames, so a failure halfway leaves the upload whole for a
/// retry. Sharing inodes with the upload is safe because no part file is
/// ever written in place: a part PUT again is a new file renamed over the
/// old name, which leaves the linked inode as it was.
async fn link_parts(files: &[PathBuf], temp: &Path, target: &Path, parent: &Path) -> std::io::Result<()> {
    let (files, temp, target, parent) = (
        files.to_vec(),
        temp.to_path_buf(),
        target.to_path_buf(),
        parent.to_path_buf(),
    );
    // A few metadata syscalls per part: one blocking task rather than a
    // thread hand-off for each.
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir(&temp)?;
        for (i, file) in files.iter().enumerate() {
            std::fs::hard_link(file, temp.join(layout::object_part_name(i + 1)))?;
        }
        // The parts' data was synced when they were PUT; these syncs make
        // the new names durable. Best effort: not every file system can sync
        // a folder, and the rename below is atomic either way.
        let _ = sync_folder(&temp);
        std::fs::create_dir_all(&parent)?;
        replace_object(&temp, &target)?;
        let _ = sync_folder(&parent);
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Renames the folder `built` to `target`. A folder cannot be renamed over
/// a non-empty one, so an object already there (the same key uploaded
/// again, or an object of the earlier one-file layout) is first moved
/// aside, next to `built`, and removed afterwards: meanwhile the key is
/// briefly absent, and a download of the old object still streaming fails
/// rather than mixing the two.
fn replace_object(built: &Path, target: &Path) -> std::io::Result<()> {
    match std::fs::rename(built, target) {
        Ok(()) => return Ok(()),
        // With nothing at `target` the failure is real; otherwise it is the
        // folder (not empty) or old file (not a folder) in the way.
        Err(e) if std::fs::symlink_metadata(target).is_err() => return Err(e),
        Err(_) => {}
    }
    let aside = built.with_extension("old");
    std::fs::rename(target, &aside)?;
    if let Err(e) = std::fs::rename(built, target) {
        // Put the old object back rather than leave the key empty.
        let _ = std::fs::rename(&aside, target);
        return Err(e);
    }
    // The new object is in place whatever happens here: best effort, as
    // leftovers in `tmp/` are cleared at the next `open`.
    let _ = std::fs::remove_dir_all(&aside).or_else(|_| std::fs::remove_file(&aside));
    Ok(())
}

fn sync_folder(folder: &Path) -> std::io::Result<()> {
    std::fs::File::open(folder)?.sync_all()
}

/// One part of a stored object, in object order.
#[derive(Debug, Clone)]
pub(crate) struct StoredPart {
    pub(crate) path: PathBuf,
    pub(crate) len: u64,
}

/// The parts of the object at `path`, in order: the files of its folder,
/// or the file itself for an object stored by the earlier one-file layout
/// (a store's root outlives upgrades). `NotFound` when there is no object.
pub(crate) async fn object_parts(path: PathBuf) -> std::io::Result<Vec<StoredPart>> {
    tokio::task::spawn_blocking(move || {
        let meta = std::fs::metadata(&path)?;
        if meta.is_file() {
            return Ok(vec![StoredPart {
                len: meta.len(),
                path,
            }]);
        }
        let mut names: Vec<String> = std::fs::read_dir(&path)?
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<_>>()?;
        names.sort_unstable();
        // Completion writes exactly `00001..=n`: anything else is damage,
        // and serving around it would hand out a different object.
        let dense = !names.is_empty()
            && names
                .iter()
                .enumerate()
                .all(|(i, name)| *name == layout::object_part_name(i + 1));
        if !dense {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the object folder {} does not hold parts 00001..", path.display()),
            ));
        }
        names
            .iter()
            .map(|name| {
                let path = path.join(name);
                Ok(StoredPart {
                    len: std::fs::metadata(&path)?.len(),
                    path,
                })
            })
            .collect()
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests;
