//! Helpers shared by the integration tests: loading the transfer vector.

#![allow(dead_code)] // each test file uses a different part

use std::fs;
use std::path::{Path, PathBuf};

use kluis_crypto::io::StreamError;
use kluis_crypto::{ContentKey, Error, FileId, KdfParams, Manifest, PasswordKeys, TransferId};
use serde_json::Value;

/// The plaintext of vector file `seed`: byte j = (31·j + 7 + seed) mod 251.
pub fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|j| ((31 * j + 7 + seed) % 251) as u8).collect()
}

pub struct VectorFile {
    pub id: FileId,
    pub nonce_prefix: [u8; 7],
    pub len: usize,
    pub seed: usize,
    pub file_key: String,
    pub object: String,
    pub object_len: usize,
    pub object_sha256: String,
}

pub struct Vector {
    pub dir: PathBuf,
    pub json: Value,
    pub password_typed: String,
    pub password_normalized: String,
    pub kdf: KdfParams,
    pub salt: Vec<u8>,
    pub transfer: TransferId,
    pub wrap_nonce: [u8; 12],
    pub wrapped_key: Vec<u8>,
    pub manifest_nonce: [u8; 12],
    pub manifest: Manifest,
    pub files: Vec<VectorFile>,
}

fn hex_array<const N: usize>(v: &Value) -> [u8; N] {
    hex::decode(v.as_str().unwrap()).unwrap().try_into().unwrap()
}

impl Vector {
    pub fn load() -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/transfer");
        let json: Value = serde_json::from_slice(&fs::read(dir.join("vector.json")).unwrap()).unwrap();
        let files = json["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| VectorFile {
                id: FileId::parse(f["id"].as_str().unwrap()).unwrap(),
                nonce_prefix: hex_array(&f["nonce_prefix"]),
                len: f["plaintext"]["len"].as_u64().unwrap() as usize,
                seed: f["plaintext"]["seed"].as_u64().unwrap() as usize,
                file_key: f["file_key"].as_str().unwrap().into(),
                object: f["object"].as_str().unwrap().into(),
                object_len: f["object_len"].as_u64().unwrap() as usize,
                object_sha256: f["object_sha256"].as_str().unwrap().into(),
            })
            .collect();
        Self {
            password_typed: json["password_typed"].as_str().unwrap().into(),
            password_normalized: json["password_normalized"].as_str().unwrap().into(),
            kdf: serde_json::from_value(json["kdf"].clone()).unwrap(),
            salt: hex::decode(json["salt"].as_str().unwrap()).unwrap(),
            transfer: TransferId::parse(json["transfer_id"].as_str().unwrap()).unwrap(),
            wrap_nonce: hex_array(&json["wrap_nonce"]),
            wrapped_key: hex::decode(json["wrapped_key"].as_str().unwrap()).unwrap(),
            manifest_nonce: hex_array(&json["manifest_nonce"]),
            manifest: serde_json::from_value(json["manifest"].clone()).unwrap(),
            files,
            dir,
            json,
        }
    }

    pub fn expect(&self, name: &str) -> String {
        self.json["expect"][name].as_str().unwrap().into()
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.dir.join(name)).unwrap()
    }

    pub fn password_keys(&self, password: &str, transfer: &TransferId) -> PasswordKeys {
        kluis_crypto::derive_password_keys(password, &self.salt, self.kdf, transfer).unwrap()
    }

    pub fn content_key(&self) -> ContentKey {
        ContentKey::from_bytes(hex_array(&self.json["expect"]["content_key"]))
    }
}

/// Unwraps the format error of a streaming failure (an i/o error is a bug
/// in the test, since the tests read from memory).
pub trait IntoFormat {
    fn into_format(self) -> Error;
}

impl IntoFormat for StreamError {
    fn into_format(self) -> Error {
        match self {
            StreamError::Format(e) => e,
            StreamError::Io(e) => panic!("unexpected i/o error {e}"),
        }
    }
}
