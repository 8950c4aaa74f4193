// The entry point the vendored bundle (zxcvbn.js) is built from by
// ./rebuild: zxcvbn-ts with its common, English and Dutch (nl-be)
// dictionaries, reduced to the one call the send wizard needs.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import * as nl from '@zxcvbn-ts/language-nl-be';

const estimator = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary, ...nl.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
});

/**
 * zxcvbn's score of `password`, 0 (guessed at once) to 4 (very hard), with
 * `userInputs` (the sender's name and address) counted as known words.
 */
export function score(password, userInputs = []) {
  return estimator.check(password, userInputs).score;
}
