// A chunk worker: seals and opens the chunks of file objects with
// WebCrypto's AES-256-GCM (hardware AES), byte for byte the kluis STREAM
// format (../chunks.js). The pool (../pool.js) runs several, so chunks of
// one file are processed on every core while the page stays responsive.
import { importFileKey, sealChunk, openChunk } from '../chunks.js';
import { serve } from '../rpc.js';

/** Imported keys by the pool's key id: import once, use for every chunk. */
const keys = new Map();

function key(id, raw) {
  if (!keys.has(id)) keys.set(id, importFileKey(raw));
  return keys.get(id);
}

serve({
  /** Seals plaintext chunk `index`, read here from `blob` [start, end). */
  async seal({ keyId, raw, prefix, aad, index, last, blob, start, end }) {
    const plaintext = new Uint8Array(await blob.slice(start, end).arrayBuffer());
    if (plaintext.length !== end - start) {
      throw Object.assign(new Error('the file changed while it was read'), { code: 'file_changed' });
    }
    const sealed = await sealChunk(await key(keyId, raw), prefix, aad, index, last, plaintext);
    return { result: sealed, transfer: [sealed.buffer] };
  },

  /** Opens sealed chunk `index`; the tag check failing is `chunk_authentication`. */
  async open({ keyId, raw, prefix, aad, index, last, sealed }) {
    const plaintext = await openChunk(await key(keyId, raw), prefix, aad, index, last, sealed);
    return { result: plaintext, transfer: [plaintext.buffer] };
  },

  async forget({ keyId }) {
    keys.delete(keyId);
    return {};
  },
});
