// Shared by the fault-matrix guest scripts (run by node inside the VM lab, see scenarios.ts):
// each fault scenario prints one `FAULT-RESULT: {json}` line (the host turns it into a
// matrix row) and LAB-PASS/LAB-FAIL for the console protocol; a sampler watches the command
// line of every process in the guest for the secrets while the scripts run.
// The node helpers of the VM lab's own guest scripts (processes, sleep, waitUntil) serve here too.
import { readdirSync } from 'node:fs';
import { processes } from '../../test/lab/vm/guest-lib.js';

export { sleep, waitUntil } from '../../test/lab/vm/guest-lib.js';

export interface GuestResult {
  name: string;
  ok: boolean;
  iterations: number;
  finalState: string;
  recoveryMs: number[];
  leftBehind: string[];
  figures: Record<string, string | number>;
  error?: string;
}

/** Runs one scenario body and prints its result line. */
export async function scenario(name: string, body: (r: GuestResult) => Promise<void>): Promise<boolean> {
  const r: GuestResult = { name, ok: false, iterations: 0, finalState: '', recoveryMs: [], leftBehind: [], figures: {} };
  const started = performance.now();
  try {
    await body(r);
    r.ok = r.leftBehind.length === 0;
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  }
  r.figures['guest wall time (s)'] = Math.round((performance.now() - started) / 100) / 10;
  console.log(`FAULT-RESULT: ${JSON.stringify(r)}`);
  console.log(r.ok ? `LAB-PASS: ${name}` : `LAB-FAIL: ${name}: ${(r.error ?? r.leftBehind.join('; ')).replace(/\n/g, ' ')}`);
  return r.ok;
}

/** Samples /proc/PID/cmdline of every process every `everyMs` until stopped; returns what it saw. */
export function cmdlineSampler(everyMs = 20): { stop(): string[] } {
  const seen = new Set<string>();
  const sample = () => {
    for (const p of processes()) seen.add(p.cmdline.join(' '));
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return [...seen];
    },
  };
}

/** Files of nicup's ledgers still in /run/nicup (leftovers, children): after every close there must be none. */
export function ledgerFiles(): string[] {
  const left: string[] = [];
  for (const dir of ['/run/nicup/leftovers', '/run/nicup/children']) {
    try {
      for (const f of readdirSync(dir)) left.push(`${dir}/${f}`);
    } catch {
      // no such directory: nothing recorded
    }
  }
  return left;
}
