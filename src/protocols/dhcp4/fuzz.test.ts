/**
 * Fuzzing the decoder and the client machine: whatever arrives, decode returns a result
 * (never throws, never loops) and the machine keeps its invariants. NICUP_FUZZ_RUNS raises
 * the number of cases for a long run (default 2000 per property). The generators and
 * checks are test/arbitraries/dhcp4.ts, shared with the long fuzzer (faults/fuzz/dhcp.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage } from './message-codec.js';
import type { ClientStateName } from './client-machine.js';
import {
  DROP_STATES,
  checkDecoded,
  checkDropped,
  dropDataArb,
  machineCaseArb,
  mutatedReplyArb,
  randomMessageArb,
  randomOptionsArb,
  runMachine,
} from '../../../test/arbitraries/dhcp4.js';

const FUZZ_RUNS = Number(process.env.NICUP_FUZZ_RUNS ?? '') || 2_000;
/** A hang fails the test instead of blocking the run. */
const HANG_GUARD = { timeout: 120_000 };

describe('decodeMessage fuzz', () => {
  test('random bytes', HANG_GUARD, () => {
    fc.assert(fc.property(randomMessageArb, checkDecoded), { numRuns: FUZZ_RUNS });
  });

  test('a valid header followed by random option bytes', HANG_GUARD, () => {
    fc.assert(fc.property(randomOptionsArb, checkDecoded), { numRuns: FUZZ_RUNS });
  });

  test('mutated valid replies: bit flips, truncation, option length lies, insertions', HANG_GUARD, () => {
    fc.assert(fc.property(mutatedReplyArb, checkDecoded), { numRuns: FUZZ_RUNS });
  });

  test('the mutations do reach both outcomes', () => {
    // Guards the fuzz itself: if every mutant failed to decode, the machine fuzz would test nothing.
    const samples = fc.sample(mutatedReplyArb, { numRuns: 500, seed: 42 }).map((b) => decodeMessage(b).ok);
    assert.ok(samples.includes(true) && samples.includes(false));
  });
});

describe('client machine fuzz', () => {
  test('random command sequences keep the invariants in every state', HANG_GUARD, () => {
    const visited = new Set<ClientStateName>();
    fc.assert(
      fc.property(machineCaseArb, (c) => {
        for (const name of runMachine(c)) visited.add(name);
      }),
      { numRuns: FUZZ_RUNS },
    );
    // The fuzz is only worth something if it reached every state.
    for (const name of ['IDLE', 'INIT', 'SELECTING', 'REQUESTING', 'BOUND', 'RENEWING', 'REBINDING', 'REBOOTING'] as const) {
      assert.ok(visited.has(name), `fuzz never reached ${name}`);
    }
  });

  test('random bytes in each state are dropped without a state change', HANG_GUARD, () => {
    for (const state of DROP_STATES) {
      fc.assert(fc.property(dropDataArb, (data) => checkDropped({ state, data })), { numRuns: Math.ceil(FUZZ_RUNS / 4) });
    }
  });
});
