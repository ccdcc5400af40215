/**
 * `npm run test:faults [-- --long] [-- --only NAME[,NAME]]`: reliability and security as
 * counted properties. Runs, in this order and one at a time (so that timings are not
 * disturbed by each other): the simulator fault scenarios, the real-lab fault scenarios,
 * the security sweep, the resource bounds, the fuzzers, and the VM scenarios (WiFi and
 * cellular on real wpa_supplicant/pppd under QEMU; long run only). Prints a table and
 * writes faults/results/<short|long>.json; exits 1 if anything failed.
 *
 *   --long          the long run (1,000 flaps, 1,000,000 fuzz cases per fuzzer, 100k cycles, …)
 *   --only LIST     scenarios by name or group (sim, lab, security, bounds, fuzz, vm,
 *                   fuzz:dhcp, fuzz:wpa, fuzz:at, fuzz:nic), comma-separated
 *   --fuzz-cases N  cases per fuzzer (default 1,000,000 long, 4,000 short)
 *   --no-vm         skip the VM scenarios in the long run
 *   --list          list the scenarios and exit
 * Needs root (namespaces), dnsmasq, Kea, and for the VM QEMU (test/lab/vm/build.sh).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runScenarios } from './lib/matrix.js';
import type { Scenario, ScenarioResult } from './lib/types.js';
import { simScenarios } from './matrix/sim.js';
import { labScenarios } from './matrix/lab.js';
import { securityScenarios } from './security/sweep.js';
import { boundsScenarios } from './bounds/run.js';
import { vmScenarios } from './vm/scenarios.js';
import { runFuzzers, type TargetResult } from './fuzz/runner.js';
import { fuzzers } from './fuzz/all.js';

export interface FaultsOptions {
  long: boolean;
  only?: string[];
  fuzzCases?: number;
  vm?: boolean;
  log?: (line: string) => void;
}

export interface FaultsReport {
  mode: 'long' | 'short';
  startedAt: string;
  durationS: number;
  machine: { cpus: number; cpuModel: string; memoryGb: number; kernel: string; node: string; loadAverage: { start: number[]; end: number[] } };
  commit: string;
  scenarios: ScenarioResult[];
  fuzz: TargetResult[];
  ok: boolean;
}

export const groups: Record<string, readonly Scenario[]> = {
  sim: simScenarios,
  lab: labScenarios,
  security: securityScenarios,
  bounds: boundsScenarios,
  vm: vmScenarios,
};

function selected(name: string, group: string, only: string[] | undefined): boolean {
  return !only || only.includes(name) || only.includes(group);
}

export async function runFaults(options: FaultsOptions): Promise<FaultsReport> {
  const log = options.log ?? ((l: string) => console.log(l));
  const started = performance.now();
  const loadStart = loadavg();
  // The code under test is HEAD when the run starts (others may commit while it runs).
  const commit = gitCommit();
  const ctx = { long: options.long, log };
  const scenarios: ScenarioResult[] = [];
  for (const group of ['sim', 'lab', 'security', 'bounds'] as const) {
    scenarios.push(...(await runScenarios(groups[group]!.filter((s) => selected(s.name, group, options.only)), ctx)));
  }
  const fuzzOnly = fuzzers.map((f) => f.name).filter((n) => selected(`fuzz:${n}`, 'fuzz', options.only));
  let fuzz: TargetResult[] = [];
  if (fuzzOnly.length > 0) {
    const casesPerFuzzer = options.fuzzCases ?? (options.long ? 1_000_000 : 4_000);
    log(`fuzz: ${casesPerFuzzer.toLocaleString('en')} cases per fuzzer (${fuzzOnly.join(', ')}), 2 at a time`);
    fuzz = await runFuzzers({ casesPerFuzzer, only: fuzzOnly, jobs: 2, hangMs: 60_000, log });
  }
  // The VM boots a second kernel under QEMU/TCG (minutes): in the long run, or when named.
  const vmNamed = options.only?.some((o) => o === 'vm' || vmScenarios.some((s) => s.name === o)) ?? false;
  if (options.vm !== false && (vmNamed || (options.long && !options.only))) {
    scenarios.push(...(await runScenarios(vmScenarios.filter((s) => selected(s.name, 'vm', options.only)), ctx)));
  }
  const ok = scenarios.every((s) => s.ok) && fuzz.every((f) => f.outcome === 'ok');
  return {
    mode: options.long ? 'long' : 'short',
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    durationS: Math.round((performance.now() - started) / 100) / 10,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
      loadAverage: { start: loadStart.map((x) => Math.round(x * 100) / 100), end: loadavg().map((x) => Math.round(x * 100) / 100) },
    },
    commit,
    scenarios,
    fuzz,
    ok,
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) }).trim();
  } catch {
    return 'unknown';
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function formatReport(r: FaultsReport): string {
  const lines: string[] = [];
  lines.push(`\nnicup faults (${r.mode}) at ${r.commit}: ${r.ok ? 'all passed' : 'FAILURES'} in ${r.durationS} s`);
  lines.push('');
  lines.push(`${pad('scenario', 28)} ${pad('where', 5)} ${pad('ok', 4)} ${pad('n', 7)} ${pad('recovery median / p95 / max', 34)} left behind`);
  for (const s of r.scenarios) {
    const rec = s.recovery ? `${s.recovery.median} / ${s.recovery.p95} / ${s.recovery.max} ${s.recovery.unit}` : '-';
    lines.push(`${pad(s.name, 28)} ${pad(s.where, 5)} ${pad(s.ok ? 'ok' : 'FAIL', 4)} ${pad(String(s.iterations), 7)} ${pad(rec, 34)} ${s.leftBehind.length ? s.leftBehind.join('; ') : 'nothing'}`);
    if (s.error) lines.push(`    ${s.error.split('\n').filter((l) => !/^\s+at /.test(l)).join('\n    ')}`);
  }
  if (r.fuzz.length > 0) {
    lines.push('');
    lines.push(`${pad('fuzz target', 26)} ${pad('outcome', 8)} ${pad('cases', 10)} ${pad('per s', 8)} seed`);
    for (const f of r.fuzz) {
      lines.push(`${pad(f.target, 26)} ${pad(f.outcome, 8)} ${pad(f.cases.toLocaleString('en'), 10)} ${pad(String(f.perSecond), 8)} ${f.seed}${f.detail ? `  ${f.detail.split('\n')[0]}` : ''}${f.regression ? `  saved: ${f.regression}` : ''}`);
    }
    for (const name of new Set(r.fuzz.map((f) => f.fuzzer))) {
      const total = r.fuzz.filter((f) => f.fuzzer === name).reduce((s, f) => s + f.cases, 0);
      lines.push(`  ${name}: ${total.toLocaleString('en')} cases`);
    }
  }
  return lines.join('\n');
}

function parseArgs(argv: string[]): FaultsOptions & { list: boolean } {
  const o: FaultsOptions & { list: boolean } = { long: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--long') o.long = true;
    else if (a === '--list') o.list = true;
    else if (a === '--no-vm') o.vm = false;
    else if (a === '--only') o.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--fuzz-cases') o.fuzzCases = Number(argv[++i]);
    else throw new Error(`faults/run.ts: unknown argument ${a} (--long, --only NAME[,NAME], --fuzz-cases N, --no-vm, --list)`);
  }
  return o;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const o = parseArgs(process.argv.slice(2));
  if (o.list) {
    for (const [group, list] of Object.entries(groups)) for (const s of list) console.log(`${pad(s.name, 28)} ${pad(group, 9)} ${s.description}`);
    for (const f of fuzzers) for (const t of f.targets) console.log(`${pad(t.name, 28)} ${pad(`fuzz:${f.name}`, 9)} ${t.description}`);
    process.exit(0);
  }
  const report = await runFaults(o);
  console.log(formatReport(report));
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${o.only ? `${report.mode}-partial` : report.mode}.json`;
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults: ${file}`);
  process.exit(report.ok ? 0 : 1);
}
