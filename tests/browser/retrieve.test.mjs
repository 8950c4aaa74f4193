// The retrieval page in real Chromium against the real runner: what a
// partner does with the link from their mail. Transfers are made with the
// CLI library (the fixture); the page then unlocks, downloads one file at a
// time and all as a ZIP (through the service-worker stream, and through
// the File System Access path), replies, and meets every refusal: a wrong
// password, a lock, expiry, a revoke, a tampered object. Every state is
// screenshotted (target/browser-artifacts) and checked by axe-core, and
// every page must run without a CSP violation or a script error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  startFixture, launchBrowser, newContext, expectNoCspViolations, checkA11y, screenshot, download,
  sha256File,
} from './harness.mjs';

const PASSWORD = 'k7m-x2p-abc-def-ghj-kmn-pqr';
/** An API refusal (401 wrong password, 410 gone) is logged by Chromium as a failed load. */
const EXPECTED_CONSOLE = [/Failed to load resource: the server responded with a status of 4\d\d/];

let fixture;
let browser;
let work;

before(async () => {
  fixture = await startFixture();
  browser = await launchBrowser();
  work = mkdtempSync(path.join(tmpdir(), 'kluis-browser-'));
});

after(async () => {
  await browser?.close();
  await fixture?.stop();
});

let counter = 0;
/** Addresses of their own per test, so mails never mix. */
function people() {
  counter += 1;
  return {
    staff: `ada.${counter}@example.nl`,
    partners: [`bo.${counter}@example.com`, `cy.${counter}@example.org`],
  };
}

/** A transfer of two files (one spanning two upload parts) to two partners. */
async function sendTwoFiles(extra = {}) {
  const who = people();
  const sent = await fixture.send({
    from: who.staff,
    name: 'Ada Lovelace',
    phone: '+31 6 1234 5678',
    to: who.partners,
    message: 'De stukken voor het onderzoek.\nGroet, Ada',
    password: PASSWORD,
    files: [
      { name: 'rapport.pdf', size: 9_000_000, seed: 1 },
      { name: 'notitie.txt', size: 1_000, seed: 2 },
    ],
    ...extra,
  });
  return { ...who, sent };
}

/**
 * A page in a fresh context, watched for CSP violations and errors. By
 * default the File System Access picker is hidden, so downloads take the
 * service-worker stream that Playwright sees as a download.
 */
async function openPage(url, { locale = 'en-GB', viewport, picker = false } = {}) {
  const context = await newContext(browser, { locale, ...(viewport ? { viewport } : {}) });
  const page = await context.newPage();
  const watch = await expectNoCspViolations(page, { allowConsole: EXPECTED_CONSOLE });
  if (!picker) await page.addInitScript(() => { delete window.showSaveFilePicker; });
  await page.goto(url);
  return { context, page, watch };
}

/** Waits until the page shows section `id`. */
function shown(page, id) {
  return page.waitForSelector(`#${id}:not([hidden])`, { timeout: 30_000 });
}

async function unlock(page, password) {
  await page.fill('#password', password);
  await page.click('#open');
}

async function waitForText(page, selector, pattern) {
  await page.waitForFunction(
    ([s, source]) => new RegExp(source).test(document.querySelector(s)?.textContent ?? ''),
    [selector, pattern.source],
    { timeout: 60_000 },
  );
  return page.textContent(selector);
}

/** Name → SHA-256 of every entry of a ZIP, read by Python's zipfile (another implementation). */
function zipDigests(file) {
  const script = 'import hashlib,json,sys,zipfile\n'
    + 'z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\n'
    + 'print(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))';
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

test('two partners each open their link, get past a wrong password and download both files and the ZIP byte for byte', async () => {
  const { sent, partners } = await sendTwoFiles();
  const expected = Object.fromEntries(sent.files.map((f) => [f.name, f.sha256]));
  for (const [n, partner] of partners.entries()) {
    const { context, page, watch } = await openPage(sent.links[partner]);
    await shown(page, 'transfer');
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
    assert.match(await page.textContent('#sender'), /Ada Lovelace <ada\.\d+@example\.nl>/);
    assert.equal(await page.textContent('#file-count'), '2 files');
    assert.equal(await page.textContent('#sender-phone'), '+31 6 1234 5678');
    if (n === 0) {
      await screenshot(page, 'retrieve-1-password');
      await checkA11y(page, 'retrieve-password');
    }

    await unlock(page, 'not-the-password');
    const refused = await waitForText(page, '#unlock-error', /not right/);
    assert.match(refused, /\d+ more attempts before the transfer locks/);
    assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true');
    if (n === 0) {
      await screenshot(page, 'retrieve-2-wrong-password');
      await checkA11y(page, 'retrieve-wrong-password');
    }

    // Capitals and spaces instead of dashes: a generated password is forgiving.
    await unlock(page, PASSWORD.toUpperCase().replace(/-/g, ' '));
    await shown(page, 'content');
    assert.equal(await page.textContent('#message'), 'De stukken voor het onderzoek.\nGroet, Ada');
    const names = await page.$$eval('#file-rows td.name', (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(names, ['rapport.pdf', 'notitie.txt']);
    if (n === 0) {
      await screenshot(page, 'retrieve-3-files');
      await checkA11y(page, 'retrieve-files');
    }

    for (const name of names) {
      const saved = await download(page, () => page.click(`tr:has(td.name:text-is("${name}")) button.download`),
        { dir: path.join(work, `partner-${n}`) });
      assert.equal(saved.failure, null, `${name} downloads`);
      assert.equal(saved.name, name);
      assert.equal(saved.sha256, expected[name], `${name} arrives byte for byte`);
      await waitForText(page, '#download-status', /downloaded and checked/);
    }
    assert.equal(await page.locator('#file-rows .done').count(), 2, 'both files are marked done');

    const zip = await download(page, () => page.click('#download-all'), { to: path.join(work, `all-${n}.zip`) });
    assert.equal(zip.failure, null);
    assert.equal(zip.name, 'kluis-files.zip');
    assert.deepEqual(zipDigests(zip.path), expected, 'the ZIP holds both files byte for byte');
    if (n === 0) {
      await screenshot(page, 'retrieve-4-downloaded');
      await checkA11y(page, 'retrieve-downloaded');
    }
    watch.assertClean();
    await context.close();
  }

  // Every download was reported: the sender's manage view shows them.
  const status = await fixture.status(sent.manage);
  for (const recipient of status.recipients) {
    const files = new Set(recipient.downloads.map((d) => d.file_id));
    assert.equal(files.size, 2, `${recipient.email} downloaded both files`);
  }
});

test('the progress panel shows percentage, speed and time left, and cancel leaves no finished file', async () => {
  const who = people();
  const sent = await fixture.send({
    from: who.staff, name: 'Ada Lovelace', to: [who.partners[0]], password: PASSWORD,
    files: [{ name: 'groot.bin', size: 24_000_000, seed: 3 }],
  });
  const { context, page, watch } = await openPage(sent.links[who.partners[0]]);
  await unlock(page, PASSWORD);
  await shown(page, 'content');
  // A slow line (2 MB/s) so the panel is seen mid-way.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: 2_000_000, uploadThroughput: -1,
  });
  const [started] = await Promise.all([page.waitForEvent('download'), page.click('button.download')]);
  await shown(page, 'download-progress');
  const figures = await waitForText(page, '#download-progress .figures', /%.*\//);
  assert.match(figures, /\d+ %|\d+%/);
  await screenshot(page, 'retrieve-5-progress');
  await checkA11y(page, 'retrieve-progress');
  await page.click('#download-progress .cancel');
  await waitForText(page, '#download-error', /Cancelled/);
  assert.notEqual(await started.failure(), null, 'a cancelled download is not a finished file');
  watch.assertClean();
  await context.close();
});

test('a tampered object is refused and nothing is saved as a finished file', async () => {
  const { sent, partners } = await sendTwoFiles();
  await fixture.tamper({ transfer_id: sent.transfer_id, file_index: 0 });
  const { context, page, watch } = await openPage(sent.links[partners[0]]);
  await unlock(page, PASSWORD);
  await shown(page, 'content');
  const saved = await download(page, () => page.click('tr:has(td.name:text-is("rapport.pdf")) button.download'),
    { dir: path.join(work, 'tampered') });
  assert.notEqual(saved.failure, null, 'the browser reports the download as failed');
  assert.equal(saved.path, null);
  const error = await waitForText(page, '#download-error', /altered or damaged/);
  assert.match(error, /nothing was saved as a finished file/);
  assert.equal(await page.locator('#file-rows .done').count(), 0);
  await screenshot(page, 'retrieve-6-tampered');
  await checkA11y(page, 'retrieve-tampered');
  // The untouched file still downloads.
  const good = await download(page, () => page.click('tr:has(td.name:text-is("notitie.txt")) button.download'),
    { dir: path.join(work, 'tampered') });
  assert.equal(good.sha256, sent.files[1].sha256);
  watch.assertClean();
  await context.close();
});

test('a tampered last chunk fails at the very end, and a ZIP with one tampered file reports nothing as downloaded', async () => {
  const { sent, partners } = await sendTwoFiles();
  // rapport.pdf: 9,000,000 bytes in 35 chunks → 14 + 9,000,000 + 35 × 16 bytes.
  const objectSize = 14 + 9_000_000 + 35 * 16;
  await fixture.tamper({ transfer_id: sent.transfer_id, file_index: 0, offset: objectSize - 5 });
  const { context, page, watch } = await openPage(sent.links[partners[0]]);
  await unlock(page, PASSWORD);
  await shown(page, 'content');
  const single = await download(page, () => page.click('tr:has(td.name:text-is("rapport.pdf")) button.download'),
    { dir: path.join(work, 'tampered-end') });
  assert.notEqual(single.failure, null, 'almost all of it arrived, and still it is no finished file');
  await waitForText(page, '#download-error', /altered or damaged/);

  const zip = await download(page, () => page.click('#download-all'), { to: path.join(work, 'tampered-end.zip') });
  assert.notEqual(zip.failure, null, 'the archive fails as a whole');
  await waitForText(page, '#download-error', /altered or damaged/);
  assert.equal(await page.locator('#file-rows .done').count(), 0, 'no file is marked downloaded');
  watch.assertClean();
  await context.close();
  const status = await fixture.status(sent.manage);
  const mine = status.recipients.find((r) => r.email === partners[0]);
  assert.deepEqual(mine.downloads, [], 'the sender is told of no download that did not happen');
});

test('with the File System Access picker the file is written through it, and a tampered one is removed', async () => {
  const { sent, partners } = await sendTwoFiles();
  const { context, page, watch } = await openPage(sent.links[partners[1]], { picker: true });
  // The picker is a native dialog no script can answer: stand in for it
  // with a file of the origin-private file system, which has the same
  // writable-stream interface, and read the file back afterwards.
  await page.evaluate(() => {
    window.showSaveFilePicker = async ({ suggestedName }) => {
      const dir = await navigator.storage.getDirectory();
      return dir.getFileHandle(suggestedName, { create: true });
    };
  });
  await unlock(page, PASSWORD);
  await shown(page, 'content');
  await page.click('tr:has(td.name:text-is("rapport.pdf")) button.download');
  await waitForText(page, '#download-status', /downloaded and checked/);
  const digest = await page.evaluate(async () => {
    const dir = await navigator.storage.getDirectory();
    const file = await (await dir.getFileHandle('rapport.pdf')).getFile();
    const hash = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
    return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
  assert.equal(digest, sent.files[0].sha256, 'the picker path writes the file byte for byte');

  await fixture.tamper({ transfer_id: sent.transfer_id, file_index: 1 });
  await page.click('tr:has(td.name:text-is("notitie.txt")) button.download');
  await waitForText(page, '#download-error', /altered or damaged/);
  const left = await page.evaluate(async () => {
    const names = [];
    for await (const name of (await navigator.storage.getDirectory()).keys()) names.push(name);
    return names.sort();
  });
  assert.deepEqual(left, ['rapport.pdf'], 'the refused file leaves nothing behind under its name');
  watch.assertClean();
  await context.close();
});

test('a partner replies with two files and the sender receives them byte for byte', async () => {
  const { sent, partners, staff } = await sendTwoFiles();
  const files = [
    { name: 'getekend.pdf', bytes: Buffer.alloc(700_000, 7).map((b, i) => (i * 13 + b) % 256) },
    { name: 'leeg.txt', bytes: Buffer.alloc(0) },
  ];
  const paths = files.map((f) => {
    const p = path.join(work, f.name);
    writeFileSync(p, f.bytes);
    return p;
  });
  const { context, page, watch } = await openPage(sent.links[partners[0]]);
  await unlock(page, PASSWORD);
  await shown(page, 'content');
  await page.fill('#reply-name', 'Bo Partner');
  await page.fill('#reply-phone', '+31 20 123 4567');
  await page.fill('#reply-message', 'Hierbij de getekende versie.');
  await page.setInputFiles('#reply-files', paths);
  assert.equal(await page.locator('#reply-list li').count(), 2);
  await screenshot(page, 'retrieve-7-reply');
  await checkA11y(page, 'retrieve-reply');
  await page.click('#send-reply');
  await waitForText(page, '#reply-status', /has been sent to Ada Lovelace/);
  assert.equal(await page.locator('#reply-list li').count(), 0, 'the sent files are cleared');
  await screenshot(page, 'retrieve-8-replied');
  watch.assertClean();
  await context.close();

  const notices = await fixture.mails(staff);
  const reply = notices.map((m) => /http:\/\/\S+\/retrieve\/\S+/.exec(m.text)?.[0]).filter(Boolean).pop();
  assert.ok(reply, 'the sender is mailed a link to the reply');
  const received = await fixture.receive({ link: reply, password: PASSWORD, out: path.join(work, 'reply-in') });
  assert.equal(received.message, 'Hierbij de getekende versie.');
  assert.deepEqual(received.files.map((f) => f.name), ['getekend.pdf', 'leeg.txt']);
  for (const [i, file] of received.files.entries()) {
    assert.equal(file.sha256, (await sha256File(paths[i])).sha256, `${file.name} arrives byte for byte`);
  }
});

test('a reply whose upload fails part-way is sent by trying again, without sending a stored part twice', async () => {
  const { sent, partners, staff } = await sendTwoFiles();
  const big = path.join(work, 'twee-delen.bin');
  writeFileSync(big, Buffer.alloc(9_500_000).map((_, i) => (i * 31 + 5) % 256));
  const { context, page, watch } = await openPage(sent.links[partners[1]]);
  await unlock(page, PASSWORD);
  await shown(page, 'content');
  await page.fill('#reply-name', 'Cy Partner');
  await page.setInputFiles('#reply-files', [big]);
  // The store refuses the second part once: the first attempt fails.
  const puts = [];
  let refused = 0;
  await page.route('**/objects/**', async (route) => {
    const url = new URL(route.request().url());
    if (route.request().method() !== 'PUT') return route.continue();
    const part = url.searchParams.get('part');
    puts.push(part);
    if (part === '2' && refused === 0) {
      refused += 1;
      return route.fulfill({ status: 403, contentType: 'application/json', body: '{"code":"signature_invalid","message":"refused"}' });
    }
    return route.continue();
  });
  await page.click('#send-reply');
  await waitForText(page, '#reply-error', /could not be sent/);
  assert.deepEqual([...puts].sort(), ['1', '2'], 'both parts were tried once');
  await screenshot(page, 'retrieve-7b-reply-failed');
  await page.click('#send-reply');
  await waitForText(page, '#reply-status', /has been sent to Ada Lovelace/);
  assert.deepEqual([...puts].sort(), ['1', '2', '2'], 'only the refused part is sent again');
  watch.assertClean();
  await context.close();

  const notices = await fixture.mails(staff);
  const reply = notices.map((m) => /http:\/\/\S+\/retrieve\/\S+/.exec(m.text)?.[0]).filter(Boolean).pop();
  const received = await fixture.receive({ link: reply, password: PASSWORD, out: path.join(work, 'reply-resumed') });
  assert.equal(received.files.length, 1);
  assert.equal(received.files[0].sha256, (await sha256File(big)).sha256, 'the resumed upload arrives byte for byte');
});

test('too many wrong passwords lock the transfer, and the page says so', async () => {
  const { sent, partners } = await sendTwoFiles();
  const { context, page, watch } = await openPage(sent.links[partners[0]]);
  await shown(page, 'transfer');
  let lastLeft = null;
  for (let i = 0; i < 30; i += 1) {
    await unlock(page, `wrong-${i}`);
    await page.waitForFunction(() => document.querySelector('#unlock-error').textContent
      || !document.querySelector('#problem').hidden, null, { timeout: 30_000 });
    if (await page.isVisible('#problem')) break;
    lastLeft = await page.textContent('#unlock-error');
    await page.evaluate(() => { document.querySelector('#unlock-error').textContent = ''; });
  }
  assert.match(lastLeft, /1 more attempt before/, 'the last warning counts down to one');
  assert.equal(await page.textContent('#problem-title'), 'This transfer is locked');
  await screenshot(page, 'retrieve-9-locked');
  await checkA11y(page, 'retrieve-locked');
  // Reopening the link says the same.
  await page.reload();
  await shown(page, 'problem');
  assert.equal(await page.textContent('#problem-title'), 'This transfer is locked');
  watch.assertClean();
  await context.close();
});

test('an expired and a revoked transfer say they are gone; a wrong or cut link says so', async () => {
  const expired = await sendTwoFiles({ retention_days: 1 });
  await fixture.advanceDays(2);
  await fixture.expire();
  const revoked = await sendTwoFiles();
  await fixture.revoke(revoked.sent.manage);
  for (const [name, link, title] of [
    ['expired', expired.sent.links[expired.partners[0]], 'This transfer has expired'],
    ['revoked', revoked.sent.links[revoked.partners[0]], 'The sender withdrew this transfer'],
  ]) {
    const { context, page, watch } = await openPage(link);
    await shown(page, 'problem');
    assert.equal(await page.textContent('#problem-title'), title);
    assert.equal(await page.isVisible('#password'), false);
    await screenshot(page, `retrieve-10-${name}`);
    await checkA11y(page, `retrieve-${name}`);
    watch.assertClean();
    await context.close();
  }

  const { sent, partners } = await sendTwoFiles();
  const link = new URL(sent.links[partners[0]]);
  const cases = [
    ['no-token', `${link.origin}${link.pathname}`, 'This link is incomplete'],
    ['wrong-token', `${link.origin}${link.pathname}#${'A'.repeat(43)}`, 'This link does not work'],
    ['bad-id', `${link.origin}/retrieve/nonsense#${link.hash.slice(1)}`, 'This link does not work'],
  ];
  for (const [name, url, title] of cases) {
    const { context, page, watch } = await openPage(url);
    await shown(page, 'problem');
    assert.equal(await page.textContent('#problem-title'), title, name);
    await screenshot(page, `retrieve-11-${name}`);
    watch.assertClean();
    await context.close();
  }
});

test('in Dutch at 360 px the page reads and works the same, and the switch changes language', async () => {
  const { sent, partners } = await sendTwoFiles();
  const { context, page, watch } = await openPage(sent.links[partners[1]], {
    locale: 'nl-NL',
    viewport: { width: 360, height: 740 },
  });
  await shown(page, 'transfer');
  assert.equal(await page.textContent('h1'), 'Bestanden ophalen');
  assert.equal(await page.getAttribute('html', 'lang'), 'nl');
  assert.equal(await page.textContent('#file-count'), '2 bestanden');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `nothing sticks out sideways at 360 px (${overflow} px)`);
  await screenshot(page, 'retrieve-nl-360-1-password');
  await checkA11y(page, 'retrieve-nl-360-password');
  await unlock(page, 'fout');
  assert.match(await waitForText(page, '#unlock-error', /klopt niet/), /Nog \d+ pogingen/);
  await unlock(page, PASSWORD);
  await shown(page, 'content');
  const saved = await download(page, () => page.click('tr:has(td.name:text-is("notitie.txt")) button.download'),
    { dir: path.join(work, 'nl') });
  assert.equal(saved.sha256, sent.files[1].sha256);
  await waitForText(page, '#download-status', /gedownload en gecontroleerd/);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `the file list fits at 360 px (${wide} px)`);
  await screenshot(page, 'retrieve-nl-360-2-files');
  await checkA11y(page, 'retrieve-nl-360-files');
  await page.click('#language');
  assert.equal(await page.textContent('h1'), 'Retrieve files');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('#download-all'), 'Download all as ZIP');
  watch.assertClean();
  await context.close();
});

test('the start page offers both choices and opens a pasted retrieval link', async () => {
  const { sent, partners } = await sendTwoFiles();
  for (const [locale, lang] of [['en-GB', 'en'], ['nl-NL', 'nl']]) {
    const { context, page, watch } = await openPage(`${fixture.base}/`, { locale });
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await screenshot(page, `start-${lang}`);
    await checkA11y(page, `start-${lang}`);
    await page.fill('#link', 'https://elsewhere.example/retrieve/x#y');
    await page.click('#link-form button[type=submit]');
    assert.ok((await waitForText(page, '#link-error', /.+/)).length > 0, 'a foreign link is refused');
    await page.fill('#link', sent.links[partners[0]]);
    await page.click('#link-form button[type=submit]');
    await shown(page, 'transfer');
    assert.match(page.url(), /\/retrieve\/[A-Za-z0-9_-]{22}$/);
    watch.assertClean();
    await context.close();
  }
});

test('both languages have the same texts', async () => {
  const en = (await import('../../web/lib/strings/en.js')).default;
  const nl = (await import('../../web/lib/strings/nl.js')).default;
  assert.deepEqual(Object.keys(nl).sort(), Object.keys(en).sort());
  for (const key of Object.keys(en)) assert.equal(typeof nl[key], typeof en[key], key);
  // A text copied over untranslated would pass the checks above; these
  // few are the same word in both languages.
  const sameWord = ['downloads', 'phone', 'stepCode'];
  const same = Object.keys(en).filter((k) => typeof en[k] === 'string' && en[k] === nl[k]);
  assert.deepEqual(same, sameWord.filter((k) => en[k] === nl[k]), `untranslated: ${same}`);
});
