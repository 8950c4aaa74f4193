// The start page: two choices, as on Cryptshare's start screen. Retrieving
// takes the link from the mail; only a retrieval link of this site is
// followed, so a pasted link cannot send the reader elsewhere.
import { byId } from './lib/dom.js';
import { mountSwitch, t, translate } from './lib/i18n.js';

translate();
mountSwitch(byId('language'));

byId('link-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId('link');
  const error = byId('link-error');
  const target = retrievalLink(input.value);
  if (!target) {
    error.textContent = t('startBadLink');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  location.assign(target);
});

/** The link as a same-site `/retrieve/<id>#<token>` URL, or null. */
export function retrievalLink(text) {
  let url;
  try {
    url = new URL(text.trim(), location.href);
  } catch {
    return null;
  }
  const ok = url.origin === location.origin
    && /^\/retrieve\/[A-Za-z0-9_-]{22}$/.test(url.pathname)
    && /^#[A-Za-z0-9_-]{16,}$/.test(url.hash);
  return ok ? url.href : null;
}
