// Downloading one file: the object streams from its presigned URL (resumed
// by range when the connection breaks), is cut into sealed chunks, opened
// in the chunk workers in parallel and released in order, while the hash
// worker hashes the plaintext. Size and SHA-256 are checked against the
// manifest before the last byte is released, so a consumer that writes
// to a temporary place and commits only when the generator finishes never
// presents a bad file as a good one (docs/format.md, "Decrypting").
import { KluisError } from './chunks.js';
import { chunkPool, hashWorker, keyWorker, newKeyId } from './pool.js';
import { backoff, pause } from './api.js';

/** Breaks of one download's connection survived before giving up. */
const RESUMES = 5;
/** Bytes that must arrive after a break before the break is forgiven. */
const FORGIVEN_AFTER = 1 << 20;

/**
 * The bytes of an object as they arrive. A broken connection is resumed
 * with `Range: bytes=<received>-` on the same presigned URL.
 */
export async function* objectBytes(download, { signal, resumes = RESUMES, refresh } = {}) {
  let received = 0;
  let failures = 0;
  let sinceFailure = 0;
  let refreshed = false;
  for (;;) {
    const headers = new Headers(download.headers);
    if (received > 0) headers.set('range', `bytes=${received}-`);
    let response;
    try {
      response = await fetch(download.url, { headers, signal, cache: 'no-store', credentials: 'omit' });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (++failures > resumes) throw new KluisError('network', 'the download keeps breaking off');
      await pause(backoff(failures), signal);
      continue;
    }
    if (response.status === 403 && refresh && !refreshed) {
      // Presigned URLs are short-lived: a long download that breaks late
      // goes on from the same byte with a fresh URL.
      refreshed = true;
      download = await refresh();
      continue;
    }
    if (response.status === 403) throw new KluisError('download_expired', 'the download link has expired');
    if (response.status === 404) throw new KluisError('object_missing', 'the file is no longer stored');
    // A break right after the last byte: there is nothing left to resume.
    if (response.status === 416 && received > 0) return;
    if (response.status >= 500) {
      if (++failures > resumes) throw new KluisError('network', `the store answered ${response.status}`);
      await pause(backoff(failures), signal);
      continue;
    }
    let skip = 0;
    if (received > 0 && response.status === 200) {
      skip = received; // the store ignored the range: drop what we have
    } else if (received > 0 && !(response.status === 206 && startsAt(response, received))) {
      throw new KluisError('download_refused', `the store answered ${response.status} to a resume`);
    } else if (received === 0 && response.status !== 200) {
      throw new KluisError('download_refused', `the store answered ${response.status}`);
    }
    const reader = response.body.getReader();
    let finished = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          finished = true;
          return;
        }
        let piece = value;
        if (skip > 0) {
          const dropped = Math.min(skip, piece.length);
          skip -= dropped;
          piece = piece.subarray(dropped);
          if (piece.length === 0) continue;
        }
        received += piece.length;
        sinceFailure += piece.length;
        if (sinceFailure >= FORGIVEN_AFTER) failures = 0;
        yield piece;
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (++failures > resumes) throw new KluisError('network', 'the download keeps breaking off');
      sinceFailure = 0;
      await pause(backoff(failures), signal);
    } finally {
      // Left early (a failure further down, a cancel): close the connection.
      if (!finished) reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }
}

function startsAt(response, offset) {
  const range = /^bytes (\d+)-\d+\/\d+$/.exec(response.headers.get('content-range') || '');
  return range !== null && Number(range[1]) === offset;
}

/**
 * Cuts a stream of pieces into the object's header and sealed chunks. A
 * chunk is the last exactly when the object ends after it, so one byte is
 * read ahead; lengths are never taken from anything but the bytes.
 */
export async function* sealedChunks(pieces, layout, spares = new Spares()) {
  const queue = new ByteQueue();
  let header;
  let index = 0;
  for await (const piece of pieces) {
    queue.push(piece);
    if (!header) {
      if (queue.length < layout.header) continue;
      header = queue.take(layout.header);
      yield { header };
    }
    while (queue.length > layout.sealedChunk) {
      yield { index, last: false, sealed: queue.take(layout.sealedChunk, spares.get(layout.sealedChunk)) };
      index += 1;
    }
  }
  if (!header) {
    yield { header: queue.take(queue.length) }; // too short: the crate says why
    return;
  }
  const sealed = queue.take(queue.length);
  // Only an empty file has an empty last chunk. Reported in its place in
  // the stream, so a failure of an earlier chunk is reported first.
  const invalid = index > 0 && sealed.length === 16 ? 'chunk_size' : undefined;
  yield { index, last: true, sealed, invalid };
}

/** Bytes waiting to be cut, without copying until a cut is taken. */
class ByteQueue {
  constructor() {
    this.pieces = [];
    this.head = 0; // pieces before this index are used up
    this.length = 0;
  }

  push(piece) {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.length += piece.length;
  }

  /** The next `n` bytes, in `into` (a recycled buffer of `n` bytes) or a new one. */
  take(n, into = new Uint8Array(n)) {
    const out = into;
    let filled = 0;
    while (filled < n) {
      const piece = this.pieces[this.head];
      const used = Math.min(piece.length, n - filled);
      out.set(piece.subarray(0, used), filled);
      filled += used;
      if (used === piece.length) this.head += 1;
      else this.pieces[this.head] = piece.subarray(used);
    }
    if (this.head > 64) {
      this.pieces = this.pieces.slice(this.head);
      this.head = 0;
    }
    this.length -= n;
    return out;
  }
}

/**
 * Buffers of one size handed back by the workers, to be filled again.
 * Every chunk of a download would otherwise leave a few buffers of 256 KiB
 * in some worker's heap until its next collection, and with several heaps
 * collecting lazily that garbage, not the file, sets the page's memory.
 */
export class Spares {
  static KEEP = 16;

  constructor() {
    this.free = [];
  }

  /** A buffer of `n` bytes: a recycled one if there is one of that size. */
  get(n) {
    const i = this.free.findIndex((b) => b.byteLength === n);
    return i >= 0 ? this.free.splice(i, 1)[0] : new Uint8Array(n);
  }

  put(buffer) {
    if (buffer && this.free.length < Spares.KEEP) this.free.push(new Uint8Array(buffer.buffer));
  }
}

let layoutPromise;

/** The format's sizes, asked once of the crate in the key worker. */
export function formatLayout() {
  layoutPromise ??= keyWorker().call('layout').catch((error) => {
    layoutPromise = undefined; // a failed start may be tried again
    throw error;
  });
  return layoutPromise;
}

/**
 * The plaintext of one file of an unlocked transfer, in order. `file` is
 * the unlock answer's entry (`file_id`, `download`), `entry` the manifest's
 * (`size`, `sha256`). Throws a KluisError with the crate's codes, or
 * `file_mismatch` when the plaintext is not the one the manifest names.
 * `pieces` replaces the download with bytes from elsewhere (the browser
 * benchmark reads a local Blob, to time the pipeline without a network);
 * `refresh()` gives a fresh presigned download when the one in hand has
 * expired mid-way.
 */
export async function* plaintext({ transfer, file, entry, signal, onBytes, pieces, refresh }) {
  const layout = await formatLayout();
  const pool = chunkPool();
  const spares = new Spares();
  const hash = new OrderedHash(`${transfer}/${file.file_id}/${Math.random()}`, spares);
  await hash.start();
  const depth = pool.size * 2;
  const inflight = [];
  const keyId = newKeyId();
  let material;
  let size = 0;
  // Every piece but the last is released as soon as it is opened; the last
  // waits for the size and digest check.
  const release = async (opened, last) => {
    const { plaintext: piece, spare } = await opened;
    spares.put(spare);
    size += piece.length;
    if (size > entry.size) throw new KluisError('file_mismatch', 'the file is larger than the manifest says');
    await hash.update(piece);
    if (last) {
      const digest = await hash.finish();
      if (size !== entry.size || digest !== entry.sha256) {
        throw new KluisError('file_mismatch', 'the file is not the one the sender sealed');
      }
    }
    onBytes?.(piece.length);
    return piece;
  };
  try {
    const source = pieces ?? objectBytes(file.download, { signal, refresh });
    for await (const part of sealedChunks(source, layout, spares)) {
      if (part.header) {
        material = await keyWorker().call('openFile', { transfer, file: file.file_id, header: part.header });
        continue;
      }
      const opened = part.invalid
        ? Promise.reject(new KluisError(part.invalid, 'an empty last chunk after full ones'))
        : pool.open({ keyId, ...material, index: part.index, last: part.last, sealed: part.sealed });
      opened.catch(() => {}); // awaited in order below; this only silences the early rejection
      inflight.push(opened);
      if (inflight.length >= depth) yield await release(inflight.shift(), false);
    }
    while (inflight.length > 0) yield await release(inflight.shift(), inflight.length === 0);
  } finally {
    pool.forget(keyId);
    hash.abandon();
  }
}

/**
 * SHA-256 in the hash worker of pieces given in order. Each piece is
 * copied to the worker without waiting for the hash, so hashing runs beside
 * decryption; at most `QUEUED` copies wait there, which bounds memory.
 */
class OrderedHash {
  static QUEUED = 8;

  constructor(id, spares) {
    this.id = id;
    this.spares = spares;
    this.queued = [];
    this.open = false;
  }

  async start() {
    await hashWorker().call('start', { id: this.id });
    this.open = true;
  }

  async update(piece) {
    if (piece.length === 0) return;
    const copy = this.spares.get(piece.length);
    copy.set(piece);
    const done = hashWorker().call('update', { id: this.id, piece: copy }, [copy.buffer])
      .then((back) => this.spares.put(back));
    done.catch(() => {});
    this.queued.push(done);
    if (this.queued.length > OrderedHash.QUEUED) await this.queued.shift();
  }

  async finish() {
    await Promise.all(this.queued.splice(0));
    this.open = false;
    return hashWorker().call('finish', { id: this.id });
  }

  /** Drops an unfinished hash (a failed or cancelled download). */
  abandon() {
    if (this.open) hashWorker().call('finish', { id: this.id }).catch(() => {});
    this.open = false;
  }
}
