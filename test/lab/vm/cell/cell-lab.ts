// Shared by the cellular guest scripts (run by node inside the VM lab, see test/vm-cell.test.ts):
// start the fake AT modem with guest/modem.sh, open cell0 with nicup on the real Linux
// platform (real pppd, real kernel PPP), record every state change, and report results on the
// console protocol (LAB-PASS/LAB-FAIL; the parts shared with the WiFi scripts are in
// ../guest-lib.ts). Each script also prints `CELL-STATES: <script> <values>`
// so the host can check that every cellular state was produced by a real AT exchange and pppd.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModemTiming } from '../../../../src/protocols/at/modem-machine.js';
import { LinuxPlatform } from '../../../../src/platform/linux/index.js';
import { openSerial } from '../../../../src/platform/linux/serial.js';
import { RecordedInterface, guestChecks, guestDir, processes, sleep, type Proc } from '../guest-lib.js';

export { NetState } from '../../../../src/index.js';
export { assertInOrder, guestDir, ipv4Of, processes, sleep, waitUntil, type Proc } from '../guest-lib.js';

/** The modem's port. cellconfig.device must be under /dev/; devtmpfs is writable in the guest. */
export const MODEM_TTY = '/dev/ttyLAB0';
export const MODEM_NETNS = 'mdm';
/** The network side of the PPP link (modem.sh defaults). */
export const PEER_IP = '10.64.64.1';
export const LOCAL_IP = '10.64.64.2';
export const AT_LOG = '/tmp/lab-modem/at.log';

/**
 * AT timings for the lab: the fake modem answers in milliseconds, so the defaults (10 pings of
 * 1 s, 2 s back-off, 2 s registration polls) would only make the run slow.
 */
export const LAB_TIMING: Partial<ModemTiming> = {
  pingTimeoutMs: 400,
  pingAttempts: 3,
  pingIntervalMs: 200,
  commandTimeoutMs: 3000,
  simTimeoutMs: 3000,
  simBusyRetryMs: 300,
  simPollMinMs: 500,
  simPollMaxMs: 2000,
  registrationPollMs: 300,
  deniedPollMs: 2000,
  registrationTimeoutMs: 30_000,
  dialTimeoutMs: 10_000,
  retryMinMs: 500,
  retryMaxMs: 4000,
};

/** LCP echo every second, dead after 2 missed: a dropped carrier shows in ~2–3 s. */
export const LAB_PPP = { lcpEchoIntervalS: 1, lcpEchoFailure: 2, stopTimeoutMs: 4000 };

/** Runs guest/modem.sh SCENARIO on MODEM_TTY (after stopping any earlier modem). */
export function startModem(scenario: string, ...options: string[]): void {
  const started = performance.now();
  stopModem();
  execFileSync(join(guestDir, 'modem.sh'), [scenario, '--tty', MODEM_TTY, ...options], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`lab: modem ${scenario} up in ${Math.round(performance.now() - started)} ms (node up ${Math.round(started)} ms)`);
}

export function stopModem(): void {
  execFileSync(join(guestDir, 'modem.sh'), ['stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The fake modem's transcript: "-> " lines it received, "<- " lines it sent (PINs masked). */
export function atLog(): string {
  return existsSync(AT_LOG) ? readFileSync(AT_LOG, 'utf8') : '';
}

/** How many lines of the transcript the modem received that start with `prefix`. */
export function received(prefix: string): number {
  return atLog().split('\n').filter((l) => l.startsWith(`-> ${prefix}`)).length;
}

/** Our pppd: the one started on the modem port (the network side's pppd has no device argument). */
export function ourPppd(): Proc | undefined {
  return processes().find((p) => /(^|\/)pppd$/.test(p.cmdline[0] ?? '') && p.cmdline[1] === MODEM_TTY);
}

/**
 * Secrets must appear in no process's argv nor environment. Returns what leaked where. The
 * fake modem itself is told the SIM's PIN (MODEM_PIN in its environment, never argv): it
 * plays the SIM, so its environment is not ours to check.
 */
export function secretsInProcesses(secrets: string[]): string[] {
  const leaks: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const what of ['cmdline', 'environ']) {
      let text: string;
      try {
        text = readFileSync(`/proc/${entry}/${what}`, 'latin1');
      } catch {
        continue;
      }
      if (what === 'environ' && /(^|\0)MODEM_SCENARIO=/.test(text)) continue;
      for (const s of secrets) if (text.includes(s)) leaks.push(`/proc/${entry}/${what} (${readFileSync(`/proc/${entry}/comm`, 'utf8').trim()})`);
    }
  }
  return leaks;
}

/**
 * Secrets in any file under these directories (the guest's /tmp and /run are small). Like
 * `find -xdev`, the walk stays on each directory's own file system: the project itself is
 * shared into the guest at its host path, which may lie under /tmp (a CI clone), and its
 * sources name the test secrets.
 */
export function secretsInFiles(secrets: string[], dirs = ['/tmp', '/run']): string[] {
  const leaks: string[] = [];
  let rootDev = 0;
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(dir, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (st.dev !== rootDev) continue;
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && st.size < 4 << 20) {
        let text: string;
        try {
          text = readFileSync(path, 'latin1');
        } catch {
          continue; // not readable as a file (/run/netns/* are nsfs mounts)
        }
        for (const s of secrets) if (text.includes(s)) leaks.push(path);
      }
    }
  };
  for (const d of dirs) {
    try {
      rootDev = statSync(d).dev;
    } catch {
      continue;
    }
    walk(d);
  }
  return leaks;
}

/** Private pppd directories of nicup's (ppp.ts) that still exist. */
export function pppPrivateDirs(): string[] {
  const found: string[] = [];
  for (const base of ['/run', '/tmp']) {
    try {
      for (const name of readdirSync(base)) if (name.startsWith('nicup-ppp-')) found.push(join(base, name));
    } catch {
      // no such directory
    }
  }
  return found;
}

export function pppLinks(): string[] {
  return readdirSync('/sys/class/net').filter((n) => n.startsWith('ppp'));
}

/** The tty behind pppd's stdin, to show the port was handed over (not reopened by path only). */
export function stdinOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/fd/0`);
}

export function realTty(): string {
  return realpathSync(MODEM_TTY);
}

export interface OpenOptions {
  pin?: string;
  username?: string;
  password?: string;
  timing?: Partial<ModemTiming>;
}

/** nicup on the real Linux platform with cell0 open on the fake modem, with the lab's fast timings. */
export class Cell extends RecordedInterface {
  private closing: Promise<void> | undefined;

  static async open(options: OpenOptions = {}): Promise<Cell> {
    const c = new Cell();
    const cellconfig: Record<string, string> = { apn: 'internet', device: MODEM_TTY };
    if (options.pin !== undefined) cellconfig['pin'] = options.pin;
    if (options.username !== undefined) cellconfig['username'] = options.username;
    if (options.password !== undefined) cellconfig['password'] = options.password;
    await c.start(
      new LinuxPlatform({ ppp: LAB_PPP }),
      { modemTiming: { ...LAB_TIMING, ...options.timing }, retryInitialMs: 500, retryMaxMs: 4000 },
      { interface: 'cell0', cellconfig },
    );
    return c;
  }

  /** Closes the interface (→ CELLULAR_STOPPED), the network and the platform; once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.iface.close();
      await this.net.close();
      await this.platform.dispose();
    })();
    return this.closing;
  }
}

/**
 * After close: our pppd gone, no ppp link, no private directory, and the port free — it opens
 * (its flock is free) and the modem answers AT (it is back in command mode).
 */
export async function assertReleased(): Promise<void> {
  const ppp = ourPppd();
  if (ppp) throw new Error(`pppd still running: ${ppp.pid} ${ppp.cmdline.join(' ')}`);
  const links = pppLinks();
  if (links.length > 0) throw new Error(`ppp links left: ${links.join(', ')}`);
  const dirs = pppPrivateDirs();
  if (dirs.length > 0) throw new Error(`private pppd directories left: ${dirs.join(', ')}`);
  // The fake modem needs a moment after a session before it reads commands again (its pppd
  // restores the tty's line discipline as it exits): a real driver pings a few times too.
  const answer = await atExchange('AT', 3, 1000);
  if (!/\r\nOK\r\n/.test(answer)) throw new Error(`the modem did not answer AT with OK after close: ${JSON.stringify(answer)}`);
}

/** Opens the port itself (which needs its lock free), sends a command up to `tries` times until a final result, returns what came back. */
export async function atExchange(command: string, tries: number, timeoutMs: number): Promise<string> {
  const port = await openSerial(MODEM_TTY);
  try {
    let text = '';
    let wake: (() => void) | undefined;
    const final = () => /\r\n(OK|ERROR|\+CME ERROR[^\r]*)\r\n/.test(text);
    port.onData((d) => {
      text += d.toString('latin1');
      if (final()) wake?.();
    });
    for (let i = 0; i < tries && !final(); i++) {
      await port.write(`${command}\r`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return text;
  } finally {
    await port.close();
  }
}

/** A UDP listener on the network side (netns mdm): `first` resolves with the first line received. */
export async function udpListener(port: number): Promise<{ child: ChildProcess; first: Promise<string> }> {
  const child = spawn('ip', ['netns', 'exec', MODEM_NETNS, 'socat', '-u', `UDP4-RECV:${port}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  const first = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl));
    });
    child.once('error', reject);
  });
  first.catch(() => {});
  // Bound once the namespace's UDP table has the port (hex, as /proc/net/udp writes it).
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (let i = 0; i < 100; i++) {
    const table = execFileSync('ip', ['netns', 'exec', MODEM_NETNS, 'cat', '/proc/net/udp'], { encoding: 'utf8' });
    if (table.split('\n').some((l) => l.split(/\s+/)[2]?.endsWith(hexPort.trim()))) return { child, first };
    await sleep(50);
  }
  child.kill();
  throw new Error(`socat did not bind UDP port ${port} in netns ${MODEM_NETNS}`);
}

export function ping(ifname: string, address: string): boolean {
  try {
    execFileSync('ping', ['-c', '1', '-W', '3', '-I', ifname, address], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function routes(): string {
  return execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
}

/** On a failed check, the fake modem's transcript tail follows the interface's log. */
export const { check, finish } = guestChecks({
  statesTag: 'CELL-STATES',
  failureContext: () => atLog().split('\n').slice(-25).map((line) => `modem ${line}`),
});

/**
 * One scenario: a fresh fake modem, cell0 opened on it, the checks, and close — also when a
 * check fails, so that a live driver never wanders into the next scenario's modem.
 */
export async function scenario(name: string, modem: string[], options: OpenOptions, body: (cell: Cell) => Promise<void>): Promise<boolean> {
  startModem(modem[0]!, ...modem.slice(1));
  const cell = await Cell.open(options);
  return check(name, cell, async () => {
    try {
      await body(cell);
    } finally {
      await cell.close();
    }
  });
}
