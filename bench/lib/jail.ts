/**
 * A mount namespace for the peer DHCP clients, so that none of them can touch the host's
 * files whatever their scripts do: /etc is an overlay (writes land in a temporary upper
 * directory, which the report lists), and tmpfs covers /var/lib/dhcp, /var/lib/dhcpcd and
 * /run/dhcpcd. A holder process (`unshare --mount --propagation slave sleep`) keeps the
 * namespace alive; peers enter it with `nsenter -t HOLDER -m`, then `ip netns exec` puts
 * them in their network namespace and binds /etc/netns/NS/resolv.conf (made inside the
 * overlay) over /etc/resolv.conf. Slave propagation lets the lab's new /run/netns mounts
 * in, and nothing out.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { findBinary } from '../../test/lab/netns.js';

/** The holder outlives a crashed benchmark by at most this long. */
const HOLDER_LIFETIME_S = 3600;
const RUN_DHCPCD = '/run/dhcpcd';
const NETIF_DIR = '/run/systemd/netif';
const NETWORKD = '/lib/systemd/systemd-networkd';

function userIds(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const f = line?.split(':');
  return f && f[2] && f[3] ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined;
}

export class PeerJail {
  private disposed = false;
  private networkdReady = false;
  private readonly createdRunDir: boolean;

  private constructor(
    private readonly holder: ChildProcess,
    readonly dir: string,
    createdRunDir: boolean,
  ) {
    this.createdRunDir = createdRunDir;
    process.on('exit', this.disposeSync);
  }

  static async create(): Promise<PeerJail> {
    const dir = mkdtempSync(join(tmpdir(), 'nicup-bench-jail-'));
    mkdirSync(join(dir, 'etc-upper'));
    mkdirSync(join(dir, 'etc-work'));
    const holder = spawn(findBinary('unshare'), ['--mount', '--propagation', 'slave', findBinary('sleep'), String(HOLDER_LIFETIME_S)], { stdio: 'ignore' });
    // /run/dhcpcd must exist on the host to be a mount point; it stays empty there.
    const createdRunDir = !existsSync(RUN_DHCPCD);
    if (createdRunDir) mkdirSync(RUN_DHCPCD);
    const jail = new PeerJail(holder, dir, createdRunDir);
    try {
      await jail.waitForNamespace();
      jail.networkdReady = existsSync(NETWORKD) && existsSync(NETIF_DIR) && userIds('systemd-network') !== undefined;
      jail.enter(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=/etc,upperdir=${join(dir, 'etc-upper')},workdir=${join(dir, 'etc-work')}`, '/etc']);
      for (const d of ['/var/lib/dhcp', '/var/lib/dhcpcd', RUN_DHCPCD]) if (existsSync(d)) jail.enter(['mount', '-t', 'tmpfs', 'tmpfs', d]);
      // systemd-networkd keeps its state in /run/systemd/netif, as its own user.
      const networkUser = userIds('systemd-network');
      if (existsSync(NETIF_DIR) && networkUser) {
        jail.enter(['mount', '-t', 'tmpfs', '-o', `mode=0755,uid=${networkUser.uid},gid=${networkUser.gid}`, 'tmpfs', NETIF_DIR]);
      }
    } catch (e) {
      jail.disposeSync();
      throw e;
    }
    return jail;
  }

  get pid(): number {
    return this.holder.pid ?? -1;
  }

  /** argv that runs `cmd` inside the jail and the network namespace `ns`. */
  argv(ns: string, cmd: readonly string[]): string[] {
    return [findBinary('nsenter'), '-t', String(this.pid), '-m', '--', findBinary('ip'), 'netns', 'exec', ns, ...cmd];
  }

  /**
   * argv that runs `cmd` inside the jail with only the network namespace switched (no
   * `ip netns exec`, so /sys stays what `sysfsFor` mounted: systemd-networkd needs it).
   */
  argvNet(ns: string, cmd: readonly string[]): string[] {
    return [findBinary('nsenter'), '-t', String(this.pid), '-m', `--net=/run/netns/${ns}`, '--', ...cmd];
  }

  /**
   * Mounts, in the jail only, a read-only sysfs that shows `ns`'s devices. systemd reads a
   * read-only /sys as "in a container, no udev" and then does not wait for udev to
   * initialize links (lab-notes.md).
   */
  sysfsFor(ns: string): void {
    const r = spawnSync(findBinary('nsenter'), ['-t', String(this.pid), '-m', `--net=/run/netns/${ns}`, '--', findBinary('mount'), '-t', 'sysfs', '-o', 'ro', 'sysfs', '/sys'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`jail: mount sysfs for ${ns} failed: ${r.stderr.trim()}`);
  }

  /** True when systemd-networkd can run in the jail (installed, its state directory covered). */
  get canRunNetworkd(): boolean {
    return this.networkdReady;
  }

  /** Installs a file inside the jail's /etc overlay. */
  installEtcFile(path: string, content: string): void {
    if (!path.startsWith('/etc/')) throw new Error(`jail: ${path} is not under /etc`);
    const src = join(this.dir, `file-${path.replace(/[^A-Za-z0-9.-]/g, '_')}`);
    writeFileSync(src, content);
    this.enter(['install', '-D', '-m', '644', src, path]);
  }

  /** Gives `ns` its own resolv.conf (inside the overlay), which `ip netns exec` binds over /etc/resolv.conf. */
  privateResolvConf(ns: string): void {
    const src = join(this.dir, `resolv-${ns}.conf`);
    writeFileSync(src, '# nicup bench: private resolv.conf for this namespace\n');
    this.enter(['install', '-D', '-m', '644', src, `/etc/netns/${ns}/resolv.conf`]);
  }

  /** Forgets dhcpcd's leases (its DUID stays, as on a real machine): every run starts fresh. */
  forgetDhcpcdLeases(): void {
    this.enter(['find', '/var/lib/dhcpcd', '-name', '*.lease*', '-delete']);
  }

  /** Files the peers created or changed under /etc (they went to the overlay, not the host). */
  etcWrites(): string[] {
    const upper = join(this.dir, 'etc-upper');
    const out: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(`/etc/${relative(upper, p)}`);
      }
    };
    if (existsSync(upper)) walk(upper);
    return out.sort();
  }

  private enter(cmd: string[]): void {
    const [bin, ...args] = cmd;
    const r = spawnSync(findBinary('nsenter'), ['-t', String(this.pid), '-m', '--', findBinary(bin!), ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`jail: ${cmd.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  }

  private async waitForNamespace(): Promise<void> {
    const own = statSync('/proc/self/ns/mnt').ino;
    for (let i = 0; i < 200; i++) {
      try {
        if (statSync(`/proc/${this.pid}/ns/mnt`).ino !== own) return;
      } catch {
        // not started yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('jail: the holder process did not enter its own mount namespace');
  }

  /** Ends the holder (its mounts go with it) and removes the temporary directory. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    const exited = new Promise((r) => this.holder.once('exit', r));
    if (this.holder.exitCode === null && this.holder.signalCode === null) {
      this.holder.kill('SIGKILL');
      await exited;
    }
    this.disposeSync();
  }

  /** Keeps the upper directory's listing readable until now; call etcWrites() first. */
  readonly disposeSync = (): void => {
    if (this.disposed) return;
    this.disposed = true;
    process.off('exit', this.disposeSync);
    try {
      this.holder.kill('SIGKILL');
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (this.createdRunDir) {
      try {
        rmdirSync(RUN_DHCPCD);
      } catch {
        // the holder's tmpfs may still be going away; the directory is empty either way
      }
    }
  };
}
