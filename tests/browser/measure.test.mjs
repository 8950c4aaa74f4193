// The benchmark's memory figures can see what they claim to: a page that
// holds 256 MiB shows a peak above idle of about that much, one that holds
// nothing shows little; and the figures print as `name=value` lines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newContext } from './harness.mjs';
import { collectGarbage, mbPerSecond, mib, peakDuring, printFigures, timed } from './measure.mjs';

let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  page = await (await newContext(browser)).newPage();
  await page.setContent('<!doctype html><title>memory</title>');
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
});

/** Fills `n` MiB in the page and holds it for `holdMs` before letting go. */
const hold = (n, holdMs) => page.evaluate(async ([n, holdMs]) => {
  let buffers = [];
  for (let i = 0; i < n; i++) buffers.push(new Uint8Array(1 << 20).fill(i + 1));
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  const sum = buffers.reduce((s, b) => s + b[0], 0);
  buffers = null;
  return sum;
}, [n, holdMs]);

test('a page holding 256 MiB shows a peak of about 256 MiB above idle; an idle one does not', { timeout: 120_000 }, async (t) => {
  await collectGarbage(page);
  const quiet = await peakDuring(browser, () => hold(0, 500), { settleMs: 500 });
  assert.ok(mib(quiet.peakAboveIdle.rss) < 128, `idle: ${mib(quiet.peakAboveIdle.rss)} MiB`);
  const busy = await peakDuring(browser, () => hold(256, 500), { settleMs: 500 });
  const above = mib(busy.peakAboveIdle.rss);
  t.diagnostic(`idle ${mib(busy.idle.rss).toFixed(0)} MiB RSS in ${busy.idle.processes} processes; holding 256 MiB: +${above.toFixed(0)} MiB RSS, +${mib(busy.peakAboveIdle.pss).toFixed(0)} MiB PSS; holding nothing: +${mib(quiet.peakAboveIdle.rss).toFixed(0)} MiB RSS`);
  assert.ok(above > 200 && above < 400, `holding 256 MiB: ${above} MiB above idle`);
  assert.ok(mib(busy.peakAboveIdle.pss) > 200, `PSS too: ${mib(busy.peakAboveIdle.pss)} MiB`);
  assert.equal(busy.value, (255 * 256) / 2, 'the action\'s value comes back');
});

test('timed, mbPerSecond and printFigures', async (t) => {
  const { ms, value } = await timed(async () => { await new Promise((r) => setTimeout(r, 50)); return 7; });
  assert.equal(value, 7);
  assert.ok(ms >= 45 && ms < 1000, `${ms}`);
  assert.equal(mbPerSecond(256e6, 1000), 256);
  const lines = [];
  t.mock.method(console, 'log', (line) => lines.push(line));
  printFigures({ ratio: 0.83333, argon2id_ms: 351.2, note: 'x' }, { last: 'ratio' });
  assert.deepEqual(lines, ['argon2id_ms=351.2', 'note=x', 'ratio=0.833']);
});
