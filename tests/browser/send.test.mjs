// The send wizard in real Chromium against the real runner: a staff member
// goes from the start page through the six steps (the code read from the
// dev mailbox), both partners retrieve on the retrieval page byte for
// byte, the manage page shows their downloads, and a revoke reaches the
// partner's page. Then: back and forward keep every input (files
// included), a remembered verification skips the code and "Not you?"
// ends it, a partner sends to staff with an own password after one that
// breaks the rules, a stranger-to-stranger send is refused in words, and
// the wizard in Dutch at 360 px with a wrong and an expired code, and
// leaving with unsent work asks first. Every step is screenshotted
// (target/browser-artifacts) and checked by axe-core, and no page may have
// a CSP violation or a script error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  startFixture, launchBrowser, newContext, expectNoCspViolations, checkA11y, screenshot, download,
  linksIn,
} from './harness.mjs';

/** API refusals (a wrong code, no session yet) are logged by Chromium as failed loads. */
const EXPECTED_CONSOLE = [/Failed to load resource: the server responded with a status of 4\d\d/];

let fixture;
let browser;
let work;
let counter = 0;

before(async () => {
  fixture = await startFixture();
  browser = await launchBrowser();
  work = mkdtempSync(path.join(tmpdir(), 'kluis-send-'));
});

after(async () => {
  await browser?.close();
  await fixture?.stop();
});

/** Addresses of their own per test, so mails never mix. */
function people() {
  counter += 1;
  return {
    staff: `ada.s${counter}@example.nl`,
    partners: [`bo.s${counter}@example.com`, `cy.s${counter}@example.org`],
  };
}

async function openPage(url, { locale = 'en-GB', viewport } = {}) {
  const context = await newContext(browser, {
    locale,
    ...(viewport ? { viewport } : {}),
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const watch = await expectNoCspViolations(page, { allowConsole: EXPECTED_CONSOLE });
  // Downloads take the service-worker stream, which Playwright sees as a download.
  await page.addInitScript(() => { delete window.showSaveFilePicker; });
  await page.goto(url);
  return { context, page, watch };
}

const shown = (page, id, timeout = 30_000) => page.waitForSelector(`#${id}:not([hidden])`, { timeout });

async function waitForText(page, selector, pattern, timeout = 60_000) {
  await page.waitForFunction(
    ([s, source]) => new RegExp(source).test(document.querySelector(s)?.textContent ?? ''),
    [selector, pattern.source],
    { timeout },
  );
  return page.textContent(selector);
}

/** Screenshot and axe check of the page as it is now. */
async function record(page, name) {
  await screenshot(page, name);
  await checkA11y(page, name);
}

/** The newest six-digit code mailed to `email`. */
async function codeFor(email) {
  const mails = await fixture.mails(email);
  const codes = mails.flatMap((m) => m.text.match(/\b\d{6}\b/g) ?? []);
  assert.ok(codes.length > 0, `a code was mailed to ${email}`);
  return codes.at(-1);
}

/** Steps 1 and 2: details, then the code from the mailbox. */
async function verify(page, { name, email, phone = '' }, shots) {
  await shown(page, 'step-sender');
  await page.fill('#sender-name', name);
  await page.fill('#sender-phone', phone);
  await page.fill('#sender-email', email);
  if (shots) await record(page, `${shots}-1-sender`);
  await page.click('#request-code');
  await shown(page, 'step-code');
  await waitForText(page, '#code-intro', new RegExp(email.replace(/[.]/g, '\\.')));
  if (shots) await record(page, `${shots}-2-code`);
  await page.fill('#code', await codeFor(email));
  await page.click('#verify');
  await shown(page, 'step-recipients');
}

async function addRecipients(page, addresses) {
  for (const address of addresses) {
    await page.fill('#recipient', address);
    await page.press('#recipient', 'Enter');
    await page.waitForSelector(`#recipient-list li:has-text("${address}")`);
  }
}

/** Writes deterministic files and returns `[{name, path, size, sha256}]`. */
async function makeFiles(specs) {
  const made = [];
  const dir = path.join(work, `files-${counter}`);
  mkdirSync(dir, { recursive: true });
  for (const { name, size, seed } of specs) {
    const file = path.join(dir, name);
    const written = await fixture.writeFile({ path: file, size, seed });
    made.push({ name, path: file, size, sha256: written.sha256 });
  }
  return made;
}

async function waitUploaded(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('#file-list li.done').length === n, count, { timeout: 120_000 });
}

/** The generated password as shown, groups joined by dashes. */
async function shownPassword(page, selector = '#generated') {
  return (await page.$$eval(`${selector} .group`, (groups) => groups.map((g) => g.textContent))).join('-');
}

/** On the retrieval page: unlock and download every file; name → SHA-256. */
async function retrieveAll(link, password, dir) {
  const { context, page, watch } = await openPage(link);
  await shown(page, 'transfer');
  await page.fill('#password', password);
  await page.click('#open');
  await shown(page, 'content');
  const names = await page.$$eval('#file-rows td.name', (cells) => cells.map((c) => c.textContent));
  const digests = {};
  for (const name of names) {
    const saved = await download(page, () => page.click(`tr:has(td.name:text-is("${name}")) button.download`), { dir });
    assert.equal(saved.failure, null, `${name} downloads`);
    digests[name] = saved.sha256;
    await waitForText(page, '#download-status', /downloaded and checked/);
  }
  const message = await page.textContent('#message');
  watch.assertClean();
  await context.close();
  return { digests, message };
}

test('a staff member sends two files to two partners through the six steps; both retrieve them byte for byte, the manage page shows it, and a revoke reaches the partners', async () => {
  const { staff, partners } = people();
  const files = await makeFiles([
    { name: 'rapport.pdf', size: 9_000_000, seed: 11 },
    { name: 'notitie.txt', size: 1_234, seed: 12 },
  ]);

  const { context, page, watch } = await openPage(fixture.base + '/');
  await page.click('a[href="/send/"]');
  await verify(page, { name: 'Ada Lovelace', email: staff, phone: '+31 6 1234 5678' }, 'send');
  assert.match(await page.textContent('#signed-in-text'), new RegExp(`Ada Lovelace \\(${staff.replace(/\./g, '\\.')}\\)`));

  // Step 3: each address checked as typed.
  await page.fill('#recipient', 'bo@');
  assert.equal(await page.textContent('#recipient-check'), '', 'an unfinished address is not an error yet');
  await page.fill('#recipient', 'bo%x@example.com');
  await waitForText(page, '#recipient-check', /not an e-mail address kluis can use/);
  await page.fill('#recipient', partners[0]);
  await waitForText(page, '#recipient-check', /Outside the organisation/);
  await page.press('#recipient', 'Enter');
  await page.fill('#recipient', partners[0]);
  await waitForText(page, '#recipient-check', /already in the list/);
  await page.fill('#recipient', partners[1]);
  await page.click('#add-recipient');
  await page.waitForSelector(`#recipient-list li:has-text("${partners[1]}")`);
  await record(page, 'send-3-recipients');
  await page.click('#recipients-next');

  // Step 4: the files upload in the background as soon as they are chosen.
  await shown(page, 'step-files');
  assert.match(await page.textContent('#files-limits'), /Up to \d+ files, .* in total/);
  await page.setInputFiles('#file-input', files.map((f) => f.path));
  await page.waitForSelector('#file-list li:nth-child(2)');
  await page.fill('#message', 'De stukken voor het onderzoek.\nGroet, Ada');
  await waitUploaded(page, 2);
  await record(page, 'send-4-files');

  // Back to the recipients and forward again (the browser's own buttons too): nothing is lost.
  await page.click('#step-files button.back');
  await shown(page, 'step-recipients');
  assert.equal(await page.locator('#recipient-list li').count(), 2);
  await page.click('#recipients-next');
  await shown(page, 'step-files');
  await page.goBack();
  await shown(page, 'step-recipients');
  await page.goForward();
  await shown(page, 'step-files');
  assert.equal(await page.locator('#file-list li.done').count(), 2, 'the chosen files are still there, uploaded');
  assert.equal(await page.inputValue('#message'), 'De stukken voor het onderzoek.\nGroet, Ada');
  await page.click('#files-form button[type="submit"]');

  // Step 5: a generated password in groups, hidden and shown, copied.
  await shown(page, 'step-password');
  await page.waitForSelector('#generated .group');
  const password = await shownPassword(page);
  assert.match(password, /^[2-9a-z]{3}(-[2-9a-z]{3}){6}$/);
  await record(page, 'send-5-password');
  await page.click('#toggle-generated');
  assert.equal(await shownPassword(page), Array(7).fill('•••').join('-'), 'hidden means not on the page');
  await page.click('#toggle-generated');
  assert.equal(await shownPassword(page), password);
  await page.click('#copy-password');
  await waitForText(page, '#password-status', /copied/);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), password);
  assert.match(await page.textContent('#step-password .instruction'), /by phone or WhatsApp — never by e-mail/);
  await page.click('#password-form button[type="submit"]');

  // Step 6: options, then Start transfer.
  await shown(page, 'step-confirm');
  assert.equal(await page.textContent('#confirm-to'), partners.join(', '));
  assert.match(await page.textContent('#confirm-files'), /^2 files \(9 MB\)$/);
  assert.equal(await page.textContent('#notice-default'), 'The files are encrypted and can only be opened with a password.');
  await page.selectOption('#retention', '3');
  await page.check('input[name="notice-kind"][value="own"]');
  await page.fill('#notice', 'Hierbij de stukken voor het onderzoek.');
  await page.selectOption('#mail-language', 'nl');
  await page.check('#receipts');
  await record(page, 'send-6-confirm');
  const before = Math.floor(Date.now() / 1000);
  await page.click('#start-transfer');
  await shown(page, 'step-done');
  assert.equal(await page.textContent('#done-to'), partners.join(', '));
  assert.match(await page.textContent('#done-files'), /rapport\.pdf \(9 MB\).*notitie\.txt \(1,2 KB\)|rapport\.pdf \(9 MB\).*notitie\.txt \(1.2 KB\)/);
  assert.equal(await shownPassword(page, '#done-password'), password, 'the summary reminds of the password');
  await record(page, 'send-7-done');
  watch.assertClean();

  // The mails: each partner their own link, in Dutch, with the own text; the sender a summary.
  const links = {};
  for (const partner of partners) {
    const mails = await fixture.mails(partner);
    assert.equal(mails.length, 1, `${partner} got one notification`);
    assert.match(mails[0].subject, /Ada Lovelace heeft u bestanden gestuurd via kluis/);
    assert.match(mails[0].text, /Hierbij de stukken voor het onderzoek\./);
    [links[partner]] = linksIn(mails, fixture.base);
  }
  assert.notEqual(links[partners[0]], links[partners[1]]);
  const [manage] = linksIn(await fixture.mails(staff), fixture.base, '/manage/');
  assert.ok(manage, 'the sender got the manage link');
  const status = await fixture.status(manage);
  const days = (status.expires_at - before) / 86400;
  assert.ok(days > 2.9 && days < 3.1, `available for the chosen 3 days (${days.toFixed(2)})`);

  // The summary screen links to the manage page.
  const manageHref = await page.getAttribute('#done-manage', 'href');
  assert.match(manageHref, /\/manage\/[A-Za-z0-9_-]{22}#/);

  // Both partners retrieve on the retrieval page, byte for byte.
  for (const [n, partner] of partners.entries()) {
    const got = await retrieveAll(links[partner], password, path.join(work, `got-${counter}-${n}`));
    assert.deepEqual(got.digests, Object.fromEntries(files.map((f) => [f.name, f.sha256])));
    assert.equal(got.message, 'De stukken voor het onderzoek.\nGroet, Ada');
  }
  const receipts = (await fixture.mails(staff)).filter((m) => /download/i.test(m.subject));
  assert.ok(receipts.length >= 2, 'the sender asked to be told of downloads, and was');

  // The manage page (from the summary screen) shows both downloads; revoke.
  await page.click('#done-manage');
  await shown(page, 'status');
  for (const partner of partners) {
    await waitForText(page, `tr[data-recipient="${partner}"]`, /Downloaded all files/);
  }
  await page.click('#revoke');
  await page.click('#confirm-revoke');
  await shown(page, 'revoked');
  watch.assertClean();
  await context.close();

  const partner = await openPage(links[partners[0]]);
  await shown(partner.page, 'problem');
  assert.equal(await partner.page.textContent('#problem-title'), 'The sender withdrew this transfer');
  await partner.context.close();
});

test('a remembered verification skips the code; "Not you?" ends it; a removed file is not sent', async () => {
  const { staff, partners } = people();
  const files = await makeFiles([
    { name: 'drop.bin', size: 12_000_000, seed: 22 },
    { name: 'keep.bin', size: 300_000, seed: 21 },
  ]);
  const { context, page, watch } = await openPage(`${fixture.base}/send/`);
  await verify(page, { name: 'Ada Lovelace', email: staff });

  // Another visit on this browser starts at the recipients.
  const again = await context.newPage();
  await again.goto(`${fixture.base}/send/`);
  await shown(again, 'step-recipients');
  assert.match(await again.textContent('#signed-in-text'), /Ada Lovelace/);
  await record(again, 'send-remembered');
  await again.close();

  // A file removed while (or after) it uploads is not part of the transfer.
  await addRecipients(page, [partners[0]]);
  await page.click('#recipients-next');
  await shown(page, 'step-files');
  await page.setInputFiles('#file-input', files.map((f) => f.path));
  // drop.bin is first in line: removed while it uploads, after the draft
  // learnt of it, so the server must let it go for the key to be accepted.
  await page.waitForSelector('#file-list li.uploading:has-text("drop.bin")');
  // Its first part is stored (the progress is no longer 0 %): it is declared.
  await waitForText(page, '#upload-progress .figures', /^[1-9]\d* ?%/);
  await page.click('#file-list li:has-text("drop.bin") button.remove');
  await waitUploaded(page, 1);
  assert.equal(await page.locator('#file-list li').count(), 1);
  assert.equal(await page.textContent('#files-error'), '', 'the removal raised no error');
  await page.click('#files-form button[type="submit"]');
  await shown(page, 'step-password');
  await page.waitForSelector('#generated .group');
  const password = await shownPassword(page);
  await page.click('#password-form button[type="submit"]');
  await shown(page, 'step-confirm');
  await page.click('#start-transfer');
  await shown(page, 'step-done');
  const [link] = linksIn(await fixture.mails(partners[0]), fixture.base);
  const got = await fixture.receive({ link, password, out: path.join(work, `removed-${counter}`) });
  assert.deepEqual(got.files.map((f) => [f.name, f.sha256]), [['keep.bin', files[1].sha256]]);

  // "Send more files" keeps the sign-in; "Not you?" ends it on the server.
  page.once('dialog', (dialog) => dialog.accept());
  await page.click('#send-more');
  await shown(page, 'step-recipients');
  await page.click('#not-you');
  await shown(page, 'step-sender');
  const session = await page.evaluate(async () => (await fetch('/api/session')).status);
  assert.equal(session, 401, 'the session is over on the server');
  watch.assertClean();
  await context.close();
});

test('a partner sends to staff with an own password after one that breaks the rules; stranger to stranger is refused in words', async () => {
  counter += 1;
  const partner = `pat.s${counter}@extern.example`;
  const staff = `ada.s${counter}@example.nl`;
  const [file] = await makeFiles([{ name: 'antwoord.txt', size: 5_000, seed: 31 }]);
  const { context, page, watch } = await openPage(`${fixture.base}/send/`);
  // A name the server refuses (it would read as MIME markup in a subject) is explained.
  await shown(page, 'step-sender');
  await page.fill('#sender-name', '=?utf-8?b?QmFuaw==?=');
  await page.fill('#sender-email', partner);
  await page.click('#request-code');
  await waitForText(page, '#sender-error', /cannot use these details/);
  assert.equal(await page.getAttribute('#sender-name', 'aria-invalid'), 'true');
  assert.equal(await page.isVisible('#step-code'), false);
  await verify(page, { name: 'Pat Partner', email: partner });

  // Stranger to stranger: explained before anything is sent.
  await addRecipients(page, [`other.s${counter}@elsewhere.example`]);
  await page.click('#recipients-next');
  const refused = await waitForText(page, '#recipients-error', /only sends between the organisation and outside parties/);
  assert.match(refused, new RegExp(`Not internal: other\\.s${counter}@elsewhere\\.example`));
  assert.equal(await page.textContent('#recipients-status'), '', 'no stale "added" line beside the refusal');
  assert.equal(await page.getAttribute('#recipient', 'aria-invalid'), null, 'the empty input is not what is wrong');
  await record(page, 'send-stranger-refused');
  await page.click(`#recipient-list li:has-text("elsewhere") button.remove`);

  await addRecipients(page, [staff]);
  await page.click('#recipients-next');
  await shown(page, 'step-files');
  await page.setInputFiles('#file-input', [file.path]);
  await waitUploaded(page, 1);
  await page.click('#files-form button[type="submit"]');

  await shown(page, 'step-password');
  await page.check('input[name="password-kind"][value="own"]');
  await page.fill('#own-password', 'password');
  await waitForText(page, '#strength-text', /very weak/);
  await page.click('#password-form button[type="submit"]');
  const rule = await waitForText(page, '#password-error', /at least \d+ characters/);
  assert.match(rule, /too easy to guess/);
  assert.equal(await page.getAttribute('#own-password', 'aria-invalid'), 'true');
  await record(page, 'send-own-password-refused');
  const own = 'Zeventien paarse olifanten dansen op het dak';
  await page.fill('#own-password', own);
  await waitForText(page, '#strength-text', /strong/);
  assert.equal(await page.locator('#own-rules li.unmet').count(), 0);
  await record(page, 'send-own-password-ok');
  await page.click('#password-form button[type="submit"]');
  await shown(page, 'step-confirm');
  await page.click('#start-transfer');
  await shown(page, 'step-done');
  watch.assertClean();
  await context.close();

  const [link] = linksIn(await fixture.mails(staff), fixture.base);
  const got = await fixture.receive({ link, password: own, out: path.join(work, `own-${counter}`) });
  assert.deepEqual(got.files.map((f) => [f.name, f.sha256]), [['antwoord.txt', file.sha256]]);
});

test('in Dutch at 360 px: every step fits, a wrong code says how many attempts are left, and an expired code says to ask again', async () => {
  const { staff } = people();
  const { context, page, watch } = await openPage(`${fixture.base}/send/`, {
    locale: 'nl-NL', viewport: { width: 360, height: 740 },
  });
  await shown(page, 'step-sender');
  assert.equal(await page.textContent('h1'), 'Bestanden versturen');
  const fits = async (name) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: nothing sticks out sideways at 360 px (${overflow} px)`);
    await record(page, name);
  };
  await page.fill('#sender-name', 'Ada Lovelace');
  await page.fill('#sender-email', staff);
  await fits('send-nl-360-1-sender');
  await page.click('#request-code');
  await shown(page, 'step-code');
  const code = await codeFor(staff);
  const wrong = code === '000000' ? '111111' : '000000';
  await page.fill('#code', wrong);
  await page.click('#verify');
  const message = await waitForText(page, '#code-error', /klopt niet/);
  assert.match(message, /Nog \d+ pogingen met deze code/);
  await fits('send-nl-360-2-wrong-code');

  // An hour later the code has expired: the page says so and offers a new one at once.
  await fixture.advance({ seconds: 3600 });
  await page.fill('#code', code);
  await page.click('#verify');
  await waitForText(page, '#code-error', /verlopen of al gebruikt/);
  assert.equal(await page.isDisabled('#resend'), false);
  await fits('send-nl-360-3-expired-code');
  await page.click('#resend');
  await waitForText(page, '#code-status', /nieuwe code/);
  await page.fill('#code', await codeFor(staff));
  await page.click('#verify');
  await shown(page, 'step-recipients');
  await addRecipients(page, ['bo.nl@example.com']);
  await fits('send-nl-360-4-recipients');

  // Leaving with work that was not sent asks first; staying keeps it all.
  const asked = page.waitForEvent('dialog');
  await page.close({ runBeforeUnload: true });
  const dialog = await asked;
  assert.equal(dialog.type(), 'beforeunload');
  await dialog.dismiss();
  assert.equal(page.isClosed(), false);
  assert.equal(await page.locator('#recipient-list li').count(), 1);
  await page.click('#language');
  assert.equal(await page.textContent('h1'), 'Send files');
  assert.match(await page.textContent('#recipient-list'), /external/, 'generated text is redrawn in English');
  watch.assertClean();
  await context.close();
});
