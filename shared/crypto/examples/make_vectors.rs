//! Writes the known-answer vectors under `tests/vectors/` — run once, then
//! the files are frozen: a change to the format must break them on purpose.
//!
//! `cargo run -p kluis-crypto --example make_vectors -- shared/crypto/tests/vectors`
//!
//! Every input is a fixed byte pattern, so the output is reproducible; the
//! plaintext of file `i` is byte `j` = (31·j + 7 + i) mod 251.

use std::fs;
use std::path::Path;

use kluis_crypto::stream::CHUNK_SIZE;
use kluis_crypto::{ContentKey, FileEntry, FileId, FileSealer, KdfParams, Manifest, TransferId};
use serde_json::json;
use sha2::{Digest, Sha256};

fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|j| ((31 * j + 7 + seed) % 251) as u8).collect()
}

fn seq<const N: usize>(start: u8) -> [u8; N] {
    core::array::from_fn(|i| start.wrapping_add(i as u8))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: make_vectors OUT_DIR")?;
    let dir = Path::new(&out).join("transfer");
    fs::create_dir_all(&dir)?;

    let typed = "K7M X2P ABC DEF GHJ KMN PQR";
    let params = KdfParams::DEFAULT;
    let salt: [u8; 16] = seq(0x10);
    let transfer = TransferId::from_bytes(seq(0x00));
    let content_key = ContentKey::from_bytes(seq(0x20));
    let wrap_nonce: [u8; 12] = seq(0x40);
    let manifest_nonce: [u8; 12] = seq(0x50);

    let keys = kluis_crypto::derive_password_keys(typed, &salt, params, &transfer)?;
    let wrapped = kluis_crypto::wrap::wrap_with_nonce(&keys.kek, &content_key, &transfer, wrap_nonce)?;

    let c = CHUNK_SIZE;
    let sizes = [0, 1, 1000, c - 1, c, c + 1, 2 * c + 5];
    let mut entries = Vec::new();
    let mut files = Vec::new();
    for (i, &len) in sizes.iter().enumerate() {
        let id = FileId::from_bytes([0xA0 + i as u8; 16]);
        let prefix = [0xB0 + i as u8; 7];
        let plaintext = pattern(len, i);
        let file_key = content_key.file_key(&transfer, &id);
        let sealer = FileSealer::with_nonce_prefix(&file_key, &transfer, &id, prefix);
        let mut object = sealer.header().to_vec();
        let chunks: Vec<&[u8]> = if len == 0 {
            vec![&[]]
        } else {
            plaintext.chunks(c).collect()
        };
        for (index, chunk) in chunks.iter().enumerate() {
            let mut buf = chunk.to_vec();
            sealer.seal_chunk(index as u32, index + 1 == chunks.len(), &mut buf)?;
            object.extend_from_slice(&buf);
        }
        let object_name = format!("file-{i}.kluis");
        fs::write(dir.join(&object_name), &object)?;
        entries.push(FileEntry {
            id,
            name: format!("bestand {i} — €.bin"),
            size: len as u64,
            media_type: "application/octet-stream".into(),
            sha256: Sha256::digest(&plaintext).into(),
        });
        files.push(json!({
            "id": id.to_text(),
            "nonce_prefix": hex::encode(prefix),
            "plaintext": { "len": len, "seed": i },
            "file_key": hex::encode(file_key.expose_secret()),
            "object": object_name,
            "object_len": object.len(),
            "object_sha256": hex::encode(Sha256::digest(&object)),
        }));
    }
    let manifest = Manifest {
        message: "Vertrouwelijk: zie de bijlagen.\n<b>geen HTML</b> \u{1F512}".into(),
        files: entries,
    };
    let sealed = manifest.seal_with_nonce(&content_key.manifest_key(&transfer), &transfer, manifest_nonce)?;
    fs::write(dir.join("manifest.kluis"), &sealed)?;

    let vector = json!({
        "description": "One transfer: password → keys → wrapped content key → sealed manifest → seven files at the chunk edges.",
        "password_typed": typed,
        "password_normalized": kluis_crypto::password::normalize(typed),
        "kdf": params,
        "salt": hex::encode(salt),
        "transfer_id": transfer.to_text(),
        "expect": {
            "stretched": hex::encode(*kluis_crypto::stretch(typed, &salt, params)?),
            "kek": hex::encode(keys.kek.expose_secret()),
            "auth_key": hex::encode(keys.auth.expose_secret()),
            "auth_hash": hex::encode(kluis_crypto::auth_hash(&keys.auth)),
            "content_key": hex::encode(content_key.expose_secret()),
            "manifest_key": hex::encode(content_key.manifest_key(&transfer).expose_secret()),
        },
        "wrap_nonce": hex::encode(wrap_nonce),
        "wrapped_key": hex::encode(wrapped),
        "manifest_nonce": hex::encode(manifest_nonce),
        "manifest": manifest,
        "manifest_json": serde_json::to_string(&manifest)?,
        "sealed_manifest": "manifest.kluis",
        "files": files,
    });
    fs::write(
        dir.join("vector.json"),
        serde_json::to_string_pretty(&vector)? + "\n",
    )?;
    println!("wrote {}", dir.display());
    Ok(())
}
