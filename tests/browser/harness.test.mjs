// The harness's own tests: the fixture makes real transfers and really
// moves time, expires, revokes, locks and tampers; Chromium opens the
// start page under its CSP; the checks (axe, CSP, downloads, memory)
// see what they should. Every page test builds on these.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  browserMemory, browserPids, checkA11y, download, expectNoCspViolations, launchBrowser, linksIn, newContext,
  sampleMemory, savedArtifacts, screenshot, sha256File, startFixture, artifacts,
} from './harness.mjs';

const staff = 'ada@example.nl';
const partners = ['bo@example.com', 'cy@example.org'];
// One whole upload part (8 MiB of plaintext) and more, so the object has
// two parts on disk; and a small one.
const files = [{ name: 'rapport.pdf', size: 8 * 1024 * 1024 + 12_345, seed: 1 }, { name: 'notitie.txt', size: 1000, seed: 2 }];

/** Byte `i` of kluis_e2e::pattern(len, seed), to check the fixture's files independently. */
const patternByte = (i, seed) => ((((i * 31 + 7) & 0xff) + seed) & 0xff) ^ (Math.floor(i / 2048) & 0xff);
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** `GET /api/retrieve/{id}` with the link's token, as the page asks. */
async function publicInfo(link) {
  const url = new URL(link);
  const id = url.pathname.split('/').pop();
  return fetch(`${url.origin}/api/retrieve/${id}`, { headers: { authorization: `Bearer ${url.hash.slice(1)}` } });
}

let fixture;
let browser;
let scratch;

// One after the other: if one fails to start, the other is not left running.
before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'kluis-harness-'));
  fixture = await startFixture();
  browser = await launchBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
  const exited = await fixture?.stop();
  rmSync(scratch, { recursive: true, force: true });
  assert.deepEqual(exited, { code: 0, signal: null }, 'the fixture exits cleanly at the end of its input');
  console.log(`# browser artifacts: ${artifacts} (${savedArtifacts().length} files)`);
});

describe('the fixture', { timeout: 180_000 }, () => {
  let sent;

  before(async () => {
    sent = await fixture.send({ from: staff, name: 'Ada Lovelace', to: partners, message: 'De stukken.', files });
  });

  test('sends two files to two partners, with a retrieval link each and the manage link', () => {
    const id = sent.transfer_id;
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(Object.keys(sent.links).sort(), [...partners].sort());
    const tokens = new Set();
    for (const partner of partners) {
      const link = new URL(sent.links[partner]);
      assert.equal(`${link.origin}${link.pathname}`, `${fixture.base}/retrieve/${id}`);
      assert.match(link.hash, /^#[A-Za-z0-9_-]{20,}$/);
      tokens.add(link.hash);
    }
    assert.equal(tokens.size, 2, 'each recipient has a token of their own');
    assert.match(sent.manage, new RegExp(`^${fixture.base}/manage/${id}#[A-Za-z0-9_-]{20,}$`));
    assert.ok(sent.password.length >= 16, 'a generated password');
    assert.deepEqual(sent.files.map((f) => [f.name, f.size]), files.map((f) => [f.name, f.size]));
    assert.equal(sent.file_ids.length, 2);
  });

  test('the generated files are kluis_e2e::pattern, byte for byte', () => {
    const small = Uint8Array.from({ length: 1000 }, (_, i) => patternByte(i, 2));
    assert.equal(sent.files[1].sha256, sha256(small));
  });

  test('the mails are there, and no notification holds the password or the message', async () => {
    for (const partner of partners) {
      const mails = await fixture.mails(partner);
      assert.equal(mails.length, 1, partner);
      assert.deepEqual(linksIn(mails, fixture.base), [sent.links[partner]]);
      assert.ok(!mails[0].text.includes(sent.password));
      assert.ok(!mails[0].text.includes('De stukken.'));
    }
    const all = await fixture.mails();
    assert.deepEqual(linksIn(all, fixture.base, '/manage/'), [sent.manage], 'the summary with the manage link');
  });

  test('a partner receives both files with the CLI library, SHA-256 equal', async () => {
    const got = await fixture.receive({ link: sent.links[partners[0]], password: sent.password, out: path.join(scratch, 'bo') });
    assert.equal(got.transfer_id, sent.transfer_id);
    assert.equal(got.message, 'De stukken.');
    assert.equal(got.sender.email, staff);
    assert.deepEqual(got.files.map((f) => [f.name, f.size, f.sha256]), sent.files.map((f) => [f.name, f.size, f.sha256]));
    const status = await fixture.status(sent.manage);
    assert.equal(status.recipients.find((r) => r.email === partners[0]).downloads.length, 2);
  });

  test('tamper flips a stored byte: the other partner\'s receive fails on that file\'s chunk authentication', async () => {
    const tampered = await fixture.tamper({ transfer_id: sent.transfer_id, file_index: 0 });
    assert.equal(tampered.file_id, sent.file_ids[0]);
    assert.equal(tampered.offset, Math.floor(tampered.size / 2));
    await assert.rejects(
      fixture.receive({ link: sent.links[partners[1]], password: sent.password, out: path.join(scratch, 'cy') }),
      (error) => {
        assert.equal(error.kind, 'integrity', error.message);
        assert.equal(error.what, 'rapport.pdf');
        assert.match(error.message, /chunk/i);
        return true;
      },
    );
  });

  test('advance_days and expire make the transfer gone: the API answers 410 and the objects are deleted', async () => {
    const link = sent.links[partners[1]];
    assert.equal((await publicInfo(link)).status, 200);
    assert.equal((await fixture.objects(sent.transfer_id)).length > 0, true);
    // Nothing expires before its time, even when the job runs.
    await fixture.expire();
    assert.equal((await publicInfo(link)).status, 200);
    const { now } = await fixture.advanceDays(2);
    assert.ok(now * 1000 > Date.now() + 86_400_000, 'the runner\'s clock moved');
    const report = await fixture.expire();
    assert.ok(report.expired >= 1, JSON.stringify(report));
    const gone = await publicInfo(link);
    assert.equal(gone.status, 410);
    assert.equal((await gone.json()).code, 'transfer_gone');
    assert.deepEqual(await fixture.objects(sent.transfer_id), []);
  });

  test('revoke makes a transfer gone; lock locks one (423)', async () => {
    const one = [{ name: 'a.txt', size: 10, seed: 3 }];
    const revoked = await fixture.send({ from: staff, name: 'Ada', to: [partners[0]], files: one, language: 'nl' });
    assert.equal((await fixture.revoke(revoked.manage)).transfer_id, revoked.transfer_id);
    assert.equal((await publicInfo(revoked.links[partners[0]])).status, 410);

    const locked = await fixture.send({ from: staff, name: 'Ada', to: [partners[0]], files: one, password: 'Een lang wachtwoord 123' });
    assert.equal(locked.password, 'Een lang wachtwoord 123');
    const { wrong_attempts: attempts } = await fixture.lock(locked.links[partners[0]]);
    assert.ok(attempts >= 1);
    assert.equal((await publicInfo(locked.links[partners[0]])).status, 423);
    await assert.rejects(
      fixture.receive({ link: locked.links[partners[0]], password: locked.password }),
      { kind: 'api', status: 423, code: 'transfer_locked' },
    );
  });

  test('write_file writes pattern bytes of any size and a file sends from its path', async () => {
    const file = path.join(scratch, 'big.bin');
    const size = 3 * 1024 * 1024 + 7; // more than the fixture's 1 MiB write piece
    const written = await fixture.writeFile({ path: file, size, seed: 9 });
    const bytes = readFileSync(file);
    assert.equal(bytes.length, size);
    for (const i of [0, 1, 2047, 2048, 1 << 20, (1 << 20) + 1, size - 1]) assert.equal(bytes[i], patternByte(i, 9), `byte ${i}`);
    assert.equal(written.sha256, sha256(bytes));
    const sent2 = await fixture.send({ from: staff, name: 'Ada', to: [partners[0]], files: [{ name: 'groot.bin', path: file }] });
    const got = await fixture.receive({ link: sent2.links[partners[0]], password: sent2.password });
    assert.equal(got.files[0].sha256, written.sha256);
  });

  test('bad commands are refused with a reason, and the fixture keeps serving', async () => {
    await assert.rejects(fixture.call('nope'), { kind: 'command' });
    await assert.rejects(fixture.send({ from: staff, to: partners, files, typo: 1 }), { kind: 'command' });
    await assert.rejects(
      fixture.send({ from: 'eve@example.org', name: 'Eve', to: ['mallory@example.com'], files: [{ name: 'x', size: 1, seed: 0 }] }),
      { kind: 'api', status: 403, code: 'no_internal_party' },
    );
    assert.ok(Array.isArray(await fixture.mails()));
  });

  test('a stopped fixture removes its data folder and refuses commands', async () => {
    const other = await startFixture();
    assert.ok(existsSync(other.data));
    assert.notEqual(other.base, fixture.base);
    assert.deepEqual(await other.stop(), { code: 0, signal: null });
    assert.equal(existsSync(other.data), false, 'the data folder is removed');
    await assert.rejects(other.mails(), /exited/);
  });
});

describe('the browser', { timeout: 180_000 }, () => {
  test('opens the start page under its CSP: screenshot, axe and no violation', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const guard = await expectNoCspViolations(page);
    const response = await page.goto(`${fixture.base}/`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
    assert.equal(await page.evaluate(() => window.isSecureContext && typeof crypto.subtle.encrypt), 'function');
    const shot = await screenshot(page, 'start-page');
    assert.deepEqual([...readFileSync(shot).subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
    await checkA11y(page, 'start-page');
    guard.assertClean();
    await context.close();
  });

  test('the CSP stays in force while the harness works: an inline script is blocked, and the guard fails on it', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const guard = await expectNoCspViolations(page);
    await page.goto(`${fixture.base}/`);
    await checkA11y(page, 'start-page-again');
    const ran = await page.evaluate(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.head.append(script);
      await new Promise((resolve) => setTimeout(resolve, 100));
      return window.__inlineRan === true;
    });
    assert.equal(ran, false, 'the page\'s CSP blocks inline script');
    assert.ok(guard.violations.some((v) => v.directive === 'script-src-elem'), JSON.stringify(guard.violations));
    assert.throws(() => guard.assertClean(), /CSP violation/);
    await context.close();
  });

  test('axe fails on a serious violation', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.setContent('<!doctype html><html lang="en"><title>t</title><main><img src="data:,"><input type="text"></main></html>');
    await assert.rejects(checkA11y(page, 'harness-self-test-must-fail'), /serious or critical.*\n.*image-alt|label/s);
    await context.close();
  });

  test('a download is saved and hashed; the memory of the browser\'s processes is measured', async () => {
    const context = await newContext(browser, { locale: 'nl-NL', viewport: { width: 360, height: 740 } });
    const page = await context.newPage();
    await page.setContent('<!doctype html><a id="a" download="bestand.bin">download</a>');
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => patternByte(i, 4));
    await page.evaluate((data) => {
      document.getElementById('a').href = URL.createObjectURL(new Blob([new Uint8Array(data)]));
    }, [...bytes]);
    const sampler = sampleMemory(browser, { intervalMs: 20 });
    const saved = await download(page, () => page.click('#a'), { dir: scratch });
    assert.equal(saved.failure, null);
    assert.equal(saved.name, 'bestand.bin');
    assert.equal(saved.sha256, sha256(bytes));
    assert.deepEqual(await sha256File(saved.path), { sha256: sha256(bytes), size: bytes.length });

    assert.equal(await page.evaluate(() => navigator.language), 'nl-NL');
    assert.equal(await page.evaluate(() => window.innerWidth), 360);
    const memory = sampler.stop();
    assert.ok(browserPids(browser).length >= 2, 'the browser and at least a renderer');
    const now = browserMemory(browser);
    assert.ok(now.rss > 50 * 1024 * 1024 && now.pss > 0 && now.pss <= now.rss, JSON.stringify(now));
    assert.ok(memory.peak.rss >= memory.idle.rss && memory.samples >= 2, JSON.stringify(memory));
    await context.close();
  });
});
