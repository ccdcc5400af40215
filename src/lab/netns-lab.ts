/**
 * The network-namespace lab: throw-away namespaces joined by veth pairs, with real
 * daemons (dnsmasq, socat) inside them. Used by every Linux integration test and by the
 * benchmarks. Nothing in the root namespace is changed: links are created inside the
 * lab's namespaces, daemons run under `ip netns exec`, and dnsmasq runs with --port=0
 * (no DNS) and --no-resolv, so /etc/resolv.conf is never read or written.
 *
 *   const lab = await createLab();
 *   const client = await lab.addNamespace('client');
 *   const server = await lab.addNamespace('server');
 *   const pair = await lab.addVethPair({ clientNs: client, serverNs: server, serverAddress: '192.168.77.1/24' });
 *   const dhcp = await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.77.10', '192.168.77.50'] });
 *   ...
 *   await lab.dispose();   // also runs on process exit, SIGINT and SIGTERM
 *
 * veth ends get explicit, different interface indexes: when both ends have the same
 * index the kernel does not treat carrier changes as urgent and reports them up to a
 * second late (lab-notes.md).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SEARCH_PATH = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/** The Debian package that provides each binary the lab runs. */
const PACKAGE_OF: Record<string, string> = {
  ip: 'iproute2',
  dnsmasq: 'dnsmasq-base',
  socat: 'socat',
  udhcpc: 'udhcpc',
  tcpdump: 'tcpdump',
  dhclient: 'isc-dhcp-client',
  cat: 'coreutils',
};

const NETNS_DIR = '/run/netns';
const NAME_PREFIX = 'nicup-';
const READY_TIMEOUT_MS = 5000;
const KILL_GRACE_MS = 1000;

export function requireRoot(): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(
      'the network-namespace lab needs root (ip netns, veth pairs, setns): run the Linux integration tests as root',
    );
  }
}

/** Absolute path of a binary from PATH or the sbin directories; throws naming its Debian package. */
export function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  for (const d of dirs) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  const pkg = PACKAGE_OF[name];
  throw new Error(`the lab needs \`${name}\`, which is not installed${pkg ? `: apt-get install ${pkg}` : ''}`);
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface VethPairOptions {
  clientNs: string;
  serverNs: string;
  /** Default eth0. */
  clientName?: string;
  /** Default "s-" + clientName. */
  serverName?: string;
  /** Explicit ifindexes; by default the lab picks different ones. */
  clientIndex?: number;
  serverIndex?: number;
  /** CIDR put on the server end, e.g. 192.168.77.1/24. */
  serverAddress?: string;
  /** Bring the client end up too (default: left down for the code under test). */
  clientUp?: boolean;
}

export interface VethPair {
  clientNs: string;
  serverNs: string;
  clientName: string;
  serverName: string;
  clientIndex: number;
  serverIndex: number;
  serverAddress?: string;
}

export interface LabProcess {
  readonly pid: number;
  readonly ns: string;
  readonly argv: readonly string[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it is gone. */
  stop(): Promise<void>;
}

export interface DnsmasqOptions {
  ns: string;
  iface: string;
  /** First and last address handed out. */
  range: [string, string];
  netmask?: string;
  /** dnsmasq's minimum is 120 s; shorter values are raised to it by dnsmasq. */
  leaseTimeS?: number;
  extraArgs?: string[];
}

export interface Dnsmasq extends LabProcess {
  readonly leaseFile: string;
  readLeases(): Lease[];
}

export interface Lease {
  /** Expiry, seconds since the epoch (0: infinite). */
  expiry: number;
  mac: string;
  address: string;
  hostname?: string;
  clientId?: string;
}

export interface LinkCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

const liveLabs = new Set<Lab>();
let labSeq = 0;
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const lab of liveLabs) lab.disposeSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const lab of liveLabs) lab.disposeSync();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

function run(file: string, args: string[], options: { input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ stdout, stderr, code: err ? Number(err.code) : 0 });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

async function mustRun(file: string, args: string[], options: { input?: string } = {}): Promise<ExecResult> {
  const r = await run(file, args, options);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces left by lab processes that died without cleaning up. */
function removeStaleNamespaces(ip: string): void {
  let names: string[];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^nicup-(\d+)-/.exec(n);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) spawnSync(ip, ['netns', 'del', n]);
  }
}

export class Lab {
  readonly id: string;
  private readonly ip: string;
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<{ child: ChildProcess; handle: LabProcess }>();
  private readonly tempDirs: string[] = [];
  private nextIndex = 20;
  private disposed = false;

  constructor() {
    requireRoot();
    this.ip = findBinary('ip');
    this.id = `${NAME_PREFIX}${process.pid}-${++labSeq}`;
    removeStaleNamespaces(this.ip);
    liveLabs.add(this);
    installExitHandlers();
  }

  /** Creates a namespace named `nicup-PID-N-ROLE` with loopback up; returns its name. */
  async addNamespace(role = 'ns'): Promise<string> {
    this.assertLive();
    let name = `${this.id}-${role}`;
    for (let i = 2; this.namespaces.includes(name); i++) name = `${this.id}-${role}${i}`;
    await mustRun(this.ip, ['netns', 'add', name]);
    this.namespaces.push(name);
    await mustRun(this.ip, ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  async addVethPair(o: VethPairOptions): Promise<VethPair> {
    this.assertLive();
    const clientName = o.clientName ?? 'eth0';
    const serverName = o.serverName ?? `s-${clientName}`.slice(0, 15);
    const clientIndex = o.clientIndex ?? this.nextIndex++;
    const serverIndex = o.serverIndex ?? this.nextIndex++ + 100;
    if (clientIndex === serverIndex) throw new Error('addVethPair: the two ends need different ifindexes (lab-notes.md)');
    await mustRun(this.ip, [
      '-n', o.serverNs, 'link', 'add', serverName, 'index', String(serverIndex), 'type', 'veth',
      'peer', 'name', clientName, 'index', String(clientIndex), 'netns', o.clientNs,
    ]);
    if (o.serverAddress) await mustRun(this.ip, ['-n', o.serverNs, 'addr', 'add', o.serverAddress, 'dev', serverName]);
    await mustRun(this.ip, ['-n', o.serverNs, 'link', 'set', serverName, 'up']);
    if (o.clientUp) await mustRun(this.ip, ['-n', o.clientNs, 'link', 'set', clientName, 'up']);
    const pair: VethPair = { clientNs: o.clientNs, serverNs: o.serverNs, clientName, serverName, clientIndex, serverIndex };
    if (o.serverAddress) pair.serverAddress = o.serverAddress;
    return pair;
  }

  /** Deletes the pair (deleting one end deletes both). */
  async removeVethPair(pair: VethPair): Promise<void> {
    await mustRun(this.ip, ['-n', pair.serverNs, 'link', 'del', pair.serverName]);
  }

  /** The client end loses or regains carrier: the server end goes down or up. */
  async setCarrier(pair: VethPair, up: boolean): Promise<void> {
    await mustRun(this.ip, ['-n', pair.serverNs, 'link', 'set', pair.serverName, up ? 'up' : 'down']);
  }

  /** Runs a command inside a namespace; rejects when it exits non-zero unless allowFailure. */
  async exec(ns: string, argv: string[], options: { input?: string; allowFailure?: boolean } = {}): Promise<ExecResult> {
    this.assertLive();
    const [bin, ...args] = argv;
    if (!bin) throw new Error('exec: empty argv');
    const full = ['netns', 'exec', ns, bin.includes('/') ? bin : findBinary(bin), ...args];
    return options.allowFailure ? run(this.ip, full, options) : mustRun(this.ip, full, options);
  }

  /** Starts a long-running process inside a namespace; lab.dispose() stops it. */
  spawn(ns: string, argv: string[]): LabProcess {
    this.assertLive();
    const [bin, ...args] = argv;
    if (!bin) throw new Error('spawn: empty argv');
    const full = [bin.includes('/') ? bin : findBinary(bin), ...args];
    // `ip netns exec` execs the program in place, so the pid is the program's own.
    const child = spawn(this.ip, ['netns', 'exec', ns, ...full], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: -1, signal: null }));
    });
    const handle: LabProcess = {
      pid: child.pid ?? -1,
      ns,
      argv: full,
      exited,
      stdout: () => out,
      stderr: () => err,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }
        this.processes.delete(entry);
      },
    };
    const entry = { child, handle };
    this.processes.add(entry);
    return handle;
  }

  /**
   * dnsmasq as a DHCP server only (--port=0: no DNS), in the foreground (-k), with its own
   * lease and pid files in a temporary directory. Resolves once it serves the range.
   */
  async startDnsmasq(o: DnsmasqOptions): Promise<Dnsmasq> {
    const dir = this.tempDir('dnsmasq-');
    const leaseFile = join(dir, 'leases');
    const lease = o.leaseTimeS === undefined ? '1h' : String(o.leaseTimeS);
    const args = [
      findBinary('dnsmasq'),
      '-k',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--port=0',
      '--bind-interfaces',
      `--interface=${o.iface}`,
      '--except-interface=lo',
      `--dhcp-range=${o.range[0]},${o.range[1]},${o.netmask ?? '255.255.255.0'},${lease}`,
      `--dhcp-leasefile=${leaseFile}`,
      `--pid-file=${join(dir, 'pid')}`,
      '--no-ping',
      '--dhcp-authoritative',
      '--user=root',
      '--group=root',
      '--log-facility=-',
      '--log-dhcp',
      ...(o.extraArgs ?? []),
    ];
    const p = this.spawn(o.ns, args);
    await this.waitFor(() => p.stderr().includes('DHCP, IP range'), p, 'dnsmasq to serve DHCP');
    return {
      ...p,
      stdout: p.stdout,
      stderr: p.stderr,
      stop: p.stop,
      leaseFile,
      readLeases: () => parseLeases(existsSync(leaseFile) ? readFileSync(leaseFile, 'utf8') : ''),
    };
  }

  async stopDnsmasq(d: Dnsmasq): Promise<void> {
    await d.stop();
  }

  /** A UDP echo server (socat) on `port` in `ns`; replies come from that port. */
  async startUdpEcho(o: { ns: string; port: number; bindAddress?: string }): Promise<LabProcess> {
    const listen = `UDP4-RECVFROM:${o.port},fork,reuseaddr${o.bindAddress ? `,bind=${o.bindAddress}` : ''}`;
    const p = this.spawn(o.ns, [findBinary('socat'), listen, 'PIPE']);
    await this.waitForUdpPort(o.ns, o.port, p);
    return p;
  }

  /** Sends one datagram from `ns` with socat (optionally from a device, to a broadcast). */
  async sendUdp(o: { ns: string; to: string; port: number; data: string; device?: string; broadcast?: boolean; sourcePort?: number }): Promise<void> {
    const opts = [
      o.broadcast ? 'broadcast' : '',
      o.device ? `so-bindtodevice=${o.device}` : '',
      o.sourcePort ? `sourceport=${o.sourcePort}` : '',
    ].filter(Boolean);
    await this.exec(o.ns, [findBinary('socat'), '-u', 'STDIN', `UDP4-SENDTO:${o.to}:${o.port}${opts.length ? `,${opts.join(',')}` : ''}`], { input: o.data });
  }

  /** Resolves once `ip netns exec` has exec'd the program (its /proc/PID/exe is no longer ip). */
  async waitForExec(p: LabProcess): Promise<void> {
    let exited = false;
    void p.exited.then(() => (exited = true));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${p.pid}/exe`);
      } catch {
        // not yet readable, or gone
      }
      if (exe && exe !== this.ip && !exe.endsWith('/ip')) return;
      if (exited) throw new Error(`${p.argv[0]} exited: ${p.stderr().trim()}`);
      if (Date.now() > deadline) throw new Error(`${p.argv[0]} did not start within ${READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Counters from /proc/net/dev as seen inside the namespace. */
  async linkCounters(ns: string, ifname: string): Promise<LinkCounters> {
    const r = await this.exec(ns, [findBinary('cat'), '/proc/net/dev']);
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
      if (!m || m[1] !== ifname) continue;
      const f = (m[2] ?? '').trim().split(/\s+/).map(Number);
      return { rxBytes: f[0] ?? 0, rxPackets: f[1] ?? 0, txBytes: f[8] ?? 0, txPackets: f[9] ?? 0 };
    }
    throw new Error(`linkCounters: no ${ifname} in /proc/net/dev of ${ns}`);
  }

  /** Namespaces this lab made and that still exist. */
  listNamespaces(): string[] {
    return this.namespaces.filter((n) => existsSync(join(NETNS_DIR, n)));
  }

  /** Pids of processes this lab started that are still running. */
  livePids(): number[] {
    return [...this.processes].map((p) => p.handle.pid).filter((pid) => pid > 0 && pidAlive(pid));
  }

  /** Stops every process, deletes every namespace (and so every veth) and temp directory. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all([...this.processes].map((p) => p.handle.stop()));
    for (const n of this.namespaces.splice(0)) await run(this.ip, ['netns', 'del', n]);
    for (const d of this.tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
    liveLabs.delete(this);
  }

  /** The same, synchronously: for process exit, where nothing asynchronous runs. */
  disposeSync(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.processes) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const n of this.namespaces.splice(0)) spawnSync(this.ip, ['netns', 'del', n]);
    for (const d of this.tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
    liveLabs.delete(this);
  }

  private tempDir(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), `nicup-lab-${prefix}`));
    this.tempDirs.push(d);
    return d;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('lab disposed');
  }

  private async waitFor(ready: () => boolean, p: LabProcess, what: string): Promise<void> {
    let exited = false;
    void p.exited.then(() => (exited = true));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!ready()) {
      if (exited) throw new Error(`waiting for ${what}: ${p.argv[0]} exited: ${p.stderr().trim()}`);
      if (Date.now() > deadline) throw new Error(`waiting for ${what}: not ready after ${READY_TIMEOUT_MS} ms: ${p.stderr().trim()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async waitForUdpPort(ns: string, port: number, p: LabProcess): Promise<void> {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
    let bound = false;
    const check = async () => {
      const r = await this.exec(ns, [findBinary('cat'), '/proc/net/udp']);
      bound = r.stdout.split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex.trim()));
    };
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exited = false;
    void p.exited.then(() => (exited = true));
    for (await check(); !bound; await check()) {
      if (exited) throw new Error(`waiting for UDP port ${port}: ${p.argv[0]} exited: ${p.stderr().trim()}`);
      if (Date.now() > deadline) throw new Error(`waiting for UDP port ${port} in ${ns}: not bound after ${READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

export async function createLab(): Promise<Lab> {
  return new Lab();
}

export function parseLeases(text: string): Lease[] {
  const out: Lease[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || f[0] === 'duid') continue;
    const lease: Lease = { expiry: Number(f[0]), mac: f[1] ?? '', address: f[2] ?? '' };
    if (f[3] && f[3] !== '*') lease.hostname = f[3];
    if (f[4] && f[4] !== '*') lease.clientId = f[4];
    out.push(lease);
  }
  return out;
}
