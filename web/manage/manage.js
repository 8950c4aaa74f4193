// The sender's page: /manage/<transfer id>#<manage token>, the link in the
// summary mail. It shows the transfer's expiry and, per recipient, which
// files they downloaded and when; the sender can withdraw (revoke) it after
// a confirmation, which deletes the files and tells the recipients. File
// names are sealed in the manifest, which this page cannot open, so files
// are shown by number and size (as in the summary mail).
import { call } from '../lib/api.js';
import { announce, byId, el, showOnly } from '../lib/dom.js';
import { bytes, dateTime } from '../lib/format.js';
import { mountSwitch, onLanguage, t, translate } from '../lib/i18n.js';
import { BROKEN_LINK, takeLink } from '../lib/link.js';
import { keyWorker } from '../lib/pool.js';

const sections = ['loading', 'problem', 'status', 'revoked'].map(byId);
const state = { id: null, token: null, status: null, sizes: [], problem: null, revoked: null };

translate();
mountSwitch(byId('language'));
onLanguage(() => {
  if (state.problem) fail(state.problem);
  else if (state.status) render();
  if (state.revoked) renderRevoked();
});
start();

function start() {
  const link = takeLink('manage');
  if (link.problem) return fail(link.problem);
  Object.assign(state, link);
  load();
}

async function load() {
  try {
    state.status = await call('GET', `/api/manage/${state.id}`, { token: state.token, retry: true });
  } catch (error) {
    return failFromApi(error);
  }
  state.sizes = await keyWorker().call('plaintextLengths', {
    sizes: state.status.files.map((f) => f.ciphertext_bytes),
  });
  render();
  showOnly(sections, 'status');
  document.title = `${t('manageTitle')} · kluis`;
}

function fail(kind) {
  state.problem = kind;
  byId('problem-title').textContent = t(kind === 'locked' ? 'manageLockedTitle' : `${kind}Title`);
  byId('problem-text').textContent = t(kind === 'locked' ? 'manageLockedText' : kind === 'gone' ? 'manageGoneText' : `${kind}Text`);
  showOnly(sections, 'problem');
}

function failFromApi(error) {
  switch (error?.code) {
    case 'transfer_gone': return fail('gone');
    case 'transfer_locked': return fail('locked');
    default:
      if (BROKEN_LINK.has(error?.code)) return fail('notFound');
      return fail(error?.status === 0 ? 'network' : 'unexpected');
  }
}

function render() {
  const { status } = state;
  byId('created').textContent = dateTime(status.created_at);
  byId('expires').textContent = dateTime(status.expires_at);
  const total = state.sizes.reduce((n, s) => n + (s ?? 0), 0);
  byId('files-summary').textContent = `${t('fileCount', status.files.length)} · ${bytes(total)}`;
  const complete = status.recipients.filter((r) => new Set(r.downloads.map((d) => d.file_id)).size === status.files.length);
  byId('recipients-summary').textContent = t('downloadedBy', complete.length, status.recipients.length);
  const fileNumber = new Map(status.files.map((f, i) => [f.file_id, i + 1]));
  const rows = status.recipients.map((recipient) => {
    const got = new Map();
    for (const d of recipient.downloads) if (!got.has(d.file_id)) got.set(d.file_id, d.at);
    const summary = got.size === 0 ? t('notYetDownloaded')
      : got.size === status.files.length ? t('downloadedAll') : t('downloadedSome', got.size, status.files.length);
    const details = [...got.entries()]
      .sort((a, b) => fileNumber.get(a[0]) - fileNumber.get(b[0]))
      .map(([file, at]) => el('li', {}, t('fileDownloadedAt', fileNumber.get(file), bytes(state.sizes[fileNumber.get(file) - 1] ?? 0), dateTime(at))));
    return el('tr', { 'data-recipient': recipient.email },
      el('td', { class: 'name' }, recipient.email),
      el('td', {},
        el('span', { class: got.size === status.files.length ? 'done' : 'pending' }, summary),
        details.length ? el('ul', { class: 'times' }, ...details) : null));
  });
  byId('recipient-rows').replaceChildren(...rows);
}

byId('refresh').addEventListener('click', async () => {
  await load();
  if (!state.problem) announce(byId('refresh-status'), t('refreshed'));
});

byId('revoke').addEventListener('click', () => {
  byId('confirm').hidden = false;
  byId('revoke').hidden = true;
  byId('cancel-revoke').focus();
});

byId('cancel-revoke').addEventListener('click', () => {
  byId('confirm').hidden = true;
  byId('revoke').hidden = false;
  byId('revoke').focus();
});

byId('confirm-revoke').addEventListener('click', async () => {
  const button = byId('confirm-revoke');
  button.disabled = true;
  byId('revoke-error').textContent = '';
  try {
    state.revoked = await call('POST', `/api/manage/${state.id}/revoke`, { token: state.token, retry: true });
    renderRevoked();
    showOnly(sections, 'revoked');
    byId('main').focus();
  } catch (error) {
    if (['transfer_gone', 'transfer_locked', 'transfer_not_found'].includes(error?.code)) failFromApi(error);
    else byId('revoke-error').textContent = t(error?.status === 0 ? 'networkError' : 'unexpectedError');
  } finally {
    button.disabled = false;
  }
});

function renderRevoked() {
  const undelivered = byId('undelivered');
  const missed = state.revoked?.undelivered ?? [];
  undelivered.hidden = missed.length === 0;
  undelivered.textContent = missed.length ? t('revokeUndelivered', missed.join(', ')) : '';
}
