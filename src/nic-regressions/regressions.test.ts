/**
 * Inputs the NIC fuzzer (faults/fuzz/nic.ts, `npm run test:faults`) found to crash or hang
 * parseNic, and seed cases kept on purpose, replayed on every run: one test per data file here.
 */
import { defineRegressionTests } from '../../faults/fuzz/replay.js';
import { nicFuzzer } from '../../faults/fuzz/nic.js';

defineRegressionTests(nicFuzzer);
