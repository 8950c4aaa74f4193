// "Download all": every file of a transfer in one ZIP (Zip64 where needed),
// written as it is decrypted. The ZIP writer is client-zip (vendored, MIT,
// web/vendor/client-zip); this module gives it the decrypted streams and
// names each entry uniquely.
import { makeZip, predictLength } from '../vendor/client-zip/index.js';

/**
 * Names that are unique in one archive: a repeated name gets " (2)",
 * " (3)", … before its extension.
 */
export function uniqueNames(names) {
  const seen = new Set();
  return names.map((name) => {
    let candidate = name;
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    for (let n = 2; seen.has(candidate.toLowerCase()); n += 1) candidate = `${stem} (${n})${ext}`;
    seen.add(candidate.toLowerCase());
    return candidate;
  });
}

/**
 * The archive of `entries` (`{name, size, pieces: () => AsyncIterable}`,
 * each opened only when the writer reaches it) as a stream, and its exact
 * length.
 */
export function archive(entries) {
  const names = uniqueNames(entries.map((e) => e.name));
  const lastModified = new Date();
  const metadata = entries.map((e, i) => ({ name: names[i], size: e.size }));
  async function* inputs() {
    for (const [i, entry] of entries.entries()) {
      const pieces = entry.pieces();
      try {
        yield { name: names[i], size: entry.size, lastModified, input: pieces };
      } finally {
        await pieces.return?.();
      }
    }
  }
  return { stream: makeZip(inputs(), { buffersAreUTF8: true }), length: Number(predictLength(metadata)) };
}

/** The pieces of a ReadableStream, for `drain`. */
export async function* streamPieces(stream) {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    // Left early: cancelling the archive ends the entry being read, whose
    // generator then releases its key and hash.
    if (!finished) reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
