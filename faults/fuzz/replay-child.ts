/** Replays one regression case (replay.ts runs hang cases here, under a deadline). Usage: replay-child.ts FUZZER FILE */
import { readFileSync } from 'node:fs';
import { fuzzerNamed } from './all.js';
import { replayInProcess } from './replay.js';
import type { RegressionCase } from './types.js';

const [fuzzer, file] = process.argv.slice(2);
try {
  replayInProcess(fuzzerNamed(fuzzer ?? ''), JSON.parse(readFileSync(file ?? '', 'utf8')) as RegressionCase);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}
