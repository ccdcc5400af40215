/**
 * Inputs the fuzzer (faults/fuzz/at.ts, `npm run test:faults`) found to crash or hang the
 * code, and seed cases kept on purpose, replayed on every run: one test per data file here.
 */
import { defineRegressionTests } from '../../../../faults/fuzz/replay.js';
import { atFuzzer } from '../../../../faults/fuzz/at.js';

defineRegressionTests(atFuzzer);
