// The page engine's byte plumbing, in Node against real sockets: a
// download that breaks off resumes by range on the same URL, and the
// stream of an object is cut into header and sealed chunks exactly as
// docs/format.md says, whatever sizes the network delivers it in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { objectBytes, sealedChunks } from '../../web/lib/download.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vectorDir = path.join(root, 'shared/crypto/tests/vectors/transfer');
const layout = { chunk: 262144, sealedChunk: 262160, header: 14 };

/** Serves `object`; the first `breaks` answers stop after `cut` bytes. */
async function flakyStore(object, { breaks = 1, cut = 1000, honourRange = true } = {}) {
  const seen = [];
  let broken = 0;
  const server = createServer((request, response) => {
    const range = request.headers.range;
    seen.push(range ?? null);
    let start = 0;
    if (range && honourRange) {
      start = Number(/^bytes=(\d+)-$/.exec(range)[1]);
      response.writeHead(206, {
        'content-length': object.length - start,
        'content-range': `bytes ${start}-${object.length - 1}/${object.length}`,
      });
    } else {
      response.writeHead(200, { 'content-length': object.length });
    }
    if (broken < breaks) {
      broken += 1;
      response.write(object.subarray(start, start + cut), () => response.destroy());
      return;
    }
    response.end(object.subarray(start));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/object?sig=x`;
  return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function collect(pieces) {
  const parts = [];
  for await (const piece of pieces) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}

const object = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7 + 3) % 256));

test('a download that breaks off twice resumes by range and loses no byte', async () => {
  const store = await flakyStore(object, { breaks: 2, cut: 70_000 });
  try {
    const got = await collect(objectBytes({ url: store.url, headers: [['x-signed', 'yes']] }));
    assert.ok(got.equals(object), 'the bytes arrive whole and in order');
    assert.equal(store.seen.length, 3);
    assert.equal(store.seen[0], null, 'the first request asks for the whole object');
    assert.match(store.seen[1], /^bytes=\d+-$/);
    const resumedAt = Number(store.seen[1].slice(6, -1));
    assert.ok(resumedAt > 0 && resumedAt <= 70_000, `resumed where it broke off (${resumedAt})`);
  } finally {
    await store.close();
  }
});

test('a store that ignores the range still yields each byte once', async () => {
  const store = await flakyStore(object, { breaks: 1, cut: 50_000, honourRange: false });
  try {
    const got = await collect(objectBytes({ url: store.url, headers: [] }));
    assert.ok(got.equals(object));
  } finally {
    await store.close();
  }
});

test('a download that keeps breaking off fails with a clear code', async () => {
  const store = await flakyStore(object, { breaks: 100, cut: 10 });
  try {
    await assert.rejects(
      collect(objectBytes({ url: store.url, headers: [] }, { resumes: 2 })),
      (error) => error.code === 'network',
    );
  } finally {
    await store.close();
  }
});

async function* inPieces(bytes, size) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, Math.min(bytes.length, at + size));
}

async function cut(bytes, size) {
  const out = [];
  for await (const part of sealedChunks(inPieces(bytes, size), layout)) out.push(part);
  return out;
}

test('an object is cut into its header and sealed chunks, the last one flagged', async () => {
  // file-6: 2C + 5 bytes of plaintext → chunks of C+16, C+16 and 21 bytes.
  const file = readFileSync(path.join(vectorDir, 'file-6.kluis'));
  for (const size of [13, 4096, 262_161, file.length]) {
    const parts = await cut(file, size);
    assert.deepEqual(parts[0].header, new Uint8Array(file.subarray(0, 14)), `header (pieces of ${size})`);
    assert.deepEqual(parts.slice(1).map((p) => [p.index, p.last, p.sealed.length]),
      [[0, false, 262_160], [1, false, 262_160], [2, true, 21]], `chunks (pieces of ${size})`);
    assert.ok(Buffer.concat([parts[0].header, ...parts.slice(1).map((p) => p.sealed)]).equals(file));
  }
  // Byte by byte: file-2 (1000 bytes of plaintext, one chunk).
  const small = readFileSync(path.join(vectorDir, 'file-2.kluis'));
  const bytewise = await cut(small, 1);
  assert.deepEqual(bytewise.slice(1).map((p) => [p.index, p.last, p.sealed.length]), [[0, true, 1016]]);
  // Exactly one chunk (file-4: C bytes): the full chunk is the last.
  const exact = await cut(readFileSync(path.join(vectorDir, 'file-4.kluis')), 65_536);
  assert.deepEqual(exact.slice(1).map((p) => [p.index, p.last, p.sealed.length]), [[0, true, 262_160]]);
  // An empty file: one 16-byte last chunk.
  const empty = await cut(readFileSync(path.join(vectorDir, 'file-0.kluis')), 7);
  assert.deepEqual(empty.slice(1).map((p) => [p.index, p.last, p.sealed.length]), [[0, true, 16]]);
});

test('a short object yields what it has for the crate to judge, and an empty last chunk after full ones is marked', async () => {
  const short = await cut(Buffer.from('kluis\x01F'), 3);
  assert.equal(short.length, 1);
  assert.equal(short[0].header.length, 7);

  // An empty last chunk after full ones is marked, in its place, for the
  // pipeline to report after the chunks before it (docs/format.md).
  const file = readFileSync(path.join(vectorDir, 'file-4.kluis'));
  const padded = await cut(Buffer.concat([file, Buffer.alloc(16)]), 100_000);
  assert.deepEqual(padded.slice(1).map((p) => [p.index, p.last, p.sealed.length, p.invalid]),
    [[0, false, 262_160, undefined], [1, true, 16, 'chunk_size']]);
});
