/**
 * Resource bounds: runs child.ts (node --expose-gc) and judges its samples. Flat means:
 * JavaScript data on the heap grows by less than a small allowance after the warm-up,
 * descriptors and libuv resources end where they started, no timer is left armed between
 * cycles, and the listener counts never grow.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BoundsSample } from './child.js';
import type { Scenario, ScenarioOutcome } from '../lib/types.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface ChildOutput {
  samples: (BoundsSample & Record<string, unknown>)[];
  done: Record<string, number | boolean>;
}

/** Heap-snapshot node types that JavaScript allocates (not code, not V8's own bookkeeping). */
const DATA_TYPES = new Set(['array', 'string', 'object', 'closure', 'regexp', 'number', 'concatenated string', 'sliced string', 'symbol', 'bigint']);

/**
 * Bytes of JavaScript data in a heap snapshot. heapUsed also counts the code V8 keeps
 * compiling and re-optimizing (it grows for a long while in any long loop); this counts
 * objects, strings, arrays and closures: where a leak would be.
 */
function jsDataBytes(file: string): number {
  try {
    const snap = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[] };
    const width = snap.snapshot.meta.node_fields.length;
    const types = snap.snapshot.meta.node_types[0];
    const sizeAt = snap.snapshot.meta.node_fields.indexOf('self_size');
    let total = 0;
    for (let i = 0; i < snap.nodes.length; i += width) if (DATA_TYPES.has(types[snap.nodes[i]!]!)) total += snap.nodes[i + sizeAt]!;
    return total;
  } finally {
    rmSync(file, { force: true });
  }
}

function runChild(args: string[]): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('exit', (code) => {
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const done = lines.find((l) => l.done === true) as ChildOutput['done'] | undefined;
      if (code !== 0 || !done) {
        for (const l of lines) if (typeof l.snapshot === 'string') rmSync(l.snapshot, { force: true });
        return reject(new Error(`bounds child ${args.join(' ')} exited ${code}: ${err.trim().slice(-2000)}`));
      }
      const samples = lines.filter((l) => l.done === undefined) as ChildOutput['samples'];
      for (const smp of samples) if (smp.snapshot !== undefined) smp.jsData = jsDataBytes(smp.snapshot);
      resolve({ samples, done });
    });
  });
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

/**
 * What must not grow, over the samples after the warm-up (the first JavaScript-data
 * sample). The decisive memory figure is JavaScript data (objects, strings, arrays,
 * closures, from heap snapshots): heapUsed also holds the code V8 keeps optimizing, which
 * grows slowly for a long while in any long loop, so it gets only a loose bound.
 */
function judge(samples: BoundsSample[], x: (s: BoundsSample) => number, allowance: { dataBytes: number; heapBytes: number; rssBytes: number }, unit: string): { problems: string[]; figures: Record<string, string | number> } {
  const problems: string[] = [];
  const from = samples.findIndex((s) => s.jsData !== undefined);
  const warm = samples.slice(Math.max(0, from));
  const first = warm[0]!;
  const last = warm[warm.length - 1]!;
  const heapGrowth = last.heapUsed - first.heapUsed;
  const heapSlope = slope(warm.map(x), warm.map((s) => s.heapUsed));
  const data = warm.filter((s) => s.jsData !== undefined);
  const dataGrowth = (data[data.length - 1]?.jsData ?? 0) - (data[0]?.jsData ?? 0);
  const span = x(last) - x(first);
  if (data.length < 2) problems.push('fewer than two JavaScript-data samples');
  if (dataGrowth > allowance.dataBytes) problems.push(`JavaScript data on the heap grew ${kb(dataGrowth)} from ${unit} ${x(first)} to ${x(last)} (allowed ${kb(allowance.dataBytes)}): ${data.map((s) => s.jsData).join(' → ')}`);
  if (heapGrowth > allowance.heapBytes) problems.push(`heap after GC grew ${kb(heapGrowth)} from ${unit} ${x(first)} to ${x(last)} (allowed ${kb(allowance.heapBytes)})`);
  // RSS from the sample after the first snapshot (taking one raises RSS) to the last (taken before its snapshot).
  const rssFrom = warm[1] ?? first;
  const rssGrowth = last.rss - rssFrom.rss;
  if (rssGrowth > allowance.rssBytes) problems.push(`RSS grew ${mb(rssGrowth)} from ${unit} ${x(rssFrom)} to ${x(last)} (allowed ${mb(allowance.rssBytes)})`);
  for (const k of ['fds', 'resources', 'worldListeners', 'handleListeners', 'sessions', 'timers'] as const) {
    const values = new Set(warm.map((s) => s[k]));
    if (values.size > 1) problems.push(`${k} not flat: ${warm.map((s) => s[k]).join(' ')}`);
  }
  return {
    problems,
    figures: {
      [`JavaScript data on the heap, ${unit} ${x(first)} → ${x(last)}`]: `${mb(data[0]?.jsData ?? 0)} → ${mb(data[data.length - 1]?.jsData ?? 0)} (${dataGrowth >= 0 ? '+' : ''}${kb(dataGrowth)}; ${(dataGrowth / Math.max(1, span)).toFixed(2)} B/${unit})`,
      [`heapUsed after GC (incl. V8 code), ${unit} ${x(first)} → ${x(last)}`]: `${mb(first.heapUsed)} → ${mb(last.heapUsed)} (${heapGrowth >= 0 ? '+' : ''}${kb(heapGrowth)}; slope ${heapSlope.toFixed(2)} B/${unit})`,
      [`RSS, ${unit} ${x(rssFrom)} → ${x(last)}`]: `${mb(rssFrom.rss)} → ${mb(last.rss)}`,
      'descriptors / libuv resources': `${first.fds} → ${last.fds} / ${first.resources} → ${last.resources}`,
      'virtual-clock timers armed': [...new Set(warm.map((s) => s.timers))].join(', '),
      'listeners on the world / on the last closed handle': `${first.worldListeners} → ${last.worldListeners} / ${last.handleListeners}`,
      'simulator records emptied before sampling (DHCP messages, AT commands)': last.simRecords,
    },
  };
}

export const boundsScenarios: Scenario[] = [
  {
    name: 'bounds-open-close',
    where: 'sim',
    description: 'open → CONNECTED → close cycles on the simulator (100,000 long, 10,000 short; every 10th WiFi, every 50th cellular)',
    async run(ctx): Promise<ScenarioOutcome> {
      const cycles = ctx.long ? 100_000 : 10_000;
      const out = await runChild(['open-close', String(cycles)]);
      const { problems, figures } = judge(out.samples, (s) => s.at, { dataBytes: ctx.long ? 256 * 1024 : 128 * 1024, heapBytes: 16 * 1048576, rssBytes: 32 * 1048576 }, 'cycle');
      if (out.samples.some((s) => s.timers !== 0)) problems.push(`timers left armed after a cycle: ${out.samples.map((s) => s.timers).join(' ')}`);
      if (out.samples.some((s) => s.sessions !== 0)) problems.push('a session outlived its close');
      if (problems.length > 0) throw new Error(problems.join('; '));
      return { iterations: cycles, finalState: `${cycles} cycles, every one CONNECTED then closed; nothing open after`, figures: { ...figures, 'wall time per cycle': `${(Number(out.done.ms) / cycles).toFixed(2)} ms` } };
    },
  },
  {
    name: 'bounds-dhcp-day',
    where: 'sim',
    description: 'a day of 60 s DHCP leases, time-compressed on the simulator (24 simulated hours long, 8 short)',
    async run(ctx): Promise<ScenarioOutcome> {
      const hours = ctx.long ? 24 : 8;
      const out = await runChild(['dhcp-day', String(hours)]);
      const { problems, figures } = judge(out.samples, (s) => s.at, { dataBytes: 64 * 1024, heapBytes: 4 * 1048576, rssBytes: 16 * 1048576 }, 'hour');
      const renewals = Number(out.done.renewals);
      // T1 = 30 s of a 60 s lease: 120 renewals an hour.
      if (renewals < hours * 120 * 0.98) problems.push(`${renewals} renewals in ${hours} h, expected about ${hours * 120}`);
      if (out.done.changesAfterConnected !== 0) problems.push(`${out.done.changesAfterConnected} state change(s) after CONNECTED (a renewal is not a change)`);
      if (out.samples.some((s) => s.state !== undefined && s.state !== 1)) problems.push('left CONNECTED during the day');
      if (out.samples.some((s) => s.address === false)) problems.push('the address changed during the day');
      if (problems.length > 0) throw new Error(problems.join('; '));
      return { iterations: renewals, finalState: `CONNECTED with the same address for ${hours} simulated hours, ${renewals} renewals, no callback`, figures: { ...figures, 'wall time': `${out.done.ms} ms` } };
    },
  },
];
