//! Encrypting one file and uploading it as multipart parts, in parallel and
//! in bounded memory.
//!
//! A part is [`CHUNKS_PER_PART`] sealed chunks (the first also carries the
//! 14-byte header), so every part can be encrypted on its own: the STREAM
//! construction is addressed by chunk index. Each worker takes the next part
//! number, reads that part's plaintext from its own file handle, seals it
//! chunk by chunk into one part buffer and PUTs it, retrying with backoff.
//! Memory is therefore `workers × (PART_BYTES + one chunk)` whatever the
//! file size (≈ 33 MiB with the default 4 workers). The buffer is kept for
//! retries, so a chunk is never sealed twice.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::ProgressBar;
use kluis_core::file::{CompletedPart, ETag, PartNumber};
use kluis_core::service::upload::{CHUNKS_PER_PART, FileUpload, PART_BYTES};
use kluis_crypto::FileSealer;
use kluis_crypto::stream::{CHUNK_SIZE, HEADER_LEN, SEALED_CHUNK_LEN, TAG_LEN, chunk_count};
use zeroize::Zeroizing;

use crate::api::Api;
use crate::error::{Error, Result};
use crate::retry::Retry;

/// Rewrites a part URL before an attempt; see [`Tuning::part_url_hook`].
pub type PartUrlHook = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// How parts are uploaded.
#[derive(Clone)]
pub struct Tuning {
    /// Parts in flight at once (each holds one part in memory), at least 1.
    pub workers: usize,
    /// Tries per part before the upload fails, at least 1.
    pub attempts: u32,
    /// Wait before the second try; doubled before each further one.
    pub backoff: Duration,
    /// Test hook: rewrites each part URL before it is used, e.g. to route
    /// parts through a proxy that injects failures. `None` in real use.
    pub part_url_hook: Option<PartUrlHook>,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            workers: 4,
            attempts: 5,
            backoff: Duration::from_millis(500),
            part_url_hook: None,
        }
    }
}

impl std::fmt::Debug for Tuning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tuning")
            .field("workers", &self.workers)
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .field("part_url_hook", &self.part_url_hook.is_some())
            .finish()
    }
}

/// One file to upload: where its plaintext is and how long it is.
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub size: u64,
}

/// Encrypts `source` with `sealer` and uploads it to the presigned parts of
/// `upload`; returns the completed parts in order.
pub(crate) fn upload_file(
    api: &Api,
    source: &Source<'_>,
    sealer: &FileSealer,
    upload: &FileUpload,
    tuning: &Tuning,
    bar: &ProgressBar,
) -> Result<Vec<CompletedPart>> {
    let chunks = chunk_count(source.size);
    let parts = usize::try_from(chunks.div_ceil(CHUNKS_PER_PART))
        .map_err(|_| Error::Usage("the file is too large".into()))?;
    if upload.parts.len() != parts || upload.part_bytes != PART_BYTES {
        return Err(Error::Protocol(format!(
            "the server offered {} parts of {} bytes; this client makes {parts} of {PART_BYTES}",
            upload.parts.len(),
            upload.part_bytes
        )));
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let etags: Mutex<Vec<Option<String>>> = Mutex::new(vec![None; parts]);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..tuning.workers.clamp(1, parts.max(1)) {
            scope.spawn(|| {
                let work = Worker {
                    api,
                    source,
                    sealer,
                    upload,
                    chunks,
                    tuning,
                    bar,
                };
                if let Err(error) = work.run(&next, &failed, &etags) {
                    failed.store(true, Ordering::SeqCst);
                    first_error
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .get_or_insert(error);
                }
            });
        }
    });
    if let Some(error) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error);
    }
    let etags = etags.into_inner().unwrap_or_else(|p| p.into_inner());
    etags
        .into_iter()
        .zip(1u32..)
        .map(|(etag, number)| {
            let etag = etag.ok_or_else(|| Error::Protocol(format!("part {number} has no ETag")))?;
            Ok(CompletedPart {
                number: PartNumber::new(number).map_err(|e| Error::Protocol(e.to_string()))?,
                etag: ETag::parse(&etag).map_err(|e| Error::Protocol(format!("part {number}: {e}")))?,
            })
        })
        .collect()
}

/// One upload thread's view of the job.
struct Worker<'a> {
    api: &'a Api,
    source: &'a Source<'a>,
    sealer: &'a FileSealer,
    upload: &'a FileUpload,
    chunks: u64,
    tuning: &'a Tuning,
    bar: &'a ProgressBar,
}

/// The plaintext bytes a sealed part carries: its length less the header
/// (part 1 only) and one tag per chunk. Progress counts these, so a bar
/// ends at the file's own size.
fn plaintext_in_part(part_len: u64, first: bool) -> u64 {
    let body = part_len.saturating_sub(if first { HEADER_LEN as u64 } else { 0 });
    let chunks = body.div_ceil(SEALED_CHUNK_LEN as u64);
    body.saturating_sub(chunks * TAG_LEN as u64)
}

impl Worker<'_> {
    /// Takes parts until none is left or another worker failed.
    fn run(&self, next: &AtomicUsize, failed: &AtomicBool, etags: &Mutex<Vec<Option<String>>>) -> Result<()> {
        let mut file = File::open(self.source.path).map_err(|e| Error::file(self.source.path, e))?;
        // No bigger than the whole object: zeroizing on drop touches the capacity.
        let object = kluis_crypto::ciphertext_len(self.source.size).unwrap_or(0);
        let capacity = (HEADER_LEN as u64 + PART_BYTES).min(object) as usize;
        let mut part = Zeroizing::new(Vec::with_capacity(capacity));
        let mut chunk = Zeroizing::new(Vec::with_capacity(SEALED_CHUNK_LEN));
        let total = etags.lock().map(|e| e.len()).unwrap_or(0);
        loop {
            let index = next.fetch_add(1, Ordering::SeqCst);
            if index >= total || failed.load(Ordering::SeqCst) {
                return Ok(());
            }
            self.seal_part(&mut file, index as u64, &mut part, &mut chunk)?;
            let etag = self.put_with_retries(index, &part, failed)?;
            self.bar.inc(plaintext_in_part(part.len() as u64, index == 0));
            if let Ok(mut etags) = etags.lock() {
                etags[index] = Some(etag);
            }
        }
    }

    /// Reads and seals the chunks of part `index` into `part`.
    fn seal_part(&self, file: &mut File, index: u64, part: &mut Vec<u8>, chunk: &mut Vec<u8>) -> Result<()> {
        let path = self.source.path;
        part.clear();
        if index == 0 {
            part.extend_from_slice(&self.sealer.header());
        }
        let first = index * CHUNKS_PER_PART;
        let end = (first + CHUNKS_PER_PART).min(self.chunks);
        file.seek(SeekFrom::Start(first * CHUNK_SIZE as u64))
            .map_err(|e| Error::file(path, e))?;
        for chunk_index in first..end {
            let offset = chunk_index * CHUNK_SIZE as u64;
            let len = (self.source.size - offset).min(CHUNK_SIZE as u64) as usize;
            chunk.clear();
            chunk.resize(len, 0);
            file.read_exact(chunk).map_err(|e| {
                let changed =
                    std::io::Error::new(e.kind(), format!("read failed (did the file change?): {e}"));
                Error::file(path, changed)
            })?;
            let index32 =
                u32::try_from(chunk_index).map_err(|_| Error::Usage("the file is too large".into()))?;
            self.sealer
                .seal_chunk(index32, chunk_index + 1 == self.chunks, chunk)?;
            part.extend_from_slice(chunk);
        }
        Ok(())
    }

    /// PUTs one sealed part, retrying transient failures (see
    /// [`crate::retry`]) until another worker has failed.
    fn put_with_retries(&self, index: usize, part: &[u8], failed: &AtomicBool) -> Result<String> {
        let signed = &self.upload.parts[index];
        let retry = Retry {
            attempts: self.tuning.attempts,
            first_wait: self.tuning.backoff,
        };
        retry.run(
            || {
                let mut request = signed.clone();
                if let Some(hook) = &self.tuning.part_url_hook {
                    request.url = hook(&request.url);
                }
                self.api.put_part(&request, part)
            },
            || !failed.load(Ordering::SeqCst),
            |_, _| {},
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sealed parts of an object of `plaintext` bytes, as the workers make them.
    fn part_lengths(plaintext: u64) -> Vec<u64> {
        let chunks = chunk_count(plaintext);
        let chunk = CHUNK_SIZE as u64;
        let sealed: Vec<u64> = (0..chunks)
            .map(|i| plaintext.saturating_sub(i * chunk).min(chunk) + TAG_LEN as u64)
            .collect();
        sealed
            .chunks(CHUNKS_PER_PART as usize)
            .enumerate()
            .map(|(i, part)| part.iter().sum::<u64>() + if i == 0 { HEADER_LEN as u64 } else { 0 })
            .collect()
    }

    #[test]
    fn progress_over_all_parts_adds_up_to_the_plaintext_size() {
        let c = CHUNK_SIZE as u64;
        for plaintext in [0, 1, c - 1, c, c + 1, 32 * c, 32 * c + 1, 70 * c + 5] {
            let parts = part_lengths(plaintext);
            let total: u64 = parts.iter().sum();
            assert_eq!(
                Some(total),
                kluis_crypto::ciphertext_len(plaintext),
                "{plaintext}"
            );
            let counted: u64 = parts
                .iter()
                .enumerate()
                .map(|(i, len)| plaintext_in_part(*len, i == 0))
                .sum();
            assert_eq!(counted, plaintext, "{plaintext} in {} parts", parts.len());
        }
    }
}
