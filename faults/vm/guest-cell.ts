// Fault-matrix scenarios on real cellular plumbing (VM lab: the fake AT modem on a pty,
// real pppd on both sides, kernel PPP): a silent modem that later answers, the data call
// dropped again and again, and a SIM PIN and PPP password that must not show anywhere.
// Counts: FAULT_LONG=1 for the long run.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Network, NetState, stateName } from '../../src/index.js';
import type { NetInterface, StateChange } from '../../src/index.js';
import { LinuxPlatform } from '../../src/platform/linux/index.js';
import { cmdlineSampler, ledgerFiles, scenario, waitUntil } from './guest-lib.js';
import { SECRETS } from '../security/secrets.js';

const LONG = process.env['FAULT_LONG'] === '1';
const GUEST = process.env['LAB_GUEST'] ?? join(import.meta.dirname, '..', '..', 'test', 'lab', 'vm', 'guest');
const TTY = '/dev/ttyFAULT0';
const AT_LOG = '/tmp/lab-modem/at.log';
const PIN = SECRETS.pin;
const PPP_PASSWORD = SECRETS.pppPassword;

/** The fake modem answers in milliseconds: the default AT timings would only make the run slow. */
const TIMING = {
  pingTimeoutMs: 400, pingAttempts: 3, pingIntervalMs: 200, commandTimeoutMs: 3000, simTimeoutMs: 3000, simBusyRetryMs: 300,
  simPollMinMs: 500, simPollMaxMs: 2000, registrationPollMs: 300, deniedPollMs: 2000, registrationTimeoutMs: 30_000, dialTimeoutMs: 10_000,
  retryMinMs: 500, retryMaxMs: 4000,
};

function modem(...args: string[]): void {
  execFileSync(join(GUEST, 'modem.sh'), args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function atLines(prefix: string): number {
  return existsSync(AT_LOG) ? readFileSync(AT_LOG, 'utf8').split('\n').filter((l) => l.startsWith(`-> ${prefix}`)).length : 0;
}

function pppdPids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return /(^|\/)pppd$/.test(readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0')[0] ?? '');
      } catch {
        return false;
      }
    })
    .map(Number);
}

class Cell {
  readonly changes: StateChange[] = [];
  readonly logs: string[] = [];
  platform!: LinuxPlatform;
  net!: Network;
  iface!: NetInterface;
  static async open(cellconfig: Record<string, unknown>): Promise<Cell> {
    const c = new Cell();
    c.platform = new LinuxPlatform({ ppp: { lcpEchoIntervalS: 1, lcpEchoFailure: 2, stopTimeoutMs: 4000 } });
    c.net = await Network.create(c.platform, { logger: { debug: (m) => void c.logs.push(m), error: (m) => void c.logs.push(`ERROR ${m}`) }, driver: { modemTiming: TIMING, retryInitialMs: 500, retryMaxMs: 4000 } });
    c.iface = c.net.open({ interface: 'cell0', cellconfig: { apn: 'internet', device: TTY, ...cellconfig } }, (_s, ch) => void c.changes.push(ch));
    return c;
  }
  async waitFor(state: number, options: { from?: number; reason?: string; timeoutMs?: number } = {}): Promise<StateChange> {
    const from = options.from ?? 0;
    let hit: StateChange | undefined;
    const what = `${stateName(state)}${options.reason ? ` (${options.reason})` : ''}`;
    await waitUntil(what, () => (hit = this.changes.slice(from).find((c) => c.state === state && (!options.reason || c.reason === options.reason))) !== undefined, options.timeoutMs ?? 30_000).catch((e: Error) => {
      throw new Error(`${e.message}; saw ${this.changes.slice(from).map((c) => `${c.name} ${c.reason}`).join(', ')}`);
    });
    return hit!;
  }
  async close(): Promise<void> {
    await this.iface.close();
    await this.net.close();
    await this.platform.dispose();
  }
}

/** After close and the modem stopped: no pppd, no options directory, no ppp link, no ledger. */
function leftovers(): string[] {
  const left: string[] = [];
  for (const pid of pppdPids()) left.push(`pppd ${pid} still running`);
  for (const d of readdirSync('/run').filter((x) => x.startsWith('nicup-ppp-'))) left.push(`/run/${d}`);
  if (existsSync('/sys/class/net/ppp0')) left.push('ppp0 still exists');
  left.push(...ledgerFiles());
  return left;
}

// `--child`: this same script as a separate nicup process (the killed-nicup scenario).
if (process.argv.includes('--child')) {
  const child = await Cell.open({});
  child.iface.on('state', (c) => console.log(`CHILD-STATE ${c.name}`));
  await new Promise(() => {});
}

const sampler = cmdlineSampler();

await scenario('vm-modem-silent', async (r) => {
  modem('silent', '--tty', TTY);
  const cell = await Cell.open({});
  try {
    const t = performance.now();
    const unhappy = await cell.waitFor(NetState.CELLULAR_STOPPED_UNHAPPY, { timeoutMs: 30_000 });
    if (unhappy.reason !== 'modem-silent') throw new Error(`UNHAPPY for ${unhappy.reason}, want modem-silent`);
    r.figures['open → UNHAPPY(modem-silent) (ms)'] = Math.round(performance.now() - t);
    const before = atLines('AT');
    await new Promise((res) => setTimeout(res, 10_000));
    r.figures['AT lines sent to the silent modem in 10 s'] = atLines('AT') - before;
    // The modem comes back (a new one on the same port path): nicup must find it by itself.
    const from = cell.changes.length;
    modem('stop');
    modem('happy', '--tty', TTY);
    const t0 = performance.now();
    await cell.waitFor(NetState.CONNECTED, { from, timeoutMs: 60_000 });
    r.recoveryMs.push(performance.now() - t0);
    r.iterations = 1;
    r.finalState = `CONNECTED ${cell.iface.ipv4?.address} over ppp0 after the modem answered`;
  } finally {
    await cell.close();
    modem('stop');
  }
  r.leftBehind.push(...leftovers());
});

await scenario('vm-ppp-dropped', async (r) => {
  modem('no-carrier', '--tty', TTY, '--drop-after', '3');
  const cell = await Cell.open({});
  try {
    await cell.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
    const n = LONG ? 50 : 2;
    for (let i = 0; i < n; i++) {
      const from = cell.changes.length;
      const dropped = await cell.waitFor(NetState.CELLULAR_STOPPED_UNHAPPY, { from, timeoutMs: 30_000 });
      if (dropped.reason !== 'ppp-dropped') throw new Error(`UNHAPPY for ${dropped.reason}, want ppp-dropped`);
      const t0 = performance.now();
      await cell.waitFor(NetState.CONNECTED, { from: cell.changes.indexOf(dropped), timeoutMs: 60_000 });
      r.recoveryMs.push(performance.now() - t0);
      const ours = pppdPids().length;
      if (ours < 1) throw new Error('no pppd while CONNECTED');
      r.iterations++;
    }
    r.figures['dials seen by the modem'] = atLines('ATD');
    r.finalState = `CONNECTED ${cell.iface.ipv4?.address} after ${n} dropped calls`;
  } finally {
    await cell.close();
    modem('stop');
  }
  r.leftBehind.push(...leftovers());
});

await scenario('vm-cell-secrets', async (r) => {
  modem('pin-required', '--tty', TTY, '--pin', PIN);
  const cell = await Cell.open({ pin: PIN, username: 'mobile', password: PPP_PASSWORD });
  try {
    await cell.waitFor(NetState.CONNECTED, { timeoutMs: 60_000 });
    const dirs = readdirSync('/run').filter((x) => x.startsWith('nicup-ppp-'));
    if (dirs.length > 0) throw new Error(`pppd's options directory still there while CONNECTED: ${dirs.join(', ')}`);
    const inLog = cell.logs.filter((l) => l.includes(PIN) || l.includes(PPP_PASSWORD));
    if (inLog.length > 0) throw new Error(`${inLog.length} log line(s) hold the PIN or the PPP password`);
    r.iterations = 1;
    r.finalState = `CONNECTED ${cell.iface.ipv4?.address} with the PIN and a metacharacter PPP password; none in ${cell.logs.length} log lines`;
  } finally {
    await cell.close();
    modem('stop');
  }
  r.leftBehind.push(...leftovers());
});

await scenario('vm-cell-killed-mid-bring-up', async (r) => {
  // nicup as its own process, SIGKILLed once CONNECTED (pppd running on the modem's tty):
  // the next nicup must come up on the same modem and leave nothing after its close.
  modem('happy', '--tty', TTY);
  try {
    const child = spawn(process.execPath, [process.argv[1]!, '--child'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await waitUntil('the child nicup to reach CONNECTED', () => out.includes('CHILD-STATE CONNECTED'), 60_000);
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    await new Promise((res) => setTimeout(res, 500));
    // The network side's pppd runs in netns mdm; the others in ours are the killed nicup's.
    const ownNs = readlinkSync('/proc/self/ns/net');
    const orphans = pppdPids().filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/net`) === ownNs;
      } catch {
        return false;
      }
    });
    r.figures['left running by the killed nicup'] = `${orphans.length} pppd of its own (pid ${orphans.join(', ') || '-'}); ppp0 ${existsSync('/sys/class/net/ppp0') ? 'up' : 'gone'}; ${readdirSync('/run').filter((x) => x.startsWith('nicup-ppp-')).length} options dir(s)`;
    const cell = await Cell.open({});
    const t0 = performance.now();
    try {
      await cell.waitFor(NetState.CONNECTED, { timeoutMs: 45_000 }).catch((e: Error) => {
        throw new Error(`${e.message}; the next start's log: ${cell.logs.slice(-6).join(' | ')}`);
      });
      r.recoveryMs.push(performance.now() - t0);
      const still = orphans.filter((pid) => existsSync(`/proc/${pid}`));
      r.figures['the orphan pppd once the next start is CONNECTED'] = orphans.length === 0 ? 'none was left' : still.length === 0 ? 'stopped' : `still running: ${still.join(', ')}`;
      for (const pid of still) r.leftBehind.push(`the killed nicup's pppd ${pid} still runs beside the next start's`);
      const reaped = cell.logs.some((l) => /pppd \d+ on \S+ was left by nicup \d+, which is gone; stopping it/.test(l));
      if (orphans.length > 0 && !reaped) throw new Error("the next start's log does not say it stopped the orphan pppd");
      r.iterations = 1;
      r.finalState = `the next start stopped the orphan pppd and CONNECTED ${cell.iface.ipv4?.address}`;
    } finally {
      await cell.close();
    }
  } finally {
    modem('stop');
  }
  const left = leftovers();
  r.leftBehind.push(...left);
  for (const pid of pppdPids()) process.kill(pid, 'SIGKILL');
});

const cmdlines = sampler.stop();
await scenario('vm-cell-no-secret-in-argv', async (r) => {
  const hits = cmdlines.filter((c) => c.includes(PPP_PASSWORD) || (c.includes(PIN) && !c.includes('modem.sh')));
  if (hits.length > 0) throw new Error(`the PIN or PPP password on ${hits.length} command line(s)`);
  r.iterations = cmdlines.length;
  r.finalState = `no PIN or PPP password in the command line of any of ${cmdlines.length} processes seen (pppd included)`;
});

process.exit(0);
