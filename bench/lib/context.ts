/**
 * What every benchmark section gets: the lab, the peers' jail, the compiled workers, the
 * settings (from the environment) and a progress log.
 *
 *   NICUP_BENCH_RUNS       bring-up runs per variant and server configuration (default 30; quick 3)
 *   NICUP_BENCH_SLOW_RUNS  runs for peers whose bring-up is seconds of timers (default 8; quick 1)
 *   NICUP_BENCH_QUICK=1    the ~1-minute smoke version
 *   NICUP_BENCH_ONLY       comma list of sections to run (bringup,linkloss,udp,memory,scale)
 *   NICUP_BENCH_OUT        results directory (default bench/results)
 */
import type { Lab } from '../../test/lab/netns.js';
import type { PeerJail } from './jail.js';
import type { JsBuild } from './js-build.js';

export interface BenchSettings {
  quick: boolean;
  runs: number;
  slowRuns: number;
  linkFlaps: number;
  udp: { count: number; sizes: number[]; rttCount: number; reps: number; maxSeconds: number };
  memory: { simCycles: number; labCycles: number };
  scale: { sizes: number[]; repeats: Record<number, number> };
  sections: Set<string>;
  outDir: string;
}

export const ALL_SECTIONS = ['bringup', 'linkloss', 'udp', 'memory', 'scale'] as const;

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: must be a positive integer (got "${raw}")`);
  return n;
}

export function settingsFromEnv(defaultOutDir: string): BenchSettings {
  const quick = process.env.NICUP_BENCH_QUICK === '1';
  const only = (process.env.NICUP_BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of only) {
    if (!(ALL_SECTIONS as readonly string[]).includes(s)) throw new Error(`NICUP_BENCH_ONLY: unknown section "${s}" (known: ${ALL_SECTIONS.join(', ')})`);
  }
  return {
    quick,
    runs: intFromEnv('NICUP_BENCH_RUNS', quick ? 3 : 30),
    slowRuns: intFromEnv('NICUP_BENCH_SLOW_RUNS', quick ? 1 : 8),
    linkFlaps: quick ? 30 : 100,
    udp: quick
      ? { count: 20_000, sizes: [64, 1400], rttCount: 2_000, reps: 2, maxSeconds: 5 }
      : { count: 100_000, sizes: [64, 1400], rttCount: 10_000, reps: 5, maxSeconds: 10 },
    memory: quick ? { simCycles: 2_000, labCycles: 100 } : { simCycles: 10_000, labCycles: 1_000 },
    scale: quick ? { sizes: [1, 16, 64], repeats: { 1: 3, 16: 2, 64: 1 } } : { sizes: [1, 16, 64, 256], repeats: { 1: 5, 16: 5, 64: 3, 256: 3 } },
    sections: new Set(only.length > 0 ? only : ALL_SECTIONS),
    outDir: process.env.NICUP_BENCH_OUT ?? defaultOutDir,
  };
}

export interface BenchContext {
  lab: Lab;
  jail: PeerJail;
  js: JsBuild;
  /** A private temporary directory for scripts, lease files and the like. */
  workDir: string;
  settings: BenchSettings;
  log(message: string): void;
}

/** Disables IPv6 in a lab namespace: no router solicitations or DAD traffic adding noise to the timings. */
export async function quietNamespace(lab: Lab, ns: string): Promise<void> {
  for (const key of ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']) {
    await lab.exec(ns, ['sysctl', '-q', '-w', key]);
  }
}
