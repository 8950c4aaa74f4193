//! Tampering with a sealed file, manifest or envelope always fails with a
//! clear error and never yields plaintext as a good file.

mod common;

use common::{IntoFormat, pattern};
use kluis_crypto::stream::{CHUNK_SIZE, HEADER_LEN, SEALED_CHUNK_LEN};
use kluis_crypto::{ContentKey, Error, FileId, FileKey, FileOpener, Manifest, TransferId};

fn setup() -> (ContentKey, TransferId, FileId) {
    (
        ContentKey::from_bytes([4; 32]),
        TransferId::from_bytes([5; 16]),
        FileId::from_bytes([6; 16]),
    )
}

fn encrypt(key: &FileKey, t: &TransferId, f: &FileId, plaintext: &[u8]) -> Vec<u8> {
    let mut object = Vec::new();
    kluis_crypto::io::encrypt(key, t, f, plaintext, &mut object).unwrap();
    object
}

fn decrypt(key: &FileKey, t: &TransferId, f: &FileId, object: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    kluis_crypto::io::decrypt(key, t, f, object, &mut out).map_err(IntoFormat::into_format)?;
    Ok(out)
}

#[test]
fn flipping_any_bit_of_a_small_file_is_detected() {
    let (k, t, f) = setup();
    let key = k.file_key(&t, &f);
    let object = encrypt(&key, &t, &f, &pattern(300, 1));
    for i in 0..object.len() {
        for bit in [0x01, 0x80] {
            let mut bad = object.clone();
            bad[i] ^= bit;
            let err = decrypt(&key, &t, &f, &bad).unwrap_err();
            let expected = match i {
                0..5 => Error::NotKluis,
                5 => Error::UnsupportedVersion(1 ^ bit),
                6 => Error::WrongObjectKind,
                _ => Error::ChunkAuthentication { index: 0 },
            };
            assert_eq!(err, expected, "byte {i} bit {bit:#x}");
        }
    }
}

#[test]
fn a_cut_stream_is_reported_as_truncated_at_every_chunk_boundary() {
    let (k, t, f) = setup();
    let key = k.file_key(&t, &f);
    let object = encrypt(&key, &t, &f, &pattern(3 * CHUNK_SIZE + 1, 2));
    for chunks in 1..=3 {
        let cut = &object[..HEADER_LEN + chunks * SEALED_CHUNK_LEN];
        assert_eq!(
            decrypt(&key, &t, &f, cut).unwrap_err(),
            Error::Truncated,
            "{chunks} chunks kept"
        );
    }
    assert_eq!(
        decrypt(&key, &t, &f, &object[..HEADER_LEN]).unwrap_err(),
        Error::TooShort
    );
}

#[test]
fn a_failed_chunk_leaves_no_plaintext_in_the_buffer() {
    let (k, t, f) = setup();
    let key = k.file_key(&t, &f);
    let plaintext = pattern(CHUNK_SIZE + 10, 3);
    let object = encrypt(&key, &t, &f, &plaintext);
    let opener = FileOpener::new(&key, &t, &f, &object).unwrap();
    // The first chunk is genuine but not last: opening it as last must fail
    // as truncation and must not leave its plaintext behind.
    let mut buf = object[HEADER_LEN..HEADER_LEN + SEALED_CHUNK_LEN].to_vec();
    assert_eq!(
        opener.open_chunk(0, true, &mut buf).unwrap_err(),
        Error::Truncated
    );
    assert!(buf.is_empty() || buf.windows(64).all(|w| w != &plaintext[..64]));
    // A forged chunk leaves the sealed bytes, never plaintext.
    let mut forged = object[HEADER_LEN..HEADER_LEN + SEALED_CHUNK_LEN].to_vec();
    forged[0] ^= 1;
    let before = forged.clone();
    assert_eq!(
        opener.open_chunk(0, false, &mut forged).unwrap_err(),
        Error::ChunkAuthentication { index: 0 }
    );
    assert_eq!(forged, before);
}

#[test]
fn the_wrong_key_transfer_or_file_fails_on_the_first_chunk() {
    let (k, t, f) = setup();
    let key = k.file_key(&t, &f);
    let object = encrypt(&key, &t, &f, b"payload");
    let other_t = TransferId::from_bytes([9; 16]);
    let other_f = FileId::from_bytes([9; 16]);
    let first = Error::ChunkAuthentication { index: 0 };
    // Another content key.
    let wrong = ContentKey::from_bytes([0; 32]).file_key(&t, &f);
    assert_eq!(decrypt(&wrong, &t, &f, &object).unwrap_err(), first);
    // The right key, but the object presented as another transfer's or file's.
    assert_eq!(decrypt(&key, &other_t, &f, &object).unwrap_err(), first);
    assert_eq!(decrypt(&key, &t, &other_f, &object).unwrap_err(), first);
    assert_eq!(
        decrypt(&k.file_key(&other_t, &f), &other_t, &f, &object).unwrap_err(),
        first
    );
}

#[test]
fn a_non_canonical_empty_last_chunk_is_refused() {
    let (k, t, f) = setup();
    let key = k.file_key(&t, &f);
    let sealer = kluis_crypto::FileSealer::new(&key, &t, &f).unwrap();
    let mut full = pattern(CHUNK_SIZE, 4);
    sealer.seal_chunk(0, false, &mut full).unwrap();
    assert_eq!(sealer.seal_chunk(1, true, &mut Vec::new()), Err(Error::ChunkSize));
    assert_eq!(
        sealer.seal_chunk(0, false, &mut vec![0; 10]),
        Err(Error::ChunkSize)
    );
}

#[test]
fn flipping_any_byte_of_a_sealed_manifest_is_detected() {
    let (k, t, _) = setup();
    let key = k.manifest_key(&t);
    let sealed = Manifest {
        message: "geheim".into(),
        files: vec![],
    }
    .seal(&key, &t)
    .unwrap();
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x04;
        let err = Manifest::open(&bad, &key, &t).unwrap_err();
        let expected = match i {
            0..5 => Error::NotKluis,
            5 => Error::UnsupportedVersion(1 ^ 0x04),
            6 => Error::WrongObjectKind,
            _ => Error::ManifestAuthentication,
        };
        assert_eq!(err, expected, "byte {i}");
    }
    assert_eq!(
        Manifest::open(&sealed[..30], &key, &t).unwrap_err(),
        Error::TooShort
    );
}

#[test]
fn a_manifest_sealed_with_invalid_json_inside_is_malformed_not_accepted() {
    // Only a key holder can produce this; the reader must still refuse it.
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let (k, t, _) = setup();
    let key = k.manifest_key(&t);
    let mut sealed = b"kluis\x01M".to_vec();
    sealed.extend_from_slice(&[0u8; 12]);
    let mut aad = sealed.clone();
    aad.extend_from_slice(t.as_bytes());
    let body = aes_gcm::Aes256Gcm::new(key.expose_secret().into())
        .encrypt(
            &[0u8; 12].into(),
            Payload {
                msg: b"{\"message\":1}",
                aad: &aad,
            },
        )
        .unwrap();
    sealed.extend_from_slice(&body);
    assert_eq!(
        Manifest::open(&sealed, &key, &t).unwrap_err(),
        Error::ManifestMalformed
    );
}
