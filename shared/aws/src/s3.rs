//! The S3 [`ObjectStore`]: multipart uploads whose parts the browser PUTs
//! itself through presigned URLs, presigned (ranged) downloads, deletion
//! of one object, and of everything under a transfer's prefix.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Builder as S3ConfigBuilder, RequestChecksumCalculation};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart as S3Part, Delete, ObjectIdentifier};
use kluis_core::file::{CompletedPart, PartNumber, UploadId};
use kluis_core::ids::TransferId;
use kluis_core::ports::{ByteRange, Clock, ObjectKey, ObjectStore, PortError, PresignedUrl, SystemClock};
use kluis_core::timestamp::Timestamp;

use crate::error::{AwsError, backend, malformed};

/// `DeleteObjects` takes at most this many keys per request.
const DELETE_BATCH: usize = 1000;

/// An [`ObjectStore`] on one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    bucket: String,
}

impl S3ObjectStore {
    /// A store on `bucket`. `force_path_style` addresses the bucket in the
    /// path, which emulators (moto, LocalStack) need.
    pub fn new(sdk: &SdkConfig, bucket: impl Into<String>, force_path_style: bool) -> Self {
        let config = S3ConfigBuilder::from(sdk)
            .force_path_style(force_path_style)
            // A request checksum signed into a presigned part URL (some SDK
            // releases signed one of an empty body) would refuse
            // the browser's bytes; checksums only where an API requires one.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .build();
        Self {
            client: Client::from_conf(config),
            bucket: bucket.into(),
        }
    }

    /// The SDK client, e.g. for a test to create the bucket.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Aborts every unfinished upload under `prefix`, page by page.
    async fn abort_uploads_under(&self, prefix: &str) -> Result<(), PortError> {
        let mut key_marker: Option<String> = None;
        let mut upload_marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_marker.take())
                .send()
                .await
                .map_err(|e| backend("S3.ListMultipartUploads", e))?;
            for upload in page.uploads() {
                if let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) {
                    let aborted = self
                        .client
                        .abort_multipart_upload()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(id)
                        .send()
                        .await;
                    if let Err(error) = aborted
                        && error.code() != Some("NoSuchUpload")
                    {
                        return Err(backend("S3.AbortMultipartUpload", error));
                    }
                }
            }
            if page.is_truncated() != Some(true) {
                return Ok(());
            }
            key_marker = page.next_key_marker;
            upload_marker = page.next_upload_id_marker;
            if key_marker.is_none() && upload_marker.is_none() {
                return Ok(());
            }
        }
    }

    /// Deletes every object under `prefix`, in batches, page by page.
    async fn delete_objects_under(&self, prefix: &str) -> Result<(), PortError> {
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| backend("S3.ListObjectsV2", e))?;
            let keys: Vec<ObjectIdentifier> = page
                .contents()
                .iter()
                .filter_map(|object| object.key())
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<_, _>>()
                .map_err(|e| backend("S3.DeleteObjects", e))?;
            for batch in keys.chunks(DELETE_BATCH) {
                let delete = Delete::builder()
                    .set_objects(Some(batch.to_vec()))
                    .quiet(true)
                    .build()
                    .map_err(|e| backend("S3.DeleteObjects", e))?;
                let answer = self
                    .client
                    .delete_objects()
                    .bucket(&self.bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| backend("S3.DeleteObjects", e))?;
                // A batch answers 200 even when some keys failed.
                if !answer.errors().is_empty() {
                    return Err(malformed("DeleteObjects answer: some objects were not deleted"));
                }
            }
            match page.next_continuation_token {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next),
                _ => return Ok(()),
            }
        }
    }
}

/// The presigning settings for `valid_for`, and when the URL stops working.
fn presigning(valid_for: Duration) -> Result<(PresigningConfig, Timestamp), PortError> {
    let config = PresigningConfig::expires_in(valid_for).map_err(|e| AwsError::Presign(Box::new(e)))?;
    let expires_at = SystemClock.now().plus_seconds(valid_for.as_secs());
    Ok((config, expires_at))
}

fn to_presigned_url(request: &PresignedRequest, expires_at: Timestamp) -> PresignedUrl {
    PresignedUrl {
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        expires_at,
    }
}

fn part_number(number: PartNumber) -> Result<i32, PortError> {
    // Part numbers are at most 10 000, so this never fails for a valid one.
    i32::try_from(number.get()).map_err(|_| malformed("part number"))
}

impl ObjectStore for S3ObjectStore {
    async fn create_multipart_upload(&self, key: &ObjectKey) -> Result<UploadId, PortError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.to_string())
            .content_type("application/octet-stream")
            .send()
            .await
            .map_err(|e| backend("S3.CreateMultipartUpload", e))?;
        let id = created
            .upload_id()
            .ok_or_else(|| malformed("CreateMultipartUpload answer"))?;
        UploadId::parse(id).map_err(|_| malformed("upload id"))
    }

    async fn presign_part_uploads(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        parts: &[PartNumber],
        valid_for: Duration,
    ) -> Result<Vec<PresignedUrl>, PortError> {
        let object = key.to_string();
        let mut urls = Vec::with_capacity(parts.len());
        for &part in parts {
            let (config, expires_at) = presigning(valid_for)?;
            let request = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(&object)
                .upload_id(upload.as_str())
                .part_number(part_number(part)?)
                .presigned(config)
                .await
                .map_err(|e| backend("S3.UploadPart (presign)", e))?;
            urls.push(to_presigned_url(&request, expires_at));
        }
        Ok(urls)
    }

    async fn complete_multipart_upload(
        &self,
        key: &ObjectKey,
        upload: &UploadId,
        parts: &[CompletedPart],
    ) -> Result<(), PortError> {
        let parts = parts
            .iter()
            .map(|part| {
                Ok(S3Part::builder()
                    .part_number(part_number(part.number)?)
                    .e_tag(part.etag.as_str())
                    .build())
            })
            .collect::<Result<Vec<_>, PortError>>()?;
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.to_string())
            .upload_id(upload.as_str())
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|error| match error.code() {
                Some("NoSuchUpload") => PortError::NotFound,
                // The parts named are not the parts uploaded (or too small).
                Some("InvalidPart" | "InvalidPartOrder" | "EntityTooSmall") => PortError::ConditionFailed,
                _ => backend("S3.CompleteMultipartUpload", error),
            })
    }

    async fn abort_multipart_upload(&self, key: &ObjectKey, upload: &UploadId) -> Result<(), PortError> {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key.to_string())
            .upload_id(upload.as_str())
            .send()
            .await;
        match aborted {
            Ok(_) => Ok(()),
            // Idempotent: aborting twice, or an upload already completed, is done.
            Err(error) if error.code() == Some("NoSuchUpload") => Ok(()),
            Err(error) => Err(backend("S3.AbortMultipartUpload", error)),
        }
    }

    async fn object_size(&self, key: &ObjectKey) -> Result<u64, PortError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .send()
            .await
            .map_err(|error| {
                // HEAD has no body, so a missing object is only a 404 status.
                if error.as_service_error().is_some_and(|e| e.is_not_found()) {
                    PortError::NotFound
                } else {
                    backend("S3.HeadObject", error)
                }
            })?;
        let length = head
            .content_length()
            .ok_or_else(|| malformed("HeadObject answer"))?;
        u64::try_from(length).map_err(|_| malformed("HeadObject content length"))
    }

    async fn presign_download(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
        valid_for: Duration,
    ) -> Result<PresignedUrl, PortError> {
        let (config, expires_at) = presigning(valid_for)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            // Signed as a header: the browser MUST send it as given.
            .set_range(range.map(ByteRange::header_value))
            .presigned(config)
            .await
            .map_err(|e| backend("S3.GetObject (presign)", e))?;
        Ok(to_presigned_url(&request, expires_at))
    }

    async fn delete_object(&self, key: &ObjectKey) -> Result<(), PortError> {
        // S3 answers 204 for a key with no object too: idempotent as it is.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend("S3.DeleteObject", e))
    }

    async fn delete_transfer_objects(&self, transfer: TransferId) -> Result<(), PortError> {
        let prefix = ObjectKey::transfer_prefix(transfer);
        self.abort_uploads_under(&prefix).await?;
        self.delete_objects_under(&prefix).await
    }
}
