// The host side of a VM lab test file (test/vm-*.test.ts): one boot, in a `before` hook,
// runs every guest script; each test() then checks results of the console protocol
// (README.md). Needs root (build.sh installs qemu and the tools with apt, downloads the
// Debian kernel): without them every test fails, naming what is missing.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLab, runVm } from './run.js';
import type { VmRun } from './run.js';
import { NetState, stateKind, stateName } from '../../../src/states.js';
import type { NetStateValue, StateKind } from '../../../src/states.js';

/** The first run installs packages and downloads the kernel; TCG is slow on a busy host. */
const suiteTimeoutMs = 30 * 60_000;

export interface VmSuiteOptions {
  /** Names the timing line printed after the run, e.g. `vm-wifi`. */
  label: string;
  /** Guest scripts, project-relative; one boot runs them in order. */
  scripts: string[];
  /** QEMU is killed after this long (runVm's timeoutMs). */
  timeoutMs: number;
}

export interface StatesSeenOptions {
  /** The guest scripts print `<tag>: <script> <state values>` (guest-lib.ts finish()). */
  tag: string;
  /** Every state of this kind, and CONNECTED, must appear on some such line. */
  kind: Exclude<StateKind, 'common'>;
  /** Also require exactly one such line per guest script. */
  onePerScript?: boolean;
}

export interface VmSuite {
  /** The finished run; throws what kept it from running (build, boot). */
  ranVm(): VmRun;
  /** A test: the guest reported exactly one result `name`, and it passed. */
  testPassed(title: string, name: string): void;
  /** A test: every state of a kind, and CONNECTED, came from the guest (its `<tag>:` lines). */
  testStatesSeen(title: string, options: StatesSeenOptions): void;
}

/**
 * A describe() whose `before` hook builds the lab and runs `options.scripts` in one boot;
 * `body` declares the tests, and a last test checks the run finished with no other failure.
 */
export function describeVm(title: string, options: VmSuiteOptions, body: (vm: VmSuite) => void): void {
  describe(title, { timeout: suiteTimeoutMs }, () => {
    let run: VmRun | undefined;
    // A failing before hook only marks the tests "cancelled"; keep the error and fail each test.
    let setupError: unknown;

    before(async () => {
      try {
        const lab = await buildLab(); // first run: apt + ~70 MB kernel download; later ~0.1 s
        run = await runVm({ lab, scripts: options.scripts, timeoutMs: options.timeoutMs });
        const timing = run.scripts.map((s) => `${s.name} ${s.seconds ?? '?'} s`).join(', ');
        console.log(`${options.label}: build ${Math.round(lab.buildMs)} ms, boot ${run.bootSeconds ?? '?'} s, ${timing}; ` +
          `wall ${(run.durationMs / 1000).toFixed(1)} s; log ${run.logPath}`);
      } catch (error) {
        setupError = error;
      }
    }, { timeout: suiteTimeoutMs });

    const ranVm = (): VmRun => {
      if (setupError !== undefined) throw setupError;
      assert.ok(run, 'the VM did not run');
      return run;
    };

    const vm: VmSuite = {
      ranVm,
      testPassed(testTitle, name) {
        test(testTitle, () => {
          const run = ranVm();
          const found = run.results.filter((r) => r.name === name);
          const unfinished = run.done ? '' : ` The VM did not finish: ${run.results.at(-1)?.detail ?? ''}.`;
          assert.equal(found.length, 1, `expected one result named ${name}, got ${found.length}.${unfinished} Log: ${run.logPath}`);
          const [result] = found;
          assert.ok(result?.pass, `${name} failed: ${result?.detail}. Log: ${run.logPath}`);
        });
      },
      testStatesSeen(testTitle, { tag, kind, onePerScript = false }) {
        test(testTitle, () => {
          const run = ranVm();
          const lines = statesLines(run.log, tag);
          if (onePerScript) {
            assert.equal(lines.length, options.scripts.length, `one ${tag} line per script, got ${lines.length}. Log: ${run.logPath}`);
          }
          const seen = new Set(lines.flatMap((l) => l.values));
          const missing = statesOfKind(kind).filter((s) => !seen.has(s)).map((s) => `${s} ${stateName(s)}`);
          assert.deepEqual(missing, [], `states never produced: ${missing.join(', ')}. Log: ${run.logPath}`);
        });
      },
    };
    body(vm);

    test('the run finished with no other failure', () => {
      const run = ranVm();
      assert.ok(run.done, `no LAB-DONE: ${run.results.at(-1)?.detail ?? ''}. Log: ${run.logPath}`);
      const failures = run.results.filter((r) => !r.pass);
      assert.deepEqual(failures, [], `log: ${run.logPath}`);
    });
  });
}

/** CONNECTED and every state of a kind: what a run on a real stack must produce. */
export function statesOfKind(kind: Exclude<StateKind, 'common'>): NetStateValue[] {
  return [NetState.CONNECTED, ...Object.values(NetState).filter((s) => stateKind(s) === kind)];
}

/** The `<tag>: <script> <values>` lines of a console log (values: space-separated numbers). */
export function statesLines(log: string, tag: string): { script: string; values: number[] }[] {
  const escaped = tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped}: (\\S+) ([-\\d ]*)$`, 'gm');
  return [...log.replace(/\r/g, '').matchAll(pattern)].map((m) => ({
    script: m[1] ?? '',
    values: (m[2] ?? '').trim().split(/\s+/).filter((v) => v !== '').map(Number),
  }));
}
