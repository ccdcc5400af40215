/**
 * Replays a fuzzer's regression folder as tests: one test per data file. A crash or seed
 * case runs its target's check in-process; a hang case runs in a child process with a
 * deadline, so a hang that came back fails the test instead of stopping the run.
 *   // src/protocols/dhcp4/regressions/regressions.test.ts
 *   defineRegressionTests(dhcpFuzzer);
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeInput } from './codec.js';
import type { Fuzzer, RegressionCase } from './types.js';

const REPLAY_CHILD = fileURLToPath(new URL('./replay-child.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HANG_DEADLINE_MS = 15_000;

export function readRegressions(fuzzer: Fuzzer): { file: string; c: RegressionCase }[] {
  let names: string[];
  try {
    names = readdirSync(fuzzer.regressionsDir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    names = [];
  }
  return names.map((n) => ({ file: join(fuzzer.regressionsDir, n), c: JSON.parse(readFileSync(join(fuzzer.regressionsDir, n), 'utf8')) as RegressionCase }));
}

/** Runs one case's check in this process; throws what the check throws. */
export function replayInProcess(fuzzer: Fuzzer, c: RegressionCase): void {
  const t = fuzzer.targets.find((x) => x.name === c.target);
  if (!t) throw new Error(`${c.target}: no such target in the ${fuzzer.name} fuzzer`);
  t.check(decodeInput(c.input));
}

export function defineRegressionTests(fuzzer: Fuzzer): void {
  const cases = readRegressions(fuzzer);
  test(`${fuzzer.name}: the regressions folder holds cases, each for a known target`, () => {
    assert.ok(cases.length > 0, `no *.json case in ${fuzzer.regressionsDir}`);
    for (const { file, c } of cases) {
      assert.ok(fuzzer.targets.some((t) => t.name === c.target), `${file}: unknown target ${c.target}`);
      assert.ok(['crash', 'hang', 'seed'].includes(c.kind), `${file}: kind ${c.kind}`);
    }
  });
  for (const { file, c } of cases) {
    const name = file.slice(fuzzer.regressionsDir.length);
    test(`${name} (${c.kind}: ${c.note.slice(0, 80)})`, () => {
      if (c.kind !== 'hang') {
        replayInProcess(fuzzer, c);
        return;
      }
      const r = spawnSync(process.execPath, ['--import', 'tsx', REPLAY_CHILD, fuzzer.name, file], { cwd: PROJECT_ROOT, timeout: HANG_DEADLINE_MS, encoding: 'utf8' });
      assert.ok(r.signal === null, `still hangs: no return within ${HANG_DEADLINE_MS} ms`);
      assert.equal(r.status, 0, r.stderr);
    });
  }
}
