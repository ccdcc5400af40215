// Shared by the WiFi guest scripts (run by node inside the VM lab, see test/vm-wifi.test.ts):
// bring up the AP with guest/wifi-ap.sh, open wlan0 with nicup on the real Linux platform,
// record every state change, and report results on the console protocol (LAB-PASS/LAB-FAIL).
// Each script also prints `WIFI-STATES: <script> <values>` so the host can check that every
// WiFi state was produced by the real stack somewhere in the run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Network, NetState, stateName } from '../../../../src/index.js';
import type { NetInterface, NetStateValue, StateChange } from '../../../../src/index.js';
import { LinuxPlatform } from '../../../../src/platform/linux/index.js';

export const guestDir = process.env['LAB_GUEST'] ?? join(import.meta.dirname, '..', 'guest');
/** The station is pinned to channel 1: a full hwsim scan takes ~9 s, a pinned one ~0.5 s. */
export const FREQUENCIES_MHZ = [2412];
export const STA_IF = 'wlan0';
/** nicup's private directory for the daemon it starts (supplicant.ts). */
export const PRIVATE_DIR = `/run/nicup/wpa-${STA_IF}`;

export interface ApEnv {
  STA_IF: string;
  AP_IF: string;
  AP_NETNS: string;
  SSID: string;
  PSK: string;
  AP_IP: string;
  FREQ: string;
  HOSTAPD_CTRL: string;
}

console.log(`lab: node up after ${Math.round(performance.now())} ms`);

/** Runs guest/wifi-ap.sh with these options; returns its /tmp/lab-ap/env. */
export function startAp(args: string[]): ApEnv {
  const started = performance.now();
  execFileSync(join(guestDir, 'wifi-ap.sh'), args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const env: Record<string, string> = {};
  for (const line of readFileSync('/tmp/lab-ap/env', 'utf8').split('\n')) {
    const m = /^(\w+)='?(.*?)'?$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  console.log(`lab: wifi-ap.sh ${args.join(' ')}: ${Math.round(performance.now() - started)} ms`);
  return env as unknown as ApEnv;
}

/** guest/wifi-ap.sh stop: hostapd and dnsmasq gone, netns ap deleted, hwsim unloaded. */
export function stopAp(): void {
  execFileSync(join(guestDir, 'wifi-ap.sh'), ['stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export function hostapdCli(ap: ApEnv, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ap.AP_NETNS, 'hostapd_cli', '-p', ap.HOSTAPD_CTRL, '-i', ap.AP_IF, ...args], { encoding: 'utf8' });
}

/** wpa_cli on the daemon nicup started (read-only questions: status, list_networks). */
export function wpaCli(...args: string[]): string {
  return execFileSync('wpa_cli', ['-p', PRIVATE_DIR, '-i', STA_IF, ...args], { encoding: 'utf8' });
}

/** Pids of every wpa_supplicant process, with their command lines. */
export function supplicantProcesses(): { pid: number; cmdline: string[] }[] {
  const found: { pid: number; cmdline: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      if (cmdline[0] !== undefined && /(^|\/)wpa_supplicant$/.test(cmdline[0])) found.push({ pid: Number(entry), cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

export function ipv4Of(ifname: string, netns?: string): string[] {
  const args = [...(netns ? ['-n', netns] : []), '-j', '-4', 'addr', 'show', 'dev', ifname];
  const info = JSON.parse(execFileSync('ip', args, { encoding: 'utf8' })) as { addr_info?: { local: string }[] }[];
  return info.flatMap((i) => (i.addr_info ?? []).map((a) => a.local));
}

/** One nicup Network on the real Linux platform, with its log kept (never printed unless a check fails). */
export class Station {
  readonly logs: string[] = [];
  /** How many log lines were printed already (LAB_WIFI_VERBOSE). */
  printed = 0;
  readonly changes: StateChange[] = [];
  net!: Network;
  iface!: NetInterface;
  platform!: LinuxPlatform;
  private readonly waiters = new Set<() => void>();

  static async open(wificonfig: Record<string, unknown>): Promise<Station> {
    const s = new Station();
    const platform = new LinuxPlatform();
    s.platform = platform;
    s.net = await Network.create(platform, {
      logger: { debug: (m) => s.log(m), error: (m) => s.log(`ERROR ${m}`) },
      driver: { wifiFrequenciesMhz: FREQUENCIES_MHZ, retryInitialMs: 500 },
    });
    s.iface = s.net.open({ interface: STA_IF, wificonfig }, (_state: NetStateValue, change: StateChange) => {
      s.changes.push(change);
      s.log(`STATE ${change.name} ${change.reason}${change.detail ? ` (${change.detail})` : ''}`);
      for (const w of s.waiters) w();
    });
    return s;
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

  /** Closes the interface, the network and the platform. */
  async close(): Promise<void> {
    await this.iface.close();
    await this.net.close();
    await this.platform.dispose();
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

/** Nothing of nicup's left: no wpa_supplicant, no private directory, no address on the station. */
export function assertNothingLeft(): void {
  const procs = supplicantProcesses();
  if (procs.length > 0) throw new Error(`wpa_supplicant still running: ${procs.map((p) => `${p.pid} ${p.cmdline.join(' ')}`).join('; ')}`);
  // Only the WiFi layer's own entries (wpa-IF, wpa-IF-client-*): other parts of nicup keep files there too.
  const leftovers = existsSync('/run/nicup') ? readdirSync('/run/nicup').filter((f) => f.startsWith('wpa-')) : [];
  if (leftovers.length > 0) throw new Error(`left in /run/nicup: ${leftovers.join(', ')}`);
  const addresses = ipv4Of(STA_IF);
  if (addresses.length > 0) throw new Error(`${STA_IF} still has ${addresses.join(', ')}`);
}

/** Every state value any check in this script saw. */
const seenStates = new Set<NetStateValue>();
let failures = 0;

/** Runs one named check: LAB-PASS, or LAB-FAIL with the message and the station's log tail. */
export async function check(name: string, station: Station | undefined, fn: () => Promise<void>): Promise<boolean> {
  const started = performance.now();
  try {
    await fn();
    console.log(`lab: ${name}: ${Math.round(performance.now() - started)} ms`);
    console.log(`LAB-PASS: ${name}`);
    return true;
  } catch (error) {
    failures++;
    const message = error instanceof Error ? error.message : String(error);
    if (station) for (const line of station.logs.slice(-40)) console.log(`lab:   ${line}`);
    console.log(`LAB-FAIL: ${name}: ${message.replace(/\n/g, ' ')}`);
    return false;
  } finally {
    if (station) for (const v of station.values()) seenStates.add(v);
    // LAB_WIFI_VERBOSE=1: the station's whole log after each check (for investigating).
    if (station && process.env['LAB_WIFI_VERBOSE'] === '1') {
      for (const line of station.logs.slice(station.printed)) console.log(`lab:   ${line}`);
      station.printed = station.logs.length;
    }
  }
}

/** Prints the states seen (for the host's all-states check) and exits with the outcome. */
export function finish(script: string): never {
  console.log(`lab: ${script} done after ${Math.round(performance.now())} ms`);
  console.log(`WIFI-STATES: ${script} ${[...seenStates].sort((a, b) => a - b).join(' ')}`);
  process.exit(failures === 0 ? 0 : 1);
}

/** A UDP echo on the AP side (netns ap): socat answers each datagram to its sender. */
export function startEcho(ap: ApEnv, port: number): ChildProcess {
  return spawn('ip', ['netns', 'exec', ap.AP_NETNS, 'socat', `UDP4-RECVFROM:${port},reuseaddr,fork`, 'PIPE'], { stdio: 'ignore' });
}

/** Polls `ok` every 50 ms; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { NetState };
