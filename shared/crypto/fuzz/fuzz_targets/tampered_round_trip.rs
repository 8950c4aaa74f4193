//! A genuine object with fuzzer-chosen edits: decryption either returns the
//! original plaintext (no effective edit) or fails — never other bytes.
#![no_main]

use arbitrary::Arbitrary;
use kluis_crypto::{ContentKey, FileId, TransferId};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Edit {
    Flip { at: u32, mask: u8 },
    Truncate { to: u32 },
    Append { bytes: Vec<u8> },
    Remove { at: u32, len: u16 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    plaintext_len: u32,
    seed: u8,
    edits: Vec<Edit>,
}

fuzz_target!(|input: Input| {
    // Up to a little over two chunks keeps runs fast and still crosses
    // chunk boundaries.
    let len = (input.plaintext_len % (2 * kluis_crypto::CHUNK_SIZE as u32 + 100)) as usize;
    let plaintext: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(input.seed | 1)).collect();
    let (t, f) = (TransferId::from_bytes([1; 16]), FileId::from_bytes([2; 16]));
    let key = ContentKey::from_bytes([3; 32]).file_key(&t, &f);
    let mut object = Vec::new();
    kluis_crypto::io::encrypt(&key, &t, &f, plaintext.as_slice(), &mut object).expect("encrypt to memory");
    let original = object.clone();
    for edit in input.edits {
        match edit {
            Edit::Flip { at, mask } if !object.is_empty() => {
                let i = at as usize % object.len();
                object[i] ^= mask;
            }
            Edit::Truncate { to } => object.truncate(to as usize % (object.len() + 1)),
            Edit::Append { bytes } => object.extend(bytes),
            Edit::Remove { at, len } if !object.is_empty() => {
                let start = at as usize % object.len();
                let end = (start + len as usize).min(object.len());
                object.drain(start..end);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    match kluis_crypto::io::decrypt(&key, &t, &f, object.as_slice(), &mut out) {
        Ok(_) => {
            assert_eq!(object, original, "an edited object decrypted");
            assert_eq!(out, plaintext);
        }
        Err(_) => assert_ne!(object, original, "the genuine object failed"),
    }
});
