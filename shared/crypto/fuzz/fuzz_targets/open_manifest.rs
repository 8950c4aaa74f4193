//! The sealed-manifest opener and the manifest JSON parser on arbitrary input.
#![no_main]

use kluis_crypto::{ContentKey, Manifest, TransferId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TransferId::from_bytes([1; 16]);
    let key = ContentKey::from_bytes([3; 32]).manifest_key(&t);
    assert!(Manifest::open(data, &key, &t).is_err());
    // The JSON parser directly: whatever it accepts must validate and
    // survive a seal/open round trip unchanged.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(manifest) = kluis_crypto::manifest::from_json(text) {
            if let Ok(sealed) = manifest.seal(&key, &t) {
                assert_eq!(Manifest::open(&sealed, &key, &t).expect("own seal opens"), manifest);
            }
        }
    }
});
