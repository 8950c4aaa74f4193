// The pages' two languages. Texts live in strings/en.js and strings/nl.js;
// markup names them with `data-i18n="key"` (text) and
// `data-i18n-attr="attribute:key; …"`. The language is the reader's choice
// (kept in localStorage), else the browser's first of nl/en, else English.
import en from './strings/en.js';
import nl from './strings/nl.js';

export const LANGUAGES = { en, nl };
const STORED = 'kluis.language';

function initial() {
  const stored = safeStorage()?.getItem(STORED);
  if (stored in LANGUAGES) return stored;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (base in LANGUAGES) return base;
  }
  return 'en';
}

function safeStorage() {
  try {
    return globalThis.localStorage;
  } catch {
    return null; // storage blocked: the choice lasts for this page only
  }
}

let current = initial();
const listeners = new Set();

/** The current language code (`en` or `nl`). */
export function language() {
  return current;
}

/** The text `key` in the current language; a function entry gets `args`. */
export function t(key, ...args) {
  const entry = LANGUAGES[current][key] ?? LANGUAGES.en[key];
  if (entry === undefined) throw new Error(`no text ${key}`);
  return typeof entry === 'function' ? entry(...args) : entry;
}

/** Fills every `data-i18n` and `data-i18n-attr` under `root`. */
export function translate(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attribute, key] = pair.split(':').map((s) => s.trim());
      if (attribute && key) el.setAttribute(attribute, t(key));
    }
  }
}

/** Switches the language, re-translates the page and tells the listeners. */
export function setLanguage(code) {
  if (!(code in LANGUAGES)) return;
  current = code;
  safeStorage()?.setItem(STORED, code);
  translate();
  for (const listener of listeners) listener(code);
}

/** Calls `listener(code)` after every switch (to redraw generated text). */
export function onLanguage(listener) {
  listeners.add(listener);
}

/** Makes `button` the switch to the other language. */
export function mountSwitch(button) {
  button.addEventListener('click', () => setLanguage(current === 'en' ? 'nl' : 'en'));
}
