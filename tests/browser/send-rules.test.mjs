// The send wizard's checks as typed (web/send/rules.js), in Node. They
// mirror the server's rules (shared/core: validate.rs for addresses,
// policy.rs for the rest); the server checks everything again, and the
// browser tests (send.test.mjs) meet its refusals through the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  addressProblem, fileProblem, isInternal, ownPasswordProblems, recipientsProblem, retentionChoices,
} from '../../web/send/rules.js';

const policy = {
  internal_domains: ['example.nl', '*.example.org'],
  max_recipients: 3,
  max_files: 2,
  max_transfer_bytes: 1000,
  default_retention_days: 7,
  max_retention_days: 30,
  own_password: { min_length: 12, min_score: 3 },
};

test('addresses in the form the API takes, and nothing else', () => {
  for (const good of ['a@example.nl', 'first.last+tag@sub.example.com', "o'hara@example.ie", 'x@a-b.example']) {
    assert.equal(addressProblem(good), null, good);
  }
  assert.equal(addressProblem(''), 'addressMissing');
  for (const bad of [
    'no-at.example.nl', '@example.nl', 'a@example', 'a@@example.nl', 'a b@example.nl', ' a@example.nl',
    'a%b@example.nl', 'a..b@example.nl', '.a@example.nl', 'a@-x.example', 'a@x-.example', 'a@1.2.3.4',
    'a@example..nl', `${'x'.repeat(65)}@example.nl`, `a@${'x'.repeat(250)}.nl`,
  ]) {
    assert.equal(addressProblem(bad), 'addressInvalid', bad);
  }
});

test('internal means an exact domain, or a proper subdomain of a *. entry', () => {
  assert.ok(isInternal(policy, 'ada@example.nl'));
  assert.ok(!isInternal(policy, 'ada@sub.example.nl'));
  assert.ok(isInternal(policy, 'ada@team.example.org'));
  assert.ok(!isInternal(policy, 'ada@example.org'), 'the parent of a *. entry is not covered');
  assert.ok(!isInternal(policy, 'ada@badexample.org'));
  assert.ok(isInternal(policy, 'Ada@EXAMPLE.NL'));
});

test('the sender or every recipient is internal; the count is bounded', () => {
  assert.deepEqual(recipientsProblem(policy, 'ada@example.nl', []), { key: 'recipientsNeeded', args: [] });
  assert.equal(recipientsProblem(policy, 'ada@example.nl', ['bo@extern.example']), null, 'staff to partner');
  assert.equal(recipientsProblem(policy, 'bo@extern.example', ['ada@example.nl']), null, 'partner to staff');
  assert.deepEqual(
    recipientsProblem(policy, 'bo@extern.example', ['ada@example.nl', 'cy@other.example']),
    { key: 'noInternalParty', args: ['bo@extern.example', ['cy@other.example']] },
    'partner to staff and a stranger',
  );
  assert.deepEqual(
    recipientsProblem(policy, 'ada@example.nl', ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example']),
    { key: 'tooManyRecipients', args: [3] },
  );
});

test('file count and total size against the policy', () => {
  assert.equal(fileProblem(policy, [], 1000), null);
  assert.deepEqual(fileProblem(policy, [], 1001), { key: 'filesTooLarge', args: [1000] });
  assert.deepEqual(fileProblem(policy, [{ size: 1 }, { size: 1 }], 1), { key: 'tooManyFiles', args: [2] });
});

test('expiry choices stay within the policy and include its default', () => {
  assert.deepEqual(retentionChoices(policy), [1, 3, 7, 14, 30]);
  assert.deepEqual(retentionChoices({ ...policy, default_retention_days: 10, max_retention_days: 10 }), [1, 3, 7, 10]);
});

test('an own password needs the length and the score', () => {
  assert.deepEqual(ownPasswordProblems(policy, { length: 12, score: 3 }), []);
  assert.deepEqual(ownPasswordProblems(policy, { length: 11, score: 4 }), ['ownTooShort']);
  assert.deepEqual(ownPasswordProblems(policy, { length: 30, score: 2 }), ['ownTooWeak']);
  assert.deepEqual(ownPasswordProblems(policy, { length: 0, score: null }), ['ownTooShort', 'ownTooWeak']);
});
