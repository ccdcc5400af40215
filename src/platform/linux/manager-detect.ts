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
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

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

function readProcess(procRoot: string, pid: number): ProcessView | undefined {
  try {
    const raw = readFileSync(`${procRoot}/${pid}/cmdline`);
    if (raw.length === 0) return undefined; // kernel thread or zombie
    const argv = raw.toString('utf8').replace(/\0+$/, '').split('\0');
    const comm = readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim();
    return { pid, argv, comm };
  } catch {
    return undefined; // exited while we looked
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function detectManager(o: DetectOptions): string | undefined {
  const procRoot = o.procRoot ?? '/proc';
  const self = o.selfPid ?? process.pid;
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === self) continue;
    let ino: number;
    try {
      ino = statSync(`${procRoot}/${pid}/ns/net`).ino;
    } catch {
      continue;
    }
    if (ino !== o.netnsInode) continue;
    const p = readProcess(procRoot, pid);
    if (!p) continue;
    const found = classifyProcess(p, o.ifname);
    if (found === undefined) continue;
    if (!found.startsWith('daemon:')) return found;
    const daemon = found.slice('daemon:'.length);
    const stateFile =
      daemon === 'NetworkManager'
        ? readOptional(`${procRoot}/${pid}/root/run/NetworkManager/devices/${o.ifindex}`)
        : readOptional(`${procRoot}/${pid}/root/run/systemd/netif/links/${o.ifindex}`);
    if (!daemonLeavesLink(daemon, stateFile)) return daemon;
  }
  return undefined;
}
