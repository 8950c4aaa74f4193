//! The streaming file decryptor on arbitrary bytes: errors, never panics,
//! and never succeeds (forging a tag is infeasible).
#![no_main]

use kluis_crypto::{ContentKey, FileId, TransferId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (t, f) = (TransferId::from_bytes([1; 16]), FileId::from_bytes([2; 16]));
    let key = ContentKey::from_bytes([3; 32]).file_key(&t, &f);
    let result = kluis_crypto::io::decrypt(&key, &t, &f, data, std::io::sink());
    assert!(result.is_err(), "random bytes decrypted");
});
