//! The body of the store's HTTP answers: a small buffer (errors, empty
//! answers) or a window of a file read in 64 KiB frames, so a 1 GB download
//! never sits in memory.

use core::pin::Pin;
use core::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};

const FRAME_BYTES: u64 = 64 * 1024;

/// A response body: bytes in memory, or `len` bytes of an open file from
/// its current position.
#[derive(Debug)]
pub struct ObjectBody(Inner);

#[derive(Debug)]
enum Inner {
    Bytes(Option<Bytes>),
    File { file: tokio::fs::File, remaining: u64 },
}

impl ObjectBody {
    pub(crate) fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self(Inner::Bytes(Some(bytes.into())))
    }

    pub(crate) fn empty() -> Self {
        Self(Inner::Bytes(None))
    }

    pub(crate) fn file(file: tokio::fs::File, len: u64) -> Self {
        Self(Inner::File { file, remaining: len })
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
            Inner::File { file, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let want = usize::try_from((*remaining).min(FRAME_BYTES)).unwrap_or(64 * 1024);
                let mut buffer = vec![0; want];
                let mut read = ReadBuf::new(&mut buffer);
                ready!(Pin::new(file).poll_read(cx, &mut read))?;
                let got = read.filled().len();
                if got == 0 {
                    // The file shrank under us (deleted and truncated): fail
                    // rather than send fewer bytes than Content-Length said.
                    return Poll::Ready(Some(Err(std::io::ErrorKind::UnexpectedEof.into())));
                }
                *remaining -= got as u64;
                buffer.truncate(got);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(buffer)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Inner::Bytes(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Inner::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Inner::Bytes(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Inner::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
