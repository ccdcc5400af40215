/** The fault matrix's shapes: a scenario, what it reports, and small statistics. */

export type Where = 'lab' | 'sim' | 'vm';

export interface ScenarioContext {
  /** The long run (1,000 flaps instead of ~50, …). */
  long: boolean;
  log(line: string): void;
}

/** What a scenario's body returns; the runner adds timing, leak checks and the verdict. */
export interface ScenarioOutcome {
  /** How many times the fault was applied and recovered from. */
  iterations: number;
  /** The final state, as checked ("CONNECTED 192.168.77.23, 1 address, 1 default route"). */
  finalState: string;
  /** Fault removed → recovered, per iteration. */
  recoveryMs?: number[];
  /** 'ms' (wall clock) or 'virtual ms' (the simulator's clock). */
  recoveryUnit?: 'ms' | 'virtual ms';
  /** Problems the scenario itself found in what it left (kernel state, timers, world). */
  leftBehind?: string[];
  /** Other numbers worth reporting. */
  figures?: Record<string, number | string>;
}

export interface Scenario {
  name: string;
  where: Where;
  description: string;
  /** Throws (assertion) when the fault was not survived; returns what it measured. */
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

export interface Summary {
  n: number;
  median: number;
  p95: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, median: round(at(0.5)), p95: round(at(0.95)), max: round(s[s.length - 1]!) };
}

export interface ScenarioResult {
  name: string;
  where: Where;
  description: string;
  ok: boolean;
  error?: string;
  iterations: number;
  finalState: string;
  recovery?: Summary & { unit: string };
  /** Empty when the scenario left nothing behind. */
  leftBehind: string[];
  figures: Record<string, number | string>;
  durationMs: number;
}
