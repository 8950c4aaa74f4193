// Where a download's plaintext goes: straight to a file on disk, never
// whole in memory. Two ways, one interface (`write`, `close`, `abort`):
//   - the File System Access API's save picker, where the browser has it
//     and the page prefers it: the browser writes to a temporary file and
//     moves it into place only on `close`;
//   - a stream through the page's service worker (../sw.js), which answers
//     a download request with what the page writes: the browser's own
//     download, which ends as "failed" (never as a finished file) on `abort`.

import { KluisError } from './chunks.js';

/** Whether the File System Access save picker can be used here. */
export function hasSavePicker() {
  return typeof globalThis.showSaveFilePicker === 'function';
}

/**
 * Opens a sink for a file called `name` of `size` bytes (or null when
 * unknown). With `picker` (the default where available) the save dialog
 * opens: call this first in a click handler, before any other await. A
 * dismissed dialog rejects with an `AbortError`.
 */
export async function openSink(name, size, { picker = hasSavePicker(), type = 'application/octet-stream' } = {}) {
  if (picker && hasSavePicker()) return pickerSink(name);
  return serviceWorkerSink(name, size, type);
}

async function pickerSink(name) {
  const handle = await globalThis.showSaveFilePicker({ suggestedName: name });
  const writable = await handle.createWritable();
  return {
    kind: 'picker',
    write: (piece, signal) => {
      if (signal?.aborted) throw signal.reason;
      return writable.write(piece);
    },
    close: () => writable.close(),
    async abort() {
      await writable.abort().catch(() => {});
      // The picker made an empty file under the chosen name: leave nothing.
      await handle.remove?.().catch(() => {});
    },
  };
}

let registration;

/** Registers the service worker once; resolves when it is active. */
export function serviceWorker() {
  registration ??= (async () => {
    if (!('serviceWorker' in navigator)) {
      throw new KluisError('no_stream_saver', 'this browser cannot save a stream to disk');
    }
    await navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), { scope: '/' });
    const ready = await navigator.serviceWorker.ready;
    return ready.active;
  })();
  return registration;
}

/** How long the browser may take to start reading a download before the page gives up. */
const FIRST_PULL_MS = 30_000;

async function serviceWorkerSink(name, size, type) {
  const worker = await serviceWorker();
  const id = crypto.randomUUID();
  const channel = new MessageChannel();
  const port = channel.port1;
  let credit = 0;
  let pulled = false;
  let waiting = null;
  let failed = null;
  const wake = () => {
    const resolve = waiting;
    waiting = null;
    resolve?.();
  };
  port.onmessage = ({ data }) => {
    if (data.pull) {
      credit += 1;
      pulled = true;
    } else if (data.cancelled) {
      failed = new DOMException('the download was cancelled in the browser', 'AbortError');
    }
    wake();
  };
  const accepted = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new KluisError('no_stream_saver', 'the service worker did not answer')), FIRST_PULL_MS);
    const listen = ({ data }) => {
      if (data.accepted === id) {
        clearTimeout(timer);
        navigator.serviceWorker.removeEventListener('message', listen);
        resolve();
      }
    };
    navigator.serviceWorker.addEventListener('message', listen);
  });
  worker.postMessage({ download: { id, name, size, type } }, [channel.port2]);
  await accepted;
  // The browser starts the download from a hidden frame; the service
  // worker answers it with the stream fed below.
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.src = new URL(`/_kluis/download/${id}`, location.href).href;
  document.body.append(frame);
  const opened = Date.now();
  // A service worker is stopped when idle; a message now and then keeps it
  // alive for as long as the stream runs.
  const keepAlive = setInterval(() => worker.postMessage({ ping: id }), 10_000);
  const done = () => {
    clearInterval(keepAlive);
    setTimeout(() => frame.remove(), 60_000);
  };
  return {
    kind: 'stream',
    /** Sends `piece` when the browser asks for it; a cancel (`signal`) or a download that never starts ends the wait. */
    async write(piece, signal) {
      while (credit === 0 && !failed) {
        if (signal?.aborted) throw signal.reason;
        if (!pulled && Date.now() - opened > FIRST_PULL_MS) {
          throw new KluisError('download_blocked', 'the browser did not start the download');
        }
        const onAbort = () => wake();
        signal?.addEventListener('abort', onAbort, { once: true });
        await new Promise((resolve) => {
          waiting = resolve;
          // Looks again now and then, for the first-pull deadline.
          setTimeout(wake, 1000);
        });
        signal?.removeEventListener('abort', onAbort);
      }
      if (failed) throw failed;
      credit -= 1;
      port.postMessage({ piece }, [piece.buffer]);
    },
    async close() {
      port.postMessage({ done: true });
      done();
    },
    async abort(reason) {
      port.postMessage({ error: String(reason?.message || reason || 'aborted') });
      done();
    },
  };
}

/**
 * Writes every piece of `pieces` to `sink` and closes it; on any failure
 * or on `signal` aborts the sink (no finished file) and rethrows.
 */
export async function drain(pieces, sink, signal) {
  try {
    for await (const piece of pieces) await sink.write(piece, signal);
  } catch (error) {
    await sink.abort(error);
    throw error;
  }
  await sink.close();
}
