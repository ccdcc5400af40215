/**
 * Random bytes and random event orders into the codec, the chat core and the modem
 * machine: nothing throws, the invariants hold, and the PIN never reaches a log or the
 * machine's state. NICUP_FUZZ_RUNS raises the number of cases for a long run. The
 * generators and checks are test/arbitraries/at.ts, shared with the long fuzzer
 * (faults/fuzz/at.ts).
 */
import { test, describe } from 'node:test';
import fc from 'fast-check';
import { checkChat, checkCodec, checkModem, checkParsers, chatStepsArb, codecCaseArb, modemStepsArb, parserCaseArb } from '../../../test/arbitraries/at.js';

const FUZZ_RUNS = Number(process.env.NICUP_FUZZ_RUNS ?? '') || undefined;

describe('fuzz', () => {
  test('codec: random chunks never throw and never hold more than the limit', () => {
    fc.assert(fc.property(codecCaseArb, checkCodec), { numRuns: FUZZ_RUNS ?? 300 });
  });

  test('parsers and the classifier take any string', () => {
    fc.assert(fc.property(parserCaseArb, checkParsers), { numRuns: FUZZ_RUNS ?? 1000 });
  });

  test('chat: any inputs, no throw, one in flight, every send answered once, no PIN in logs', () => {
    fc.assert(fc.property(chatStepsArb, checkChat), { numRuns: FUZZ_RUNS ?? 300 });
  });

  test('modem machine: any inputs in any order, no throw, valid states, one timer, no PIN in logs or state', () => {
    fc.assert(fc.property(modemStepsArb, checkModem), { numRuns: FUZZ_RUNS ?? 300 });
  });
});
