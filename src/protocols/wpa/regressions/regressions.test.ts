/**
 * Inputs the fuzzer (faults/fuzz/wpa.ts, `npm run test:faults`) found to crash or hang the
 * code, and seed cases kept on purpose, replayed on every run: one test per data file here.
 */
import { defineRegressionTests } from '../../../../faults/fuzz/replay.js';
import { wpaFuzzer } from '../../../../faults/fuzz/wpa.js';

defineRegressionTests(wpaFuzzer);
