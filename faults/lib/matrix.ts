/**
 * Runs fault scenarios one at a time. Around each: a snapshot of what this process holds
 * (probe.ts) before, and after the scenario has closed everything, the difference — a
 * descriptor, a handle or timer, a child process, a namespace, a ledger file — counts as
 * left behind and fails the scenario, as does a broken assertion. VM scenarios run nicup
 * in the guest, which reports its own leftovers: this process is not probed for them
 * (it holds QEMU's tooling, e.g. the esbuild service that bundles the guest scripts).
 */
import { leftBehind, snapshot } from './probe.js';
import { summarize, type Scenario, type ScenarioContext, type ScenarioResult } from './types.js';

export async function runScenario(s: Scenario, ctx: ScenarioContext): Promise<ScenarioResult> {
  const before = snapshot();
  const started = performance.now();
  let error: string | undefined;
  let outcome;
  try {
    outcome = await s.run(ctx);
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 8).join('\n') : String(e);
  }
  const durationMs = Math.round(performance.now() - started);
  const left = [...(outcome?.leftBehind ?? []), ...(s.where === 'vm' ? [] : await leftBehind(before))];
  const recovery = summarize(outcome?.recoveryMs ?? []);
  const result: ScenarioResult = {
    name: s.name,
    where: s.where,
    description: s.description,
    ok: error === undefined && left.length === 0,
    iterations: outcome?.iterations ?? 0,
    finalState: outcome?.finalState ?? (error ? 'not reached' : ''),
    leftBehind: left,
    figures: outcome?.figures ?? {},
    durationMs,
  };
  if (error !== undefined) result.error = error;
  if (recovery) result.recovery = { ...recovery, unit: outcome?.recoveryUnit ?? 'ms' };
  return result;
}

export async function runScenarios(list: readonly Scenario[], ctx: ScenarioContext): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const s of list) {
    ctx.log(`fault ${s.name}: ${s.description}`);
    const r = await runScenario(s, ctx);
    const rec = r.recovery ? `, recovery median ${r.recovery.median} / p95 ${r.recovery.p95} / max ${r.recovery.max} ${r.recovery.unit}` : '';
    ctx.log(`fault ${s.name}: ${r.ok ? 'ok' : 'FAILED'} in ${(r.durationMs / 1000).toFixed(1)} s, ${r.iterations} iteration(s)${rec}${r.error ? `\n  ${r.error.split('\n')[0]}` : ''}${r.leftBehind.length ? `\n  left behind: ${r.leftBehind.join('; ')}` : ''}`);
    out.push(r);
  }
  return out;
}
