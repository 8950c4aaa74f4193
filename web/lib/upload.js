// Uploading one file of our own transfer (a reply now, the send wizard
// next): the key worker makes the file's header and key; the chunk workers
// seal it straight from the File (read one part at a time, never whole,
// each part by one worker); parts of whole sealed chunks go to their
// presigned URLs three at a time; a failed part is sent again from the same
// sealed bytes with backoff and jitter; the hash worker hashes the
// plaintext for the manifest meanwhile. An upload that fails keeps what it
// did in its `progress` object: tried again, it re-declares the same file
// (the API hands out fresh URLs for the same upload) and sends only the
// parts not yet stored, sealed with the same key and nonce prefix, so no
// stored part is encrypted or sent twice.
import { call, backoff, pause } from './api.js';
import { chunkPool, hashWorker, keyWorker, newKeyId } from './pool.js';
import { formatLayout } from './download.js';
import { KluisError } from './chunks.js';

/** Parts in flight per file: each holds one part (8 MiB) of ciphertext. */
const PARTS_IN_FLIGHT = 3;
/** Tries of one part before the upload fails. */
const PART_TRIES = 6;

/**
 * Encrypts and uploads `blob` into `transfer` (whose content key the key
 * worker holds) and returns its manifest entry. `progress` (an object the
 * caller keeps per file) carries a failed attempt's work into the next.
 */
export async function uploadFile({ transfer, blob, name = blob.name, signal, onBytes, progress = {} }) {
  // A resumed upload re-seals with the same key and nonce prefix, which is
  // safe only for the very same bytes: a file that changed starts afresh.
  const identity = `${transfer}/${blob.size}/${blob.lastModified ?? ''}`;
  if (progress.identity !== identity) {
    for (const key of Object.keys(progress)) delete progress[key];
    progress.identity = identity;
  }
  if (progress.entry) {
    onBytes?.(blob.size);
    return progress.entry;
  }
  const layout = await formatLayout();
  progress.sealed ??= await keyWorker().call('sealFile', { transfer, size: blob.size });
  const { sealed } = progress;
  const declared = await call('POST', `/api/transfers/${transfer}/files`, {
    body: { file_id: sealed.file, ciphertext_bytes: sealed.objectBytes },
    retry: true,
    signal,
  });
  const chunksPerPart = declared.part_bytes / layout.sealedChunk;
  const chunkCount = Math.max(1, Math.ceil(blob.size / layout.chunk));
  if (!Number.isInteger(chunksPerPart) || declared.parts.length !== Math.ceil(chunkCount / chunksPerPart)) {
    throw new KluisError('upload_layout', 'the server asked for parts this page cannot make');
  }

  const hasher = hashWorker();
  const hashId = `${transfer}/${sealed.file}/${Math.random()}`;
  let hashing = Promise.resolve();
  if (!progress.sha256) {
    await hasher.call('start', { id: hashId });
    hashing = hasher.call('updateBlob', { id: hashId, blob, start: 0, end: blob.size }).then(
      () => hasher.call('finish', { id: hashId }).then((digest) => { progress.sha256 = digest; }),
      (error) => {
        hasher.call('finish', { id: hashId }).catch(() => {}); // drop the unfinished hash
        throw error;
      },
    );
    hashing.catch(() => {});
  }

  const keyId = newKeyId();
  const part = {
    ...sealed, keyId, blob, layout, chunksPerPart, chunkCount, signal, onBytes,
  };
  progress.etags ??= new Array(declared.parts.length);
  const { etags } = progress;
  const missing = [];
  for (let number = 0; number < declared.parts.length; number += 1) {
    if (etags[number]) onBytes?.(partPlaintextBytes(part, number));
    else missing.push(number);
  }
  // One part failing stops the others from taking a new part; the parts
  // in flight finish (what they store counts for a retry) and are waited
  // for, so a retry never runs beside a previous attempt. A cancel aborts
  // the requests in flight too.
  const stop = new AbortController();
  const stopAll = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', stopAll, { once: true });
  const lane = async () => {
    while (missing.length > 0 && !stop.signal.aborted) {
      const number = missing.shift();
      try {
        etags[number] = await uploadPart(part, number, declared.parts[number]);
      } catch (error) {
        stop.abort(error);
        throw error;
      }
    }
  };
  try {
    const lanes = await Promise.allSettled(
      Array.from({ length: Math.min(PARTS_IN_FLIGHT, missing.length) }, lane),
    );
    const failed = lanes.find((l) => l.status === 'rejected');
    // The first failure, not the aborts it caused in the other lanes.
    if (failed) throw stop.signal.reason ?? failed.reason;
    if (signal?.aborted) throw signal.reason;
    await hashing;
  } finally {
    signal?.removeEventListener('abort', stopAll);
    chunkPool().forget(keyId);
  }
  await call('POST', `/api/transfers/${transfer}/files/${sealed.file}/complete`, {
    body: { parts: etags.map((etag, i) => ({ number: i + 1, etag })) },
    retry: true,
    signal,
  });
  progress.entry = { id: sealed.file, name, size: blob.size, type: blob.type || '', sha256: progress.sha256 };
  return progress.entry;
}

/** The plaintext bytes part `number` carries. */
function partPlaintextBytes({ layout, chunksPerPart, chunkCount, blob }, number) {
  const first = number * chunksPerPart;
  const end = Math.min(chunkCount, first + chunksPerPart);
  return Math.min(blob.size, end * layout.chunk) - first * layout.chunk;
}

/** Seals part `number` (0-based) and PUTs it; resolves to its ETag. */
async function uploadPart(file, number, request) {
  const body = await sealPart(file, number);
  const etag = await put(request, body, file.signal);
  file.onBytes?.(partPlaintextBytes(file, number));
  return etag;
}

/**
 * The ciphertext of part `number` (0-based) of `file`: one chunk worker
 * reads the part's slice of the Blob and seals its chunks (parts in flight
 * spread over the pool); part 0 starts with the header. `file` is what `sealFile` gave plus `{keyId, blob,
 * layout, chunksPerPart, chunkCount}`.
 */
export async function sealPart(file, number) {
  const { layout, chunksPerPart, chunkCount, blob } = file;
  const first = number * chunksPerPart;
  const end = Math.min(chunkCount, first + chunksPerPart);
  return chunkPool().sealPart({
    keyId: file.keyId,
    raw: file.raw,
    prefix: file.prefix,
    aad: file.aad,
    blob,
    start: first * layout.chunk,
    end: Math.min(blob.size, end * layout.chunk),
    first,
    lastIndex: chunkCount - 1,
    chunk: layout.chunk,
    header: number === 0 ? file.header : null,
  });
}

/** PUTs `body` as the presigned request says, again on transient failures. */
export async function put(request, body, signal, tries = PART_TRIES) {
  for (let attempt = 1; ; attempt += 1) {
    let status = 0;
    try {
      const response = await fetch(request.url, {
        method: 'PUT',
        headers: request.headers,
        body,
        signal,
        credentials: 'omit',
      });
      status = response.status;
      if (response.ok) {
        const etag = response.headers.get('etag');
        if (!etag) throw new KluisError('upload_refused', 'the store did not say what it stored');
        return etag;
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof KluisError) throw error;
    }
    const transient = status === 0 || status === 408 || status === 429 || status >= 500;
    if (!transient) throw new KluisError('upload_refused', `the store refused a part (${status})`);
    if (attempt >= tries) throw new KluisError('network', 'a part keeps failing to upload');
    await pause(backoff(attempt), signal);
  }
}
