/**
 * DHCPv4 fuzzer: the message decoder (random bytes, random options after a valid header,
 * mutated valid replies) and the client machine (random command sequences: timers, waits,
 * random packets, mutated server replies, link events), checked against their invariants.
 * The generators and checks are test/arbitraries/dhcp4.ts, shared with the unit fuzz test.
 */
import { fileURLToPath } from 'node:url';
import {
  checkDecoded,
  checkDropped,
  dropCaseArb,
  machineCaseArb,
  mutatedReplyArb,
  randomMessageArb,
  randomOptionsArb,
  runMachine,
  type MachineCase,
} from '../../test/arbitraries/dhcp4.js';
import { target, type Fuzzer } from './types.js';

export const dhcpFuzzer: Fuzzer = {
  name: 'dhcp',
  description: 'DHCPv4 message decoder and client machine',
  regressionsDir: fileURLToPath(new URL('../../src/protocols/dhcp4/regressions/', import.meta.url)),
  targets: [
    target({ name: 'dhcp.decode.random', description: 'random bytes (0–1500) into decodeMessage', arbitrary: randomMessageArb, check: checkDecoded, weight: 2 }),
    target({ name: 'dhcp.decode.options', description: 'a valid header followed by random option bytes', arbitrary: randomOptionsArb, check: checkDecoded, weight: 2 }),
    target({ name: 'dhcp.decode.mutated', description: 'valid replies with bit flips, truncation, option-length lies, insertions', arbitrary: mutatedReplyArb, check: checkDecoded, weight: 2 }),
    target({ name: 'dhcp.machine.sequences', description: 'random command sequences (≤40 steps) through the client machine', arbitrary: machineCaseArb, check: (c: MachineCase) => void runMachine(c), weight: 3 }),
    target({ name: 'dhcp.machine.drop', description: 'random bytes in IDLE, SELECTING and REQUESTING are dropped without effect', arbitrary: dropCaseArb, check: checkDropped, weight: 1 }),
  ],
};
