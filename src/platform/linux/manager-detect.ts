/**
 * Finds another network manager that manages a link, so nicup can refuse to fight it.
 * Only processes in the same network namespace count (their /proc/PID/ns/net is ours).
 *
 * - Per-interface DHCP clients name the interface on their command line: dhclient,
 *   dhcpcd, udhcpc. dhclient and dhcpcd without an interface manage every interface;
 *   udhcpc without -i uses eth0.
 * - Global daemons keep per-link state, read through /proc/PID/root so their own mount
 *   namespace's /run is seen: NetworkManager /run/NetworkManager/devices/IFINDEX
 *   (managed=false: not managed), systemd-networkd /run/systemd/netif/links/IFINDEX
 *   (ADMIN_STATE=unmanaged: not managed). Without such a file the daemon is reported.
 * - connmand: reported unless its -I/--nodevice excludes the link or -i/--device omits it.
 *
 * detectManager runs once per open; with 64+ interfaces opened together, one /proc scan
 * (asynchronous, off the event loop's thread) answers them all: a scan serves for
 * `scanMaxAgeMs` (1 s). A manager found in a scan is checked to still run before it is
 * reported; one started less than that ago may be missed, as it could start just after any scan.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Clock } from '../../core/clock.js';

export interface ProcessView {
  pid: number;
  argv: string[];
  /** /proc/PID/comm: the executable name, cut to 15 characters. */
  comm: string;
}

export interface DetectOptions {
  ifname: string;
  ifindex: number;
  /** nsfs inode of the platform's network namespace. */
  netnsInode: number;
  /** Defaults to /proc. */
  procRoot?: string;
  /** Our own pid, never reported. */
  selfPid?: number;
}

/** Values taken by options of these programs, so they are not mistaken for interfaces. */
const VALUE_OPTIONS: Record<string, Set<string>> = {
  dhclient: new Set(['-cf', '-lf', '-pf', '-sf', '-s', '-g', '-p', '-e', '-I', '-H', '-F', '-V', '--decline-wait-time', '--timeout', '-timeout']),
  dhcpcd: new Set(['-c', '-e', '-f', '-h', '-i', '-l', '-m', '-o', '-r', '-s', '-t', '-u', '-v', '-y', '-z', '-C', '-F', '-I', '-O', '-Q', '-S', '-X']),
};

function positionalArgs(program: string, argv: string[]): string[] {
  const takesValue = VALUE_OPTIONS[program] ?? new Set<string>();
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function programOf(p: ProcessView): string {
  const first = p.argv[0];
  const name = first ? basename(first) : p.comm;
  // busybox applets run as "udhcpc" through a symlink; comm keeps the link name too.
  if (name === 'busybox' && p.argv[1]) return basename(p.argv[1]);
  return name;
}

/**
 * The manager a per-interface client process is, when it manages `ifname`; 'daemon:NAME'
 * for a global daemon whose per-link state must still be checked; undefined otherwise.
 */
export function classifyProcess(p: ProcessView, ifname: string): string | undefined {
  const program = programOf(p);
  const argv = program === basename(p.argv[0] ?? '') ? p.argv : p.argv.slice(1);
  switch (program) {
    case 'dhclient':
    case 'dhcpcd': {
      const ifaces = positionalArgs(program, argv).filter((a) => !a.startsWith('/'));
      return ifaces.length === 0 || ifaces.includes(ifname) ? program : undefined;
    }
    case 'udhcpc': {
      let iface = 'eth0';
      for (let i = 1; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === '-i' || a === '--interface') iface = argv[i + 1] ?? iface;
        else if (a.startsWith('--interface=')) iface = a.slice('--interface='.length);
        else if (a.startsWith('-i') && a.length > 2 && !a.startsWith('--')) iface = a.slice(2);
      }
      return iface === ifname ? 'udhcpc' : undefined;
    }
    case 'NetworkManager':
      return 'daemon:NetworkManager';
    case 'systemd-networkd':
    case 'systemd-network':
      return 'daemon:systemd-networkd';
    case 'connmand': {
      const list = (short: string, long: string) => {
        const out: string[] = [];
        for (let i = 1; i < argv.length; i++) {
          const a = argv[i]!;
          if (a === short || a === long) out.push(...(argv[i + 1] ?? '').split(','));
          else if (a.startsWith(`${long}=`)) out.push(...a.slice(long.length + 1).split(','));
        }
        return out;
      };
      const only = list('-i', '--device');
      if (only.length > 0 && !only.includes(ifname)) return undefined;
      if (list('-I', '--nodevice').includes(ifname)) return undefined;
      return 'connman';
    }
    default:
      return undefined;
  }
}

/** Reads a daemon's per-link state file; true when it says the link is not managed. */
export function daemonLeavesLink(daemon: string, stateFile: string | undefined): boolean {
  if (stateFile === undefined) return false;
  if (daemon === 'NetworkManager') return /^\s*managed\s*=\s*false\s*$/m.test(stateFile);
  if (daemon === 'systemd-networkd') return /^ADMIN_STATE=unmanaged\s*$/m.test(stateFile);
  return false;
}

/** What the detector reads under /proc; injectable so that a test can fake or count the reads. */
export interface ProcReader {
  /** The names in a directory. */
  list(path: string): Promise<string[]>;
  /** The inode of what `path` leads to (following links: /proc/PID/ns/net is one). */
  inode(path: string): Promise<number>;
  read(path: string): Promise<Buffer>;
}

/** The real file system. */
export const procFs: ProcReader = {
  list: (path) => readdir(path),
  inode: async (path) => (await stat(path)).ino,
  read: (path) => readFile(path),
};

export interface ManagerDetectorOptions {
  reader?: ProcReader;
  /** Measures a scan's age (default: performance.now). */
  clock?: Pick<Clock, 'now'>;
  /** How long one /proc scan answers for (default 1000 ms; 0: every call scans). */
  scanMaxAgeMs?: number;
}

const argvOf = (cmdline: Buffer): string[] => cmdline.toString('utf8').replace(/\0+$/, '').split('\0');

async function readProcess(reader: ProcReader, procRoot: string, pid: number): Promise<ProcessView | undefined> {
  try {
    const raw = await reader.read(`${procRoot}/${pid}/cmdline`);
    if (raw.length === 0) return undefined; // kernel thread or zombie
    const comm = (await reader.read(`${procRoot}/${pid}/comm`)).toString('utf8').trim();
    return { pid, argv: argvOf(raw), comm };
  } catch {
    return undefined; // exited while we looked
  }
}

async function readOptional(reader: ProcReader, path: string): Promise<string | undefined> {
  try {
    return (await reader.read(path)).toString('utf8');
  } catch {
    return undefined;
  }
}

/** The processes in network namespace `netnsInode`, in /proc's order, without `selfPid`. */
async function scanProcesses(reader: ProcReader, procRoot: string, selfPid: number, netnsInode: number): Promise<ProcessView[]> {
  const pids = (await reader.list(procRoot)).filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => pid !== selfPid);
  const views = await Promise.all(
    pids.map(async (pid) => {
      let ino: number;
      try {
        ino = await reader.inode(`${procRoot}/${pid}/ns/net`);
      } catch {
        return undefined;
      }
      return ino === netnsInode ? readProcess(reader, procRoot, pid) : undefined;
    }),
  );
  return views.filter((v) => v !== undefined);
}

/**
 * Answers detectManager from one /proc scan per namespace for `scanMaxAgeMs`; calls made
 * while a scan runs wait for that scan.
 */
export class ManagerDetector {
  private readonly reader: ProcReader;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly scanMaxAgeMs: number;
  private readonly scans = new Map<string, { atMs: number; processes: Promise<ProcessView[]> }>();

  constructor(options: ManagerDetectorOptions = {}) {
    this.reader = options.reader ?? procFs;
    this.clock = options.clock ?? { now: () => performance.now() };
    this.scanMaxAgeMs = options.scanMaxAgeMs ?? 1000;
  }

  async detect(o: DetectOptions): Promise<string | undefined> {
    const procRoot = o.procRoot ?? '/proc';
    const processes = await this.processes(procRoot, o.selfPid ?? process.pid, o.netnsInode);
    for (const p of processes) {
      const found = classifyProcess(p, o.ifname);
      if (found === undefined || !(await this.stillRuns(procRoot, p))) continue;
      if (!found.startsWith('daemon:')) return found;
      const daemon = found.slice('daemon:'.length);
      const stateFile =
        daemon === 'NetworkManager'
          ? await readOptional(this.reader, `${procRoot}/${p.pid}/root/run/NetworkManager/devices/${o.ifindex}`)
          : await readOptional(this.reader, `${procRoot}/${p.pid}/root/run/systemd/netif/links/${o.ifindex}`);
      if (!daemonLeavesLink(daemon, stateFile)) return daemon;
    }
    return undefined;
  }

  private processes(procRoot: string, selfPid: number, netnsInode: number): Promise<ProcessView[]> {
    const now = this.clock.now();
    for (const [key, scan] of this.scans) if (now - scan.atMs >= this.scanMaxAgeMs) this.scans.delete(key);
    const key = `${procRoot}\0${netnsInode}\0${selfPid}`;
    const cached = this.scans.get(key);
    if (cached) return cached.processes;
    const scan = { atMs: now, processes: scanProcesses(this.reader, procRoot, selfPid, netnsInode) };
    this.scans.set(key, scan);
    // A failed scan is not kept: the next call tries again.
    scan.processes.catch(() => {
      if (this.scans.get(key) === scan) this.scans.delete(key);
    });
    return scan.processes;
  }

  /** The scan may be older than the call: a process that has exited since (or whose pid was reused) does not count. */
  private async stillRuns(procRoot: string, p: ProcessView): Promise<boolean> {
    try {
      return argvOf(await this.reader.read(`${procRoot}/${p.pid}/cmdline`)).join('\0') === p.argv.join('\0');
    } catch {
      return false;
    }
  }
}

const shared = new ManagerDetector();

/** The manager of link `ifname`/`ifindex` in the namespace, or undefined when none is seen. */
export function detectManager(o: DetectOptions): Promise<string | undefined> {
  return shared.detect(o);
}
