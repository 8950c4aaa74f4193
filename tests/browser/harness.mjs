// The browser tests' harness: the runner with the real pages (the
// `kluis-fixture` binary of tests/e2e, driven by JSON lines), Debian's
// Chromium driven by playwright-core, and the checks every page test
// makes — no CSP violation or console error, axe-core finds nothing
// serious or critical — plus screenshots, downloads and the browser's
// memory for the benchmark.
//
// Nothing here weakens a page: axe is evaluated through the DevTools
// protocol and the CSP listener is an init script, neither of which the
// page's Content-Security-Policy governs (harness.test.mjs proves the
// policy still blocks an inline script while they run).
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

/** The repository's root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where screenshots and reports go (git-ignored): `$KLUIS_BROWSER_ARTIFACTS` or target/browser-artifacts. */
export const artifacts = path.resolve(process.env.KLUIS_BROWSER_ARTIFACTS ?? path.join(root, 'target/browser-artifacts'));

/** Debian's Chromium, launched by path (`npx playwright install` cannot work offline). */
export const chromiumPath = process.env.KLUIS_CHROMIUM ?? '/usr/bin/chromium';

const chromiumFlags = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync',
];

// ---------------------------------------------------------------- fixture

/** The fixture binary: `$KLUIS_FIXTURE`, else the debug build in `$CARGO_TARGET_DIR` or target/. */
export function fixturePath() {
  if (process.env.KLUIS_FIXTURE) return process.env.KLUIS_FIXTURE;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
  return path.resolve(root, target, 'debug/kluis-fixture');
}

/** A failed fixture command: `kind` ("api", "integrity", "wrong_password", "command", "io", "panic", "client"), and `status`, `code`, `what` where they apply. */
export class FixtureError extends Error {
  constructor(cmd, answer) {
    super(`fixture ${cmd}: ${answer.error}`);
    this.name = 'FixtureError';
    const { error: _, id: __, ...details } = answer;
    Object.assign(this, details);
  }
}

/**
 * Starts the runner (embedded backend, the repository's web/, data in a
 * temporary folder, internal domain example.nl) and resolves when it
 * serves. Returns `{ base, data, call(cmd, args), send, receive, status,
 * revoke, lock, advance, advanceDays, expire, tamper, objects, mails,
 * writeFile, stop() }`; each command resolves with the `ok` value and
 * rejects with a {@link FixtureError}.
 */
export async function startFixture({ web } = {}) {
  const binary = fixturePath();
  if (!existsSync(binary)) {
    throw new Error(`no fixture binary at ${binary}: build it with 'cargo build -p kluis-e2e --bin kluis-fixture' (tests/run does)`);
  }
  const child = spawn(binary, web ? ['--web', web] : [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const pending = new Map();
  let nextId = 1;
  let ready;
  let exited = null;
  const readyLine = new Promise((resolve, reject) => { ready = { resolve, reject }; });
  const fail = (error) => {
    ready.reject(error);
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  child.on('error', fail);
  // A write to a fixture that died fails with EPIPE; its exit says why.
  child.stdin.on('error', () => {});
  // 'close', not 'exit': every answer line it wrote has been read by then.
  const exit = new Promise((resolve) => child.on('close', (code, signal) => {
    exited = { code, signal };
    fail(new Error(`the fixture exited (${signal ?? code})`));
    resolve(exited);
  }));
  lines.on('line', (line) => {
    const answer = JSON.parse(line);
    if (answer.ready) return ready.resolve(answer);
    const waiting = pending.get(answer.id);
    if (!waiting) return fail(new Error(`an answer nobody asked for: ${line.slice(0, 200)}`));
    pending.delete(answer.id);
    if ('ok' in answer) waiting.resolve(answer.ok);
    else waiting.reject(new FixtureError(waiting.cmd, answer));
  });
  const { base, data } = await readyLine;

  const call = (cmd, args = {}) => new Promise((resolve, reject) => {
    if (exited) return reject(new Error(`the fixture has exited (${exited.signal ?? exited.code})`));
    const id = nextId++;
    pending.set(id, { resolve, reject, cmd });
    child.stdin.write(`${JSON.stringify({ ...args, cmd, id })}\n`);
  });
  return {
    base,
    data,
    call,
    /** `{from, name, phone?, to, message?, password?, language?, receipts?, retention_days?, files: [{name, path} | {name, size, seed}]}` → `{transfer_id, password, expires_at, links: {recipient: link}, manage, files: [{name, size, sha256}], file_ids, undelivered}`. */
    send: (args) => call('send', args),
    /** `{link, password, out?}` → `{transfer_id, sender, message, out, files: [{name, path, size, sha256}]}`. */
    receive: (args) => call('receive', args),
    /** The manage link → the API's manage status (state, files, recipients with their downloads). */
    status: (manage) => call('status', { manage }),
    /** The manage link → `{transfer_id, undelivered}`. */
    revoke: (manage) => call('revoke', { manage }),
    /** A retrieval link → `{wrong_attempts}`, once the API answers 423. */
    lock: (link) => call('lock', { link }),
    /** `{days?, seconds?}` → `{now}` (unix seconds on the runner's clock). */
    advance: (args) => call('advance', args),
    advanceDays: (days) => call('advance_days', { days }),
    /** Runs the expiry job → `{expired, purged}`. */
    expire: () => call('expire'),
    /** `{transfer_id, file_index? | file_id?, offset?}` → `{file_id, offset, size, part}`. */
    tamper: (args) => call('tamper', args),
    /** A transfer id → the paths of its stored files. */
    objects: (transferId) => call('objects', { transfer_id: transferId }),
    /** Mails (to `to` only, if given), oldest first: `[{to, subject, text}]`. */
    mails: (to) => call('mails', to ? { to } : {}),
    /** `{path, size, seed}` → `{path, size, sha256}`: deterministic bytes in bounded memory. */
    writeFile: (args) => call('write_file', args),
    /** Ends the fixture (end of input: it stops the runner and removes its data). */
    async stop() {
      if (!exited) {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/**
 * The links to `{base}{segment}` in `mails` (the `mails` command's list,
 * oldest first), in order, as the mails spell them: e.g. the retrieval
 * link of a reply from the page is the `/retrieve/` link in the sender's
 * newest mail.
 */
export function linksIn(mails, base, segment = '/retrieve/') {
  const escaped = `${base}${segment}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`${escaped}[^\\s<>"')]+`, 'g');
  return mails.flatMap((mail) => mail.text.match(pattern) ?? []);
}

// ---------------------------------------------------------------- browser

// Each launch carries a marker switch, so its processes can be told from
// any other Chromium on the machine (for the memory figures).
const markers = new WeakMap();

/** Debian's Chromium, headless, with a fresh profile (Playwright makes one per launch and deletes it on close). */
export async function launchBrowser({ args = [] } = {}) {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: install it with 'apt-get update && apt-get install -y chromium' (tests/setup does, as root)`);
  }
  const marker = `--kluis-harness=${randomUUID()}`;
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [...chromiumFlags, marker, ...args],
  });
  markers.set(browser, marker);
  return browser;
}

/** A context that accepts downloads; `locale` (e.g. "nl-NL") and `viewport` (e.g. `{width: 360, height: 740}`) as asked. */
export async function newContext(browser, { locale = 'en-GB', viewport = { width: 1280, height: 800 }, ...rest } = {}) {
  return browser.newContext({ locale, viewport, acceptDownloads: true, ...rest });
}

// ---------------------------------------------------------------- page checks

/**
 * Watches `page` from now on: Content-Security-Policy violations (the
 * `securitypolicyviolation` event, reported from every frame by an init
 * script, and Chromium's console reports of them), console errors and
 * uncaught exceptions. Call before the first `goto`. `allowConsole`:
 * regular expressions of console errors a test expects (an API's 4xx is
 * logged as "Failed to load resource"). Returns `{ violations, errors,
 * assertClean() }`; `assertClean()` throws listing everything seen.
 */
export async function expectNoCspViolations(page, { allowConsole = [] } = {}) {
  const violations = [];
  const errors = [];
  await page.exposeBinding('__kluisCspViolation', (_source, violation) => { violations.push(violation); });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // The binding is the harness's, not the page's: it survives the CSP.
      window.__kluisCspViolation({
        directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample,
      });
    });
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // Chromium asks for /favicon.ico by itself, not the page: its 404 is
    // no error of the page's.
    if (new URL(message.location().url || 'about:blank').pathname === '/favicon.ico') return;
    if (/Content[- ]Security[- ]Policy/i.test(text)) violations.push({ console: text });
    else if (!allowConsole.some((pattern) => pattern.test(text))) errors.push(`console: ${text} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return {
    violations,
    errors,
    assertClean() {
      if (violations.length || errors.length) {
        const list = [...violations.map((v) => `CSP: ${JSON.stringify(v)}`), ...errors];
        throw new Error(`${page.url()}: ${list.length} CSP violation(s) or error(s):\n  ${list.join('\n  ')}`);
      }
    },
  };
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in `page` (WCAG 2.x A and AA rules and best practices);
 * writes every violation to `<artifacts>/a11y-<label>.json` and throws if
 * any is serious or critical, listing rule, impact, help and targets.
 * Returns the violations (all impacts).
 */
export async function checkA11y(page, label) {
  // Through the DevTools protocol, as the harness's script, not the page's:
  // the page's CSP stays as strict as it is.
  const cdp = await page.context().newCDPSession(page);
  try {
    const loaded = await cdp.send('Runtime.evaluate', { expression: `${axeSource}\n;typeof axe.run` });
    if (loaded.exceptionDetails || loaded.result.value !== 'function') {
      throw new Error(`axe-core did not load in ${page.url()}: ${JSON.stringify(loaded.exceptionDetails ?? loaded.result)}`);
    }
  } finally {
    await cdp.detach();
  }
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
    }));
  });
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(path.join(artifacts, `a11y-${safeName(label)}.json`), `${JSON.stringify(violations, null, 2)}\n`);
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const list = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    throw new Error(`axe on ${label} (${page.url()}): ${bad.length} serious or critical violation(s):\n  ${list.join('\n  ')}`);
  }
  return violations;
}

const safeName = (name) => String(name).replace(/[^A-Za-z0-9._-]+/g, '-');

/** Saves a full-page PNG of `page` as `<artifacts>/<name>.png`; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${safeName(name)}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The PNGs and reports saved so far (for the line printed at the end). */
export function savedArtifacts() {
  return existsSync(artifacts) ? readdirSync(artifacts).sort().map((f) => path.join(artifacts, f)) : [];
}

// ---------------------------------------------------------------- files

/** The SHA-256 of the file at `file`, in hex, read as a stream. */
export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    createReadStream(file)
      .on('data', (chunk) => { hash.update(chunk); size += chunk.length; })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), size }));
  });
}

/**
 * Waits for the download that `trigger()` starts in `page`, then saves it
 * to `dir/<its suggested name>` (or `to`). Resolves `{ name, path, size,
 * sha256, failure: null }`, or `{ name, path: null, failure }` when the
 * browser failed or cancelled it (nothing is saved then).
 */
export async function download(page, trigger, { dir, to, timeout = 120_000 } = {}) {
  const [started] = await Promise.all([page.waitForEvent('download', { timeout }), trigger()]);
  return saveDownload(started, to ?? path.join(dir ?? artifacts, safeName(started.suggestedFilename())));
}

/** Saves a Playwright download to `to`; see {@link download}. */
export async function saveDownload(started, to) {
  const name = started.suggestedFilename();
  const failure = await started.failure();
  if (failure) return { name, path: null, failure };
  mkdirSync(path.dirname(to), { recursive: true });
  await started.saveAs(to);
  return { name, path: to, failure: null, ...(await sha256File(to)) };
}

// ---------------------------------------------------------------- memory

function processTable() {
  const table = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      table.push({ pid: Number(entry), ppid: Number(fields[1]), cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

/** The pids of `browser`'s processes: the one launched with its marker and all its descendants. */
export function browserPids(browser) {
  const marker = markers.get(browser);
  if (!marker) throw new Error('not a browser from launchBrowser()');
  const table = processTable();
  const roots = table.filter((p) => p.cmdline.includes(marker) && !p.cmdline.some((a) => a.startsWith('--type=')));
  const pids = new Set(roots.map((p) => p.pid));
  for (let grown = true; grown;) {
    grown = false;
    for (const p of table) {
      if (!pids.has(p.pid) && pids.has(p.ppid)) { pids.add(p.pid); grown = true; }
    }
  }
  return [...pids];
}

function kib(text, field) {
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * The memory of `browser`'s processes now, in bytes: `rss` (the sum of
 * their resident sets, which counts shared pages once per process) and
 * `pss` (proportional set size: shared pages divided among their users,
 * so the sum is the memory they really hold), and the process count.
 */
export function browserMemory(browser) {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const pid of browserPids(browser)) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += kib(rollup, 'Rss');
      pss += kib(rollup, 'Pss');
      processes += 1;
    } catch {
      // Gone meanwhile.
    }
  }
  return { rss, pss, processes };
}

/**
 * Samples {@link browserMemory} every `intervalMs` until `stop()`, which
 * returns `{ idle, peak: {rss, pss}, peakAboveIdle: {rss, pss}, samples }`
 * (idle: the first sample, taken at once).
 */
export function sampleMemory(browser, { intervalMs = 100 } = {}) {
  const idle = browserMemory(browser);
  const peak = { rss: idle.rss, pss: idle.pss };
  let samples = 1;
  const timer = setInterval(() => {
    const now = browserMemory(browser);
    peak.rss = Math.max(peak.rss, now.rss);
    peak.pss = Math.max(peak.pss, now.pss);
    samples += 1;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const last = browserMemory(browser);
      peak.rss = Math.max(peak.rss, last.rss);
      peak.pss = Math.max(peak.pss, last.pss);
      return {
        idle, peak, samples: samples + 1,
        peakAboveIdle: { rss: peak.rss - idle.rss, pss: peak.pss - idle.pss },
      };
    },
  };
}
