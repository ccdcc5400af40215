/**
 * ISC Kea (kea-dhcp4) as a lab DHCP server, for what dnsmasq cannot do: leases of a few
 * seconds (dnsmasq's minimum is 120 s), so renewal, rebinding and expiry run in a test.
 *
 *   const kea = await startKea(lab, { ns: server, iface: pair.serverName, subnet: '192.168.78.0/24',
 *                                     pool: ['192.168.78.10', '192.168.78.50'], router: '192.168.78.1' });
 *   ...
 *   await kea.stop();   // SIGTERM; also removes its temp directory
 *
 * Everything Kea writes (config, memfile lease CSV, lock and pid files) lives in a temp
 * directory: KEA_LOCKFILE_DIR and KEA_PIDFILE_DIR point there, logging goes to stdout, LFC
 * is off, and there is no control socket. It runs under `ip netns exec` like every lab
 * daemon, so it never sees the root namespace's interfaces.
 *
 * Found here (Kea 2.2.0): raw sockets (the default, LPF) work on a veth; Kea refuses to
 * open a socket on an interface that is not RUNNING ("the interface s-eth0 is not
 * running"), so the veth's client end must be up (carrier) before Kea starts. startKea
 * checks that and fails with that message rather than serving nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, type Lab, type LabProcess } from './netns.js';
import { waitUntil } from './extra.js';

export interface KeaOptions {
  ns: string;
  /** The server end of the veth (must have carrier when Kea starts). */
  iface: string;
  /** CIDR of the subnet served, e.g. 192.168.78.0/24. */
  subnet: string;
  /** First and last address of the pool. */
  pool: [string, string];
  /** Option 3. */
  router?: string;
  /** Option 6. */
  dns?: string[];
  /** Default 6 s. */
  validLifetimeS?: number;
  /** T1, default 2 s. */
  renewTimerS?: number;
  /** T2, default 4 s. */
  rebindTimerS?: number;
  /** Default 'raw'. */
  socketType?: 'raw' | 'udp';
}

export interface KeaLease {
  address: string;
  hwaddr: string;
  clientId: string;
  validLifetimeS: number;
  /** Seconds since the epoch. */
  expiry: number;
  /** 0 default, 1 declined, 2 expired-reclaimed. */
  state: number;
}

export interface Kea extends LabProcess {
  readonly dir: string;
  readonly configFile: string;
  readonly leaseFile: string;
  /** Rows of the memfile CSV, oldest first (Kea appends a row per change). */
  readLeases(): KeaLease[];
  /** Kea's log so far (stdout). */
  log(): string;
}

const READY_TIMEOUT_MS = 5000;
const liveDirs = new Set<string>();
process.on('exit', () => {
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
});

function keaBinary(): string {
  try {
    return findBinary('kea-dhcp4');
  } catch {
    throw new Error('the lab needs `kea-dhcp4`, which is not installed: apt-get install kea-dhcp4-server');
  }
}

export function keaConfig(o: KeaOptions, leaseFile: string): object {
  const optionData: { name: string; data: string }[] = [];
  if (o.router) optionData.push({ name: 'routers', data: o.router });
  if (o.dns && o.dns.length > 0) optionData.push({ name: 'domain-name-servers', data: o.dns.join(', ') });
  return {
    Dhcp4: {
      'interfaces-config': { interfaces: [o.iface], 'dhcp-socket-type': o.socketType ?? 'raw' },
      'lease-database': { type: 'memfile', persist: true, name: leaseFile, 'lfc-interval': 0 },
      'valid-lifetime': o.validLifetimeS ?? 6,
      'renew-timer': o.renewTimerS ?? 2,
      'rebind-timer': o.rebindTimerS ?? 4,
      subnet4: [{ id: 1, subnet: o.subnet, pools: [{ pool: `${o.pool[0]} - ${o.pool[1]}` }], 'option-data': optionData }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'INFO' }],
    },
  };
}

export function parseKeaLeases(csv: string): KeaLease[] {
  const out: KeaLease[] = [];
  for (const line of csv.split('\n')) {
    const f = line.split(',');
    if (f.length < 10 || f[0] === 'address') continue;
    out.push({
      address: f[0] ?? '',
      hwaddr: f[1] ?? '',
      clientId: f[2] ?? '',
      validLifetimeS: Number(f[3]),
      expiry: Number(f[4]),
      state: Number(f[9]),
    });
  }
  return out;
}

/** Starts kea-dhcp4 in `o.ns`; resolves once it listens on `o.iface`. */
export async function startKea(lab: Lab, o: KeaOptions): Promise<Kea> {
  const kea = keaBinary();
  const dir = mkdtempSync(join(tmpdir(), 'nicup-lab-kea-'));
  liveDirs.add(dir);
  const removeDir = () => {
    rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };
  const configFile = join(dir, 'kea-dhcp4.json');
  const leaseFile = join(dir, 'leases4.csv');
  writeFileSync(configFile, JSON.stringify(keaConfig(o, leaseFile), null, 2));
  // env(1) sets Kea's directories and execs it: no shell, and the pid stays Kea's.
  let p: LabProcess;
  try {
    p = lab.spawn(o.ns, [findBinary('env'), `KEA_LOCKFILE_DIR=${dir}`, `KEA_PIDFILE_DIR=${dir}`, kea, '-c', configFile]);
  } catch (err) {
    removeDir();
    throw err;
  }
  let exited = false;
  void p.exited.then(() => (exited = true));
  try {
    await waitUntil(
      'kea-dhcp4 to start',
      () => {
        const log = p.stdout() + p.stderr();
        if (/DHCPSRV_OPEN_SOCKET_FAIL/.test(log)) {
          throw new Error(`kea-dhcp4 could not open its socket on ${o.iface} (its veth peer must be up first): ${/DHCPSRV_OPEN_SOCKET_FAIL.*/.exec(log)?.[0]}`);
        }
        if (exited) throw new Error(`kea-dhcp4 exited: ${log.trim().split('\n').slice(-5).join(' | ')}`);
        return /DHCP4_STARTED/.test(log);
      },
      READY_TIMEOUT_MS,
      5,
    );
  } catch (err) {
    await p.stop();
    removeDir();
    throw err;
  }
  return {
    pid: p.pid,
    ns: p.ns,
    argv: p.argv,
    exited: p.exited,
    stdout: p.stdout,
    stderr: p.stderr,
    stop: async () => {
      await p.stop();
      removeDir();
    },
    dir,
    configFile,
    leaseFile,
    readLeases: () => parseKeaLeases(existsSync(leaseFile) ? readFileSync(leaseFile, 'utf8') : ''),
    log: () => p.stdout(),
  };
}
