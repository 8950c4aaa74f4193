// The pool of chunk workers (workers/chunks.js), sized from the cores the
// browser reports, and the page's other two workers: the key worker
// (WebAssembly key schedule) and the hash worker (SHA-256 of plaintext).
// One of each for the whole page, started on first use.
import { WorkerClient } from './rpc.js';

const here = new URL('.', import.meta.url);

/** Chunk workers: one per core, at least 2 and at most 8. */
export function poolSize() {
  const cores = Number(globalThis.navigator?.hardwareConcurrency) || 2;
  return Math.max(2, Math.min(8, cores));
}

class ChunkPool {
  constructor(size) {
    this.workers = Array.from({ length: size }, () => new WorkerClient(new URL('workers/chunks.js', here)));
  }

  get size() {
    return this.workers.length;
  }

  /** The least busy worker (ties: the first), so chunks spread evenly. */
  pick() {
    return this.workers.reduce((best, w) => (w.busy < best.busy ? w : best));
  }

  /** Seals the chunks of one upload part read from a Blob; resolves to the part's bytes. */
  sealPart(args) {
    return this.pick().call('sealPart', args);
  }

  /** Opens one sealed chunk (its buffer is transferred away). */
  open(args) {
    return this.pick().call('open', args, [args.sealed.buffer]);
  }

  /** Drops an imported key from every worker. */
  forget(keyId) {
    return Promise.all(this.workers.map((w) => w.call('forget', { keyId })));
  }
}

let pool;
let keys;
let hasher;

/** The page's chunk pool. */
export function chunkPool() {
  pool ??= new ChunkPool(poolSize());
  return pool;
}

/** The page's key worker. */
export function keyWorker() {
  keys ??= new WorkerClient(new URL('workers/keys.js', here));
  return keys;
}

/** The page's hash worker. */
export function hashWorker() {
  hasher ??= new WorkerClient(new URL('workers/hash.js', here));
  return hasher;
}

let nextKeyId = 1;

/** A key id for the chunk workers' import cache. */
export function newKeyId() {
  return `k${nextKeyId++}`;
}
