/**
 * A fuzzing process, driven by runner.ts over IPC. Progress goes to fd 3 as lines, written
 * synchronously, so the parent knows how far a run got even when a case never returns:
 *   run:     "P <target index> <cases so far>" every 64 cases; one IPC result per target
 *   locate:  "L <case index>" before each case from `from` on (to find the case that hangs)
 *   extract: one IPC message with the encoded input of case `index`
 * Case i of a (target, seed) pair is the same value in every mode: fast-check generates
 * values from the seed alone, whatever the property does with them.
 */
import { writeSync } from 'node:fs';
import fc from 'fast-check';
import { encodeInput } from './codec.js';
import { fuzzerNamed, targetNamed } from './all.js';

export type ChildJob =
  | { mode: 'run'; fuzzer: string; targets: { name: string; numRuns: number; seed: number }[] }
  | { mode: 'locate'; target: string; seed: number; from: number; count: number }
  | { mode: 'extract'; target: string; seed: number; index: number };

export type ChildMessage =
  | { type: 'result'; target: string; runs: number; ms: number; failed: boolean; error?: string; counterexample?: unknown; path?: string }
  | { type: 'located-none' }
  | { type: 'extracted'; input: unknown };

const PROGRESS_FD = 3;

/**
 * NICUP_FUZZ_PLANT="hang:TARGET:INDEX" or "crash:TARGET:INDEX" makes case INDEX of TARGET
 * hang or throw: how the runner's own tests prove it finds both.
 */
const plant = /^(hang|crash):([\w.-]+):(\d+)$/.exec(process.env.NICUP_FUZZ_PLANT ?? '');

function planted(targetName: string, index: number): void {
  if (!plant || plant[2] !== targetName || Number(plant[3]) !== index) return;
  if (plant[1] === 'crash') throw new Error(`planted crash at case ${index}`);
  for (;;) {
    // planted hang
  }
}
const send = (m: ChildMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

function errorText(e: unknown): string {
  if (e instanceof Error) return (e.stack ?? `${e.name}: ${e.message}`).split('\n').slice(0, 12).join('\n');
  return String(e);
}

async function run(job: ChildJob): Promise<void> {
  writeSync(PROGRESS_FD, 'R\n');
  if (job.mode === 'run') {
    const fuzzer = fuzzerNamed(job.fuzzer);
    for (const [k, plan] of job.targets.entries()) {
      const t = fuzzer.targets.find((x) => x.name === plan.name);
      if (!t) throw new Error(`no target ${plan.name} in ${fuzzer.name}`);
      let count = 0;
      const started = performance.now();
      const details = fc.check(
        fc.property(t.arbitrary, (v) => {
          const index = count++;
          if ((count & 63) === 0) writeSync(PROGRESS_FD, `P ${k} ${count}\n`);
          if (plant) planted(t.name, index);
          t.check(v);
        }),
        { seed: plan.seed, numRuns: plan.numRuns },
      );
      const ms = performance.now() - started;
      if (details.failed) {
        await send({
          type: 'result',
          target: t.name,
          runs: details.numRuns,
          ms,
          failed: true,
          error: errorText(details.errorInstance),
          counterexample: details.counterexample ? encodeInput(details.counterexample[0]) : undefined,
          ...(details.counterexamplePath ? { path: details.counterexamplePath } : {}),
        });
      } else {
        await send({ type: 'result', target: t.name, runs: details.numRuns, ms, failed: false });
      }
    }
    return;
  }
  const { target } = targetNamed(job.target);
  if (job.mode === 'locate') {
    let i = 0;
    fc.check(
      fc.property(target.arbitrary, (v) => {
        const index = i++;
        if (index < job.from) return;
        writeSync(PROGRESS_FD, `L ${index}\n`);
        if (plant) planted(target.name, index);
        target.check(v);
      }),
      { seed: job.seed, numRuns: job.from + job.count, endOnFailure: true },
    );
    await send({ type: 'located-none' });
    return;
  }
  let i = 0;
  let captured: unknown;
  fc.check(
    fc.property(target.arbitrary, (v) => {
      if (i++ === job.index) captured = v;
    }),
    { seed: job.seed, numRuns: job.index + 1 },
  );
  await send({ type: 'extracted', input: encodeInput(captured) });
}

process.once('message', (job: ChildJob) => {
  run(job).then(
    () => process.disconnect(),
    (e: unknown) => {
      process.stderr.write(`fuzz child: ${errorText(e)}\n`);
      process.exit(2);
    },
  );
});
