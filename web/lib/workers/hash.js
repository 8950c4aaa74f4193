// The hash worker: SHA-256 of plaintext as it streams by (the crate's
// incremental SHA-256 in WebAssembly; WebCrypto digests only whole
// buffers). Pieces come in order; a file being uploaded is read here
// directly from its Blob.
import init, { Sha256 } from '../../pkg/kluis_crypto_wasm.js';
import { serve } from '../rpc.js';

const ready = init();
const running = new Map();

serve({
  async start({ id }) {
    await ready;
    running.set(id, new Sha256());
    return {};
  },

  /** Adds `piece` (a copy) to hash `id` and hands its buffer back for reuse. */
  async update({ id, piece }) {
    running.get(id).update(piece);
    return { result: piece, transfer: [piece.buffer] };
  },

  /** Hashes `blob` [start, end) in 1 MiB steps, read here. */
  async updateBlob({ id, blob, start, end }) {
    const hash = running.get(id);
    for (let at = start; at < end; at += 1 << 20) {
      hash.update(new Uint8Array(await blob.slice(at, Math.min(end, at + (1 << 20))).arrayBuffer()));
    }
    return {};
  },

  /** The hex digest; the hash is dropped. */
  async finish({ id }) {
    const hash = running.get(id);
    running.delete(id);
    const hex = hash.finishHex();
    hash.free();
    return hex;
  },
});
