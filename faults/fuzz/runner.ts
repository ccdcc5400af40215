/**
 * Runs the fuzzers in child processes (child.ts), a given number of cases each, split over
 * each fuzzer's targets by weight, `jobs` fuzzers at a time. A crash (a broken invariant or
 * an exception) comes back shrunk by fast-check; a hang is a child whose progress stops: it
 * is killed, the case is found again from the same seed (locate, then extract) in fresh
 * children. Either is saved as a data file in the fuzzer's regressions folder, which a
 * test beside it replays on every `npm test`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { fuzzers } from './all.js';
import type { ChildJob, ChildMessage } from './child.js';
import type { Fuzzer, RegressionCase } from './types.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STARTUP_MS = 120_000;

export interface FuzzOptions {
  /** Cases per fuzzer (split over its targets by weight). */
  casesPerFuzzer: number;
  /** Fuzzers run at the same time. */
  jobs?: number;
  /** No progress for this long counts as a hang. */
  hangMs?: number;
  /** Only these fuzzers ("dhcp", "wpa", "at", "nic"). */
  only?: readonly string[];
  /** Write crash and hang inputs to the regressions folders (default true). */
  save?: boolean;
  /** Fixed seed for every target (default: a fresh random one each, reported). */
  seed?: number;
  log?: (line: string) => void;
}

export interface TargetResult {
  fuzzer: string;
  target: string;
  description: string;
  cases: number;
  planned: number;
  seed: number;
  ms: number;
  perSecond: number;
  outcome: 'ok' | 'crash' | 'hang' | 'error';
  detail?: string;
  /** Where the input was saved. */
  regression?: string;
}

interface ChildRun {
  messages: ChildMessage[];
  /** Last progress line. */
  progress: { target: number; count: number } | undefined;
  lastLocated: number | undefined;
  hung: boolean;
  exitCode: number | null;
  stderr: string;
}

/** Starts a child on a job; resolves when it exits or is killed for making no progress. */
function runChild(job: ChildJob, hangMs: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--stack-size=4000', CHILD], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'ipc'],
    });
    const out: ChildRun = { messages: [], progress: undefined, lastLocated: undefined, hung: false, exitCode: null, stderr: '' };
    let lastAt = performance.now();
    // Loading TypeScript on a busy machine can take seconds: the hang clock starts once the child is ready.
    let ready = false;
    let pending = '';
    (child.stdio[3] as Readable).setEncoding('utf8').on('data', (chunk: string) => {
      lastAt = performance.now();
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const f = line.split(' ');
        if (f[0] === 'R') ready = true;
        if (f[0] === 'P') out.progress = { target: Number(f[1]), count: Number(f[2]) };
        if (f[0] === 'L') out.lastLocated = Number(f[1]);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out.stderr = (out.stderr + d).slice(-4000)));
    child.on('message', (m: ChildMessage) => {
      lastAt = performance.now();
      out.messages.push(m);
    });
    const watchdog = setInterval(() => {
      if (performance.now() - lastAt > (ready ? hangMs : STARTUP_MS)) {
        out.hung = true;
        child.kill('SIGKILL');
      }
    }, Math.min(1000, hangMs / 4));
    child.once('exit', (code) => {
      clearInterval(watchdog);
      out.exitCode = code;
      resolve(out);
    });
    child.send(job);
  });
}

function saveRegression(fuzzer: Fuzzer, c: RegressionCase): string {
  const body = `${JSON.stringify(c, null, 2)}\n`;
  const hash = createHash('sha256').update(JSON.stringify(c.input)).digest('hex').slice(0, 12);
  mkdirSync(fuzzer.regressionsDir, { recursive: true });
  const file = join(fuzzer.regressionsDir, `${c.target}-${c.kind}-${hash}.json`);
  writeFileSync(file, body);
  return file;
}

async function findHang(targetName: string, seed: number, from: number, hangMs: number): Promise<{ index: number; input: unknown } | undefined> {
  // The hang is at or after the last progress mark (progress is written every 64 cases).
  const located = await runChild({ mode: 'locate', target: targetName, seed, from, count: 1024 }, hangMs);
  if (!located.hung || located.lastLocated === undefined) return undefined;
  const extracted = await runChild({ mode: 'extract', target: targetName, seed, index: located.lastLocated }, hangMs);
  const m = extracted.messages.find((x) => x.type === 'extracted');
  return m && m.type === 'extracted' ? { index: located.lastLocated, input: m.input } : undefined;
}

async function runOneFuzzer(fuzzer: Fuzzer, options: Required<Omit<FuzzOptions, 'only' | 'seed' | 'log'>> & FuzzOptions): Promise<TargetResult[]> {
  const log = options.log ?? (() => {});
  const weights = fuzzer.targets.reduce((s, t) => s + t.weight, 0);
  const plan = fuzzer.targets.map((t) => ({
    name: t.name,
    description: t.description,
    numRuns: Math.max(1, Math.ceil((options.casesPerFuzzer * t.weight) / weights)),
    seed: options.seed ?? Math.floor(Math.random() * 0x7fffffff),
  }));
  const results: TargetResult[] = [];
  let remaining = plan;
  while (remaining.length > 0) {
    const started = performance.now();
    const run = await runChild({ mode: 'run', fuzzer: fuzzer.name, targets: remaining.map(({ name, numRuns, seed }) => ({ name, numRuns, seed })) }, options.hangMs);
    const done = run.messages.filter((m): m is Extract<ChildMessage, { type: 'result' }> => m.type === 'result');
    for (const m of done) {
      const p = remaining.find((x) => x.name === m.target)!;
      const r: TargetResult = { fuzzer: fuzzer.name, target: m.target, description: p.description, cases: m.runs, planned: p.numRuns, seed: p.seed, ms: Math.round(m.ms), perSecond: Math.round(m.runs / Math.max(m.ms, 1) * 1000), outcome: m.failed ? 'crash' : 'ok' };
      if (m.failed) {
        r.detail = m.error ?? 'failed';
        if (options.save && m.counterexample !== undefined) {
          r.regression = saveRegression(fuzzer, { target: m.target, kind: 'crash', note: (m.error ?? '').split('\n')[0] ?? '', input: m.counterexample, found: { at: new Date().toISOString(), seed: p.seed, ...(m.path ? { path: m.path } : {}) } });
        }
        log(`fuzz ${m.target}: CRASH after ${m.runs} cases (seed ${p.seed}): ${(m.error ?? '').split('\n')[0]}`);
      } else {
        log(`fuzz ${m.target}: ${m.runs} cases, ${r.perSecond}/s`);
      }
      results.push(r);
    }
    const next = remaining.slice(done.length);
    if (next.length === 0) break;
    const current = next[0]!;
    const elapsed = Math.round(performance.now() - started);
    if (run.hung) {
      const from = run.progress && run.progress.target === done.length ? run.progress.count - 64 : 0;
      log(`fuzz ${current.name}: no progress for ${options.hangMs} ms after ${from + 64} cases: looking for the case that hangs (seed ${current.seed})`);
      const found = await findHang(current.name, current.seed, Math.max(0, from), options.hangMs);
      const r: TargetResult = { fuzzer: fuzzer.name, target: current.name, description: current.description, cases: found?.index ?? from, planned: current.numRuns, seed: current.seed, ms: elapsed, perSecond: 0, outcome: 'hang' };
      if (found) {
        r.detail = `case ${found.index} of seed ${current.seed} does not return within ${options.hangMs} ms`;
        if (options.save) r.regression = saveRegression(fuzzer, { target: current.name, kind: 'hang', note: r.detail, input: found.input, found: { at: new Date().toISOString(), seed: current.seed, index: found.index } });
      } else {
        r.detail = `stopped making progress (seed ${current.seed}); the case could not be found again`;
      }
      results.push(r);
      remaining = next.slice(1);
    } else {
      results.push({ fuzzer: fuzzer.name, target: current.name, description: current.description, cases: 0, planned: current.numRuns, seed: current.seed, ms: elapsed, perSecond: 0, outcome: 'error', detail: `the fuzz child exited (code ${run.exitCode}) without a result: ${run.stderr.trim().split('\n').slice(-6).join(' | ')}` });
      remaining = next.slice(1);
    }
  }
  return results;
}

/** Runs the fuzzers; never rejects for a finding (it is in the results). */
export async function runFuzzers(options: FuzzOptions): Promise<TargetResult[]> {
  const opts = { jobs: 2, hangMs: 30_000, save: true, ...options };
  // The slowest first (NIC values are whole object graphs; DHCP runs 40-step machine
  // sequences), so that two workers finish close together.
  const cost = ['nic', 'dhcp', 'at', 'wpa'];
  const queue = fuzzers.filter((f) => !opts.only || opts.only.includes(f.name)).sort((a, b) => cost.indexOf(a.name) - cost.indexOf(b.name));
  const results: TargetResult[] = [];
  const workers = Array.from({ length: Math.max(1, opts.jobs) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) results.push(...(await runOneFuzzer(f, opts)));
  });
  await Promise.all(workers);
  const order = fuzzers.flatMap((f) => f.targets.map((t) => t.name));
  return results.sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target));
}
