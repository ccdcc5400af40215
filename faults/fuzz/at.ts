/**
 * AT fuzzer: the line codec (random chunks), the response parsers and classifier, the chat
 * core and the modem machine (random inputs in random order), with the PIN planted in the
 * modem's answers: it must never reach a log or the machine's state. The generators and
 * checks are test/arbitraries/at.ts, shared with the unit fuzz test.
 */
import { fileURLToPath } from 'node:url';
import { checkChat, checkCodec, checkModem, checkParsers, chatStepsArb, codecCaseArb, modemStepsArb, parserCaseArb } from '../../test/arbitraries/at.js';
import { target, type Fuzzer } from './types.js';

export const atFuzzer: Fuzzer = {
  name: 'at',
  description: 'AT line codec, response parsers, chat core and modem machine',
  regressionsDir: fileURLToPath(new URL('../../src/protocols/at/regressions/', import.meta.url)),
  targets: [
    target({ name: 'at.codec', description: 'random chunks (≤30) into the line codec with a random line limit', arbitrary: codecCaseArb, check: checkCodec, weight: 2 }),
    target({ name: 'at.parsers', description: 'any string into the classifier and the +CREG/+CPIN/+CSQ/+COPS parsers', arbitrary: parserCaseArb, check: checkParsers, weight: 2 }),
    target({ name: 'at.chat', description: 'random sends, bytes, timers and resets (≤40) through the chat core', arbitrary: chatStepsArb, check: checkChat, weight: 3 }),
    target({ name: 'at.modem', description: 'random modem inputs (≤60) in any order through the modem machine', arbitrary: modemStepsArb, check: checkModem, weight: 3 }),
  ],
};
