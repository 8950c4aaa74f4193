// Measurement helpers for the browser benchmark (tests/bench/browser):
// wall time, throughput, a settled memory baseline of the browser's
// processes and the peak above it while something runs, and the
// `name=value` lines every benchmark here prints. The process memory
// itself is sampled by harness.mjs (`browserMemory`, `sampleMemory`).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { browserMemory, sampleMemory } from './harness.mjs';

/** Runs `fn` and resolves `{ ms, value }`. */
export async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Throughput in MB/s (10^6 bytes a second, like the other benchmarks' `_mb_per_s`). */
export function mbPerSecond(bytes, ms) {
  return bytes / 1e6 / (ms / 1000);
}

/** Bytes as MiB, for memory figures. */
export const mib = (bytes) => bytes / (1024 * 1024);

/**
 * Asks V8 to collect garbage in `page` (and its dedicated workers, which
 * the DevTools session of the page does not reach: call it for each
 * worker's session too if it matters), so a baseline is not yesterday's
 * garbage.
 */
export async function collectGarbage(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
  } finally {
    await cdp.detach();
  }
}

/**
 * A settled baseline of the browser's memory: samples every `intervalMs`
 * for `settleMs` and keeps the smallest (a page that just loaded is still
 * allocating and freeing). `{ rss, pss, processes }` in bytes.
 */
export async function idleMemory(browser, { settleMs = 1500, intervalMs = 100 } = {}) {
  let low = browserMemory(browser);
  for (let waited = 0; waited < settleMs; waited += intervalMs) {
    await sleep(intervalMs);
    const now = browserMemory(browser);
    if (now.rss < low.rss) low = { ...low, rss: now.rss };
    if (now.pss < low.pss) low = { ...low, pss: now.pss };
    low.processes = Math.max(low.processes, now.processes);
  }
  return low;
}

/**
 * Runs `action()` while sampling the browser's memory every `intervalMs`;
 * resolves `{ value, ms, idle, peak, peakAboveIdle }` (bytes, `rss` and
 * `pss` each), the idle baseline taken first with {@link idleMemory}.
 */
export async function peakDuring(browser, action, { intervalMs = 50, settleMs } = {}) {
  const idle = await idleMemory(browser, { settleMs });
  const sampler = sampleMemory(browser, { intervalMs });
  let result;
  let memory;
  try {
    result = await timed(action);
  } finally {
    memory = sampler.stop();
  }
  const peak = { rss: Math.max(memory.peak.rss, idle.rss), pss: Math.max(memory.peak.pss, idle.pss) };
  return {
    value: result.value,
    ms: result.ms,
    idle,
    peak,
    peakAboveIdle: { rss: peak.rss - idle.rss, pss: peak.pss - idle.pss },
  };
}

/**
 * Prints `name=value` lines, numbers rounded to `digits`, the `last` entry
 * at the end: the benchmarks' one closing `name=value` line.
 */
export function printFigures(figures, { last, digits = 3 } = {}) {
  const format = (value) => (typeof value === 'number' ? Number(value.toFixed(digits)) : value);
  for (const [name, value] of Object.entries(figures)) {
    if (name !== last) console.log(`${name}=${format(value)}`);
  }
  if (last !== undefined) console.log(`${last}=${format(figures[last])}`);
}
