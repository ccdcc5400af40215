// What guest/lib.sh is to the shell scripts, for the node guest scripts of the VM lab
// (wifi/wifi-lab.ts, cell/cell-lab.ts, faults/vm/): a nicup interface opened on the real
// Linux platform with every state change recorded, named checks reported on the console
// protocol (LAB-PASS/LAB-FAIL, README.md), the `<TAG>-STATES:` line the host's all-states
// test reads, and small /proc and ip helpers. Bundled into each guest script by run.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Network, stateName } from '../../../src/index.js';
import type { DriverOptions, NetInterface, NetStateValue, StateChange } from '../../../src/index.js';
import { LinuxPlatform } from '../../../src/platform/linux/index.js';

/** The shell helpers (wifi-ap.sh, modem.sh, ...); init.sh sets LAB_GUEST to the same path. */
export const guestDir = process.env['LAB_GUEST'] ?? join(import.meta.dirname, 'guest');

export interface Proc {
  pid: number;
  cmdline: string[];
}

/** Every process with a command line (kernel threads have none). */
export function processes(): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      if (cmdline.length > 0) found.push({ pid: Number(entry), cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** The IPv4 addresses of `ifname` (in `netns`); throws with ip's message when there is no such link. */
export function ipv4Of(ifname: string, netns?: string): string[] {
  const args = [...(netns ? ['-n', netns] : []), '-j', '-4', 'addr', 'show', 'dev', ifname];
  const info = JSON.parse(execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { addr_info?: { local: string }[] }[];
  return info.flatMap((i) => (i.addr_info ?? []).map((a) => a.local));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `ok` every 50 ms; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * One nicup Network on the real Linux platform with one interface open. Every state change
 * is recorded and the log is kept: it is printed only when a check fails (or LAB_*_VERBOSE).
 */
export class RecordedInterface {
  readonly logs: string[] = [];
  /** How many log lines were printed already (verbose checks). */
  printed = 0;
  readonly changes: StateChange[] = [];
  net!: Network;
  iface!: NetInterface;
  platform!: LinuxPlatform;
  private readonly waiters = new Set<() => void>();

  /** Creates the Network on `platform` with these driver defaults and opens `nic`. */
  protected async start(platform: LinuxPlatform, driver: DriverOptions, nic: Record<string, unknown>): Promise<void> {
    this.platform = platform;
    this.net = await Network.create(platform, {
      logger: { debug: (m) => this.log(m), error: (m) => this.log(`ERROR ${m}`) },
      driver,
    });
    this.iface = this.net.open(nic, (_state: NetStateValue, change: StateChange) => {
      this.changes.push(change);
      this.log(`STATE ${change.name} ${change.reason}${change.detail ? ` (${change.detail})` : ''}`);
      for (const w of this.waiters) w();
    });
  }

  private log(message: string): void {
    this.logs.push(`${(performance.now() / 1000).toFixed(2)} ${message}`);
  }

  /** "NAME reason" of each change since the n-th. */
  steps(from = 0): string[] {
    return this.changes.slice(from).map((c) => `${c.name} ${c.reason}`);
  }

  /** Waits for a change (after the `from`-th) that matches; rejects with the steps seen. */
  waitFor(state: NetStateValue, options: { reason?: string; from?: number; timeoutMs?: number } = {}): Promise<StateChange> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? 20_000;
    const match = () => this.changes.slice(from).find((c) => c.state === state && (options.reason === undefined || c.reason === options.reason));
    return new Promise((resolve, reject) => {
      const check = () => {
        const c = match();
        if (!c) return;
        done();
        resolve(c);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${stateName(state)}${options.reason ? ` ${options.reason}` : ''} within ${timeoutMs} ms; saw: ${this.steps(from).join(', ')}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  values(): NetStateValue[] {
    return this.changes.map((c) => c.state);
  }
}

/** Checks that `want` appears in `got` in order (other steps may come between). */
export function assertInOrder(got: NetStateValue[], want: NetStateValue[], what: string): void {
  let i = 0;
  for (const v of got) if (v === want[i]) i++;
  if (i < want.length) {
    throw new Error(`${what}: want ${want.map((v) => stateName(v)).join(' → ')} in order, got ${got.map((v) => stateName(v)).join(', ')}`);
  }
}

export interface GuestChecksOptions {
  /** The states line's tag, e.g. WIFI-STATES: the host checks every state of its kind was seen. */
  statesTag: string;
  /** An environment variable that, set to 1, prints the interface's whole log after each check. */
  verboseEnv?: string;
  /** More lines printed when a check fails, after the interface's log tail. */
  failureContext?: () => string[];
}

export interface GuestChecks {
  /** Runs one named check: LAB-PASS, or LAB-FAIL with the message and the log tail. */
  check(name: string, recorded: RecordedInterface | undefined, fn: () => Promise<void>): Promise<boolean>;
  /** Prints the states seen (for the host's all-states test) and exits with the outcome. */
  finish(script: string): never;
}

/** The checks of one guest script: it counts failures and gathers every state any check saw. */
export function guestChecks(options: GuestChecksOptions): GuestChecks {
  const seenStates = new Set<NetStateValue>();
  let failures = 0;
  return {
    async check(name, recorded, fn) {
      const started = performance.now();
      try {
        await fn();
        console.log(`lab: ${name}: ${Math.round(performance.now() - started)} ms`);
        console.log(`LAB-PASS: ${name}`);
        return true;
      } catch (error) {
        failures++;
        const message = error instanceof Error ? error.message : String(error);
        if (recorded) for (const line of recorded.logs.slice(-40)) console.log(`lab:   ${line}`);
        for (const line of options.failureContext?.() ?? []) console.log(`lab:   ${line}`);
        console.log(`LAB-FAIL: ${name}: ${message.replace(/\n/g, ' ')}`);
        return false;
      } finally {
        if (recorded) for (const v of recorded.values()) seenStates.add(v);
        if (recorded && options.verboseEnv !== undefined && process.env[options.verboseEnv] === '1') {
          for (const line of recorded.logs.slice(recorded.printed)) console.log(`lab:   ${line}`);
          recorded.printed = recorded.logs.length;
        }
      }
    },
    finish(script) {
      console.log(`lab: ${script} done after ${Math.round(performance.now())} ms`);
      console.log(`${options.statesTag}: ${script} ${[...seenStates].sort((a, b) => a - b).join(' ')}`);
      process.exit(failures === 0 ? 0 : 1);
    },
  };
}
