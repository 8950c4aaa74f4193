// The kluis HTTP API (docs/api.yaml) from a page: JSON in, JSON out, every
// refusal an ApiError carrying the stable `code` the pages switch on. The
// session travels as the HttpOnly cookie the API sets; retrieval and manage
// tokens as a bearer header.

/** A refusal of the API, or a failure to reach it (`status` 0). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.code || (status === 0 ? 'network' : 'http_' + status);
    this.field = body?.field;
    this.attemptsLeft = body?.attempts_left;
    this.reason = body?.reason;
  }
}

/** Statuses worth another try of an idempotent request. */
const TRANSIENT = new Set([0, 408, 429, 500, 502, 503, 504]);

/**
 * Calls `method path` with an optional JSON `body` and bearer `token`.
 * Idempotent calls (`retry: true`: every kluis step is, by request id)
 * are tried again on network failures and 5xx, with backoff and jitter.
 */
export async function call(method, path, { body, token, retry = false, signal } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const tries = retry ? 4 : 1;
  for (let attempt = 1; ; attempt += 1) {
    let status = 0;
    let answer;
    try {
      const response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        signal,
      });
      status = response.status;
      answer = await response.json().catch(() => undefined);
      if (response.ok) return answer;
    } catch (error) {
      if (error?.name === 'AbortError') throw error;
    }
    const refused = new ApiError(status, answer);
    if (attempt >= tries || !TRANSIENT.has(status)) throw refused;
    await pause(backoff(attempt), signal);
  }
}

/** Exponential backoff with full jitter: up to 0.4 s, 0.8 s, 1.6 s, … (capped at 10 s). */
export function backoff(attempt) {
  return Math.random() * Math.min(10_000, 200 * 2 ** attempt);
}

/** Waits `ms`, or rejects at once when `signal` aborts. */
export function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
