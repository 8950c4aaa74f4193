// The retrieval page: /retrieve/<transfer id>#<retrieval token>, the link
// in a recipient's mail. It shows who sent what before the password, then
// derives the auth key from the password (key worker), unlocks, opens the
// manifest and offers each file, or all as one ZIP, as downloads that are
// decrypted, checked and written to disk as they stream. From the same
// page the recipient can reply with files under the same password.
import { call, ApiError } from '../lib/api.js';
import { randomId } from '../lib/b64.js';
import { announce, byId, dropZone, el, showOnly } from '../lib/dom.js';
import { bytes, dateTime } from '../lib/format.js';
import { language, mountSwitch, onLanguage, t, translate } from '../lib/i18n.js';
import { plaintext } from '../lib/download.js';
import { BROKEN_LINK, takeLink } from '../lib/link.js';
import { keyWorker } from '../lib/pool.js';
import { ProgressView } from '../lib/progress-view.js';
import { drain, openSink } from '../lib/save.js';
import { uploadFile } from '../lib/upload.js';
import { archive, streamPieces } from '../lib/zip.js';

const sections = ['loading', 'problem', 'transfer', 'content'].map(byId);

/** What the page knows; the token and auth key never leave memory but to the API. */
const state = {
  id: null,
  token: null,
  info: null,
  authKey: null,
  manifest: null,
  downloads: new Map(),
  done: new Set(),
  busy: false,
  problem: null,
  replyFiles: [],
  replyRequest: null,
  replySignature: null,
  replyKey: null,
  uploads: new Map(),
};

translate();
mountSwitch(byId('language'));
onLanguage(redraw);
start();

function start() {
  if (!globalThis.Worker || !globalThis.crypto?.subtle || !globalThis.WebAssembly) {
    return fail('unsupported');
  }
  const link = takeLink('retrieve');
  if (link.problem) return fail(link.problem);
  Object.assign(state, link);
  load();
}

async function load() {
  try {
    state.info = await call('GET', `/api/retrieve/${state.id}`, { token: state.token, retry: true });
  } catch (error) {
    return failFromApi(error);
  }
  showTransfer();
}

/** The problem screen for `kind` (notFound, gone, locked, noToken, …). */
function fail(kind) {
  state.problem = kind;
  byId('problem-title').textContent = t(`${kind}Title`);
  byId('problem-text').textContent = t(`${kind}Text`);
  showOnly(sections, 'problem');
  byId('facts').hidden = true;
  document.title = `${t(`${kind}Title`)} · kluis`;
}

/** A refusal that ends the page's use: gone, locked, not found. */
function failFromApi(error) {
  switch (error?.code) {
    case 'transfer_gone':
      return fail({ expired: 'expired', revoked: 'revokedLink' }[error.reason] ?? 'gone');
    case 'transfer_locked': return fail('locked');
    default:
      if (BROKEN_LINK.has(error?.code)) return fail('notFound');
      return fail(error?.status === 0 ? 'network' : 'unexpected');
  }
}

function showTransfer() {
  const { sender, expires_at: expires, file_count: count, in_reply_to: inReplyTo } = state.info;
  byId('sender').textContent = `${sender.name} <${sender.email}>`;
  byId('sender-phone').textContent = sender.phone || '';
  byId('sender-phone-row').hidden = !sender.phone;
  byId('expires').textContent = dateTime(expires);
  byId('file-count').textContent = t('fileCount', count);
  byId('reply-note').hidden = !inReplyTo;
  byId('facts').hidden = false;
  showOnly(sections, 'transfer');
  document.title = `${t('retrieveTitle')} · kluis`;
  byId('password').focus();
}

/** Texts built from data are redrawn in the new language. */
function redraw() {
  if (state.problem) return fail(state.problem);
  document.title = `${t('retrieveTitle')} · kluis`;
  if (state.info) {
    byId('expires').textContent = dateTime(state.info.expires_at);
    byId('file-count').textContent = t('fileCount', state.info.file_count);
  }
  if (state.manifest) {
    renderFiles();
    renderReplyIntro();
    renderChosen();
  }
}

// --- unlocking --------------------------------------------------------------

byId('show-password').addEventListener('change', (event) => {
  byId('password').type = event.target.checked ? 'text' : 'password';
});

byId('unlock').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (state.busy) return;
  const input = byId('password');
  const status = byId('unlock-status');
  const error = byId('unlock-error');
  error.textContent = '';
  if (!input.value.trim()) {
    error.textContent = t('passwordMissing');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  state.busy = true;
  byId('open').disabled = true;
  announce(status, t('checkingPassword'));
  try {
    const { authKey } = await keyWorker().call('derive', {
      password: input.value,
      salt: state.info.salt,
      kdf: state.info.kdf,
      transfer: state.id,
    });
    // Not retried: a wrong key is counted, and a retry must not count twice.
    const unlocked = await call('POST', `/api/retrieve/${state.id}/unlock`, {
      token: state.token,
      body: { auth_key: authKey },
    });
    const { manifest } = await keyWorker().call('unlock', {
      transfer: state.id,
      wrappedKey: unlocked.wrapped_key,
      manifest: unlocked.manifest,
    });
    state.authKey = authKey;
    state.manifest = manifest;
    state.recipient = unlocked.recipient;
    setDownloads(unlocked.files);
    input.value = '';
    status.textContent = '';
    showContent();
  } catch (failure) {
    status.textContent = '';
    if (failure instanceof ApiError && failure.code === 'wrong_password') {
      error.textContent = t('wrongPassword', failure.attemptsLeft);
      input.setAttribute('aria-invalid', 'true');
      input.select();
      input.focus();
    } else if (failure instanceof ApiError) {
      if (['transfer_gone', 'transfer_locked', 'transfer_not_found'].includes(failure.code)) failFromApi(failure);
      else error.textContent = messageFor(failure);
    } else if (['wrong_password', 'manifest_authentication', 'manifest_malformed', 'wrapped_key_malformed',
      'manifest_too_large', 'too_short', 'not_kluis', 'unsupported_version', 'wrong_object_kind'].includes(failure?.code)) {
      // The server knew the password but the key or manifest does not
      // open: the stored transfer was altered.
      error.textContent = t('tampered');
    } else {
      error.textContent = t('unexpectedError');
    }
  } finally {
    state.busy = false;
    byId('open').disabled = false;
  }
});

function setDownloads(files) {
  state.downloads = new Map(files.map((f) => [f.file_id, f]));
}

/** Presigned downloads are short-lived: unlock again for fresh ones when they near their end. */
async function freshDownload(fileId, expired = false) {
  const current = state.downloads.get(fileId);
  if (!expired && current && current.download.expires_at * 1000 > Date.now() + 60_000) return current;
  const unlocked = await call('POST', `/api/retrieve/${state.id}/unlock`, {
    token: state.token,
    body: { auth_key: state.authKey },
  });
  setDownloads(unlocked.files);
  return state.downloads.get(fileId);
}

function messageFor(error) {
  if (error?.status === 0 || error?.code === 'network') return t('networkError');
  if (error?.code === 'busy' || error?.code === 'backend_unavailable' || error?.status === 503) return t('busyError');
  return t('unexpectedError');
}

// --- the files --------------------------------------------------------------

function showContent() {
  const message = byId('message');
  message.textContent = state.manifest.message || t('noMessage');
  message.classList.toggle('empty', !state.manifest.message);
  renderFiles();
  renderReplyIntro();
  renderChosen();
  showOnly(sections, 'content');
  byId('main').focus();
}

function renderFiles() {
  const rows = state.manifest.files.map((entry) => {
    const done = state.done.has(entry.id);
    return el('tr', { 'data-file': entry.id },
      el('td', { class: 'name' }, entry.name),
      el('td', { class: 'size' }, bytes(entry.size)),
      el('td', { class: 'action' },
        done ? el('span', { class: 'done' }, t('statusDone')) : null,
        el('button', {
          type: 'button',
          class: 'download',
          'aria-label': t('downloadNamed', entry.name),
          onclick: () => downloadOne(entry),
        }, t('download'))));
  });
  byId('file-rows').replaceChildren(...rows);
  if (state.manifest.files.length < 2) byId('download-all').hidden = true;
}

const downloadView = new ProgressView(byId('download-progress'));

async function downloadOne(entry) {
  if (state.busy) return;
  state.busy = true; // before the save dialog: a second click starts nothing
  // The save dialog needs the click's user activation: open it first.
  let sink;
  try {
    sink = await openSink(entry.name, entry.size);
  } catch (error) {
    state.busy = false;
    if (error?.name !== 'AbortError') showDownloadError(error);
    return;
  }
  await run(entry.name, entry.size, [entry], async (signal, onBytes) => {
    await drain(verified(entry, signal, onBytes), sink, signal);
  });
}

byId('download-all').addEventListener('click', async () => {
  if (state.busy) return;
  state.busy = true;
  const entries = state.manifest.files;
  // The archive opens each file's stream only when it reaches it, after
  // `run` has filled in the signal and the progress counter.
  const context = {};
  const built = archive(entries.map((entry) => ({
    name: entry.name,
    size: entry.size,
    pieces: () => verified(entry, context.signal, context.onBytes),
  })));
  const total = entries.reduce((n, e) => n + e.size, 0);
  let sink;
  try {
    sink = await openSink(t('downloadAllName'), built.length, { type: 'application/zip' });
  } catch (error) {
    state.busy = false;
    if (error?.name !== 'AbortError') showDownloadError(error);
    return;
  }
  await run(t('downloadAllName'), total, entries, async (signal, onBytes) => {
    Object.assign(context, { signal, onBytes });
    await drain(streamPieces(built.stream), sink, signal);
  });
});

/**
 * Runs one download with its progress panel, cancel and messages. The
 * files in `entries` count as downloaded (marked, and reported to the
 * sender) only once the whole download is safely on disk.
 */
async function run(label, total, entries, work) {
  state.busy = true;
  setDownloadButtons(false);
  byId('download-error').textContent = '';
  const status = byId('download-status');
  announce(status, t('downloading', label));
  const { progress, signal } = downloadView.start(t('downloading', label), total);
  try {
    await work(signal, (n) => progress.add(n));
    for (const entry of entries) {
      state.done.add(entry.id);
      receipt(entry.id);
    }
    announce(status, t('downloadDone', label));
  } catch (error) {
    status.textContent = '';
    showDownloadError(error);
  } finally {
    downloadView.stop();
    state.busy = false;
    setDownloadButtons(true);
    renderFiles();
    // The clicked button was redrawn and Cancel hidden: focus goes back to
    // where the reader was.
    const again = entries.length === 1 ? document.querySelector(`tr[data-file="${entries[0].id}"] button.download`)
      : byId('download-all');
    again?.focus();
  }
}

/** The checked plaintext of one file, with fresh download URLs when the old ones expire. */
async function* verified(entry, signal, onBytes) {
  const file = await freshDownload(entry.id);
  const refresh = async () => (await freshDownload(entry.id, true)).download;
  yield* plaintext({ transfer: state.id, file, entry, signal, onBytes, refresh });
}

/** The download receipt the API asks for; a failure here costs the reader nothing. */
function receipt(fileId) {
  call('POST', `/api/retrieve/${state.id}/downloads`, {
    token: state.token,
    body: { auth_key: state.authKey, file_id: fileId },
    retry: true,
  }).catch(() => {});
}

function setDownloadButtons(enabled) {
  for (const button of document.querySelectorAll('button.download, #download-all')) button.disabled = !enabled;
}

const TAMPERED = new Set([
  'chunk_authentication', 'truncated', 'trailing_data', 'chunk_size', 'too_short', 'not_kluis',
  'unsupported_version', 'wrong_object_kind', 'file_mismatch', 'file_too_large',
]);

function showDownloadError(error) {
  const code = error?.code;
  let text;
  if (error?.name === 'AbortError') text = t('cancelled');
  else if (TAMPERED.has(code)) text = t('tampered');
  else if (code === 'download_expired') text = t('downloadExpired');
  else if (error instanceof ApiError) text = messageFor(error);
  else text = t('downloadFailed');
  byId('download-error').textContent = text;
}

// --- replying ---------------------------------------------------------------

function renderReplyIntro() {
  byId('reply-intro').textContent = t('replyIntro', state.info.sender.name);
}

const replyView = new ProgressView(byId('reply-progress'));

function addReplyFiles(files) {
  for (const file of files) {
    const known = state.replyFiles.some((f) => f.name === file.name && f.size === file.size
      && f.lastModified === file.lastModified);
    if (!known) state.replyFiles.push(file);
  }
  byId('reply-error').textContent = '';
  renderChosen();
}

function renderChosen() {
  const items = state.replyFiles.map((file, index) => el('li', {},
    el('span', { class: 'name' }, file.name),
    el('span', { class: 'size' }, bytes(file.size)),
    el('button', {
      type: 'button',
      class: 'remove',
      'aria-label': t('removeFile', file.name),
      onclick: () => {
        state.replyFiles.splice(index, 1);
        renderChosen();
        byId('reply-files').focus();
      },
    }, '×')));
  byId('reply-list').replaceChildren(...items);
  byId('reply-empty').hidden = items.length > 0;
}

byId('reply-files').addEventListener('change', (event) => {
  addReplyFiles(event.target.files);
  event.target.value = '';
});

dropZone(byId('drop'), addReplyFiles);

const PHONE = /^\+?[0-9 ().-]{6,31}$/;

byId('reply-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (state.busy) return;
  const error = byId('reply-error');
  const status = byId('reply-status');
  error.textContent = '';
  const name = byId('reply-name').value.trim();
  const phone = byId('reply-phone').value.trim();
  if (!name) return invalid('reply-name', t('replyNeedsName'));
  if (name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) return invalid('reply-name', t('invalidName'));
  if (phone && !PHONE.test(phone)) return invalid('reply-phone', t('invalidPhone'));
  if (state.replyFiles.length === 0) return invalid('reply-files', t('replyNeedsFiles'));
  for (const id of ['reply-name', 'reply-phone']) byId(id).removeAttribute('aria-invalid');

  // A changed file list or message after a failed attempt is a new reply:
  // the draft of the old one cannot take other files or another manifest.
  const signature = [...state.replyFiles.map((f) => `${f.name}|${f.size}|${f.lastModified}`),
    `#${byId('reply-message').value}`].join('\n');
  if (state.replySignature !== signature) {
    state.replyRequest = null;
    state.uploads = new Map();
    state.replyKey = null;
    state.replySignature = signature;
  }
  state.busy = true;
  byId('send-reply').disabled = true;
  const files = [...state.replyFiles];
  const total = files.reduce((n, f) => n + f.size, 0);
  const { progress, signal } = replyView.start(t('replyEncrypting'), total);
  announce(status, t('replyEncrypting'));
  // One request id per reply the reader means to send: a retry after a
  // failure finds the same draft instead of starting a second one.
  state.replyRequest ??= randomId();
  try {
    const started = await call('POST', `/api/retrieve/${state.id}/reply`, {
      token: state.token,
      body: {
        request_id: state.replyRequest,
        auth_key: state.authKey,
        name,
        phone: phone || null,
        language: language(),
      },
      retry: true,
      signal,
    });
    const reply = started.transfer_id;
    await keyWorker().call('reusePassword', { from: state.id, transfer: reply });
    const entries = [];
    for (const file of files) {
      // What an earlier, failed attempt stored of this file is kept.
      if (!state.uploads.has(file)) state.uploads.set(file, {});
      entries.push(await uploadFile({
        transfer: reply, blob: file, signal, onBytes: (n) => progress.add(n), progress: state.uploads.get(file),
      }));
    }
    announce(status, t('replySealing'));
    // Sealed once per reply: a retry after the key was stored must send the
    // very same key, salt and manifest (the API refuses other values).
    if (state.replyKey?.transfer !== reply) {
      state.replyKey = {
        transfer: reply,
        body: await keyWorker().call('seal', {
          transfer: reply,
          manifest: { message: byId('reply-message').value, files: entries },
          kdf: state.info.kdf,
        }),
      };
    }
    await call('PUT', `/api/transfers/${reply}/key`, { body: state.replyKey.body, retry: true, signal });
    await call('POST', `/api/transfers/${reply}/send`, { retry: true, signal });
    keyWorker().call('forget', { transfer: reply });
    state.replyFiles = [];
    state.replyRequest = null;
    state.uploads = new Map();
    state.replyKey = null;
    state.replySignature = null;
    byId('reply-message').value = '';
    renderChosen();
    announce(status, t('replySent', state.info.sender.name));
  } catch (failure) {
    status.textContent = '';
    if (failure?.name === 'AbortError') error.textContent = t('cancelled');
    else if (failure instanceof ApiError && failure.field === 'sender_name') error.textContent = t('invalidName');
    else if (failure instanceof ApiError && failure.field === 'sender_phone') error.textContent = t('invalidPhone');
    else if (failure instanceof ApiError) error.textContent = messageFor(failure);
    else error.textContent = t('replyFailed');
  } finally {
    replyView.stop();
    state.busy = false;
    byId('send-reply').disabled = false;
  }
});

function invalid(id, text) {
  const input = byId(id);
  input.setAttribute('aria-invalid', 'true');
  byId('reply-error').textContent = text;
  input.focus();
}
