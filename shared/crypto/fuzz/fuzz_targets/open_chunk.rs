//! The header parser and the chunk opener on arbitrary input, at arbitrary
//! positions: errors, never panics, never yields plaintext.
#![no_main]

use kluis_crypto::{ContentKey, FileId, FileOpener, TransferId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Vec<u8>, u32, bool, Vec<u8>)| {
    let (header, index, last, chunk) = input;
    let (t, f) = (TransferId::from_bytes([1; 16]), FileId::from_bytes([2; 16]));
    let key = ContentKey::from_bytes([3; 32]).file_key(&t, &f);
    if let Ok(opener) = FileOpener::new(&key, &t, &f, &header) {
        let mut buffer = chunk;
        assert!(opener.open_chunk(index, last, &mut buffer).is_err());
    }
});
