//! Step 4 of the wizard: a file's ciphertext goes straight from the client
//! to object storage by presigned multipart upload. The server checks the
//! declared size against the format and the policy before any upload
//! starts, and the stored size against the declaration when it completes.
//! Until the key is set, the sender may remove a file again, half uploaded
//! or complete.

use serde::{Deserialize, Serialize};

use super::{Ports, Service, ServiceError, SignedRequest};
use crate::audit::AuditKind;
use crate::error::{DomainError, Field};
use crate::file::{CompletedPart, PartNumber, UploadId, UploadStatus, check_ciphertext_size};
use crate::ids::{FileId, Token, TransferId};
use crate::ports::{ObjectKey, ObjectStore, PortError};

/// Sealed chunks per part, as `docs/format.md` ("Object storage") fixes
/// it: 32 chunks (8 MiB + 512 bytes), so no part boundary cuts a chunk and
/// every part but the last is above S3's 5 MiB minimum.
pub const CHUNKS_PER_PART: u64 = 32;

/// Bytes of every part but the first (which also carries the header) and the last.
pub const PART_BYTES: u64 = CHUNKS_PER_PART * kluis_crypto::stream::SEALED_CHUNK_LEN as u64;

/// How many parts a file object of `ciphertext_bytes` is uploaded in, for a
/// size the format allows.
pub fn part_count(ciphertext_bytes: u64) -> Result<u32, DomainError> {
    let malformed = DomainError::Malformed {
        field: Field::FileSize,
    };
    let plaintext = kluis_crypto::plaintext_len(ciphertext_bytes).ok_or(malformed.clone())?;
    let chunks = kluis_crypto::stream::chunk_count(plaintext);
    let parts = chunks.div_ceil(CHUNKS_PER_PART);
    // More parts than S3 allows means a file larger than any policy permits.
    u32::try_from(parts)
        .ok()
        .filter(|parts| *parts <= PartNumber::MAX)
        .ok_or(DomainError::Malformed {
            field: Field::FileSize,
        })
}

/// Declares one file of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddFile {
    /// The file's id, drawn by the client (it is bound into the file's
    /// associated data, so the client needs it before encrypting); a retry
    /// repeats it.
    pub file_id: FileId,
    /// Exact size of the file object (header, chunks and tags).
    pub ciphertext_bytes: u64,
}

/// Where to upload a file's parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUpload {
    /// The file.
    pub file_id: FileId,
    /// Bytes of every part but the last; the first part carries the 14-byte
    /// header on top of that.
    pub part_bytes: u64,
    /// One presigned PUT per part, part 1 first.
    pub parts: Vec<SignedRequest>,
}

/// The uploaded parts of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteFile {
    /// Every part, ascending from 1, with the ETag the store returned.
    pub parts: Vec<CompletedPart>,
}

/// A file is uploaded and has its declared size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCompleted {
    /// The file.
    pub file_id: FileId,
    /// Its stored size.
    pub ciphertext_bytes: u64,
}

/// What removing a file did. None of it goes to the client, who is
/// answered the same either way: the file is not in the draft.
#[derive(Debug)]
pub struct FileRemoved {
    /// Whether this request took the file out of the draft; `false` when the
    /// draft held no such file (a retry after success, or an id never added).
    pub removed: bool,
    /// The object store's failure to abort the file's upload or delete its
    /// object, after the file had left the draft. Nothing leaks: whatever is
    /// left lies under the transfer's prefix, which the expiry job deletes
    /// whole when it purges the transfer (and the bucket's lifecycle rules
    /// bound it on S3). For the handler to log.
    pub left_for_expiry: Option<PortError>,
}

impl<P: Ports> Service<P> {
    /// Adds a file to a draft and presigns its part uploads. The size must
    /// be one the format can produce and fit the policy's limits. A retry
    /// (same file id and size) gets fresh URLs for the same upload.
    pub async fn add_file(
        &self,
        session: &Token,
        transfer: TransferId,
        request: AddFile,
    ) -> Result<FileUpload, ServiceError> {
        let sender = self.live_session(session).await?;
        check_ciphertext_size(request.ciphertext_bytes)?;
        let parts = part_count(request.ciphertext_bytes)?;
        let key = ObjectKey {
            transfer,
            file: request.file_id,
        };
        let current = self.owned_transfer(transfer, &sender).await?;
        let upload = match existing_upload(&current, &request)? {
            Some(upload) => upload,
            None => {
                // Check every rule before creating anything in the object store.
                let placeholder = UploadId::parse("pending").map_err(ServiceError::Domain)?;
                current.add_file(
                    request.file_id,
                    request.ciphertext_bytes,
                    parts,
                    placeholder,
                    self.policy(),
                )?;
                let upload = self.objects.create_multipart_upload(&key).await?;
                let recorded = self
                    .transition(transfer, |current| {
                        if existing_upload(current, &request)?.is_some() {
                            return Ok(None);
                        }
                        Ok(Some(current.add_file(
                            request.file_id,
                            request.ciphertext_bytes,
                            parts,
                            upload.clone(),
                            self.policy(),
                        )?))
                    })
                    .await;
                match recorded {
                    Ok((_, Some(_))) => {
                        self.audit(
                            transfer,
                            AuditKind::FileAdded {
                                file: request.file_id,
                                ciphertext_bytes: request.ciphertext_bytes,
                            },
                        )
                        .await?;
                        upload
                    }
                    other => {
                        // A racing twin recorded its own upload, or the write
                        // failed: this one is never used.
                        let _ = self.objects.abort_multipart_upload(&key, &upload).await;
                        other?;
                        let stored = self.transfer(transfer).await?;
                        existing_upload(&stored, &request)?.ok_or(ServiceError::Busy)?
                    }
                }
            }
        };
        let numbers = (1..=parts).map(PartNumber::new).collect::<Result<Vec<_>, _>>()?;
        let urls = self
            .objects
            .presign_part_uploads(&key, &upload, &numbers, self.settings.upload_url_valid_for)
            .await?;
        Ok(FileUpload {
            file_id: request.file_id,
            part_bytes: PART_BYTES,
            parts: urls.into_iter().map(SignedRequest::from).collect(),
        })
    }

    /// Completes a file's upload and checks that the stored object has the
    /// declared size. A retry after success answers the same.
    pub async fn complete_file(
        &self,
        session: &Token,
        transfer: TransferId,
        file: FileId,
        request: CompleteFile,
    ) -> Result<FileCompleted, ServiceError> {
        let sender = self.live_session(session).await?;
        let current = self.owned_transfer(transfer, &sender).await?;
        let declared = current
            .files()
            .iter()
            .find(|f| f.id == file)
            .ok_or(DomainError::UnknownFile)?
            .clone();
        let done = FileCompleted {
            file_id: file,
            ciphertext_bytes: declared.ciphertext_bytes,
        };
        if declared.is_complete() {
            return Ok(done);
        }
        let upload = current.upload_in_progress(file)?.clone();
        let numbered_in_order = request.parts.len() == declared.part_count as usize
            && request
                .parts
                .iter()
                .zip(1..)
                .all(|(part, expected)| part.number.get() == expected);
        if !numbered_in_order {
            return Err(DomainError::PartsMismatch {
                field: Field::PartNumber,
            }
            .into());
        }
        let key = ObjectKey { transfer, file };
        match self
            .objects
            .complete_multipart_upload(&key, &upload, &request.parts)
            .await
        {
            // NotFound: an earlier try may have completed it; the size says.
            Ok(()) | Err(PortError::NotFound) => {}
            // The parts named are not the parts uploaded: the client's mistake.
            Err(PortError::ConditionFailed) => return Err(DomainError::UploadIncomplete.into()),
            Err(other) => return Err(other.into()),
        }
        let stored = match self.objects.object_size(&key).await {
            Ok(size) => size,
            Err(PortError::NotFound) => return Err(DomainError::UploadIncomplete.into()),
            Err(other) => return Err(other.into()),
        };
        let (_, written) = self
            .transition(transfer, |current| Ok(current.complete_file(file, stored)?))
            .await?;
        if written.is_some() {
            self.audit(transfer, AuditKind::FileCompleted { file }).await?;
        }
        Ok(done)
    }

    /// Removes a file from a draft, whether its upload is running or
    /// complete; the policy's file count and transfer size stop counting it.
    ///
    /// The record changes first, in one conditional write, so that no later
    /// step (setting the key) can count a file whose bytes are going; only
    /// the request that wins that write then aborts the upload and deletes
    /// the object. A failure there is reported in
    /// [`FileRemoved::left_for_expiry`], not as an error: the file is out of
    /// the transfer, and the expiry job deletes what is left with the
    /// transfer's prefix. Idempotent: a file the draft does not hold (removed
    /// already, or never added) touches nothing and succeeds the same.
    pub async fn remove_file(
        &self,
        session: &Token,
        transfer: TransferId,
        file: FileId,
    ) -> Result<FileRemoved, ServiceError> {
        let sender = self.live_session(session).await?;
        self.owned_transfer(transfer, &sender).await?;
        let mut removed = None;
        let (_, written) = self
            .transition(transfer, |current| {
                Ok(current.remove_file(file)?.map(|(next, gone)| {
                    removed = Some(gone);
                    next
                }))
            })
            .await?;
        // `removed` is from the try that was written only when one was.
        let (Some(_), Some(gone)) = (written, removed) else {
            return Ok(FileRemoved {
                removed: false,
                left_for_expiry: None,
            });
        };
        let key = ObjectKey { transfer, file };
        let left_for_expiry = self.free_object(&key, &gone.upload).await.err();
        self.audit(transfer, AuditKind::FileRemoved { file }).await?;
        Ok(FileRemoved {
            removed: true,
            left_for_expiry,
        })
    }

    /// Aborts a removed file's upload if it was still running, then deletes
    /// its object in any case: a completion that raced the removal may have
    /// made one after the record was read. Both are idempotent, so an upload
    /// or object already gone is no failure.
    async fn free_object(&self, key: &ObjectKey, upload: &UploadStatus) -> Result<(), PortError> {
        if let UploadStatus::InProgress { upload_id } = upload {
            match self.objects.abort_multipart_upload(key, upload_id).await {
                Ok(()) | Err(PortError::NotFound) => {}
                Err(other) => return Err(other),
            }
        }
        match self.objects.delete_object(key).await {
            Ok(()) | Err(PortError::NotFound) => Ok(()),
            Err(other) => Err(other),
        }
    }
}

/// The upload a previous try of the same request recorded, if any; the same
/// file id with another size is a different request, refused.
fn existing_upload(
    transfer: &crate::transfer::Transfer,
    request: &AddFile,
) -> Result<Option<UploadId>, DomainError> {
    let Some(file) = transfer.files().iter().find(|f| f.id == request.file_id) else {
        return Ok(None);
    };
    match &file.upload {
        UploadStatus::InProgress { upload_id } if file.ciphertext_bytes == request.ciphertext_bytes => {
            Ok(Some(upload_id.clone()))
        }
        _ => Err(DomainError::FileAlreadyAdded),
    }
}
