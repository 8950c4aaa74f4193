// The pages opened from a mail link: `/<page>/<transfer id>#<token>`.

const ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * The transfer id from the path and the token from the fragment, for
 * `page` (`retrieve`, `manage`). The fragment never reaches a server; it is
 * taken out of the address bar at once (and so out of the history and of
 * screenshots) and kept for this tab only, so a reload still works.
 * Returns `{id, token}`, or `{problem: 'notFound' | 'noToken'}`.
 */
export function takeLink(page) {
  const [, first, id] = location.pathname.split('/');
  if (first !== page || !ID.test(id || '')) return { problem: 'notFound' };
  const stored = `kluis.${page}.${id}`;
  const fragment = location.hash.slice(1);
  if (fragment) {
    sessionStorage.setItem(stored, fragment);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem(stored);
  return token ? { id, token } : { problem: 'noToken' };
}

/** The codes of a link that opens nothing: unknown, not this transfer's, malformed. */
export const BROKEN_LINK = new Set([
  'transfer_not_found', 'field_missing', 'malformed', 'session_invalid', 'token_invalid',
]);
