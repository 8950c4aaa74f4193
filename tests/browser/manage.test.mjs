// The sender's manage page in real Chromium: the link in the summary mail
// shows who downloaded which file when, and withdraws the transfer after a
// confirmation, after which the partner's page says it is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  startFixture, launchBrowser, newContext, expectNoCspViolations, checkA11y, screenshot,
} from './harness.mjs';

const PASSWORD = 'k7m-x2p-abc-def-ghj-kmn-pqr';
const EXPECTED_CONSOLE = [/Failed to load resource: the server responded with a status of 4\d\d/];

let fixture;
let browser;
let work;
let n = 0;

before(async () => {
  fixture = await startFixture();
  browser = await launchBrowser();
  work = mkdtempSync(path.join(tmpdir(), 'kluis-manage-'));
});

after(async () => {
  await browser?.close();
  await fixture?.stop();
});

async function sendTransfer() {
  n += 1;
  const partners = [`bo.m${n}@example.com`, `cy.m${n}@example.org`];
  const sent = await fixture.send({
    from: `ada.m${n}@example.nl`, name: 'Ada Lovelace', to: partners, password: PASSWORD,
    files: [{ name: 'a.bin', size: 300_000, seed: 1 }, { name: 'b.txt', size: 10, seed: 2 }],
  });
  return { sent, partners };
}

async function openPage(url, options = {}) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  const watch = await expectNoCspViolations(page, { allowConsole: EXPECTED_CONSOLE });
  await page.goto(url);
  return { context, page, watch };
}

const shown = (page, id) => page.waitForSelector(`#${id}:not([hidden])`, { timeout: 30_000 });
const row = (page, email) => page.textContent(`tr[data-recipient="${email}"]`);

test('the manage page shows the downloads per recipient, and a withdrawal with confirmation ends the transfer', async () => {
  const { sent, partners } = await sendTransfer();
  const { context, page, watch } = await openPage(sent.manage);
  await shown(page, 'status');
  assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
  assert.match(await page.textContent('#files-summary'), /^2 files · 300 KB$/);
  assert.match(await row(page, partners[0]), /Not downloaded yet/);
  await screenshot(page, 'manage-1-nothing-yet');
  await checkA11y(page, 'manage-nothing-yet');

  // One partner takes everything; the page shows it after a refresh.
  await fixture.receive({ link: sent.links[partners[0]], password: PASSWORD, out: path.join(work, 'bo') });
  await page.click('#refresh');
  await page.waitForFunction((email) => /Downloaded all files/.test(
    document.querySelector(`tr[data-recipient="${email}"]`)?.textContent ?? ''), partners[0]);
  assert.match(await row(page, partners[0]), /File 1 \(300 KB\): .*File 2 \(10 B\): /);
  assert.match(await row(page, partners[1]), /Not downloaded yet/);
  assert.equal(await page.textContent('#recipients-summary'), '1 of 2 downloaded everything');
  await screenshot(page, 'manage-2-downloaded');
  await checkA11y(page, 'manage-downloaded');

  // Withdrawing asks first; "no" changes nothing.
  await page.click('#revoke');
  await shown(page, 'confirm');
  await screenshot(page, 'manage-3-confirm');
  await checkA11y(page, 'manage-confirm');
  await page.click('#cancel-revoke');
  assert.equal(await page.isVisible('#confirm'), false);
  const stillThere = await fixture.status(sent.manage);
  assert.equal(stillThere.state, 'sent');

  await page.click('#revoke');
  await page.click('#confirm-revoke');
  await shown(page, 'revoked');
  await screenshot(page, 'manage-4-revoked');
  await checkA11y(page, 'manage-revoked');
  watch.assertClean();
  await context.close();

  // The partner who had not downloaded now meets a gone transfer.
  const partner = await openPage(sent.links[partners[1]]);
  await shown(partner.page, 'problem');
  assert.equal(await partner.page.textContent('#problem-title'), 'The sender withdrew this transfer');
  await partner.context.close();

  // And the manage link itself says so.
  const again = await openPage(sent.manage);
  await shown(again.page, 'problem');
  assert.equal(await again.page.textContent('#problem-title'), 'This transfer is no longer available');
  await again.context.close();
});

test('in Dutch at 360 px, and a locked transfer says why', async () => {
  const { sent, partners } = await sendTransfer();
  const { context, page, watch } = await openPage(sent.manage, { locale: 'nl-NL', viewport: { width: 360, height: 740 } });
  await shown(page, 'status');
  assert.equal(await page.textContent('h1'), 'Je overdracht');
  assert.match(await row(page, partners[1]), /Nog niet gedownload/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `nothing sticks out sideways at 360 px (${overflow} px)`);
  await screenshot(page, 'manage-nl-360');
  await checkA11y(page, 'manage-nl-360');
  watch.assertClean();

  await page.click('#language');
  assert.equal(await page.textContent('h1'), 'Your transfer');
  assert.match(await row(page, partners[1]), /Not downloaded yet/, 'the recipients are redrawn in English');
  await page.click('#language');

  await fixture.lock(sent.links[partners[0]]);
  await page.reload();
  await shown(page, 'problem');
  assert.equal(await page.textContent('#problem-title'), 'Deze overdracht is geblokkeerd');
  await screenshot(page, 'manage-nl-locked');
  await checkA11y(page, 'manage-nl-locked');
  watch.assertClean();
  await context.close();
});
