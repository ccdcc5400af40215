/**
 * NIC validator fuzzer: any JavaScript value, tables of arbitrary values under the right
 * keys, and mutated valid NICs into parseNic. The outcome is a Nic (stable under a second
 * parse, its secrets absent from the redacted form) or a NicError that names a field and
 * echoes no marked (secret) value — nothing else. The generators and checks are
 * test/arbitraries/nic.ts, shared with the unit property tests (src/nic.test.ts).
 */
import { fileURLToPath } from 'node:url';
import { anythingArb, checkMutated, mutatedNicArb, nicTablesArb, parseOrNicError } from '../../test/arbitraries/nic.js';
import { target, type Fuzzer } from './types.js';

export const nicFuzzer: Fuzzer = {
  name: 'nic',
  description: 'the NIC validator (parseNic) and its redaction',
  regressionsDir: fileURLToPath(new URL('../../src/nic-regressions/', import.meta.url)),
  targets: [
    target({ name: 'nic.anything', description: 'any JavaScript value (maps, sets, bigints, boxed, null-prototype, sparse)', arbitrary: anythingArb, check: (v) => void parseOrNicError(v), weight: 3 }),
    target({ name: 'nic.tables', description: 'tables of arbitrary values under each table\'s own keys', arbitrary: nicTablesArb, check: (v) => void parseOrNicError(v), weight: 3 }),
    target({ name: 'nic.mutated', description: 'valid NICs with one field deleted, replaced by anything, or misspelt', arbitrary: mutatedNicArb, check: checkMutated, weight: 4 }),
  ],
};
