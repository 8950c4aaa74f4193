//! The wrapped-key parser on arbitrary envelopes.
#![no_main]

use kluis_crypto::{KeyEncryptionKey, TransferId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let kek = KeyEncryptionKey::from_bytes([4; 32]);
    assert!(kluis_crypto::wrap::unwrap(&kek, data, &TransferId::from_bytes([1; 16])).is_err());
});
