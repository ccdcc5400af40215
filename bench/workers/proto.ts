/**
 * How the benchmark talks to its child processes: the configuration is one JSON argument,
 * the result one stdout line "RESULT {json}"; anything else on stdout/stderr is diagnostics.
 * Workers import only node builtins at the top, and nicup only where a mode needs it, so a
 * "bare node" child loads nothing of nicup.
 */
import { readdirSync } from 'node:fs';

export function workerConfig<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('worker: expected the configuration as one JSON argument');
  return JSON.parse(raw) as T;
}

export function sendResult(result: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** Runs a worker's main, reports a failure on stderr with exit code 1. */
export function runWorker(main: () => Promise<unknown>): void {
  main().then(
    (r) => {
      sendResult(r);
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`worker failed: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

export interface ResourceSnapshot {
  rssBytes: number;
  heapUsedBytes: number;
  /** What V8 has committed for its heap (it grows under churn and is slow to give back). */
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  openFds: number;
  /** process.getActiveResourcesInfo(), counted by type. */
  activeResources: Record<string, number>;
  /** Listeners on `process`, all events together. */
  processListeners: number;
  /** Extra counters a mode adds (internal tables, timers). */
  extra?: Record<string, number>;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

export function snapshot(extra?: Record<string, number>): ResourceSnapshot {
  gc();
  const m = process.memoryUsage();
  const active: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) active[r] = (active[r] ?? 0) + 1;
  const s: ResourceSnapshot = {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
    openFds: readdirSync('/proc/self/fd').length,
    activeResources: active,
    processListeners: process.eventNames().reduce((t, e) => t + process.listenerCount(e), 0),
  };
  if (extra) s.extra = extra;
  return s;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
