//! Round trips at the size edges, through both APIs, with awkward readers,
//! and property tests over sizes, contents and manifests.

mod common;

use std::io::{self, Read};

use common::pattern;
use kluis_crypto::stream::{CHUNK_SIZE, SEALED_CHUNK_LEN};
use kluis_crypto::{ContentKey, FileEntry, FileId, FileKey, FileOpener, FileSealer, Manifest, TransferId};
use proptest::prelude::*;

const C: usize = CHUNK_SIZE;

fn ids() -> (FileKey, TransferId, FileId) {
    let transfer = TransferId::from_bytes([1; 16]);
    let file = FileId::from_bytes([2; 16]);
    (
        ContentKey::from_bytes([3; 32]).file_key(&transfer, &file),
        transfer,
        file,
    )
}

/// A reader that hands out at most `step` bytes per call, like a socket.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn round_trip_io(plaintext: &[u8], step: usize) {
    let (key, transfer, file) = ids();
    let mut object = Vec::new();
    let written = kluis_crypto::io::encrypt(
        &key,
        &transfer,
        &file,
        Trickle {
            data: plaintext,
            step,
        },
        &mut object,
    )
    .unwrap();
    assert_eq!(written as usize, object.len());
    assert_eq!(
        Some(object.len() as u64),
        kluis_crypto::ciphertext_len(plaintext.len() as u64)
    );
    let mut back = Vec::new();
    let n = kluis_crypto::io::decrypt(&key, &transfer, &file, Trickle { data: &object, step }, &mut back)
        .unwrap();
    assert_eq!(n as usize, plaintext.len());
    assert!(
        back == plaintext,
        "round trip of {} bytes differs",
        plaintext.len()
    );
}

#[test]
fn round_trips_at_every_edge_size() {
    for len in [0, 1, 2, C - 1, C, C + 1, 2 * C, 5 * C + 3] {
        round_trip_io(&pattern(len, len), usize::MAX);
    }
}

#[test]
fn round_trips_with_readers_that_return_short_reads() {
    for step in [1, 7, 4096, C - 1, C + 17] {
        round_trip_io(&pattern(C + 5, step), step);
    }
}

#[test]
fn chunk_api_interoperates_with_the_io_api() {
    let (key, transfer, file) = ids();
    let plaintext = pattern(3 * C + 10, 9);
    // Seal out of order, as parallel workers would, then read as a stream.
    let sealer = FileSealer::new(&key, &transfer, &file).unwrap();
    let pieces: Vec<&[u8]> = plaintext.chunks(C).collect();
    let mut sealed: Vec<Vec<u8>> = vec![Vec::new(); pieces.len()];
    for i in (0..pieces.len()).rev() {
        let mut buf = pieces[i].to_vec();
        sealer
            .seal_chunk(i as u32, i + 1 == pieces.len(), &mut buf)
            .unwrap();
        sealed[i] = buf;
    }
    let object: Vec<u8> = sealer.header().into_iter().chain(sealed.concat()).collect();
    let mut back = Vec::new();
    kluis_crypto::io::decrypt(&key, &transfer, &file, object.as_slice(), &mut back).unwrap();
    assert!(back == plaintext);

    // And open chunk by chunk what the io API wrote.
    let mut streamed = Vec::new();
    kluis_crypto::io::encrypt(&key, &transfer, &file, plaintext.as_slice(), &mut streamed).unwrap();
    let opener = FileOpener::new(&key, &transfer, &file, &streamed).unwrap();
    let chunks: Vec<&[u8]> = streamed[14..].chunks(SEALED_CHUNK_LEN).collect();
    let mut opened = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut buf = chunk.to_vec();
        opener
            .open_chunk(i as u32, i + 1 == chunks.len(), &mut buf)
            .unwrap();
        opened.extend_from_slice(&buf);
    }
    assert!(opened == plaintext);
}

#[test]
fn two_encryptions_of_the_same_file_differ() {
    let (key, transfer, file) = ids();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    kluis_crypto::io::encrypt(&key, &transfer, &file, &b"same"[..], &mut a).unwrap();
    kluis_crypto::io::encrypt(&key, &transfer, &file, &b"same"[..], &mut b).unwrap();
    assert_ne!(a, b, "the random nonce prefix must make each object unique");
}

fn file_name() -> impl Strategy<Value = String> {
    "[^/\\\\\\p{Cc}]{1,60}".prop_filter("not . or ..", |n| n != "." && n != "..")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_content_round_trips(len in 0usize..(2 * C + 100), seed: u8, step in 1usize..(2 * C)) {
        let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed | 1).wrapping_add(seed)).collect();
        round_trip_io(&data, step);
    }

    #[test]
    fn any_valid_manifest_round_trips(
        message in any::<String>(),
        names in proptest::collection::vec(file_name(), 0..8),
        size in 0u64..(1 << 40),
    ) {
        let files = names.iter().enumerate().map(|(i, name)| FileEntry {
            id: FileId::from_bytes([i as u8; 16]),
            name: name.clone(),
            size,
            media_type: "text/plain".into(),
            sha256: [i as u8; 32],
        }).collect();
        let manifest = Manifest { message, files };
        let key = ContentKey::from_bytes([7; 32]).manifest_key(&TransferId::from_bytes([8; 16]));
        let t = TransferId::from_bytes([8; 16]);
        let sealed = manifest.seal(&key, &t).unwrap();
        prop_assert_eq!(Manifest::open(&sealed, &key, &t).unwrap(), manifest);
    }

    #[test]
    fn normalizing_a_password_is_idempotent(typed in any::<String>()) {
        let once = kluis_crypto::password::normalize(&typed);
        prop_assert_eq!(kluis_crypto::password::normalize(&once), once);
    }

    #[test]
    fn ciphertext_and_plaintext_lengths_are_inverse(n in 0u64..(1 << 45)) {
        let ct = kluis_crypto::ciphertext_len(n).unwrap();
        prop_assert_eq!(kluis_crypto::plaintext_len(ct), Some(n));
        // The sizes just beside a valid one are never valid for another length
        // with the same chunk count.
        prop_assert_ne!(kluis_crypto::plaintext_len(ct + 1), Some(n));
    }
}
