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
  /**
   * Seals the chunks `first`… of one upload part, read here from `blob`
   * [start, end) in one go, into one buffer (after `header`, for part 0):
   * one read and one message per part, not per chunk.
   */
  async sealPart({ keyId, raw, prefix, aad, blob, start, end, first, lastIndex, chunk, header }) {
    const plaintext = new Uint8Array(await blob.slice(start, end).arrayBuffer());
    if (plaintext.length !== end - start) {
      throw Object.assign(new Error('the file changed while it was read'), { code: 'file_changed' });
    }
    const count = Math.max(1, Math.ceil(plaintext.length / chunk));
    const headerLength = header ? header.length : 0;
    const part = new Uint8Array(headerLength + plaintext.length + 16 * count);
    if (header) part.set(header, 0);
    const fileKey = await key(keyId, raw);
    // All chunks of the part at once: WebCrypto works on them in parallel
    // where it can, and this worker never waits idle between two.
    const sealed = await Promise.all(Array.from({ length: count }, (_, i) => {
      const index = first + i;
      const piece = plaintext.subarray(i * chunk, Math.min(plaintext.length, (i + 1) * chunk));
      return sealChunk(fileKey, prefix, aad, index, index === lastIndex, piece);
    }));
    let at = headerLength;
    for (const piece of sealed) {
      part.set(piece, at);
      at += piece.length;
    }
    return { result: part, transfer: [part.buffer] };
  },

  /**
   * Opens sealed chunk `index`; the tag check failing is
   * `chunk_authentication`. The sealed buffer goes back with the plaintext,
   * for the page to fill again: fewer buffers left for the collector.
   */
  async open({ keyId, raw, prefix, aad, index, last, sealed }) {
    const plaintext = await openChunk(await key(keyId, raw), prefix, aad, index, last, sealed);
    return { result: { plaintext, spare: sealed }, transfer: [plaintext.buffer, sealed.buffer] };
  },

  async forget({ keyId }) {
    keys.delete(keyId);
    return {};
  },
});
