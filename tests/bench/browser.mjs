// tests/bench/browser's measurements (see that script for what and why).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startFixture, launchBrowser, newContext, sha256File } from '../browser/harness.mjs';
import { collectGarbage, peakDuring } from '../browser/measure.mjs';

const MiB = 1 << 20;

function sizeArg(text) {
  const match = /^(\d+)([KMG]?)$/i.exec(text);
  if (!match) throw new Error(`not a size: ${text}`);
  return Number(match[1]) * ({ '': 1, K: 1 << 10, M: MiB, G: 1 << 30 }[match[2].toUpperCase()]);
}

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const pipelineBytes = sizeArg(option('--size', '256M'));
const downloadSizes = option('--downloads', '256M,1G').split(',').filter(Boolean).map(sizeArg);
const sendSizes = option('--sends', '1G').split(',').filter(Boolean).map(sizeArg);

/** The baseline worker: encrypts chunks it already holds, nothing else. */
const RAW_WORKER = `
self.onmessage = async ({ data: { raw, chunk, count, depth } }) => {
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
  const plaintext = new Uint8Array(chunk).fill(7);
  const aad = new Uint8Array(46);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const iv = new Uint8Array(12);
      new DataView(iv.buffer).setUint32(7, i);
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, plaintext);
    }
  };
  await Promise.all(Array.from({ length: depth }, lane));
  self.postMessage('done');
};
`;

const mbps = (bytes, ms) => bytes / MiB / (ms / 1000);
const fixed = (x, digits = 1) => x.toFixed(digits);

const fixture = await startFixture();
const browser = await launchBrowser();
try {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.route('**/__bench/raw-worker.js', (route) => route.fulfill({
    status: 200, body: RAW_WORKER, contentType: 'text/javascript',
  }));
  await page.goto(`${fixture.base}/`);

  const figures = await page.evaluate(async (size) => {
    const { chunkPool, hashWorker, keyWorker, newKeyId, poolSize } = await import('/lib/pool.js');
    const { sealPart } = await import('/lib/upload.js');
    const { plaintext, formatLayout } = await import('/lib/download.js');
    const { randomId } = await import('/lib/b64.js');
    const layout = await formatLayout();
    const workers = poolSize();

    // Random bytes in 1 MiB pieces, handed to one Blob (as a File would be).
    const random = [];
    for (let o = 0; o < size; o += 1 << 20) {
      const piece = new Uint8Array(Math.min(1 << 20, size - o));
      for (let p = 0; p < piece.length; p += 65_536) crypto.getRandomValues(piece.subarray(p, p + 65_536));
      random.push(piece);
    }
    const blob = new Blob(random);
    random.length = 0;

    // (b) Argon2id at the defaults, in the key worker.
    const kdf = { m_kib: 65_536, t: 3, p: 1 };
    const argon = [];
    for (let i = 0; i < 3; i += 1) {
      const t0 = performance.now();
      await keyWorker().call('derive', { password: 'bench', salt: randomId(), kdf, transfer: randomId() });
      argon.push(performance.now() - t0);
    }

    // (a) The pipeline: seal as an upload does, hashing meanwhile.
    const transfer = randomId();
    await keyWorker().call('newTransfer', { transfer, password: 'bench' });
    const sealed = await keyWorker().call('sealFile', { transfer, size });
    const chunkCount = Math.max(1, Math.ceil(size / layout.chunk));
    const file = { ...sealed, keyId: newKeyId(), blob, layout, chunksPerPart: 32, chunkCount };
    const partCount = Math.ceil(chunkCount / 32);
    await sealPart({ ...file, chunkCount: 1 }, 0); // warm the workers and their key import
    const hashId = `bench/${transfer}`;
    const t0 = performance.now();
    await hashWorker().call('start', { id: hashId });
    const hashing = hashWorker().call('updateBlob', { id: hashId, blob, start: 0, end: size });
    const parts = new Array(partCount);
    let next = 0;
    const lane = async () => {
      while (next < partCount) {
        const n = next++;
        // Kept as arrays, not Blobs: Chromium here refused to read back a
        // second 256 MiB of Blob data (NotReadableError) beside the first.
        parts[n] = await sealPart(file, n);
      }
    };
    await Promise.all([lane(), lane(), lane()]);
    await hashing;
    const sha256 = await hashWorker().call('finish', { id: hashId });
    const encryptMs = performance.now() - t0;
    // Sealing alone (nothing kept), to show the hash's share.
    const sealOnlyStart = performance.now();
    let again = 0;
    const discard = async () => {
      while (again < partCount) await sealPart(file, again++);
    };
    await Promise.all([discard(), discard(), discard()]);
    const sealOnlyMs = performance.now() - sealOnlyStart;

    // And back: the sealed bytes in 1 MiB pieces, as from the network.
    async function* pieces() {
      for (const part of parts) {
        for (let at = 0; at < part.length; at += 1 << 20) yield part.slice(at, at + (1 << 20));
      }
    }
    const t1 = performance.now();
    let released = 0;
    for await (const piece of plaintext({
      transfer, file: { file_id: sealed.file }, entry: { size, sha256 }, pieces: pieces(),
    })) released += piece.length;
    const decryptMs = performance.now() - t1;
    if (released !== size) throw new Error('the pipeline lost bytes');

    // Hashing alone, to show its share.
    const t2 = performance.now();
    await hashWorker().call('start', { id: 'alone' });
    await hashWorker().call('updateBlob', { id: 'alone', blob, start: 0, end: size });
    await hashWorker().call('finish', { id: 'alone' });
    const hashMs = performance.now() - t2;

    // The baseline: raw WebCrypto, the same number of workers.
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const perWorker = Math.ceil(chunkCount / workers);
    const rawWorkers = Array.from({ length: workers }, () => new Worker('/__bench/raw-worker.js'));
    const run = () => Promise.all(rawWorkers.map((w) => new Promise((resolve) => {
      w.onmessage = resolve;
      w.postMessage({ raw, chunk: layout.chunk, count: perWorker, depth: 2 });
    })));
    await Promise.all(rawWorkers.map((w) => new Promise((resolve) => {
      w.onmessage = resolve;
      w.postMessage({ raw, chunk: layout.chunk, count: 4, depth: 2 });
    })));
    const t3 = performance.now();
    await run();
    const rawMs = performance.now() - t3;
    rawWorkers.forEach((w) => w.terminate());
    chunkPool();
    return {
      workers, cores: navigator.hardwareConcurrency, argon, encryptMs, sealOnlyMs, decryptMs, hashMs,
      rawMs, rawBytes: perWorker * workers * layout.chunk,
    };
  }, pipelineBytes);
  await context.close();

  const argon = [...figures.argon].sort((a, b) => a - b);
  const raw = mbps(figures.rawBytes, figures.rawMs);
  const encrypt = mbps(pipelineBytes, figures.encryptMs);
  const seal = mbps(pipelineBytes, figures.sealOnlyMs);
  const decrypt = mbps(pipelineBytes, figures.decryptMs);
  console.log(`chromium: ${figures.cores} cores reported, ${figures.workers} chunk workers`);
  console.log(`argon2id m=64MiB t=3 p=1 in the key worker: ${argon.map((x) => `${Math.round(x)} ms`).join(', ')} (median ${Math.round(argon[1])} ms)`);
  console.log(`raw WebCrypto AES-256-GCM, ${figures.workers} workers: ${fixed(raw)} MiB/s`);
  console.log(`pipeline encrypt ${pipelineBytes / MiB} MiB (file → chunk workers → ciphertext parts): ${fixed(seal)} MiB/s (${Math.round(figures.sealOnlyMs)} ms)`);
  console.log(`  the same with the manifest's SHA-256 beside it, as an upload runs: ${fixed(encrypt)} MiB/s (${Math.round(figures.encryptMs)} ms); SHA-256 alone (hash worker, wasm): ${fixed(mbps(pipelineBytes, figures.hashMs))} MiB/s`);
  console.log(`pipeline decrypt ${pipelineBytes / MiB} MiB (cut + open + hash + check): ${fixed(decrypt)} MiB/s (${Math.round(figures.decryptMs)} ms)`);
  console.log(`ratios vs raw WebCrypto: encrypt ${fixed(seal / raw, 2)}, encrypt with hash ${fixed(encrypt / raw, 2)}, decrypt (with hash) ${fixed(decrypt / raw, 2)}`);

  // (c) Downloads through the retrieval page, memory sampled.
  const password = 'bench-password-1';
  for (const size of downloadSizes) {
    const tag = `${size}-${Date.now()}`;
    const sent = await fixture.send({
      from: `bench.${tag}@example.nl`, name: 'Bench', to: [`partner.${tag}@example.com`], password,
      files: [{ name: 'big.bin', size, seed: 9 }],
    });
    const ctx = await newContext(browser);
    const tab = await ctx.newPage();
    await tab.addInitScript(() => { delete window.showSaveFilePicker; });
    await tab.goto(sent.links[`partner.${tag}@example.com`]);
    await tab.fill('#password', password);
    await tab.click('#open');
    await tab.waitForSelector('#content:not([hidden])');
    // Register the service worker, then let the page settle, before the idle level.
    await tab.evaluate(async () => (await import('/lib/save.js')).serviceWorker());
    await collectGarbage(tab);
    let failure;
    const run = await peakDuring(browser, async () => {
      const [download] = await Promise.all([tab.waitForEvent('download'), tab.click('button.download')]);
      await tab.waitForFunction(() => /checked/.test(document.querySelector('#download-status').textContent)
        || document.querySelector('#download-error').textContent, null, { timeout: 600_000 });
      failure = await download.failure();
      await download.delete();
    });
    if (failure) throw new Error(`the ${size / MiB} MiB download failed: ${failure}`);
    const above = run.peakAboveIdle;
    console.log(`download ${size / MiB} MiB through the retrieval page: ${(run.ms / 1000).toFixed(2)} s, ${fixed(mbps(size, run.ms))} MiB/s; `
      + `browser memory ${Math.round(run.idle.pss / MiB)} MiB PSS before, peak above that: RSS +${Math.round(above.rss / MiB)} MiB, PSS +${Math.round(above.pss / MiB)} MiB`);
    await ctx.close();
  }

  // (d) Sends through the wizard: the file chosen on step 4 is encrypted
  // and uploaded in the background, memory sampled until it is stored;
  // then Start transfer (Argon2id, key, send); the partner retrieves it on
  // the retrieval page (SHA-256 compared) and the manage page shows it.
  const scratch = mkdtempSync(path.join(tmpdir(), 'kluis-bench-send-'));
  try {
    for (const size of sendSizes) {
      const tag = `${size}-${Date.now()}`;
      const staff = `sender.${tag}@example.nl`;
      const partner = `partner.${tag}@example.com`;
      const file = path.join(scratch, 'big.bin');
      const written = await fixture.writeFile({ path: file, size, seed: 5 });
      const ctx = await newContext(browser);
      const tab = await ctx.newPage();
      await tab.goto(`${fixture.base}/send/`);
      await tab.fill('#sender-name', 'Bench');
      await tab.fill('#sender-email', staff);
      await tab.click('#request-code');
      await tab.waitForSelector('#step-code:not([hidden])');
      const code = (await fixture.mails(staff)).at(-1).text.match(/\b\d{6}\b/)[0];
      await tab.fill('#code', code);
      await tab.click('#verify');
      await tab.fill('#recipient', partner);
      await tab.click('#recipients-next');
      await tab.waitForSelector('#step-files:not([hidden])');
      await collectGarbage(tab);
      // Sampled every 500 ms: reading every process's PSS every 50 ms for
      // minutes stalled the test's own event loop.
      const run = await peakDuring(browser, async () => {
        await tab.setInputFiles('#file-input', file);
        await tab.waitForSelector('#file-list li.done, #file-list li.failed', { timeout: 900_000 });
      }, { intervalMs: 500 });
      if (await tab.$('#file-list li.failed')) {
        throw new Error(`the ${size / MiB} MiB upload failed: ${await tab.textContent('#files-error')}`);
      }
      const started = Date.now();
      await tab.click('#files-form button[type="submit"]');
      await tab.waitForSelector('#generated .group');
      const password = (await tab.$$eval('#generated .group', (g) => g.map((x) => x.textContent))).join('-');
      await tab.click('#password-form button[type="submit"]');
      await tab.click('#start-transfer');
      await tab.waitForSelector('#step-done:not([hidden])', { timeout: 120_000 });
      const sealMs = Date.now() - started;
      const manage = await tab.getAttribute('#done-manage', 'href');
      const link = (await fixture.mails(partner)).at(-1).text.match(/https?:\/\/\S+\/retrieve\/\S+/)[0];
      rmSync(file);
      // The partner retrieves it on the retrieval page; the sender's manage
      // page then shows the download.
      const partnerTab = await ctx.newPage();
      await partnerTab.addInitScript(() => { delete window.showSaveFilePicker; });
      await partnerTab.goto(link);
      await partnerTab.fill('#password', password);
      await partnerTab.click('#open');
      await partnerTab.waitForSelector('#content:not([hidden])');
      const [download] = await Promise.all([partnerTab.waitForEvent('download'), partnerTab.click('button.download')]);
      const saved = path.join(scratch, 'retrieved.bin');
      await download.saveAs(saved);
      await partnerTab.waitForFunction(() => /checked/.test(document.querySelector('#download-status').textContent), null, { timeout: 600_000 });
      const digest = await sha256File(saved);
      if (digest.sha256 !== written.sha256) throw new Error('the partner did not get the same bytes');
      rmSync(saved);
      await tab.goto(manage);
      await tab.waitForFunction((email) => /Downloaded all files/.test(
        document.querySelector(`tr[data-recipient="${email}"]`)?.textContent ?? ''), partner, { timeout: 60_000 });
      const above = run.peakAboveIdle;
      console.log(`send ${size / MiB} MiB through the wizard: encrypted and uploaded in ${(run.ms / 1000).toFixed(2)} s, `
        + `${fixed(mbps(size, run.ms))} MiB/s (${fixed(mbps(size, run.ms) / raw, 2)} of raw WebCrypto); Start transfer → sent in ${(sealMs / 1000).toFixed(2)} s; `
        + `browser memory peak above idle: RSS +${Math.round(above.rss / MiB)} MiB, PSS +${Math.round(above.pss / MiB)} MiB; `
        + 'retrieved byte-identical on the retrieval page, and the manage page shows the download');
      await ctx.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`browser_ratio_vs_webcrypto=${fixed(seal / raw, 2)}`);
} finally {
  await browser.close();
  await fixture.stop();
}
