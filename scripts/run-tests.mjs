#!/usr/bin/env node
// Runs the test suite with node's own test runner (TypeScript through tsx).
// Unit tests live beside the code (src/**/*.test.ts); integration tests in test/**/*.test.ts.
//   node scripts/run-tests.mjs            all tests
//   node scripts/run-tests.mjs --unit     unit tests only
//   node scripts/run-tests.mjs FILE...    just those files
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'out' || name === 'cache') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const named = args.filter((a) => !a.startsWith('--'));
const files = named.length ? named : [...find('src'), ...(unitOnly ? [] : find('test'))].sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
// The VM-lab files each boot a QEMU guest under software emulation: they run after the
// rest, one at a time, so that two guests never fight over the machine's two cores.
const isVm = (f) => /(^|\/)vm-[^/]*\.test\.ts$/.test(f);
const groups = [
  { files: files.filter((f) => !isVm(f)), concurrency: 2 },
  { files: files.filter(isVm), concurrency: 1 },
].filter((g) => g.files.length > 0);
let status = 0;
for (const g of groups) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${g.concurrency}`, ...g.files], { stdio: 'inherit' });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
