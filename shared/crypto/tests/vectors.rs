//! Known-answer vectors: the frozen files under `tests/vectors/`.
//!
//! `transfer/` is one complete transfer; every `fail_*.json` names a
//! mutation of it (or a wrong input) and the error it MUST produce. Any change
//! to the format breaks these on purpose. The same files are read by the
//! independent decryptor in `tests/conformance/` and by the WebAssembly
//! smoke test.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{IntoFormat, Vector, pattern};
use kluis_crypto::stream::{HEADER_LEN, SEALED_CHUNK_LEN};
use kluis_crypto::{ContentKey, Error, FileId, FileSealer, Manifest, TransferId};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

#[test]
fn transfer_vector_derives_the_recorded_keys() {
    let v = Vector::load();
    let keys = v.password_keys(&v.password_typed, &v.transfer);
    assert_eq!(
        kluis_crypto::password::normalize(&v.password_typed),
        v.password_normalized
    );
    let stretched = kluis_crypto::stretch(&v.password_typed, &v.salt, v.kdf).unwrap();
    assert_eq!(hex::encode(*stretched), v.expect("stretched"));
    assert_eq!(hex::encode(keys.kek.expose_secret()), v.expect("kek"));
    assert_eq!(hex::encode(keys.auth.expose_secret()), v.expect("auth_key"));
    assert_eq!(
        hex::encode(kluis_crypto::auth_hash(&keys.auth)),
        v.expect("auth_hash")
    );
    let stored: [u8; 32] = hex::decode(v.expect("auth_hash")).unwrap().try_into().unwrap();
    assert!(kluis_crypto::verify_auth(&stored, keys.auth.expose_secret()));
}

#[test]
fn transfer_vector_unwraps_and_rewraps_byte_for_byte() {
    let v = Vector::load();
    let keys = v.password_keys(&v.password_typed, &v.transfer);
    let content_key = kluis_crypto::wrap::unwrap(&keys.kek, &v.wrapped_key, &v.transfer).unwrap();
    assert_eq!(hex::encode(content_key.expose_secret()), v.expect("content_key"));
    let rewrapped =
        kluis_crypto::wrap::wrap_with_nonce(&keys.kek, &content_key, &v.transfer, v.wrap_nonce).unwrap();
    assert_eq!(rewrapped.as_slice(), v.wrapped_key.as_slice());
}

#[test]
fn transfer_vector_manifest_opens_and_reseals_byte_for_byte() {
    let v = Vector::load();
    let key = v.content_key().manifest_key(&v.transfer);
    assert_eq!(hex::encode(key.expose_secret()), v.expect("manifest_key"));
    let sealed = v.read("manifest.kluis");
    let manifest = Manifest::open(&sealed, &key, &v.transfer).unwrap();
    assert_eq!(manifest, v.manifest);
    assert_eq!(
        manifest
            .seal_with_nonce(&key, &v.transfer, v.manifest_nonce)
            .unwrap(),
        sealed
    );
}

#[test]
fn transfer_vector_files_decrypt_to_the_pattern_and_reencrypt_byte_for_byte() {
    let v = Vector::load();
    let content_key = v.content_key();
    for (file, entry) in v.files.iter().zip(&v.manifest.files) {
        let object = v.read(&file.object);
        assert_eq!(object.len(), file.object_len);
        assert_eq!(hex::encode(Sha256::digest(&object)), file.object_sha256);
        assert_eq!(
            kluis_crypto::plaintext_len(object.len() as u64),
            Some(file.len as u64)
        );

        let key = content_key.file_key(&v.transfer, &file.id);
        assert_eq!(hex::encode(key.expose_secret()), file.file_key);
        let mut plaintext = Vec::new();
        kluis_crypto::io::decrypt(&key, &v.transfer, &file.id, object.as_slice(), &mut plaintext).unwrap();
        assert_eq!(plaintext, pattern(file.len, file.seed), "{}", file.object);
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&plaintext)), entry.sha256);

        let sealer = FileSealer::with_nonce_prefix(&key, &v.transfer, &file.id, file.nonce_prefix);
        let mut again = sealer.header().to_vec();
        let pieces: Vec<&[u8]> = if plaintext.is_empty() {
            vec![&[]]
        } else {
            plaintext.chunks(kluis_crypto::CHUNK_SIZE).collect()
        };
        for (i, piece) in pieces.iter().enumerate() {
            let mut buf = piece.to_vec();
            sealer
                .seal_chunk(i as u32, i + 1 == pieces.len(), &mut buf)
                .unwrap();
            again.extend_from_slice(&buf);
        }
        assert!(again == object, "{} re-encrypts differently", file.object);
    }
}

/// Applies a `fail_*.json` mutation to the bytes of its target.
fn mutate(v: &Vector, bytes: &mut Vec<u8>, mutation: &Value) {
    let chunk = |i: u64| {
        let start = HEADER_LEN + i as usize * SEALED_CHUNK_LEN;
        start..(start + SEALED_CHUNK_LEN)
    };
    let Some((op, arg)) = mutation.as_object().and_then(|m| m.iter().next()) else {
        return;
    };
    match op.as_str() {
        "flip" => bytes[arg.as_u64().unwrap() as usize] ^= 0x01,
        "truncate" => bytes.truncate(arg.as_u64().unwrap() as usize),
        "append" => bytes.extend(hex::decode(arg.as_str().unwrap()).unwrap()),
        "drop_chunk" => {
            bytes.drain(chunk(arg.as_u64().unwrap()));
        }
        "duplicate_chunk" => {
            let range = chunk(arg.as_u64().unwrap());
            let copy = bytes[range.clone()].to_vec();
            bytes.splice(range.end..range.end, copy);
        }
        "swap_chunks" => {
            let (a, b) = (chunk(arg[0].as_u64().unwrap()), chunk(arg[1].as_u64().unwrap()));
            let (first, second) = (bytes[a.clone()].to_vec(), bytes[b.clone()].to_vec());
            bytes[a].copy_from_slice(&second);
            bytes[b].copy_from_slice(&first);
        }
        "replace_chunk" => {
            let other = v.read(arg["from"].as_str().unwrap());
            let from = other[chunk(arg["from_index"].as_u64().unwrap())].to_vec();
            bytes[chunk(arg["index"].as_u64().unwrap())].copy_from_slice(&from);
        }
        other => panic!("unknown mutation {other}"),
    }
}

/// Runs one failure vector and returns the error it produced.
fn run_failure(v: &Vector, case: &Value) -> Error {
    let transfer = case
        .get("transfer_id")
        .map_or(v.transfer, |t| TransferId::parse(t.as_str().unwrap()).unwrap());
    let target = case["target"].as_str().unwrap();
    let mut bytes = if target == "wrapped_key" {
        v.wrapped_key.to_vec()
    } else {
        v.read(target)
    };
    mutate(v, &mut bytes, &case["mutation"]);

    if target == "wrapped_key" {
        let password = case
            .get("password")
            .and_then(Value::as_str)
            .unwrap_or(&v.password_typed);
        let keys = v.password_keys(password, &transfer);
        return kluis_crypto::wrap::unwrap(&keys.kek, &bytes, &transfer).unwrap_err();
    }
    let content_key: ContentKey = v.content_key();
    if target == "manifest.kluis" || case.get("open_as").and_then(Value::as_str) == Some("manifest") {
        return Manifest::open(&bytes, &content_key.manifest_key(&transfer), &transfer).unwrap_err();
    }
    let index = v.files.iter().position(|f| f.object == target).unwrap();
    let file = case
        .get("file_id")
        .map_or(v.files[index].id, |f| FileId::parse(f.as_str().unwrap()).unwrap());
    let key = content_key.file_key(&transfer, &file);
    kluis_crypto::io::decrypt(&key, &transfer, &file, bytes.as_slice(), &mut Vec::new())
        .map(|_| panic!("{target} decrypted despite {case}"))
        .unwrap_err()
        .into_format()
}

#[test]
fn every_fail_vector_fails_with_its_recorded_error() {
    let v = Vector::load();
    let mut cases: Vec<_> = fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("fail_"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 20,
        "expected the frozen set of failure vectors, found {}",
        cases.len()
    );
    for path in cases {
        let case: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let err = run_failure(&v, &case);
        let name = path.file_name().unwrap().to_string_lossy();
        assert_eq!(err.code(), case["error"].as_str().unwrap(), "{name}: got {err:?}");
        if let Some(index) = case.get("index") {
            assert_eq!(
                err,
                Error::ChunkAuthentication {
                    index: index.as_u64().unwrap()
                },
                "{name}"
            );
        }
    }
}

/// `vector.json`'s `manifest_json` is the exact text the crate seals (before
/// the padding): compact, members in the order `docs/format.md` shows,
/// non-ASCII as raw UTF-8. The byte-for-byte reseal above pins that this is
/// what `manifest.kluis` holds.
#[test]
fn transfer_vector_manifest_json_is_the_text_the_crate_seals() {
    let v = Vector::load();
    let sealed_text = v.json["manifest_json"].as_str().expect("manifest_json");
    assert_eq!(serde_json::to_string(&v.manifest).unwrap(), sealed_text);
    assert!(sealed_text.contains('€'), "raw UTF-8, not \\u escapes");
    assert!(
        sealed_text.starts_with(r#"{"message":""#),
        "compact, message first"
    );
}

/// A wrapped key is judged by its length first, then its version byte,
/// then its tag (`docs/format.md`, "Wrapped key").
#[test]
fn a_wrapped_key_is_checked_for_length_then_version_then_tag() {
    let v = Vector::load();
    let keys = v.password_keys(&v.password_typed, &v.transfer);
    let good = v.wrapped_key.clone();
    let mut short_and_wrong_version = good[..60].to_vec();
    short_and_wrong_version[0] = 2;
    assert_eq!(
        kluis_crypto::wrap::unwrap(&keys.kek, &short_and_wrong_version, &v.transfer).unwrap_err(),
        Error::WrappedKeyMalformed
    );
    let mut wrong_version = good.clone();
    wrong_version[0] = 2;
    assert_eq!(
        kluis_crypto::wrap::unwrap(&keys.kek, &wrong_version, &v.transfer).unwrap_err(),
        Error::UnsupportedVersion(2)
    );
    let mut wrong_tag = good;
    wrong_tag[60] ^= 1;
    assert_eq!(
        kluis_crypto::wrap::unwrap(&keys.kek, &wrong_tag, &v.transfer).unwrap_err(),
        Error::WrongPassword
    );
}

/// `manifest_too_large` is judged from the sealed length, before any
/// decryption: an oversized object with a garbage tag is too large, not
/// unauthentic.
#[test]
fn an_oversized_sealed_manifest_is_refused_before_decryption() {
    let v = Vector::load();
    let key = v.content_key().manifest_key(&v.transfer);
    let mut sealed = v.read("manifest.kluis")[..19].to_vec();
    sealed.resize(kluis_crypto::manifest::MAX_SEALED_MANIFEST_LEN + 1, 0);
    assert_eq!(
        Manifest::open(&sealed, &key, &v.transfer).unwrap_err(),
        Error::ManifestTooLarge
    );
    let at_the_limit = &sealed[..kluis_crypto::manifest::MAX_SEALED_MANIFEST_LEN];
    assert_eq!(
        Manifest::open(at_the_limit, &key, &v.transfer).unwrap_err(),
        Error::ManifestAuthentication
    );
}

/// A file entry whose id is not a canonical 22-character base64url id is
/// malformed; a manifest with no files is valid as far as the format goes
/// (the API refuses an empty transfer on its own).
#[test]
fn manifest_file_ids_must_be_canonical_and_zero_files_is_a_valid_manifest() {
    let entry = |id: &str| {
        format!(
            r#"{{"message":"","files":[{{"id":"{id}","name":"a","size":0,"type":"","sha256":"{}"}}]}}"#,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
    };
    assert!(kluis_crypto::manifest::from_json(&entry("oKCgoKCgoKCgoKCgoKCgoA")).is_ok());
    for bad in [
        "oKCgoKCgoKCgoKCgoKCgoB",
        "oKCgoKCgoKCgoKCgoKCgo",
        "oKCgoKCgoKCgoKCgoKCgoA==",
        "",
    ] {
        assert_eq!(
            kluis_crypto::manifest::from_json(&entry(bad)).unwrap_err(),
            Error::ManifestMalformed,
            "{bad}"
        );
    }
    assert!(kluis_crypto::manifest::from_json(r#"{"message":"","files":[]}"#).is_ok());
}
