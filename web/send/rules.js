// The policy's rules as the wizard checks them while the sender types, so
// a refusal is explained before anything is sent. The server checks every
// one of them again (docs/api.yaml): these mirror it, they do not replace it.
// Pure functions of their arguments, without the DOM, so they are tested
// on their own (tests/browser/send.test.mjs loads them in the page).

/** RFC 5322 `atext` without `%` (the server refuses `%` routing). */
const ATEXT = /^[A-Za-z0-9!#$&'*+/=?^_`{|}~-]+$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const MAX_ADDRESS = 254;
const MAX_LOCAL = 64;

/**
 * Why `text` is not an address the API takes (a key of the strings), or
 * null. The form is the server's: a dot-atom local part without `%`, and
 * a host name of two or more labels whose last is not all digits.
 */
export function addressProblem(text) {
  if (text === '') return 'addressMissing';
  if (text.length > MAX_ADDRESS || /\s/.test(text)) return 'addressInvalid';
  const at = text.lastIndexOf('@');
  if (at <= 0) return 'addressInvalid';
  const local = text.slice(0, at);
  const labels = text.slice(at + 1).split('.');
  const localOk = local.length <= MAX_LOCAL && local.split('.').every((atom) => ATEXT.test(atom));
  const hostOk = labels.length >= 2
    && labels.every((label) => label.length <= 63 && LABEL.test(label))
    && !/^[0-9]+$/.test(labels[labels.length - 1]);
  return localOk && hostOk ? null : 'addressInvalid';
}

/** Whether `address` belongs to the organisation (exact domains, `*.` for subdomains). */
export function isInternal(policy, address) {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return policy.internal_domains.some((entry) => {
    if (entry.startsWith('*.')) {
      const parent = entry.slice(1);
      return domain.endsWith(parent) && domain.length > parent.length;
    }
    return domain === entry;
  });
}

/**
 * Why the list `recipients` (lower-case addresses) cannot go out from
 * `sender`, as `{key, args}` for the strings, or null: too many, or the
 * open-relay rule (the sender or every recipient must be internal).
 */
export function recipientsProblem(policy, sender, recipients) {
  if (recipients.length === 0) return { key: 'recipientsNeeded', args: [] };
  if (recipients.length > policy.max_recipients) {
    return { key: 'tooManyRecipients', args: [policy.max_recipients] };
  }
  if (!isInternal(policy, sender)) {
    const outside = recipients.filter((r) => !isInternal(policy, r));
    if (outside.length > 0) return { key: 'noInternalParty', args: [sender, outside] };
  }
  return null;
}

/**
 * Whether one more file of `size` plaintext bytes still fits next to
 * `files` (of `{size}`): as `{key, args}` or null. The server counts
 * ciphertext, a little more; it has the last word.
 */
export function fileProblem(policy, files, size) {
  if (files.length + 1 > policy.max_files) return { key: 'tooManyFiles', args: [policy.max_files] };
  const total = files.reduce((n, f) => n + f.size, 0) + size;
  if (total > policy.max_transfer_bytes) return { key: 'filesTooLarge', args: [policy.max_transfer_bytes] };
  return null;
}

/** The retention choices (days) the policy allows, its default among them, ascending. */
export function retentionChoices(policy) {
  const days = new Set([1, 3, 7, 14, 30, 60, 90, 180, 365, policy.default_retention_days]);
  return [...days].filter((d) => d >= 1 && d <= policy.max_retention_days).sort((a, b) => a - b);
}

/**
 * The own-password rules: `{length, score}` (the normalized length and
 * zxcvbn's score, null while unknown) against the policy's minimums.
 */
export function ownPasswordProblems(policy, { length, score }) {
  const problems = [];
  if (length < policy.own_password.min_length) problems.push('ownTooShort');
  if (score === null || score < policy.own_password.min_score) problems.push('ownTooWeak');
  return problems;
}
