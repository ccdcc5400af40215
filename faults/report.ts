/**
 * Renders a results file (faults/results/long.json) as the Markdown tables of
 * docs/reliability.md: node --import tsx faults/report.ts [FILE]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FaultsReport } from './run.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdown(r: FaultsReport): string {
  const out: string[] = [];
  out.push(`Run: ${r.mode}, commit ${r.commit}, ${r.startedAt}, ${r.durationS} s; ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB, Linux ${r.machine.kernel}, Node ${r.machine.node}; load average ${r.machine.loadAverage.start.join('/')} at the start, ${r.machine.loadAverage.end.join('/')} at the end.`);
  out.push('');
  out.push('| scenario | where | n | final state (checked) | recovery median / p95 / max | left behind | result |');
  out.push('|---|---|---|---|---|---|---|');
  for (const s of r.scenarios) {
    const rec = s.recovery ? `${s.recovery.median} / ${s.recovery.p95} / ${s.recovery.max} ${s.recovery.unit}` : '–';
    out.push(`| ${s.name} | ${s.where} | ${s.iterations.toLocaleString('en')} | ${esc(s.finalState || '–')} | ${rec} | ${esc(s.leftBehind.join('; ') || 'nothing')} | ${s.ok ? 'pass' : `**FAIL**: ${esc((s.error ?? '').split('\n').filter((l) => !/^\s+at /.test(l)).join(' '))}`} |`);
  }
  out.push('');
  out.push('Other figures:');
  out.push('');
  for (const s of r.scenarios) {
    for (const [k, v] of Object.entries(s.figures)) if (!/guest wall time/.test(k)) out.push(`- ${s.name}: ${esc(k)}: ${esc(String(v))}`);
  }
  if (r.fuzz.length > 0) {
    out.push('');
    out.push('| fuzz target | what | cases | cases/s | outcome |');
    out.push('|---|---|---|---|---|');
    for (const f of r.fuzz) out.push(`| ${f.target} | ${esc(f.description)} | ${f.cases.toLocaleString('en')} | ${f.perSecond.toLocaleString('en')} | ${f.outcome}${f.detail ? `: ${esc(f.detail.split('\n')[0] ?? '')}` : ''} |`);
    out.push('');
    for (const name of new Set(r.fuzz.map((f) => f.fuzzer))) {
      const total = r.fuzz.filter((f) => f.fuzzer === name).reduce((s, f) => s + f.cases, 0);
      out.push(`- ${name}: ${total.toLocaleString('en')} cases`);
    }
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2] ?? fileURLToPath(new URL('./results/long.json', import.meta.url));
  console.log(markdown(JSON.parse(readFileSync(file, 'utf8')) as FaultsReport));
}
