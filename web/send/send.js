// The send wizard: six plain steps (who you are, the mailed code,
// recipients, files and message, password, options) and a summary. Every
// step keeps what was entered, chosen files included, when the sender goes
// back and forth (buttons or the browser's own back and forward). Files are
// encrypted and uploaded in the background from the moment they are added;
// the password only wraps the content key when the transfer is sealed, at
// Start transfer. Nothing is announced until then: a tab closed earlier
// leaves a draft that `expire` deletes.
import { call, ApiError } from '../lib/api.js';
import { randomId } from '../lib/b64.js';
import { announce, byId, dropZone, el, showOnly } from '../lib/dom.js';
import { bytes, dateTime, duration, percent, speed } from '../lib/format.js';
import { language, mountSwitch, onLanguage, t, translate } from '../lib/i18n.js';
import { keyWorker } from '../lib/pool.js';
import { UploadQueue } from './uploads.js';
import {
  addressProblem, fileProblem, isInternal, ownPasswordProblems, recipientsProblem, retentionChoices,
} from './rules.js';

const STEPS = ['sender', 'code', 'recipients', 'files', 'password', 'confirm'];
const sections = ['loading', 'problem', ...STEPS.map((s) => `step-${s}`), 'step-done'].map(byId);
const PHONE = /^\+?[0-9 ().-]{6,31}$/;
/** Seconds before another code may be asked for. */
const RESEND_AFTER = 30;

/** Everything the sender entered; kept across steps until sent. */
const state = {
  policy: null,
  step: null,
  reached: 0,
  sender: null, // the verified sender {name, email, phone}
  codeRequest: null, // {id, key} of the last code request
  challenge: null, // {challenge_id, expires_at, askedAt, email}
  recipients: [],
  transfer: null, // the draft {transfer_id, expires_at, retention_days}
  draftRequest: randomId(),
  queue: null,
  password: { kind: 'generated', generated: null, shown: true, own: '', measured: { length: 0, score: null } },
  kdf: null,
  sealed: null, // {signature, body}: the key body, made once per content
  busy: false,
  sent: null,
};

translate();
mountSwitch(byId('language'));
onLanguage(redraw);
byId('mail-language').value = language();
state.queue = new UploadQueue(renderFiles);
start();

async function start() {
  if (!globalThis.Worker || !globalThis.crypto?.subtle || !globalThis.WebAssembly) {
    return fail('unsupportedTitle', 'unsupportedText');
  }
  try {
    state.policy = await call('GET', '/api/policy', { retry: true });
  } catch {
    return fail('networkTitle', 'networkText');
  }
  byId('steps-nav').hidden = false;
  let session = null;
  try {
    session = await call('GET', '/api/session');
  } catch {
    // No live session on this browser: start at step 1.
  }
  // A session opened by a reply may only finish that reply.
  if (session && !session.reply_only) {
    signedIn(session.sender);
    history.replaceState({ step: 'recipients' }, '');
    return go('recipients', { push: false });
  }
  history.replaceState({ step: 'sender' }, '');
  go('sender', { push: false });
}

function fail(title, text) {
  byId('problem-title').textContent = t(title);
  byId('problem-text').textContent = t(text);
  showOnly(sections, 'problem');
}

// --- moving between steps ----------------------------------------------------

/** Shows `step`, marks it in the step list and moves focus to its heading. */
function go(step, { push = true } = {}) {
  state.step = step;
  state.reached = Math.max(state.reached, STEPS.indexOf(step));
  if (push) history.pushState({ step }, '');
  showOnly(sections, step === 'done' ? 'step-done' : `step-${step}`);
  for (const item of byId('steps').children) {
    const index = STEPS.indexOf(item.dataset.step);
    if (item.dataset.step === step) item.setAttribute('aria-current', 'step');
    else item.removeAttribute('aria-current');
    item.classList.toggle('done', step === 'done' || index < STEPS.indexOf(step));
  }
  byId('steps-nav').hidden = step === 'done';
  enter[step]?.();
  byId(`${step}-title`).focus();
}

// The browser's back and forward move between the steps already reached.
addEventListener('popstate', (event) => {
  const step = event.state?.step;
  if (state.busy || !step) return;
  if (state.sent) {
    history.pushState({ step: 'done' }, '');
    return;
  }
  if (STEPS.indexOf(step) <= state.reached && allowed(step)) go(step, { push: false });
});

/** Steps 1–2 are closed once verified (use "Not you?"); later steps need the earlier ones. */
function allowed(step) {
  if (!state.sender) return step === 'sender' || (step === 'code' && Boolean(state.challenge));
  switch (step) {
    case 'recipients': return true;
    case 'files': return Boolean(state.transfer);
    case 'password': case 'confirm': return state.queue.items.length > 0;
    default: return false;
  }
}

for (const button of document.querySelectorAll('button.back')) {
  button.addEventListener('click', () => history.back());
}

// Leaving with work that was not sent asks first.
addEventListener('beforeunload', (event) => {
  const work = state.queue.items.length > 0 || state.recipients.length > 0 || byId('message').value;
  if (work && !state.sent) {
    event.preventDefault();
    event.returnValue = '';
  }
});

const enter = {
  code: renderCodeIntro,
  recipients: renderRecipients,
  files: renderFiles,
  password: enterPassword,
  confirm: renderConfirm,
};

function redraw() {
  if (state.sender) signedIn(state.sender);
  if (state.challenge) renderCodeIntro();
  renderRecipients();
  renderFiles();
  renderPassword();
  renderConfirm();
  if (state.sent) renderDone();
}

/** Marks `id` invalid, shows `text` in the step's error line and focuses it. */
function invalid(errorId, inputId, text) {
  byId(errorId).textContent = text;
  if (inputId) {
    const input = byId(inputId);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

function clearInvalid(errorId, ...inputIds) {
  byId(errorId).textContent = '';
  for (const id of inputIds) byId(id).removeAttribute('aria-invalid');
}

/** The message for an API refusal that no step handles itself. */
function apiMessage(error) {
  if (error?.name === 'AbortError') return t('cancelledSend');
  if (!(error instanceof ApiError)) return t('unexpectedError');
  if (error.code === 'session_invalid') return t('sessionExpired');
  if (error.status === 0) return t('networkError');
  if (error.status === 429 || error.status === 503) return t('busyError');
  return t('unexpectedError');
}

// --- step 1: who sends ---------------------------------------------------------

byId('sender-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (state.busy) return;
  clearInvalid('sender-error', 'sender-name', 'sender-phone', 'sender-email');
  const name = byId('sender-name').value.trim();
  const phone = byId('sender-phone').value.trim();
  const email = byId('sender-email').value.trim().toLowerCase();
  if (!name) return invalid('sender-error', 'sender-name', t('nameNeeded'));
  if (name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) return invalid('sender-error', 'sender-name', t('invalidName'));
  if (phone && !PHONE.test(phone)) return invalid('sender-error', 'sender-phone', t('invalidPhone'));
  const problem = addressProblem(email);
  if (problem) return invalid('sender-error', 'sender-email', t(problem));
  await requestCode({ name, phone, email });
});

/** Mails a code; the same details asked again (a retry) use the same request id. */
async function requestCode(details, { fresh = false } = {}) {
  const key = JSON.stringify(details);
  if (fresh || state.codeRequest?.key !== key) state.codeRequest = { id: randomId(), key };
  state.busy = true;
  byId('request-code').disabled = true;
  announce(byId('sender-status'), t('sendingCode'));
  try {
    const answer = await call('POST', '/api/sender/code', {
      body: {
        request_id: state.codeRequest.id,
        name: details.name,
        email: details.email,
        phone: details.phone || null,
        language: language(),
      },
      retry: true,
    });
    state.challenge = { ...answer, askedAt: Date.now(), email: details.email, details };
    byId('sender-status').textContent = '';
    byId('code').value = '';
    clearInvalid('code-error', 'code');
    if (state.step === 'code') {
      renderCodeIntro();
      announce(byId('code-status'), t('codeResent', details.email));
    } else {
      go('code');
    }
  } catch (error) {
    byId('sender-status').textContent = '';
    const target = state.step === 'code' ? 'code-error' : 'sender-error';
    if (error instanceof ApiError && error.code === 'rate_limited') invalid(target, null, t('rateLimited'));
    else if (error instanceof ApiError && error.field === 'sender_name') invalid(target, 'sender-name', t('invalidName'));
    else if (error instanceof ApiError && error.field === 'sender_phone') invalid(target, 'sender-phone', t('invalidPhone'));
    else if (error instanceof ApiError && error.field === 'sender_email') invalid(target, 'sender-email', t('addressInvalid'));
    // A detail the server's rules refuse (a name that reads as mail markup, say).
    else if (error instanceof ApiError && error.status === 400) invalid(target, 'sender-name', t('detailsRefused'));
    else invalid(target, null, apiMessage(error));
  } finally {
    state.busy = false;
    byId('request-code').disabled = false;
  }
}

// --- step 2: the code ------------------------------------------------------------

let resendTimer = null;

function renderCodeIntro() {
  if (!state.challenge) return;
  byId('code-intro').textContent = t('codeIntro', state.challenge.email, dateTime(state.challenge.expires_at));
  clearInterval(resendTimer);
  const tick = () => {
    const wait = Math.ceil(RESEND_AFTER - (Date.now() - state.challenge.askedAt) / 1000);
    byId('resend').disabled = wait > 0;
    byId('resend-hint').textContent = wait > 0 ? t('resendIn', wait) : '';
    if (wait <= 0) clearInterval(resendTimer);
  };
  tick();
  resendTimer = setInterval(tick, 1000);
}

byId('resend').addEventListener('click', () => {
  if (state.challenge) requestCode(state.challenge.details, { fresh: true });
});

byId('code-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (state.busy) return;
  clearInvalid('code-error', 'code');
  const code = byId('code').value.replace(/\s/g, '');
  if (!/^[0-9]{6}$/.test(code)) return invalid('code-error', 'code', t('codeFormat'));
  state.busy = true;
  byId('verify').disabled = true;
  try {
    const opened = await call('POST', '/api/sender/verify', {
      body: { challenge_id: state.challenge.challenge_id, code },
    });
    clearInterval(resendTimer);
    signedIn(opened.sender);
    go('recipients');
  } catch (error) {
    if (error instanceof ApiError && error.code === 'wrong_code') invalid('code-error', 'code', t('wrongCode', error.attemptsLeft));
    else if (error instanceof ApiError && error.code === 'code_expired') codeUnusable('codeExpired');
    else if (error instanceof ApiError && error.code === 'code_attempts_exhausted') codeUnusable('codeExhausted');
    else invalid('code-error', null, apiMessage(error));
  } finally {
    state.busy = false;
    byId('verify').disabled = false;
  }
});

/** The code can no longer be used: say why and let a new one be asked for at once. */
function codeUnusable(key) {
  invalid('code-error', 'code', t(key));
  clearInterval(resendTimer);
  byId('resend').disabled = false;
  byId('resend-hint').textContent = '';
}

function signedIn(sender) {
  state.sender = sender;
  byId('signed-in-text').textContent = t('signedInAs', sender.name, sender.email);
  byId('signed-in').hidden = false;
}

// "Not you?": end the session on the server and start again from step 1.
byId('not-you').addEventListener('click', async () => {
  if (state.busy) return;
  try {
    await call('DELETE', '/api/session', { retry: true });
  } catch {
    // Already ended; the cookie goes with the reload either way.
  }
  state.sent = {}; // leave without the "unsaved work" question
  location.replace('/send/');
});

// --- step 3: recipients ------------------------------------------------------------

const recipientInput = byId('recipient');

function typedAddress() {
  return recipientInput.value.trim().toLowerCase();
}

/** The line under the input: what is wrong, or who the address belongs to. */
function checkTyped({ final = false } = {}) {
  const text = typedAddress();
  const line = byId('recipient-check');
  line.classList.remove('bad', 'good');
  if (!text) {
    line.textContent = '';
    recipientInput.removeAttribute('aria-invalid');
    return null;
  }
  let problem = addressProblem(text);
  if (!problem && state.recipients.includes(text)) problem = 'duplicateRecipient';
  if (problem) {
    // While typing, an unfinished address is not yet an error.
    const unfinished = !final && problem === 'addressInvalid' && !/@[^@]+\.[^@]{2,}$/.test(text);
    line.textContent = unfinished ? '' : t(problem);
    if (!unfinished) {
      line.classList.add('bad');
      recipientInput.setAttribute('aria-invalid', 'true');
    }
    return problem;
  }
  recipientInput.removeAttribute('aria-invalid');
  line.classList.add('good');
  line.textContent = t(isInternal(state.policy, text) ? 'addressInternal' : 'addressExternal');
  return null;
}

recipientInput.addEventListener('input', () => checkTyped());
recipientInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') {
    event.preventDefault();
    addTyped();
  }
});
byId('add-recipient').addEventListener('click', addTyped);

/** Adds the typed address to the list; false (with the reason shown) if it cannot be added. */
function addTyped() {
  clearInvalid('recipients-error');
  if (!typedAddress()) return true;
  const problem = checkTyped({ final: true });
  if (problem) {
    recipientInput.focus();
    return false;
  }
  if (state.recipients.length >= state.policy.max_recipients) {
    invalid('recipients-error', 'recipient', t('tooManyRecipients', state.policy.max_recipients));
    return false;
  }
  state.recipients.push(typedAddress());
  recipientInput.value = '';
  checkTyped();
  renderRecipients();
  announce(byId('recipients-status'), t('recipientAdded', state.recipients.at(-1)));
  recipientInput.focus();
  return true;
}

function renderRecipients() {
  if (!state.policy) return;
  byId('recipients-hint').textContent = t('recipientsHint', state.policy.max_recipients);
  const items = state.recipients.map((address, index) => el('li', {},
    el('span', { class: 'name' }, address),
    el('span', { class: 'size' }, t(isInternal(state.policy, address) ? 'internal' : 'external')),
    el('button', {
      type: 'button',
      class: 'remove',
      'aria-label': t('removeRecipient', address),
      onclick: () => {
        state.recipients.splice(index, 1);
        renderRecipients();
        announce(byId('recipients-status'), t('recipientRemoved', address));
        recipientInput.focus();
      },
    }, '×')));
  byId('recipient-list').replaceChildren(...items);
  byId('recipients-empty').hidden = items.length > 0;
  // Verified senders stay verified: there is no step to go back to.
  byId('step-recipients').querySelector('button.back').hidden = Boolean(state.sender);
}

byId('recipients-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (state.busy) return;
  if (!addTyped()) return;
  const problem = recipientsProblem(state.policy, state.sender.email, state.recipients);
  if (problem) return listRefused(recipientsText(problem));
  if (!state.transfer) {
    // The draft is made now, so files can upload from the next step on;
    // the options of step 6 and any later change of recipients travel with
    // the send.
    state.busy = true;
    try {
      state.transfer = await call('POST', '/api/transfers', {
        body: { request_id: state.draftRequest, recipients: state.recipients, language: byId('mail-language').value },
        retry: true,
      });
      await keyWorker().call('newTransfer', { transfer: state.transfer.transfer_id });
      state.queue.start(state.transfer.transfer_id);
    } catch (error) {
      state.transfer = null;
      return listRefused(recipientRefusal(error));
    } finally {
      state.busy = false;
    }
  }
  go('files');
});

/**
 * The list as a whole is refused: the reason replaces the last "added"
 * line, and focus goes to the input to change the list (which is not
 * itself marked wrong: it may well be empty).
 */
function listRefused(text) {
  byId('recipients-status').textContent = '';
  byId('recipients-error').textContent = text;
  recipientInput.focus();
}

function recipientsText({ key, args }) {
  if (key === 'noInternalParty') return t(key, args[0], args[1].join(', '));
  return t(key, ...args);
}

/** The server's word on the recipients, in words. */
function recipientRefusal(error) {
  if (!(error instanceof ApiError)) return apiMessage(error);
  switch (error.code) {
    case 'no_internal_party': return t('noInternalParty', state.sender.email, state.recipients.join(', '));
    case 'too_many_recipients': return t('tooManyRecipients', state.policy.max_recipients);
    case 'duplicate_recipient': return t('duplicateRecipient');
    case 'reply_session_only': return t('replySessionOnly');
    case 'invalid_email': return t('addressInvalid');
    default: return apiMessage(error);
  }
}

// --- step 4: files and message ------------------------------------------------------

function addFiles(files) {
  clearInvalid('files-error');
  for (const file of files) {
    const known = state.queue.items.some((i) => i.file.name === file.name && i.file.size === file.size
      && i.file.lastModified === file.lastModified);
    if (known) continue;
    const problem = fileProblem(state.policy, state.queue.items.map((i) => i.file), file.size);
    if (problem) {
      byId('files-error').textContent = t(problem.key, ...problem.args.map((a) => (problem.key === 'filesTooLarge' ? bytes(a) : a)));
      break;
    }
    state.queue.add(file);
  }
  announce(byId('files-status'), t('filesChosen', state.queue.items.length));
}

byId('file-input').addEventListener('change', (event) => {
  addFiles([...event.target.files]);
  event.target.value = '';
});

dropZone(byId('drop'), addFiles);

let lastFileStates = '';

function renderFiles() {
  if (!state.policy) return;
  const { queue, policy } = state;
  byId('files-limits').textContent = t('filesLimits', policy.max_files, bytes(policy.max_transfer_bytes));
  // Redrawn only when something other than the figures changed, so focus
  // and screen readers are not disturbed four times a second.
  const states = queue.items.map((i) => `${i.file.name}|${i.state}`).join('\n') + language();
  if (states !== lastFileStates) {
    lastFileStates = states;
    const items = queue.items.map((item) => el('li', { class: `upload ${item.state}` },
      el('span', { class: 'name' }, item.file.name),
      el('span', { class: 'size' }, bytes(item.file.size)),
      el('span', { class: 'state' }, t(`upload_${item.state}`)),
      item.state === 'failed'
        ? el('button', { type: 'button', onclick: () => queue.retryFailed() }, t('tryAgain'))
        : null,
      el('button', {
        type: 'button',
        class: 'remove',
        'aria-label': t('removeFile', item.file.name),
        onclick: () => removeFile(item),
      }, '×')));
    byId('file-list').replaceChildren(...items);
    byId('files-empty').hidden = items.length > 0;
    const failed = queue.items.find((i) => i.state === 'failed');
    if (failed) byId('files-error').textContent = t('uploadFailed', failed.file.name);
  }
  drawProgress(byId('upload-progress'), queue.items.length > 0 && !queue.complete, t('uploadingInBackground'));
  if (state.busy && state.step === 'confirm') drawProgress(byId('send-progress'), true, t('finishingUploads'));
}

function drawProgress(box, visible, label) {
  box.hidden = !visible;
  if (!visible) return;
  const s = state.queue.snapshot();
  box.querySelector('.label').textContent = label;
  const bar = box.querySelector('progress');
  bar.value = s.fraction;
  bar.setAttribute('aria-valuetext', percent(s.fraction));
  box.querySelector('.figures').textContent = t(
    'progress',
    `${percent(s.fraction)} (${bytes(s.done)} / ${bytes(s.total)})`,
    speed(s.bytesPerSecond),
    duration(s.secondsLeft),
  );
}

async function removeFile(item) {
  const name = item.file.name;
  const removing = state.queue.remove(item);
  state.sealed = null;
  renderFiles();
  announce(byId('files-status'), t('fileRemoved', name));
  byId('file-input').focus();
  try {
    await removing;
  } catch (error) {
    byId('files-error').textContent = apiMessage(error);
  }
}

byId('files-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearInvalid('files-error', 'message');
  if (state.queue.items.length === 0) return invalid('files-error', 'file-input', t('filesNeeded'));
  go('password');
});

// --- step 5: the password -------------------------------------------------------------

async function enterPassword() {
  if (!state.password.generated) await newPassword();
  if (!state.kdf) state.kdf = await keyWorker().call('defaultKdf', {});
  renderPassword();
}

async function newPassword() {
  const { password } = await keyWorker().call('generatePassword', {});
  state.password.generated = password;
  state.sealed = null;
  renderPassword();
}

function renderPassword() {
  const p = state.password;
  byId('own-box').hidden = p.kind !== 'own';
  byId('generated-box').hidden = p.kind !== 'generated';
  const display = byId('generated');
  // Hidden means gone from the page, not just unreadable on screen.
  display.replaceChildren(...(p.generated || '').split('-')
    .map((group) => el('span', { class: 'group' }, p.shown ? group : '•••')));
  byId('toggle-generated').textContent = t(p.shown ? 'hidePassword' : 'showPassword');
  byId('toggle-generated').setAttribute('aria-expanded', String(p.shown));
  if (state.policy) {
    const problems = ownPasswordProblems(state.policy, p.measured);
    const rules = [
      ['ownTooShort', t('ruleLength', state.policy.own_password.min_length)],
      ['ownTooWeak', t('ruleStrength')],
    ];
    byId('own-rules').replaceChildren(...rules.map(([key, text]) => el('li', {
      class: problems.includes(key) ? 'unmet' : 'met',
    }, el('span', { class: 'visually-hidden' }, t(problems.includes(key) ? 'ruleUnmet' : 'ruleMet')), text)));
  }
  const score = p.measured.score;
  byId('strength').value = score ?? 0;
  byId('strength-text').textContent = p.own ? t('strength', t(`strength${score ?? 0}`)) : '';
}

for (const radio of document.querySelectorAll('input[name="password-kind"]')) {
  radio.addEventListener('change', () => {
    state.password.kind = radio.value;
    state.sealed = null;
    clearInvalid('password-error', 'own-password');
    renderPassword();
    if (radio.value === 'own') loadEstimator();
  });
}

byId('toggle-generated').addEventListener('click', () => {
  state.password.shown = !state.password.shown;
  renderPassword();
});

byId('new-password').addEventListener('click', async () => {
  await newPassword();
  announce(byId('password-status'), t('newPasswordMade'));
});

byId('copy-password').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(state.password.generated);
    announce(byId('password-status'), t('passwordCopied'));
  } catch {
    byId('password-error').textContent = t('copyFailed');
  }
});

byId('show-own').addEventListener('change', (event) => {
  byId('own-password').type = event.target.checked ? 'text' : 'password';
});

let estimator = null;

/** The strength estimator (2 MB of dictionaries) is loaded only for an own password. */
function loadEstimator() {
  estimator ??= import('../vendor/zxcvbn/zxcvbn.js');
  return estimator;
}

let measuring = 0;
byId('own-password').addEventListener('input', async (event) => {
  const typed = event.target.value;
  state.password.own = typed;
  state.sealed = null;
  const ticket = ++measuring;
  const [{ length }, { score }] = await Promise.all([
    keyWorker().call('measurePassword', { password: typed }),
    loadEstimator(),
  ]);
  if (ticket !== measuring) return; // a later keystroke is being measured
  const words = [state.sender?.name, state.sender?.email, ...state.recipients].filter(Boolean)
    .flatMap((w) => w.split(/[\s@.]+/));
  state.password.measured = { length, score: typed ? score(typed, words) : null };
  renderPassword();
});

byId('password-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearInvalid('password-error', 'own-password');
  const p = state.password;
  if (p.kind === 'own') {
    const problems = ownPasswordProblems(state.policy, p.measured);
    if (problems.length > 0) {
      return invalid('password-error', 'own-password', problems.map((k) => t(k, state.policy.own_password.min_length)).join(' '));
    }
  }
  go('confirm');
});

function chosenPassword() {
  return state.password.kind === 'own' ? state.password.own : state.password.generated;
}

// --- step 6: options and sending --------------------------------------------------------

function renderConfirm() {
  if (!state.policy || !state.sender) return;
  byId('confirm-from').textContent = `${state.sender.name} <${state.sender.email}>`;
  byId('confirm-to').textContent = state.recipients.join(', ');
  const files = state.queue.items;
  byId('confirm-files').textContent = `${t('fileCount', files.length)} (${bytes(files.reduce((n, i) => n + i.file.size, 0))})`;
  byId('confirm-message').textContent = byId('message').value.trim() ? t('messageIncluded') : t('noMessageWritten');
  const select = byId('retention');
  const chosen = Number(select.value) || state.policy.default_retention_days;
  select.replaceChildren(...retentionChoices(state.policy).map((days) => el('option', {
    value: String(days),
    selected: days === chosen,
  }, days === state.policy.default_retention_days ? t('daysDefault', days) : t('days', days))));
  renderUntil();
  renderNotice();
}

function renderUntil() {
  const days = Number(byId('retention').value);
  byId('retention-until').textContent = t('untilAbout', dateTime(Math.floor(Date.now() / 1000) + days * 86400));
}

function renderNotice() {
  const own = document.querySelector('input[name="notice-kind"]:checked').value === 'own';
  byId('notice').hidden = !own;
  byId('notice-hint').hidden = !own;
  byId('notice-default').hidden = own;
  byId('notice-default').textContent = t('noticeDefaultText', byId('mail-language').value);
}

byId('retention').addEventListener('change', renderUntil);
byId('mail-language').addEventListener('change', renderNotice);
for (const radio of document.querySelectorAll('input[name="notice-kind"]')) {
  radio.addEventListener('change', () => {
    renderNotice();
    if (radio.value === 'own') byId('notice').focus();
  });
}

let sendController = null;
byId('send-progress').querySelector('.cancel').addEventListener('click', () => sendController?.abort(new DOMException('cancelled', 'AbortError')));

byId('confirm-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (state.busy) return;
  clearInvalid('confirm-error', 'notice');
  const ownNotice = document.querySelector('input[name="notice-kind"]:checked').value === 'own';
  const notice = byId('notice').value.trim();
  if (ownNotice && !notice) return invalid('confirm-error', 'notice', t('noticeNeeded'));
  const options = {
    recipients: state.recipients,
    language: byId('mail-language').value,
    download_receipts: byId('receipts').checked,
    retention_days: Number(byId('retention').value),
    notification_text: ownNotice ? notice : null,
  };
  state.busy = true;
  sendController = new AbortController();
  const { signal } = sendController;
  byId('start-transfer').disabled = true;
  const status = byId('confirm-status');
  try {
    if (!state.queue.complete) {
      announce(status, t('finishingUploads'));
      renderFiles();
    }
    const entries = await state.queue.settled(signal);
    byId('send-progress').hidden = true;
    announce(status, t('sealing'));
    const transfer = state.transfer.transfer_id;
    const message = byId('message').value;
    // Sealed once per content: a retry after the key was stored must send
    // the very same key body (the API refuses other values).
    const signature = JSON.stringify([entries.map((e) => e.id), message, state.password.kind, chosenPassword()]);
    if (state.sealed?.signature !== signature) {
      const body = await keyWorker().call('seal', {
        transfer,
        manifest: { message, files: entries },
        kdf: state.kdf,
        password: chosenPassword(),
      });
      state.sealed = { signature, body };
    }
    await call('PUT', `/api/transfers/${transfer}/key`, { body: state.sealed.body, retry: true, signal });
    announce(status, t('sending'));
    const sent = await call('POST', `/api/transfers/${transfer}/send`, { body: options, retry: true, signal });
    keyWorker().call('forget', { transfer });
    state.sent = { ...sent, options, files: state.queue.items.map((i) => i.file), password: chosenPassword() };
    status.textContent = '';
    history.replaceState({ step: 'done' }, '');
    go('done', { push: false });
    renderDone();
    announce(byId('confirm-status'), '');
  } catch (error) {
    status.textContent = '';
    byId('send-progress').hidden = true;
    byId('confirm-error').textContent = sendRefusal(error);
  } finally {
    state.busy = false;
    sendController = null;
    byId('start-transfer').disabled = false;
  }
});

/** Why sending failed, in words; nothing was announced to anyone. */
function sendRefusal(error) {
  if (error?.name === 'AbortError') return t('cancelledSend');
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'invalid_transition': return t('alreadySealed');
      case 'retention_too_long': return t('retentionTooLong', state.policy.max_retention_days);
      case 'no_internal_party': case 'too_many_recipients': case 'duplicate_recipient': return recipientRefusal(error);
      default: return apiMessage(error);
    }
  }
  if (error?.code === 'upload_refused' || error?.code === 'network') return t('uploadFailed', '');
  return apiMessage(error);
}

// --- after sending ------------------------------------------------------------------------

function renderDone() {
  const sent = state.sent;
  if (!sent?.transfer_id) return;
  byId('done-to').textContent = sent.options.recipients.join(', ');
  byId('done-files').replaceChildren(...sent.files.map((f) => el('span', { class: 'line' }, `${f.name} (${bytes(f.size)})`)));
  byId('done-until').textContent = dateTime(sent.expires_at);
  const undelivered = byId('done-undelivered');
  undelivered.hidden = !(sent.undelivered?.length > 0);
  undelivered.textContent = sent.undelivered?.length ? t('undelivered', sent.undelivered.join(', ')) : '';
  byId('done-password').replaceChildren(...sent.password.split('-').map((g) => el('span', { class: 'group' }, g)));
  const manage = byId('done-manage');
  if (sent.manage_link) {
    manage.href = sent.manage_link;
    byId('done-manage-line').hidden = false;
  } else {
    byId('done-manage-line').hidden = true;
  }
  byId('done-manage-mail').textContent = t(sent.summary_delivered ? 'manageInMail' : 'summaryUndelivered');
}

byId('send-more').addEventListener('click', () => {
  // A fresh wizard for the same verified sender; the page keeps nothing of
  // the transfer just sent.
  location.assign('/send/');
});
