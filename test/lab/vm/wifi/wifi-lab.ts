// Shared by the WiFi guest scripts (run by node inside the VM lab, see test/vm-wifi.test.ts):
// bring up the AP with guest/wifi-ap.sh, open wlan0 with nicup on the real Linux platform,
// record every state change, and report results on the console protocol (LAB-PASS/LAB-FAIL;
// the parts shared with the cellular scripts are in ../guest-lib.ts).
// Each script also prints `WIFI-STATES: <script> <values>` so the host can check that every
// WiFi state was produced by the real stack somewhere in the run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxPlatform } from '../../../../src/platform/linux/index.js';
import { RecordedInterface, guestChecks, guestDir, ipv4Of, processes, type Proc } from '../guest-lib.js';

export { NetState } from '../../../../src/index.js';
export { assertInOrder, guestDir, ipv4Of, sleep, waitUntil } from '../guest-lib.js';

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
export function supplicantProcesses(): Proc[] {
  return processes().filter((p) => /(^|\/)wpa_supplicant$/.test(p.cmdline[0] ?? ''));
}

/** nicup on the real Linux platform with wlan0 open, scanning only FREQUENCIES_MHZ. */
export class Station extends RecordedInterface {
  static async open(wificonfig: Record<string, unknown>): Promise<Station> {
    const s = new Station();
    await s.start(new LinuxPlatform(), { wifiFrequenciesMhz: FREQUENCIES_MHZ, retryInitialMs: 500 }, { interface: STA_IF, wificonfig });
    return s;
  }

  /** Closes the interface, the network and the platform. */
  async close(): Promise<void> {
    await this.iface.close();
    await this.net.close();
    await this.platform.dispose();
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

// LAB_WIFI_VERBOSE=1: the station's whole log after each check (for investigating).
export const { check, finish } = guestChecks({ statesTag: 'WIFI-STATES', verboseEnv: 'LAB_WIFI_VERBOSE' });

/** A UDP echo on the AP side (netns ap): socat answers each datagram to its sender. */
export function startEcho(ap: ApEnv, port: number): ChildProcess {
  return spawn('ip', ['netns', 'exec', ap.AP_NETNS, 'socat', `UDP4-RECVFROM:${port},reuseaddr,fork`, 'PIPE'], { stdio: 'ignore' });
}
