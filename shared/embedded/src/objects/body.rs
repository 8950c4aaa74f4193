//! The body of the store's HTTP answers: a small buffer (errors, empty
//! answers) or windows of part files read one after the other in 64 KiB
//! frames, so a 1 GB download never sits in memory.

use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::collections::VecDeque;
use std::io::{Seek as _, SeekFrom};
use std::path::PathBuf;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::task::JoinHandle;

/// How much one frame reads. Each read is a hand-off to the blocking pool,
/// yet larger frames are slower end to end: measured with
/// `tests/bench/transfer`, a 1 GiB GET took 1.06 s with 64 KiB frames and
/// 3.2–4.0 s with 256 KiB ones (hyper writes frames above its buffer size
/// differently).
const FRAME_BYTES: u64 = 64 * 1024;

/// `len` bytes of the file at `path` from byte `skip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) path: PathBuf,
    pub(crate) skip: u64,
    pub(crate) len: u64,
}

/// A response body: bytes in memory, or a list of file windows streamed
/// in order (an object's parts).
#[derive(Debug)]
pub struct ObjectBody(Inner);

#[derive(Debug)]
enum Inner {
    Bytes(Option<Bytes>),
    Segments(Segments),
}

/// Streams segments one after the other. A file is opened only when the
/// one before it is exhausted, so a download of a many-part object holds
/// one descriptor, not one per part.
#[derive(Debug)]
struct Segments {
    /// The segments not yet started.
    pending: VecDeque<Segment>,
    reading: Reading,
    /// Bytes still to send, over all segments (the `Content-Length` left).
    remaining: u64,
}

#[derive(Debug)]
enum Reading {
    /// Between segments.
    Idle,
    /// The next file being opened and positioned on the blocking pool; the
    /// segment's length rides along.
    Opening(JoinHandle<std::io::Result<std::fs::File>>, u64),
    /// Reading a segment: `left` bytes of it to go.
    File { file: tokio::fs::File, left: u64 },
}

impl ObjectBody {
    pub(crate) fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self(Inner::Bytes(Some(bytes.into())))
    }

    pub(crate) fn empty() -> Self {
        Self(Inner::Bytes(None))
    }

    /// The segments' bytes in order; empty segments are skipped unopened.
    pub(crate) fn segments(segments: impl IntoIterator<Item = Segment>) -> Self {
        let pending: VecDeque<Segment> = segments.into_iter().filter(|s| s.len > 0).collect();
        let remaining = pending.iter().map(|s| s.len).sum();
        Self(Inner::Segments(Segments {
            pending,
            reading: Reading::Idle,
            remaining,
        }))
    }
}

/// Opens `segment`'s file at its first byte, off the async threads.
fn open(segment: Segment) -> JoinHandle<std::io::Result<std::fs::File>> {
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&segment.path)?;
        file.seek(SeekFrom::Start(segment.skip))?;
        Ok(file)
    })
}

impl Segments {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<std::io::Result<Frame<Bytes>>>> {
        loop {
            match &mut self.reading {
                Reading::Idle => {
                    let Some(segment) = self.pending.pop_front() else {
                        return Poll::Ready(None);
                    };
                    let len = segment.len;
                    self.reading = Reading::Opening(open(segment), len);
                }
                Reading::Opening(handle, len) => {
                    let opened = ready!(Pin::new(handle).poll(cx)).map_err(std::io::Error::other);
                    let left = *len;
                    match opened.and_then(|file| file) {
                        Ok(file) => {
                            self.reading = Reading::File {
                                file: tokio::fs::File::from_std(file),
                                left,
                            }
                        }
                        Err(e) => {
                            // A part gone (the object was deleted or replaced
                            // mid-download): fail rather than skip its bytes.
                            self.fail();
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
                Reading::File { left: 0, .. } => self.reading = Reading::Idle,
                Reading::File { file, left } => {
                    let want = usize::try_from((*left).min(FRAME_BYTES)).unwrap_or(64 * 1024);
                    let mut buffer = vec![0; want];
                    let mut read = ReadBuf::new(&mut buffer);
                    if let Err(e) = ready!(Pin::new(file).poll_read(cx, &mut read)) {
                        self.fail();
                        return Poll::Ready(Some(Err(e)));
                    }
                    let got = read.filled().len();
                    if got == 0 {
                        // The file shrank under us (deleted and truncated): fail
                        // rather than send fewer bytes than Content-Length said.
                        self.fail();
                        return Poll::Ready(Some(Err(std::io::ErrorKind::UnexpectedEof.into())));
                    }
                    *left -= got as u64;
                    self.remaining -= got as u64;
                    buffer.truncate(got);
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(buffer)))));
                }
            }
        }
    }

    /// Ends the stream after an error: nothing more is sent, and the
    /// descriptor is released at once.
    fn fail(&mut self) {
        self.pending.clear();
        self.reading = Reading::Idle;
        self.remaining = 0;
    }
}

impl Body for ObjectBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match &mut self.get_mut().0 {
            Inner::Bytes(bytes) => {
                Poll::Ready(bytes.take().filter(|b| !b.is_empty()).map(|b| Ok(Frame::data(b))))
            }
            Inner::Segments(segments) => segments.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Inner::Bytes(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Inner::Segments(segments) => segments.remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Inner::Bytes(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Inner::Segments(segments) => SizeHint::with_exact(segments.remaining),
        }
    }
}
