// In Chromium, the pages' own engine and the Rust crate read each other's
// objects byte for byte:
//   - the frozen vectors (written by the crate) open through the page's
//     pipeline — key worker, chunk workers, hash worker, chunk cutting —
//     to the recorded plaintexts, and every must-fail case on a file
//     object, the manifest or the wrapped key fails with its code;
//   - a transfer sealed in the page (key worker + chunk workers reading a
//     File) opens with the crate's native `open_transfer`.
// The page is the runner's start page (its origin, CSP and workers); the
// vector objects are served to it by Playwright's request routing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startFixture, launchBrowser, newContext, expectNoCspViolations, root } from './harness.mjs';

const vectorsDir = path.join(root, 'shared/crypto/tests/vectors');
const transferDir = path.join(vectorsDir, 'transfer');
const vector = JSON.parse(readFileSync(path.join(transferDir, 'vector.json'), 'utf8'));
const b64url = (hex) => Buffer.from(hex, 'hex').toString('base64url');
const C = 262_144;
const SEALED = C + 16;
const chunkSpan = (i) => [14 + i * SEALED, 14 + (i + 1) * SEALED];

let fixture;
let browser;
let page;
let watch;

before(async () => {
  fixture = await startFixture();
  browser = await launchBrowser();
  const context = await newContext(browser);
  page = await context.newPage();
  watch = await expectNoCspViolations(page);
  // Objects the page fetches as if from the store.
  await page.route('**/__vectors/**', (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.split('/').pop());
    const body = served.get(name);
    return body ? route.fulfill({ status: 200, body, contentType: 'application/octet-stream' })
      : route.fulfill({ status: 404, body: 'no such vector' });
  });
  await page.goto(`${fixture.base}/`);
});

after(async () => {
  watch?.assertClean();
  await browser?.close();
  await fixture?.stop();
});

/** Bytes served under `/__vectors/<name>`. */
const served = new Map();

/** In the page: derive, unlock and open the manifest of the vector transfer; returns the manifest or `{error}`. */
function unlockInPage({ password = vector.password_typed, wrappedKey = b64url(vector.wrapped_key), manifest } = {}) {
  return page.evaluate(async (args) => {
    const { keyWorker } = await import('/lib/pool.js');
    try {
      await keyWorker().call('derive', {
        password: args.password, salt: args.salt, kdf: args.kdf, transfer: args.transfer,
      });
      const opened = await keyWorker().call('unlock', {
        transfer: args.transfer, wrappedKey: args.wrappedKey, manifest: args.manifest,
      });
      return opened.manifest;
    } catch (error) {
      return { error: error.code };
    }
  }, {
    password,
    salt: b64url(vector.salt),
    kdf: vector.kdf,
    transfer: vector.transfer_id,
    wrappedKey,
    manifest: (manifest ?? readFileSync(path.join(transferDir, 'manifest.kluis'))).toString('base64url'),
  });
}

/** In the page: the SHA-256 of what the pipeline releases for `name`, or `{error}`. */
function decryptInPage(name, fileId, entry) {
  return page.evaluate(async ({ name, fileId, entry, transfer }) => {
    const { plaintext } = await import('/lib/download.js');
    const parts = [];
    try {
      const file = { file_id: fileId, download: { url: `/__vectors/${name}`, headers: [] } };
      for await (const piece of plaintext({ transfer, file, entry })) parts.push(piece);
    } catch (error) {
      return { error: error.code, released: parts.reduce((n, p) => n + p.length, 0) };
    }
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
    return { sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''), size: all.length };
  }, { name, fileId, entry, transfer: vector.transfer_id });
}

test('the frozen vectors open through the page pipeline to the recorded plaintexts', async () => {
  const manifest = await unlockInPage();
  assert.deepEqual(manifest, vector.manifest, 'the manifest opens in the key worker');
  for (const [i, file] of vector.files.entries()) {
    served.set(file.object, readFileSync(path.join(transferDir, file.object)));
    const got = await decryptInPage(file.object, file.id, vector.manifest.files[i]);
    assert.deepEqual(got, { sha256: vector.manifest.files[i].sha256, size: vector.manifest.files[i].size }, file.object);
  }
});

/** A must-fail case's mutation (docs/format.md, "Test vectors"). */
function mutate(bytes, mutation) {
  const [kind, arg] = Object.entries(mutation)[0] ?? [];
  const chunk = (i) => bytes.subarray(...chunkSpan(i));
  switch (kind) {
    case undefined: return bytes;
    case 'flip': { const out = Buffer.from(bytes); out[arg] ^= 1; return out; }
    case 'truncate': return bytes.subarray(0, arg);
    case 'append': return Buffer.concat([bytes, Buffer.from(arg, 'hex')]);
    case 'drop_chunk': return Buffer.concat([bytes.subarray(0, chunkSpan(arg)[0]), bytes.subarray(chunkSpan(arg)[1])]);
    case 'duplicate_chunk': return Buffer.concat([bytes.subarray(0, chunkSpan(arg)[1]), chunk(arg), bytes.subarray(chunkSpan(arg)[1])]);
    case 'swap_chunks': {
      const [a, b] = arg;
      const out = Buffer.from(bytes);
      chunk(b).copy(out, chunkSpan(a)[0]);
      chunk(a).copy(out, chunkSpan(b)[0]);
      return out;
    }
    case 'replace_chunk': {
      const from = readFileSync(path.join(transferDir, arg.from)).subarray(...chunkSpan(arg.from_index));
      const out = Buffer.from(bytes);
      from.copy(out, chunkSpan(arg.index)[0]);
      return out;
    }
    default: throw new Error(`unknown mutation ${kind}`);
  }
}

test('every must-fail vector on a file, the manifest or the wrapped key fails in the page with its code, releasing nothing as done', async () => {
  const cases = readdirSync(vectorsDir).filter((f) => f.startsWith('fail_')).sort();
  let run = 0;
  for (const name of cases) {
    const fail = JSON.parse(readFileSync(path.join(vectorsDir, name), 'utf8'));
    // A foreign transfer id would need the vector's content key under
    // another id, which no page ever does; the crate's own tests and the
    // independent decryptor run those cases.
    if (fail.transfer_id) continue;
    run += 1;
    if (fail.target === 'wrapped_key') {
      const got = await unlockInPage({
        password: fail.password,
        wrappedKey: mutate(Buffer.from(vector.wrapped_key, 'hex'), fail.mutation).toString('base64url'),
      });
      assert.deepEqual(got, { error: fail.error }, name);
      continue;
    }
    const bytes = mutate(readFileSync(path.join(transferDir, fail.target)), fail.mutation);
    if (fail.target === 'manifest.kluis' || fail.open_as === 'manifest') {
      assert.deepEqual(await unlockInPage({ manifest: bytes }), { error: fail.error }, name);
      continue;
    }
    assert.ok(await unlockInPage(), 'the keys are in the worker');
    const index = vector.files.findIndex((f) => f.object === fail.target);
    served.set(`${name}.kluis`, bytes);
    const got = await decryptInPage(`${name}.kluis`, fail.file_id ?? vector.files[index].id, vector.manifest.files[index]);
    assert.equal(got.error, fail.error, name);
    assert.ok(got.released < vector.manifest.files[index].size || vector.manifest.files[index].size === 0,
      `${name}: the whole file is never released`);
  }
  assert.ok(run >= 18, `the cases ran (${run})`);
});

test('an empty chunk appended after a full last one is reported in order, as trailing data', async () => {
  await unlockInPage();
  const file = vector.files[4]; // exactly one full chunk
  served.set('padded.kluis', Buffer.concat([readFileSync(path.join(transferDir, file.object)), Buffer.alloc(16)]));
  const got = await decryptInPage('padded.kluis', file.id, vector.manifest.files[4]);
  assert.equal(got.error, 'trailing_data', 'chunk 0, sealed as the last, fails first (docs/format.md, "Decrypting")');
});

test('a plaintext that is not the one the manifest names is refused before its last byte', async () => {
  await unlockInPage();
  const file = vector.files[6];
  served.set(file.object, readFileSync(path.join(transferDir, file.object)));
  const wrongDigest = { ...vector.manifest.files[6], sha256: '0'.repeat(64) };
  const got = await decryptInPage(file.object, file.id, wrongDigest);
  assert.equal(got.error, 'file_mismatch');
  assert.ok(got.released < wrongDigest.size, 'the last piece is held back');
});

test('a transfer sealed in the page by the chunk workers opens with the native crate', async () => {
  const native = path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, 'target'), 'debug/examples/open_transfer');
  const sealed = await page.evaluate(async () => {
    const { keyWorker, newKeyId } = await import('/lib/pool.js');
    const { formatLayout } = await import('/lib/download.js');
    const { sealPart } = await import('/lib/upload.js');
    const { encode, randomId } = await import('/lib/b64.js');
    const layout = await formatLayout();
    const transfer = randomId();
    const password = 'Ons eigen wachtwoord, met spaties';
    await keyWorker().call('newTransfer', { transfer, password });
    // Three parts of two chunks each (the API's parts are 32 chunks; the
    // part layout is the caller's), the last part short.
    const data = new Uint8Array(layout.chunk * 5 + 12_345);
    for (let o = 0; o < data.length; o += 65_536) crypto.getRandomValues(data.subarray(o, o + 65_536));
    const files = [];
    const entries = [];
    for (const [name, bytes] of [['groot.bin', data], ['leeg.txt', new Uint8Array(0)]]) {
      const blob = new File([bytes], name);
      const f = await keyWorker().call('sealFile', { transfer, size: blob.size });
      const chunkCount = Math.max(1, Math.ceil(blob.size / layout.chunk));
      const file = { ...f, keyId: newKeyId(), blob, layout, chunksPerPart: 2, chunkCount };
      const chunks = await Promise.all(Array.from({ length: Math.ceil(chunkCount / 2) }, (_, n) => sealPart(file, n)));
      const object = new Blob(chunks);
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      files.push({ id: f.file, bytes: encode(new Uint8Array(await object.arrayBuffer())), objectBytes: f.objectBytes });
      entries.push({ id: f.file, name, size: bytes.length, type: '', sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') });
    }
    const key = await keyWorker().call('seal', { transfer, manifest: { message: 'uit de browser', files: entries }, kdf: { m_kib: 65536, t: 3, p: 1 } });
    return { transfer, password, files, key };
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'kluis-page-sealed-'));
  const fromB64url = (text) => Buffer.from(text, 'base64url');
  for (const f of sealed.files) {
    const object = fromB64url(f.bytes);
    assert.equal(object.length, f.objectBytes, 'the object has the size the format gives');
    writeFileSync(path.join(dir, `${f.id}.kluis`), object);
  }
  writeFileSync(path.join(dir, 'manifest.kluis'), fromB64url(sealed.key.manifest));
  writeFileSync(path.join(dir, 'vector.json'), JSON.stringify({
    kdf: sealed.key.kdf,
    salt: fromB64url(sealed.key.salt).toString('hex'),
    transfer_id: sealed.transfer,
    wrapped_key: fromB64url(sealed.key.wrapped_key).toString('hex'),
    sealed_manifest: 'manifest.kluis',
    files: sealed.files.map((f) => ({ id: f.id, object: `${f.id}.kluis` })),
  }));
  const out = JSON.parse(execFileSync(native, [dir, sealed.password], { encoding: 'utf8' }));
  assert.equal(out.message, 'uit de browser');
  assert.deepEqual(out.files.map((f) => [f.name, f.sha256_ok]), [['groot.bin', true], ['leeg.txt', true]]);
});
