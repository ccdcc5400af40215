/**
 * Helpers for the Linux integration tests, on top of the namespace lab (netns.ts):
 * a world that owns a lab plus the platforms and networks made in it and tears all of it
 * down; recorders of state changes and log lines that can be awaited; polling with a
 * deadline; `ip -j` inside a namespace; a tcpdump capture; a UDP peer that is not nicup
 * (node under `ip netns exec`); and a snapshot of the root namespace, to prove the tests
 * leave it alone.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLab, findBinary, type Lab, type LabProcess, type VethPair } from './netns.js';
import { LinuxPlatform } from '../../src/platform/linux/index.js';
import { Network, type NetworkOptions } from '../../src/core/network.js';
import type { Logger } from '../../src/core/log.js';
import type { StateChange } from '../../src/core/types.js';
import { stateName, type NetStateValue, type ReasonCode } from '../../src/states.js';

const VERBOSE = process.env.NICUP_TEST_VERBOSE === '1';

// ---------------------------------------------------------------- waiting

/**
 * Polls `probe` until it returns something other than undefined/false; throws after the
 * deadline. An error thrown by `probe` ends the wait at once (a daemon died, say).
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A list that grows and can be waited on. */
class Waitable<T> {
  readonly items: T[] = [];
  private readonly wakers = new Set<() => void>();

  push(item: T): void {
    this.items.push(item);
    for (const w of [...this.wakers]) w();
  }

  async waitFor(pred: (item: T) => boolean, from: number, timeoutMs: number, describe: () => string): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.items.slice(from).find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(describe());
      await new Promise<void>((resolve) => {
        const wakers = this.wakers;
        const done = () => {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        wakers.add(done);
      });
    }
  }
}

// ---------------------------------------------------------------- recorders

export interface SeenChange extends StateChange {
  /** performance.now() when the listener saw it. */
  seenAtMs: number;
}

/** Records the state changes an interface reports; pass `listener` as open()'s callback. */
export class StateRecorder {
  private readonly list = new Waitable<SeenChange>();
  readonly listener = (_state: NetStateValue, change: StateChange): void => {
    if (VERBOSE) console.log(`  state ${change.interface} ${change.name} (${change.reason}${change.detail ? `: ${change.detail}` : ''})`);
    this.list.push({ ...change, seenAtMs: performance.now() });
  };

  get changes(): readonly SeenChange[] {
    return this.list.items;
  }

  /** Index to pass as `from` to look only at what comes next. */
  mark(): number {
    return this.list.items.length;
  }

  /** "NAME(reason)" for each change from `from`. */
  trail(from = 0): string[] {
    return this.list.items.slice(from).map((c) => `${c.name}(${c.reason})`);
  }

  /**
   * Waits for a change to `state` (and `reason`, when given) at or after `from`. A change
   * to one of `failOn` first ends the wait at once with an error naming it.
   */
  async waitFor(
    state: NetStateValue,
    options: { reason?: ReasonCode; from?: number; timeoutMs?: number; failOn?: NetStateValue[] } = {},
  ): Promise<SeenChange> {
    const { reason, from = 0, timeoutMs = 10_000, failOn = [] } = options;
    const wanted = (c: SeenChange) => c.state === state && (reason === undefined || c.reason === reason);
    const hit = await this.list.waitFor(
      (c) => wanted(c) || failOn.includes(c.state),
      from,
      timeoutMs,
      () => `no ${stateName(state)}${reason ? `(${reason})` : ''} within ${timeoutMs} ms; states so far: ${this.trail(from).join(' → ') || 'none'}`,
    );
    if (!wanted(hit)) {
      throw new Error(`${hit.name}(${hit.reason}${hit.detail ? `: ${hit.detail}` : ''}) instead of ${stateName(state)}; states so far: ${this.trail(from).join(' → ')}`);
    }
    return hit;
  }
}

export interface LogLine {
  atMs: number;
  level: 'debug' | 'error';
  text: string;
}

/** A Logger that keeps every line (NICUP_TEST_VERBOSE=1 also prints them). */
export class RecordingLogger implements Logger {
  private readonly list = new Waitable<LogLine>();

  get lines(): readonly LogLine[] {
    return this.list.items;
  }
  mark(): number {
    return this.list.items.length;
  }
  debug(text: string): void {
    if (VERBOSE) console.log(`  dbg ${text}`);
    this.list.push({ atMs: performance.now(), level: 'debug', text });
  }
  error(text: string): void {
    if (VERBOSE) console.log(`  ERR ${text}`);
    this.list.push({ atMs: performance.now(), level: 'error', text });
  }
  matching(re: RegExp, from = 0): LogLine[] {
    return this.list.items.slice(from).filter((l) => re.test(l.text));
  }
  waitFor(re: RegExp, options: { from?: number; timeoutMs?: number } = {}): Promise<LogLine> {
    const { from = 0, timeoutMs = 10_000 } = options;
    return this.list.waitFor((l) => re.test(l.text), from, timeoutMs, () => `no log line matching ${re} within ${timeoutMs} ms`);
  }
}

// ---------------------------------------------------------------- the world

export interface NetworkInNs {
  platform: LinuxPlatform;
  network: Network;
  log: RecordingLogger;
}

/** A lab plus the platforms and networks the test made in it; dispose() releases all. */
export class TestWorld {
  private readonly networks: NetworkInNs[] = [];
  private readonly cleanups: (() => Promise<void>)[] = [];

  private constructor(readonly lab: Lab) {}

  static async create(): Promise<TestWorld> {
    return new TestWorld(await createLab());
  }

  /** A LinuxPlatform inside `ns` and a Network over it, with a recording logger. */
  async network(ns: string, options: Omit<NetworkOptions, 'logger'> = {}): Promise<NetworkInNs> {
    const log = new RecordingLogger();
    const platform = new LinuxPlatform({ netns: ns });
    const entry: NetworkInNs = { platform, log, network: undefined as unknown as Network };
    try {
      entry.network = await Network.create(platform, { ...options, logger: log });
    } catch (err) {
      await platform.dispose();
      throw err;
    }
    this.networks.push(entry);
    return entry;
  }

  /** Runs `fn` at dispose time, before the lab goes (stop a daemon, remove a temp dir). */
  defer(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  async dispose(): Promise<void> {
    for (const n of this.networks.splice(0)) {
      await n.network.close().catch((e: Error) => console.error(`world: network.close: ${e.message}`));
      await n.platform.dispose().catch((e: Error) => console.error(`world: platform.dispose: ${e.message}`));
    }
    for (const fn of this.cleanups.splice(0).reverse()) await fn().catch((e: Error) => console.error(`world: cleanup: ${e.message}`));
    await this.lab.dispose();
  }
}

/** Creates a world, runs `fn` in it, and disposes it whatever happens. */
export async function withWorld(fn: (w: TestWorld) => Promise<void>): Promise<void> {
  const w = await TestWorld.create();
  try {
    await fn(w);
  } finally {
    await w.dispose();
  }
}

export interface EthernetSetup {
  client: string;
  server: string;
  pair: VethPair;
}

/** The usual two namespaces joined by a veth pair: eth0 in the client, `s-eth0` with `serverCidr` in the server. */
export async function ethernetSetup(
  lab: Lab,
  options: { serverCidr?: string; clientName?: string; clientUp?: boolean } = {},
): Promise<EthernetSetup> {
  const client = await lab.addNamespace('client');
  const server = await lab.addNamespace('server');
  const pair = await lab.addVethPair({
    clientNs: client,
    serverNs: server,
    clientName: options.clientName ?? 'eth0',
    serverAddress: options.serverCidr ?? '192.168.77.1/24',
    clientUp: options.clientUp ?? false,
  });
  return { client, server, pair };
}

// ---------------------------------------------------------------- ip -j

export interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  dynamic?: boolean;
  valid_life_time?: number;
  preferred_life_time?: number;
}
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  address?: string;
  addr_info?: IpAddrInfo[];
}
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags?: string[];
}

/** `ip -j ARGS` inside `ns`, parsed. */
export async function ipJson<T>(lab: Lab, ns: string, args: string[]): Promise<T> {
  const r = await lab.exec(ns, ['ip', '-j', ...args]);
  const text = r.stdout.trim();
  return JSON.parse(text === '' ? '[]' : text) as T;
}

/** IPv4 addresses of `ifname` in `ns` according to `ip -j -4 addr`. */
export async function ipv4AddressesOf(lab: Lab, ns: string, ifname: string): Promise<IpAddrInfo[]> {
  const links = await ipJson<IpLink[]>(lab, ns, ['-4', 'addr', 'show', 'dev', ifname]);
  return links.flatMap((l) => l.addr_info ?? []).filter((a) => a.family === 'inet');
}

/** Main-table IPv4 routes in `ns` according to `ip -j -4 route`. */
export function ipv4Routes(lab: Lab, ns: string): Promise<IpRoute[]> {
  return ipJson<IpRoute[]>(lab, ns, ['-4', 'route', 'show', 'table', 'main']);
}

export async function linkFlags(lab: Lab, ns: string, ifname: string): Promise<string[]> {
  const links = await ipJson<IpLink[]>(lab, ns, ['link', 'show', 'dev', ifname]);
  const l = links[0];
  if (!l) throw new Error(`no link ${ifname} in ${ns}`);
  return l.flags;
}

/** Local UDP ports bound in `ns` (from /proc/net/udp). */
export async function udpPortsIn(lab: Lab, ns: string): Promise<number[]> {
  const r = await lab.exec(ns, ['cat', '/proc/net/udp']);
  return r.stdout
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[1])
    .filter((f): f is string => f !== undefined && f.includes(':'))
    .map((f) => parseInt(f.split(':')[1] ?? '', 16));
}

// ---------------------------------------------------------------- tcpdump

export interface Capture {
  lines(): string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<string[]>;
}

/**
 * tcpdump on `iface` in `ns` (numeric, line-buffered, not promiscuous), with a filter
 * given as words. Resolves once tcpdump is listening, i.e. once its filter is attached.
 */
export async function startCapture(lab: Lab, ns: string, iface: string, filter: string[]): Promise<Capture> {
  const p = lab.spawn(ns, [findBinary('tcpdump'), '-n', '-l', '-p', '-Z', 'root', '-i', iface, ...filter]);
  await waitForOutput(p, (o) => o.stderr.includes('listening on'), 'tcpdump to listen');
  const lines = () => p.stdout().split('\n').filter((l) => l.trim() !== '');
  return {
    lines,
    waitFor: (re, timeoutMs = 5000) => waitUntil(`tcpdump on ${iface} to see ${re}`, () => lines().find((l) => re.test(l)), timeoutMs),
    stop: async () => {
      await p.stop();
      return lines();
    },
  };
}

/** Waits until a lab process's output satisfies `ready`; fails at once if it exits. */
export async function waitForOutput(
  p: LabProcess,
  ready: (o: { stdout: string; stderr: string }) => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  let exited = false;
  void p.exited.then(() => (exited = true));
  await waitUntil(
    what,
    () => {
      if (ready({ stdout: p.stdout(), stderr: p.stderr() })) return true;
      if (exited) throw new Error(`${p.argv[0]} exited: ${p.stderr().trim() || p.stdout().trim()}`);
      return false;
    },
    timeoutMs,
    5,
  );
}

// ---------------------------------------------------------------- a UDP peer that is not nicup

/** Sends a datagram with node's dgram inside a namespace and prints the first reply (CommonJS for `node -e`). */
const UDP_EXCHANGE_SCRIPT = `
const dgram = require('node:dgram');
const [to, port, hex, timeoutMs, broadcast] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const timer = setTimeout(() => { console.log(JSON.stringify({ timeout: true })); process.exit(2); }, Number(timeoutMs));
s.on('message', (data, rinfo) => {
  clearTimeout(timer);
  console.log(JSON.stringify({ hex: data.toString('hex'), fromAddress: rinfo.address, fromPort: rinfo.port, localPort: s.address().port }));
  s.close();
});
s.bind(0, () => {
  if (broadcast === 'broadcast') s.setBroadcast(true);
  s.send(Buffer.from(hex, 'hex'), Number(port), to);
});
`;

export interface UdpReply {
  data: Buffer;
  fromAddress: string;
  fromPort: number;
  /** The peer's own port. */
  localPort: number;
}

/** From `ns`, sends `data` to `to:port` (a broadcast address needs `broadcast`) and returns the first datagram that comes back. */
export async function udpExchange(
  lab: Lab,
  ns: string,
  o: { to: string; port: number; data: Buffer; broadcast?: boolean; timeoutMs?: number },
): Promise<UdpReply> {
  const argv = [process.execPath, '-e', UDP_EXCHANGE_SCRIPT, o.to, String(o.port), o.data.toString('hex'), String(o.timeoutMs ?? 3000), o.broadcast ? 'broadcast' : ''];
  const r = await lab.exec(ns, argv, { allowFailure: true });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line || '{}') as { timeout?: boolean; hex?: string; fromAddress?: string; fromPort?: number; localPort?: number };
  if (r.code !== 0 || parsed.hex === undefined) {
    throw new Error(`udpExchange to ${o.to}:${o.port}: no reply (exit ${r.code}) ${r.stderr.trim()}`);
  }
  return { data: Buffer.from(parsed.hex, 'hex'), fromAddress: parsed.fromAddress ?? '', fromPort: parsed.fromPort ?? 0, localPort: parsed.localPort ?? 0 };
}

// ---------------------------------------------------------------- the root namespace

export interface RootSnapshot {
  links: string[];
  routes: string[];
  resolvConf: string;
}

function runRoot(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

function sha256OfFile(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (e) {
    return `unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
}

/**
 * What the tests must leave alone in the root namespace: each link's name, flags, MAC and
 * addresses (lifetimes and counters left out: they tick by themselves), the IPv4 and IPv6
 * main routing tables, and the sha256 of /etc/resolv.conf. Read with `ip` run directly,
 * i.e. in this process's own (root) namespace.
 */
export async function rootSnapshot(): Promise<RootSnapshot> {
  const ip = findBinary('ip');
  const links = JSON.parse(await runRoot(ip, ['-j', 'addr', 'show'])) as IpLink[];
  const routes4 = JSON.parse((await runRoot(ip, ['-j', '-4', 'route', 'show', 'table', 'main'])) || '[]') as IpRoute[];
  const routes6 = JSON.parse((await runRoot(ip, ['-j', '-6', 'route', 'show', 'table', 'main'])) || '[]') as IpRoute[];
  return {
    links: links
      .map((l) => `${l.ifname} ${[...l.flags].sort().join(',')} ${l.address ?? ''} ${(l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`).sort().join(' ')}`)
      .sort(),
    routes: [...routes4, ...routes6]
      .map((r) => `${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'} metric ${r.metric ?? 0} src ${r.prefsrc ?? '-'} proto ${r.protocol ?? '-'}`)
      .sort(),
    resolvConf: sha256OfFile('/etc/resolv.conf'),
  };
}
