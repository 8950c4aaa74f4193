//! The kluis format as WebAssembly for the web pages.
//!
//! A thin layer: every function here converts JavaScript values and calls
//! `kluis-crypto`; no format logic lives here. Errors become JavaScript
//! `Error`s whose message starts with the stable error code
//! (`"wrong_password: …"`), so pages can branch on it.
//!
//! The pages use this module for the key schedule, key wrapping, the
//! manifest and (for tests and small files) chunks; bulk chunk encryption
//! uses WebCrypto's AES-GCM with [`file_key`] bytes, [`chunk_nonce`] and
//! [`chunk_aad`], which is the same computation (see `docs/format.md`).

use kluis_crypto::stream::{self, HEADER_LEN, NONCE_PREFIX_LEN, SEALED_CHUNK_LEN};
use kluis_crypto::{ContentKey as RsContentKey, FileId, KdfParams, Manifest, TransferId};
use sha2::Digest as _;
use wasm_bindgen::prelude::*;

fn js_error(e: kluis_crypto::Error) -> JsError {
    JsError::new(&format!("{}: {e}", e.code()))
}

fn transfer_id(text: &str) -> Result<TransferId, JsError> {
    TransferId::parse(text).map_err(js_error)
}

fn file_id(text: &str) -> Result<FileId, JsError> {
    FileId::parse(text).map_err(js_error)
}

/// Plaintext bytes per chunk.
#[wasm_bindgen(js_name = chunkSize)]
pub fn chunk_size() -> usize {
    kluis_crypto::CHUNK_SIZE
}

/// Bytes of a full sealed chunk (chunk size + tag).
#[wasm_bindgen(js_name = sealedChunkSize)]
pub fn sealed_chunk_size() -> usize {
    SEALED_CHUNK_LEN
}

/// Length of a file object's header.
#[wasm_bindgen(js_name = headerLength)]
pub fn header_length() -> usize {
    HEADER_LEN
}

/// Size of the file object for `plaintext_len` bytes (exact below 2^53).
#[wasm_bindgen(js_name = ciphertextLength)]
pub fn ciphertext_length(plaintext_len: f64) -> Result<f64, JsError> {
    kluis_crypto::ciphertext_len(plaintext_len as u64)
        .map(|n| n as f64)
        .ok_or_else(|| js_error(kluis_crypto::Error::FileTooLarge))
}

/// The plaintext size a file object of `object_len` bytes holds (what the
/// sender's status page shows), or an error for a size no file has.
#[wasm_bindgen(js_name = plaintextLength)]
pub fn plaintext_length(object_len: f64) -> Result<f64, JsError> {
    kluis_crypto::plaintext_len(object_len as u64)
        .map(|n| n as f64)
        .ok_or_else(|| js_error(kluis_crypto::Error::InvalidEncoding("file object size")))
}

/// A new dictatable password (7 groups of 3, ≈ 104 bits).
#[wasm_bindgen(js_name = generatePassword)]
pub fn generate_password() -> Result<String, JsError> {
    kluis_crypto::password::generate().map_err(js_error)
}

/// The canonical form of a typed password.
#[wasm_bindgen(js_name = normalizePassword)]
pub fn normalize_password(typed: &str) -> String {
    kluis_crypto::password::normalize(typed)
}

/// The format's default Argon2id parameters as `[m_kib, t, p]`: what a new
/// transfer's password is stretched with.
#[wasm_bindgen(js_name = defaultKdf)]
pub fn default_kdf() -> Vec<u32> {
    let KdfParams { m_kib, t, p } = KdfParams::DEFAULT;
    vec![m_kib, t, p]
}

/// A new random 16-byte Argon2id salt.
#[wasm_bindgen(js_name = generateSalt)]
pub fn generate_salt() -> Result<Vec<u8>, JsError> {
    kluis_crypto::generate_salt().map(Vec::from).map_err(js_error)
}

/// A new random file id (22-character text form).
#[wasm_bindgen(js_name = newFileId)]
pub fn new_file_id() -> Result<String, JsError> {
    FileId::random().map(|id| id.to_text()).map_err(js_error)
}

/// The keys a password yields for one transfer.
#[wasm_bindgen]
pub struct PasswordKeys {
    inner: kluis_crypto::PasswordKeys,
    transfer: TransferId,
}

/// Stretches `password` with Argon2id (`m_kib`, `t`, `p`, 16-byte `salt`) and
/// derives the password keys of `transfer`. Refuses parameters below the
/// format's floor.
#[wasm_bindgen(js_name = derivePasswordKeys)]
pub fn derive_password_keys(
    password: &str,
    salt: &[u8],
    m_kib: u32,
    t: u32,
    p: u32,
    transfer: &str,
) -> Result<PasswordKeys, JsError> {
    let transfer = transfer_id(transfer)?;
    let inner = kluis_crypto::derive_password_keys(password, salt, KdfParams { m_kib, t, p }, &transfer)
        .map_err(js_error)?;
    Ok(PasswordKeys { inner, transfer })
}

#[wasm_bindgen]
impl PasswordKeys {
    /// The auth key to present on unlock (32 bytes).
    #[wasm_bindgen(js_name = authKey)]
    pub fn auth_key(&self) -> Vec<u8> {
        self.inner.auth.expose_secret().to_vec()
    }

    /// What the server stores: SHA-256 of the auth key (32 bytes).
    #[wasm_bindgen(js_name = authHash)]
    pub fn auth_hash(&self) -> Vec<u8> {
        kluis_crypto::auth_hash(&self.inner.auth).to_vec()
    }

    /// Wraps `content_key` into a 61-byte envelope.
    pub fn wrap(&self, content_key: &ContentKey) -> Result<Vec<u8>, JsError> {
        kluis_crypto::wrap::wrap(&self.inner.kek, &content_key.inner, &self.transfer)
            .map(Vec::from)
            .map_err(js_error)
    }

    /// Unwraps an envelope; a wrong password fails with `wrong_password`.
    pub fn unwrap(&self, envelope: &[u8]) -> Result<ContentKey, JsError> {
        kluis_crypto::wrap::unwrap(&self.inner.kek, envelope, &self.transfer)
            .map(|inner| ContentKey { inner })
            .map_err(js_error)
    }
}

/// A transfer's content key, kept inside WebAssembly memory.
#[wasm_bindgen]
pub struct ContentKey {
    inner: RsContentKey,
}

#[wasm_bindgen]
impl ContentKey {
    /// A fresh random content key.
    pub fn generate() -> Result<ContentKey, JsError> {
        RsContentKey::generate()
            .map(|inner| ContentKey { inner })
            .map_err(js_error)
    }

    /// Raw bytes of the key of one file, for `crypto.subtle.importKey`.
    #[wasm_bindgen(js_name = fileKey)]
    pub fn file_key(&self, transfer: &str, file: &str) -> Result<Vec<u8>, JsError> {
        Ok(self
            .inner
            .file_key(&transfer_id(transfer)?, &file_id(file)?)
            .expose_secret()
            .to_vec())
    }

    /// Seals a manifest given as JSON (`docs/format.md`, "Manifest").
    #[wasm_bindgen(js_name = sealManifest)]
    pub fn seal_manifest(&self, manifest_json: &str, transfer: &str) -> Result<Vec<u8>, JsError> {
        let transfer = transfer_id(transfer)?;
        let manifest = kluis_crypto::manifest::from_json(manifest_json).map_err(js_error)?;
        manifest
            .seal(&self.inner.manifest_key(&transfer), &transfer)
            .map_err(js_error)
    }

    /// Opens a sealed manifest and returns it as JSON.
    #[wasm_bindgen(js_name = openManifest)]
    pub fn open_manifest(&self, sealed: &[u8], transfer: &str) -> Result<String, JsError> {
        let transfer = transfer_id(transfer)?;
        let manifest =
            Manifest::open(sealed, &self.inner.manifest_key(&transfer), &transfer).map_err(js_error)?;
        Ok(kluis_crypto::manifest::to_json(&manifest))
    }

    /// A sealer for one file (random nonce prefix).
    pub fn sealer(&self, transfer: &str, file: &str) -> Result<FileSealer, JsError> {
        let (transfer, file) = (transfer_id(transfer)?, file_id(file)?);
        let key = self.inner.file_key(&transfer, &file);
        let inner = kluis_crypto::FileSealer::new(&key, &transfer, &file).map_err(js_error)?;
        Ok(FileSealer { inner })
    }

    /// An opener for one file, from the first bytes of its object.
    pub fn opener(&self, transfer: &str, file: &str, header: &[u8]) -> Result<FileOpener, JsError> {
        let (transfer, file) = (transfer_id(transfer)?, file_id(file)?);
        let key = self.inner.file_key(&transfer, &file);
        let inner = kluis_crypto::FileOpener::new(&key, &transfer, &file, header).map_err(js_error)?;
        Ok(FileOpener { inner })
    }
}

/// Encrypts the chunks of one file.
#[wasm_bindgen]
pub struct FileSealer {
    inner: kluis_crypto::FileSealer,
}

#[wasm_bindgen]
impl FileSealer {
    /// The header that starts the file object.
    pub fn header(&self) -> Vec<u8> {
        self.inner.header().to_vec()
    }

    /// The 7-byte nonce prefix (for a WebCrypto encryptor).
    #[wasm_bindgen(js_name = noncePrefix)]
    pub fn nonce_prefix(&self) -> Vec<u8> {
        self.inner.nonce_prefix().to_vec()
    }

    /// Seals chunk `index` (a full chunk unless `last`).
    #[wasm_bindgen(js_name = sealChunk)]
    pub fn seal_chunk(&self, index: u32, last: bool, plaintext: Vec<u8>) -> Result<Vec<u8>, JsError> {
        let mut buffer = plaintext;
        self.inner
            .seal_chunk(index, last, &mut buffer)
            .map_err(js_error)?;
        Ok(buffer)
    }
}

/// Decrypts the chunks of one file.
#[wasm_bindgen]
pub struct FileOpener {
    inner: kluis_crypto::FileOpener,
}

#[wasm_bindgen]
impl FileOpener {
    /// Opens chunk `index`; `last` says whether the object ends after it.
    #[wasm_bindgen(js_name = openChunk)]
    pub fn open_chunk(&self, index: u32, last: bool, sealed: Vec<u8>) -> Result<Vec<u8>, JsError> {
        let mut buffer = sealed;
        self.inner
            .open_chunk(index, last, &mut buffer)
            .map_err(js_error)?;
        Ok(buffer)
    }
}

/// The 12-byte AES-GCM nonce of chunk `index`: prefix ‖ BE32(index) ‖ last.
#[wasm_bindgen(js_name = chunkNonce)]
pub fn chunk_nonce(nonce_prefix: &[u8], index: u32, last: bool) -> Result<Vec<u8>, JsError> {
    let prefix: &[u8; NONCE_PREFIX_LEN] = nonce_prefix
        .try_into()
        .map_err(|_| js_error(kluis_crypto::Error::InvalidEncoding("nonce prefix")))?;
    Ok(stream::chunk_nonce(prefix, index, last).to_vec())
}

/// The associated data of every chunk of a file: header ‖ transfer id ‖ file id.
#[wasm_bindgen(js_name = chunkAad)]
pub fn chunk_aad(header: &[u8], transfer: &str, file: &str) -> Result<Vec<u8>, JsError> {
    let header: &[u8; HEADER_LEN] = header
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| js_error(kluis_crypto::Error::TooShort))?;
    Ok(stream::chunk_aad(header, &transfer_id(transfer)?, &file_id(file)?).to_vec())
}

/// SHA-256 over a stream of pieces: what the manifest's `sha256` holds of
/// each plaintext, computed while the file streams by (WebCrypto's digest
/// takes only a whole buffer).
#[wasm_bindgen]
#[derive(Default)]
pub struct Sha256 {
    inner: sha2::Sha256,
}

#[wasm_bindgen]
impl Sha256 {
    /// An empty hash.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Sha256 {
        Sha256::default()
    }

    /// Adds the next piece.
    pub fn update(&mut self, piece: &[u8]) {
        self.inner.update(piece);
    }

    /// The digest as 64 lower-case hex digits; the hash starts over.
    #[wasm_bindgen(js_name = finishHex)]
    pub fn finish_hex(&mut self) -> String {
        hex::encode(self.inner.finalize_reset())
    }
}
