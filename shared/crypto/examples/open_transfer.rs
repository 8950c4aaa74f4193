//! Opens a transfer stored as a directory (the layout of
//! `tests/vectors/transfer/vector.json`) with a password, decrypts every file
//! in memory-constant streaming fashion and checks it against the manifest.
//!
//! `open_transfer DIR PASSWORD` prints `{"message", "files": [{"id", "name",
//! "size", "sha256_ok"}]}` on success; on failure prints `error: <code>` to
//! stderr and exits 2. The WebAssembly smoke test uses it to prove that
//! what the browser side wrote opens natively.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::Path;
use std::process::ExitCode;

use kluis_crypto::io::StreamError;
use kluis_crypto::{Error, FileId, KdfParams, Manifest, TransferId};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A `Write` that hashes what passes through and keeps nothing.
struct HashingSink(Sha256, u64);

impl std::io::Write for HashingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a str, Box<dyn std::error::Error>> {
    v[name]
        .as_str()
        .ok_or_else(|| format!("missing field {name}").into())
}

fn run(dir: &Path, password: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let v: Value = serde_json::from_slice(&fs::read(dir.join("vector.json"))?)?;
    let transfer = TransferId::parse(field(&v, "transfer_id")?)?;
    let kdf: KdfParams = serde_json::from_value(v["kdf"].clone())?;
    let salt = hex::decode(field(&v, "salt")?)?;
    let keys = kluis_crypto::derive_password_keys(password, &salt, kdf, &transfer)?;
    let content_key =
        kluis_crypto::wrap::unwrap(&keys.kek, &hex::decode(field(&v, "wrapped_key")?)?, &transfer)?;
    let sealed = fs::read(dir.join(field(&v, "sealed_manifest")?))?;
    let manifest = Manifest::open(&sealed, &content_key.manifest_key(&transfer), &transfer)?;

    let objects = v["files"].as_array().ok_or("missing files")?;
    let mut files = Vec::new();
    for entry in &manifest.files {
        let object = objects
            .iter()
            .find(|o| FileId::parse(o["id"].as_str().unwrap_or("")).ok() == Some(entry.id))
            .ok_or("manifest names a file that is not in the directory")?;
        let reader = BufReader::new(File::open(dir.join(field(object, "object")?))?);
        let mut sink = HashingSink(Sha256::new(), 0);
        let key = content_key.file_key(&transfer, &entry.id);
        kluis_crypto::io::decrypt(&key, &transfer, &entry.id, reader, &mut sink)?;
        let digest: [u8; 32] = sink.0.finalize().into();
        files.push(json!({
            "id": entry.id.to_text(),
            "name": entry.name,
            "size": sink.1,
            "sha256_ok": digest == entry.sha256 && sink.1 == entry.size,
        }));
    }
    Ok(json!({ "message": manifest.message, "files": files }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, password] = args.as_slice() else {
        eprintln!("usage: open_transfer DIR PASSWORD");
        return ExitCode::from(64);
    };
    match run(Path::new(dir), password) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = e
                .downcast_ref::<Error>()
                .map(Error::code)
                .or_else(|| match e.downcast_ref::<StreamError>() {
                    Some(StreamError::Format(f)) => Some(f.code()),
                    _ => None,
                })
                .unwrap_or("other");
            eprintln!("error: {code}: {e}");
            ExitCode::from(2)
        }
    }
}
