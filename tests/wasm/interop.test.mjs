// The WebAssembly build of kluis-crypto and the WebCrypto chunk module,
// against native Rust, both directions:
//   native → browser side: the frozen vectors open in wasm and in WebCrypto;
//   browser side → native: a transfer written here opens with the native
//   `open_transfer` example (path in $KLUIS_OPEN_TRANSFER).
// Run by tests/run after web/build has produced web/pkg.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { initSync, derivePasswordKeys, ContentKey, generatePassword, normalizePassword, generateSalt,
  newFileId, chunkSize, sealedChunkSize, headerLength, ciphertextLength, chunkNonce as wasmChunkNonce, chunkAad }
  from '../../web/pkg/kluis_crypto_wasm.js';
import { importFileKey, sealChunk, openChunk, chunkNonce } from '../../web/lib/chunks.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
initSync({ module: readFileSync(path.join(root, 'web/pkg/kluis_crypto_wasm_bg.wasm')) });

const vectorDir = path.join(root, 'shared/crypto/tests/vectors/transfer');
const vector = JSON.parse(readFileSync(path.join(vectorDir, 'vector.json'), 'utf8'));
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const pattern = (len, seed) => Uint8Array.from({ length: len }, (_, j) => (31 * j + 7 + seed) % 251);
const { m_kib: m, t, p } = vector.kdf;

// Splits an object into header and sealed chunks, decrypting each with `open`.
async function decryptObject(object, open) {
  const header = object.subarray(0, headerLength());
  const body = object.subarray(headerLength());
  const parts = [];
  let index = 0;
  for (let offset = 0; ; offset += sealedChunkSize(), index++) {
    const end = Math.min(offset + sealedChunkSize(), body.length);
    const last = end === body.length;
    parts.push(await open(header, index, last, body.slice(offset, end)));
    if (last) return Buffer.concat(parts);
  }
}

test('wasm derives the recorded keys and unwraps the vector', () => {
  assert.equal(normalizePassword(vector.password_typed), vector.password_normalized);
  const keys = derivePasswordKeys(vector.password_typed, Buffer.from(vector.salt, 'hex'), m, t, p, vector.transfer_id);
  assert.equal(hex(keys.authKey()), vector.expect.auth_key);
  assert.equal(hex(keys.authHash()), vector.expect.auth_hash);
  const key = keys.unwrap(Buffer.from(vector.wrapped_key, 'hex'));
  const manifest = JSON.parse(key.openManifest(readFileSync(path.join(vectorDir, 'manifest.kluis')), vector.transfer_id));
  assert.deepEqual(manifest, vector.manifest);
});

test('a wrong password and weak parameters fail with their codes', () => {
  const salt = Buffer.from(vector.salt, 'hex');
  const keys = derivePasswordKeys('k7m-x2p-abc-def-ghj-kmn-pqs', salt, m, t, p, vector.transfer_id);
  assert.throws(() => keys.unwrap(Buffer.from(vector.wrapped_key, 'hex')), /^Error: wrong_password/);
  assert.throws(() => derivePasswordKeys('x', salt, 1024, 1, 1, vector.transfer_id), /weak_kdf_params/);
  assert.throws(() => derivePasswordKeys('x', salt, m, t, p, 'not-an-id'), /invalid_encoding/);
});

test('every vector file decrypts in wasm and in WebCrypto to the recorded plaintext', async () => {
  const keys = derivePasswordKeys(vector.password_typed, Buffer.from(vector.salt, 'hex'), m, t, p, vector.transfer_id);
  const content = keys.unwrap(Buffer.from(vector.wrapped_key, 'hex'));
  for (const [i, file] of vector.files.entries()) {
    const object = readFileSync(path.join(vectorDir, file.object));
    const expected = sha256(pattern(file.plaintext.len, file.plaintext.seed));
    assert.equal(expected, vector.manifest.files[i].sha256);

    const opener = content.opener(vector.transfer_id, file.id, object);
    const viaWasm = await decryptObject(object, (h, index, last, sealed) => opener.openChunk(index, last, sealed));
    assert.equal(sha256(viaWasm), expected, `${file.object} via wasm`);

    const raw = content.fileKey(vector.transfer_id, file.id);
    assert.equal(hex(raw), file.file_key);
    const key = await importFileKey(raw);
    const viaWebCrypto = await decryptObject(object, (h, index, last, sealed) =>
      openChunk(key, h.subarray(7), chunkAad(h, vector.transfer_id, file.id), index, last, sealed));
    assert.equal(sha256(viaWebCrypto), expected, `${file.object} via WebCrypto`);
  }
});

test('WebCrypto reports tampering, truncation and trailing data like Rust', async () => {
  const content = derivePasswordKeys(vector.password_typed, Buffer.from(vector.salt, 'hex'), m, t, p, vector.transfer_id)
    .unwrap(Buffer.from(vector.wrapped_key, 'hex'));
  const file = vector.files[6];
  const object = readFileSync(path.join(vectorDir, file.object));
  const key = await importFileKey(content.fileKey(vector.transfer_id, file.id));
  const h = object.subarray(0, headerLength());
  const aad = chunkAad(h, vector.transfer_id, file.id);
  const chunk0 = object.slice(headerLength(), headerLength() + sealedChunkSize());
  await assert.rejects(openChunk(key, h.subarray(7), aad, 0, true, chunk0), { code: 'truncated' });
  await assert.rejects(openChunk(key, h.subarray(7), aad, 1, false, chunk0), { code: 'chunk_authentication' });
  chunk0[100] ^= 1;
  await assert.rejects(openChunk(key, h.subarray(7), aad, 0, false, chunk0), { code: 'chunk_authentication' });
  const opener = content.opener(vector.transfer_id, file.id, object);
  assert.throws(() => opener.openChunk(0, false, chunk0), /^Error: chunk_authentication/);
});

test('the JavaScript nonce equals the crate nonce', () => {
  const prefix = Uint8Array.from([1, 2, 3, 4, 5, 6, 7]);
  for (const [index, last] of [[0, false], [1, true], [0x01020304, false], [0xfffffffe, true]]) {
    assert.deepEqual(chunkNonce(prefix, index, last), Uint8Array.from(wasmChunkNonce(prefix, index, last)));
  }
});

test('a transfer written with wasm and WebCrypto opens natively', async () => {
  const native = process.env.KLUIS_OPEN_TRANSFER;
  assert.ok(native, 'KLUIS_OPEN_TRANSFER must name the native open_transfer binary');
  const dir = mkdtempSync(path.join(tmpdir(), 'kluis-interop-'));
  const transferId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
  const password = generatePassword();
  assert.match(password, /^([2-9a-hjkmnp-z]{3}-){6}[2-9a-hjkmnp-z]{3}$/);
  const salt = generateSalt();
  const keys = derivePasswordKeys(password, salt, m, t, p, transferId);
  const content = ContentKey.generate();

  const big = new Uint8Array(65536 * 40); // 2.5 chunks
  for (let o = 0; o < big.length; o += 65536) crypto.getRandomValues(big.subarray(o, o + 65536));
  const small = new TextEncoder().encode('hallo vanuit de browser');
  const files = [];
  const entries = [];
  for (const [name, data, useWebCrypto] of [['groot.bin', big, true], ['klein.txt', small, false]]) {
    const id = newFileId();
    const sealer = content.sealer(transferId, id);
    const header = sealer.header();
    const parts = [header];
    const key = await importFileKey(content.fileKey(transferId, id));
    const aad = chunkAad(header, transferId, id);
    const count = Math.max(1, Math.ceil(data.length / chunkSize()));
    for (let i = 0; i < count; i++) {
      const piece = data.slice(i * chunkSize(), (i + 1) * chunkSize());
      const last = i === count - 1;
      parts.push(useWebCrypto
        ? await sealChunk(key, sealer.noncePrefix(), aad, i, last, piece)
        : sealer.sealChunk(i, last, piece));
    }
    const object = Buffer.concat(parts);
    assert.equal(object.length, ciphertextLength(data.length));
    writeFileSync(path.join(dir, `${id}.kluis`), object);
    files.push({ id, object: `${id}.kluis` });
    entries.push({ id, name, size: data.length, type: 'application/octet-stream', sha256: sha256(data) });
  }
  const manifest = { message: 'Groet <script>', files: entries };
  writeFileSync(path.join(dir, 'manifest.kluis'), content.sealManifest(JSON.stringify(manifest), transferId));
  writeFileSync(path.join(dir, 'vector.json'), JSON.stringify({
    kdf: { m_kib: m, t, p }, salt: hex(salt), transfer_id: transferId,
    wrapped_key: hex(keys.wrap(content)), sealed_manifest: 'manifest.kluis', files,
  }));
  assert.equal(readdirSync(dir).length, 4);

  // Dictated back in capitals with spaces, as a partner might type it.
  const typed = password.toUpperCase().replaceAll('-', ' ');
  const out = JSON.parse(execFileSync(native, [dir, typed], { encoding: 'utf8' }));
  assert.equal(out.message, manifest.message);
  assert.deepEqual(out.files.map((f) => [f.name, f.size, f.sha256_ok]),
    [['groot.bin', big.length, true], ['klein.txt', small.length, true]]);

  assert.throws(() => execFileSync(native, [dir, 'wrong password'], { stdio: 'pipe' }),
    (e) => e.status === 2 && /wrong_password/.test(e.stderr.toString()));
});
