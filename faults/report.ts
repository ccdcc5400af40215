/**
 * Renders a results file (faults/results/long.json) as the Markdown of docs/reliability.md:
 *   node --import tsx faults/report.ts [FILE]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FaultsReport } from './run.js';
import type { ScenarioResult } from './lib/types.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function runLine(r: FaultsReport): string {
  return `Last long run: commit ${r.commit}, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(r.durationS / 60)} min; ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB, Linux ${r.machine.kernel}, Node ${r.machine.node}; load average ${r.machine.loadAverage.start[0]} at the start, ${r.machine.loadAverage.end[0]} at the end.`;
}

export function scenarioTable(list: readonly ScenarioResult[]): string {
  const out = ['| scenario | where | n | final state (checked) | recovery median / p95 / max | left behind | result |', '|---|---|---|---|---|---|---|'];
  for (const s of list) {
    const rec = s.recovery ? `${s.recovery.median} / ${s.recovery.p95} / ${s.recovery.max} ${s.recovery.unit}` : '–';
    const why = (s.error ?? '').split('\n').filter((l) => !/^\s+at /.test(l)).join(' ');
    const result = s.ok ? 'pass' : `**FAIL**: ${esc(why ? (why.length > 240 ? `${why.slice(0, 240)}…` : why) : 'left something behind')}`;
    out.push(`| ${s.name} | ${s.where} | ${s.iterations.toLocaleString('en')} | ${esc(s.finalState || '–')} | ${rec} | ${esc(s.leftBehind.join('; ') || 'nothing')} | ${result} |`);
  }
  return out.join('\n');
}

export function figures(list: readonly ScenarioResult[]): string {
  const out: string[] = [];
  for (const s of list) for (const [k, v] of Object.entries(s.figures)) if (!/guest wall time/.test(k)) out.push(`- ${s.name}: ${esc(k)}: ${esc(String(v))}`);
  return out.join('\n');
}

export function fuzzTable(r: FaultsReport): string {
  const out = ['| fuzz target | what | cases | cases/s | outcome |', '|---|---|---|---|---|'];
  for (const f of r.fuzz) out.push(`| ${f.target} | ${esc(f.description)} | ${f.cases.toLocaleString('en')} | ${f.perSecond.toLocaleString('en')} | ${f.outcome}${f.detail ? `: ${esc(f.detail.split('\n')[0] ?? '')}` : ''} |`);
  out.push('');
  const totals = [...new Set(r.fuzz.map((f) => f.fuzzer))].map((name) => `${name} ${r.fuzz.filter((f) => f.fuzzer === name).reduce((s, f) => s + f.cases, 0).toLocaleString('en')}`);
  out.push(`Cases per fuzzer: ${totals.join(', ')}.`);
  return out.join('\n');
}

export function markdown(r: FaultsReport): string {
  return [runLine(r), '', scenarioTable(r.scenarios), '', figures(r.scenarios), '', fuzzTable(r)].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2] ?? fileURLToPath(new URL('./results/long.json', import.meta.url));
  console.log(markdown(JSON.parse(readFileSync(file, 'utf8')) as FaultsReport));
}
