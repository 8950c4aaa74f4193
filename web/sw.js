// The page's service worker: it turns a stream of decrypted pieces posted
// by a page into a download the browser saves to disk, so no file is ever
// held whole in memory (web/lib/save.js is the page side). It answers only
// `/_kluis/download/<id>` for a download a page announced; every other
// request goes to the network untouched.

const announced = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  const { download } = event.data || {};
  if (!download) return; // pings only keep this worker awake
  announced.set(download.id, { ...download, port: event.ports[0] });
  event.source?.postMessage({ accepted: download.id });
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const match = /^\/_kluis\/download\/([0-9a-f-]{36})$/.exec(url.pathname);
  if (url.origin !== self.location.origin || !match) return;
  const download = announced.get(match[1]);
  if (!download) {
    event.respondWith(new Response('This download has ended; start it again from the page.', {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    }));
    return;
  }
  announced.delete(match[1]);
  event.respondWith(new Response(pieces(download.port), { headers: headers(download) }));
});

/**
 * The stream of a download: asks the page for one piece at a time. What
 * the page posts waits in order until the stream takes it (a `done` may
 * come before the browser's first read, for an empty file).
 */
function pieces(port) {
  const arrived = [];
  let waiting = null;
  port.onmessage = ({ data }) => {
    arrived.push(data);
    waiting?.();
  };
  const nextMessage = async () => {
    while (arrived.length === 0) await new Promise((resolve) => { waiting = resolve; });
    waiting = null;
    return arrived.shift();
  };
  return new ReadableStream({
    async pull(controller) {
      port.postMessage({ pull: true });
      const data = await nextMessage();
      if (data.piece) controller.enqueue(data.piece);
      else if (data.done) controller.close();
      else controller.error(new Error(data.error || 'the download failed'));
    },
    cancel() {
      port.postMessage({ cancelled: true });
    },
  }, { highWaterMark: 2 });
}

/** `encodeURIComponent` plus the characters RFC 5987 does not allow bare. */
function rfc5987(text) {
  return encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function headers({ name, size, type }) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const result = {
    'content-type': type || 'application/octet-stream',
    'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${rfc5987(name)}`,
    'x-content-type-options': 'nosniff',
  };
  if (Number.isSafeInteger(size)) result['content-length'] = String(size);
  return result;
}
