// Bulk chunk encryption with WebCrypto's AES-GCM, byte-for-byte the kluis
// STREAM format (docs/format.md, "File object"). The Rust crate (compiled to
// WebAssembly) derives the file key and builds header and associated data;
// this module does the per-chunk work with hardware AES, in a page or a
// worker. tests/wasm/interop.test.mjs proves both directions against Rust.

/** Thrown when a chunk fails; `code` matches the Rust crate's error codes. */
export class KluisError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'KluisError';
    this.code = code;
  }
}

export const TAG_LENGTH = 16;

/** Imports the 32 raw bytes of a file key for AES-GCM. */
export function importFileKey(raw) {
  return crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** nonce = prefix (7 bytes) ‖ big-endian 32-bit index ‖ last flag (1 byte). */
export function chunkNonce(prefix, index, last) {
  if (prefix.length !== 7) throw new KluisError('invalid_encoding', 'nonce prefix must be 7 bytes');
  if (!Number.isInteger(index) || index < 0 || index >= 0xffffffff) {
    throw new KluisError('file_too_large', 'chunk index out of range');
  }
  const nonce = new Uint8Array(12);
  nonce.set(prefix, 0);
  new DataView(nonce.buffer).setUint32(7, index, false);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Seals one chunk; returns ciphertext ‖ tag. */
export async function sealChunk(key, prefix, aad, index, last, plaintext) {
  const params = { name: 'AES-GCM', iv: chunkNonce(prefix, index, last), additionalData: aad, tagLength: 128 };
  return new Uint8Array(await crypto.subtle.encrypt(params, key, plaintext));
}

async function tryOpen(key, prefix, aad, index, last, sealed) {
  const params = { name: 'AES-GCM', iv: chunkNonce(prefix, index, last), additionalData: aad, tagLength: 128 };
  try {
    return new Uint8Array(await crypto.subtle.decrypt(params, key, sealed));
  } catch {
    return null;
  }
}

/**
 * Opens one chunk. `last` says whether the object ends after it. A genuine
 * chunk whose flag disagrees reports truncation or trailing data, like the
 * Rust crate; anything else is `chunk_authentication`.
 */
export async function openChunk(key, prefix, aad, index, last, sealed) {
  if (sealed.length < TAG_LENGTH) throw new KluisError('too_short', 'chunk shorter than its tag');
  const plaintext = await tryOpen(key, prefix, aad, index, last, sealed);
  if (plaintext) return plaintext;
  const flipped = await tryOpen(key, prefix, aad, index, !last, sealed);
  if (flipped) {
    flipped.fill(0);
    throw last
      ? new KluisError('truncated', 'the stream ends before its last chunk')
      : new KluisError('trailing_data', 'unexpected data after the last chunk');
  }
  throw new KluisError('chunk_authentication', `chunk ${index} failed authentication`);
}
