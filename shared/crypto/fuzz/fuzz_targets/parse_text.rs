//! Id parsing and password normalization on arbitrary text.
#![no_main]

use kluis_crypto::{FileId, TransferId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(id) = TransferId::parse(text) {
        assert_eq!(id.to_text(), text, "only the canonical spelling parses");
    }
    let _ = FileId::parse(text);
    let once = kluis_crypto::password::normalize(text);
    assert_eq!(kluis_crypto::password::normalize(&once), once);
});
