/**
 * The Linux platform: rtnetlink for links, addresses, routes and link events; UDP sockets
 * bound to devices; another-manager detection from /proc.
 *
 * With `netns`, every socket it creates (rtnetlink, nl80211, UDP) is created inside that
 * named network namespace (/run/netns/NAME) and keeps it, so one process can drive many
 * namespaces — how the tests and benchmarks run without touching the host's network.
 */
import { inspect } from 'node:util';
import type { DnsHandoff } from './dns-handoff.js';
import type { Clock } from '../../core/clock.js';
import { realClock } from '../../core/clock.js';
import { ArgumentError, ClosedError, InterfaceNotFoundError, NicupError, PlatformError } from '../../errors.js';
import { ErrnoFailure } from './errno.js';
import type {
  Disposable,
  Ipv4Address,
  Ipv4Route,
  LinkEvent,
  LinkInfo,
  Platform,
  UdpOptions,
  UdpTransport,
} from '../contract.js';
import { classifyLink } from './link-kind.js';
import { LinkWatcher } from './link-watch.js';
import { detectManager } from './manager-detect.js';
import { NETLINK_ROUTE, NetlinkChannel } from './netlink-channel.js';
import { checkNetnsName, netnsInode } from './netns.js';
import { WifiDetector } from './nl80211.js';
import { requireIpv4 } from './ipv4.js';
import { Rtnetlink, type KernelLink, type LinkStats } from './rtnetlink.js';
import { LinuxUdpTransport } from './sockets.js';
import type { SupplicantControl, SupplicantOptions } from '../contract.js';
import type { LinuxSupplicantControl } from './supplicant.js';
import type { ByteStream, PppLink, PppOptions, SerialOpenOptions } from '../contract.js';
import type { LinuxModems, PppTuning } from './ppp.js';

export type { LinkStats } from './rtnetlink.js';
export { LinuxUdpTransport } from './sockets.js';

export interface LinuxPlatformOptions {
  /** A named network namespace (`ip netns add NAME`); absent: the process's own. */
  netns?: string;
  clock?: Clock;
  /** pppd: LCP echo timing, binary, stop timeout (see ppp.ts). */
  ppp?: PppTuning;
}

const DHCP_CLIENT_PORT = 68;

export class LinuxPlatform implements Platform {
  readonly name = 'linux';
  readonly clock: Clock;
  readonly netns: string | undefined;
  private channel: NetlinkChannel | undefined;
  private rtnl: Rtnetlink | undefined;
  private watcher: LinkWatcher | undefined;
  private readonly wifi: WifiDetector;
  /** Is ifindex N a WiFi link: asked of nl80211 once per link, dropped when it goes. */
  private readonly wifiByIndex = new Map<number, Promise<boolean>>();
  private readonly sockets = new Set<LinuxUdpTransport>();
  private readonly supplicants = new Set<LinuxSupplicantControl>();
  /** Loaded on first use: ppp.ts brings serialport (+13 MB RSS), which Ethernet never needs. */
  private modems: Promise<LinuxModems> | undefined;
  private readonly pppTuning: PppTuning | undefined;
  /** Aborts ARP probes and announcements in flight when the platform is disposed. */
  private readonly probes = new AbortController();
  private disposed = false;

  private readonly dnsHandedOff = new Map<string, 'resolved' | 'resolvconf'>();

  async setDns(name: string, servers: string[], options: { mechanism: DnsHandoff; domain?: string }): Promise<string | undefined> {
    const { pickDnsHandoff, setDns } = await loadDnsHandoff(`hand DNS servers of ${name} over`);
    const mechanism = pickDnsHandoff(options.mechanism);
    if (!mechanism || servers.length === 0) return undefined;
    await setDns(mechanism, checkIfname(name), servers, options.domain);
    this.dnsHandedOff.set(name, mechanism);
    return mechanism;
  }

  async clearDns(name: string): Promise<void> {
    const mechanism = this.dnsHandedOff.get(name);
    if (!mechanism) return;
    this.dnsHandedOff.delete(name);
    const { clearDns } = await loadDnsHandoff(`take DNS servers of ${name} back`);
    await clearDns(mechanism, name);
  }

  /** A short view for util.inspect: running pppd and wpa_supplicant sessions hold credentials. */
  [inspect.custom](): string {
    return `LinuxPlatform { netns: ${this.netns === undefined ? 'none' : `'${this.netns}'`}, disposed: ${this.disposed} }`;
  }

  constructor(options: LinuxPlatformOptions = {}) {
    if (options.netns !== undefined) checkNetnsName(options.netns);
    this.netns = options.netns;
    this.clock = options.clock ?? realClock();
    this.wifi = new WifiDetector(this.netns);
    this.pppTuning = options.ppp;
  }

  listLinks(): Promise<LinkInfo[]> {
    return this.run('list links', async (rtnl) => {
      const wifi = await this.wifi.wifiIndexes();
      return (await rtnl.dumpLinks()).map((l) => toLinkInfo(l, wifi.has(l.index)));
    });
  }

  getLink(name: string): Promise<LinkInfo | undefined> {
    return this.run(`get link ${name}`, async (rtnl) => {
      checkIfname(name);
      // From the watcher's table when it has the link (its events keep it current). The
      // table is read again after the WiFi check, which may be I/O: never older than an
      // event delivered meanwhile.
      const cached = this.watcher?.lookup(name);
      if (cached) {
        const wifi = await this.isWifi(cached.index);
        const now = this.watcher?.lookup(name);
        if (now?.index === cached.index) return toLinkInfo(now, wifi);
      }
      // nl80211 first: the rtnetlink reply must be the last I/O, so that a caller who
      // subscribed with watchLink gets this answer before any later event.
      const wifi = await this.wifi.wifiIndexes();
      const l = await rtnl.getLink(name);
      if (l) this.wifiByIndex.set(l.index, Promise.resolve(wifi.has(l.index)));
      return l && toLinkInfo(l, wifi.has(l.index));
    });
  }

  watchLink(name: string, listener: (e: LinkEvent) => void): Disposable {
    try {
      this.open(`watch link ${name}`);
      checkIfname(name);
      return this.linkWatcher().watch(name, listener);
    } catch (e) {
      throw asNicupError(e, `watch link ${name}`);
    }
  }

  watchLinks(listener: (name: string, e: LinkEvent) => void): Disposable {
    try {
      this.open('watch links');
      return this.linkWatcher().watchAll(listener);
    } catch (e) {
      throw asNicupError(e, 'watch links');
    }
  }

  private linkWatcher(): LinkWatcher {
    this.watcher ??= new LinkWatcher(
      this.channel!,
      async (l) => toLinkInfo(l, await this.isWifi(l.index)),
      (index) => this.wifiByIndex.delete(index),
    );
    return this.watcher;
  }

  /** nl80211 once per ifindex; a failed answer is not kept. */
  private isWifi(index: number): Promise<boolean> {
    let known = this.wifiByIndex.get(index);
    if (!known) {
      known = this.wifi.isWifi(index);
      this.wifiByIndex.set(index, known);
      known.catch(() => {
        if (this.wifiByIndex.get(index) === known) this.wifiByIndex.delete(index);
      });
    }
    return known;
  }

  /** Synchronous form of openUdp: the impOS facade's openudp() must throw at once for a port in use. */
  openUdpSync(name: string, options: UdpOptions = {}): UdpTransport {
    const operation = `open UDP socket on ${name}`;
    try {
      this.assertOpen(operation);
      return this.openUdpBody(name, options, operation);
    } catch (e) {
      throw asNicupError(e, operation);
    }
  }

  setLinkUp(name: string, up: boolean): Promise<void> {
    const operation = `set ${name} ${up ? 'up' : 'down'}`;
    return this.run(operation, async (rtnl) => rtnl.setLinkUp(await this.requireLink(rtnl, name, operation), up));
  }

  getAddresses(name: string): Promise<Ipv4Address[]> {
    const operation = `get addresses of ${name}`;
    return this.run(operation, async (rtnl) => rtnl.dumpAddresses((await this.requireLink(rtnl, name, operation)).index));
  }

  addAddress(name: string, a: Ipv4Address): Promise<void> {
    const operation = `add address ${a.address}/${a.prefixLength} on ${name}`;
    return this.run(operation, async (rtnl) => rtnl.addAddress(await this.requireLink(rtnl, name, operation), a));
  }

  removeAddress(name: string, a: Ipv4Address): Promise<void> {
    return this.run(`remove address ${a.address}/${a.prefixLength} from ${name}`, async (rtnl) => {
      const link = this.watcher?.lookup(checkIfname(name)) ?? (await rtnl.getLink(name));
      if (link) await rtnl.removeAddress(link, a);
    });
  }

  addRoute(name: string, r: Ipv4Route): Promise<void> {
    const operation = `add route ${r.destination}/${r.prefixLength} on ${name}`;
    return this.run(operation, async (rtnl) => rtnl.addRoute(await this.requireLink(rtnl, name, operation), r));
  }

  removeRoute(name: string, r: Ipv4Route): Promise<void> {
    return this.run(`remove route ${r.destination}/${r.prefixLength} from ${name}`, async (rtnl) => {
      const link = this.watcher?.lookup(checkIfname(name)) ?? (await rtnl.getLink(name));
      if (link) await rtnl.removeRoute(link, r);
    });
  }

  /** Linux extra: main-table IPv4 routes that leave by the link, as the kernel has them. */
  getRoutes(name: string): Promise<Ipv4Route[]> {
    const operation = `get routes of ${name}`;
    return this.run(operation, async (rtnl) => rtnl.dumpRoutes((await this.requireLink(rtnl, name, operation)).index));
  }

  /** Linux extra: the link's packet and byte counters (IFLA_STATS64). */
  getLinkStats(name: string): Promise<LinkStats> {
    const operation = `get counters of ${name}`;
    return this.run(operation, async (rtnl) => {
      // Counters change without events: always the kernel's, never the table's.
      const l = await rtnl.getLink(checkIfname(name));
      if (!l) throw new InterfaceNotFoundError(`${operation}: no interface named ${name}`);
      return l.stats ?? { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 };
    });
  }

  /**
   * UDP 0.0.0.0:68 on the device, SO_BROADCAST and SO_REUSEADDR, usable before the link has
   * an address. It does not keep the process alive (call `ref()` on it to change that).
   * Replies reach it only when the server broadcasts them: a DISCOVER/REQUEST must set
   * the BROADCAST flag (RFC 2131 §4.1), since a unicast to the not-yet-configured address
   * is dropped by the kernel before any UDP socket sees it.
   */
  openDhcpSocket(name: string): Promise<UdpTransport> {
    const operation = `open DHCP socket on ${name}`;
    return this.runSync(operation, () =>
      this.track(
        LinuxUdpTransport.open({
          netns: this.netns,
          device: checkIfname(name),
          port: DHCP_CLIENT_PORT,
          address: 0,
          broadcast: true,
          reuseAddress: true,
          ref: false,
          operation,
          onClosed: this.forget,
        }),
      ),
    );
  }

  /**
   * A UDP socket bound to the device. Like a dgram socket it keeps the process alive until
   * closed (`unref()` on it changes that). Each datagram's toAddress is its IP destination.
   */
  openUdp(name: string, options: UdpOptions = {}): Promise<UdpTransport> {
    const operation = `open UDP socket on ${name}`;
    return this.runSync(operation, () => this.openUdpBody(name, options, operation));
  }

  private openUdpBody(name: string, options: UdpOptions, operation: string): UdpTransport {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ArgumentError('port: must be an integer from 0 to 65535', { field: 'port' });
    }
    return this.track(
      LinuxUdpTransport.open({
        netns: this.netns,
        device: checkIfname(name),
        port,
        address: options.address === undefined ? 0 : requireIpv4(options.address, 'address'),
        broadcast: options.broadcast === true,
        reuseAddress: options.reuseAddress === true,
        ref: true,
        operation,
        onClosed: this.forget,
      }),
    );
  }

  detectManager(name: string): Promise<string | undefined> {
    const operation = `detect manager of ${name}`;
    return this.run(operation, async (rtnl) => {
      const link = await this.requireLink(rtnl, name, operation);
      return detectManager({ ifname: link.name, ifindex: link.index, netnsInode: netnsInode(this.netns) });
    });
  }

  /**
   * RFC 5227 probe of `address` on the link (arp.ts): a packet socket created inside the
   * platform's namespace, closed when the verdict is in. Needs CAP_NET_RAW.
   */
  probeAddress(name: string, address: string, options: { timeoutMs: number; probes?: number }): Promise<{ inUse: boolean; by?: string }> {
    const operation = `probe ${address} on ${name}`;
    return this.run(operation, async (rtnl) => {
      requireIpv4(address, 'address');
      const link = await this.requireLink(rtnl, name, operation);
      // arp.ts loads at the first probe or announcement, not with the platform.
      const { probeAddress: probeArp } = await import('./arp.js');
      return probeArp({
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
        device: link.name,
        ifindex: link.index,
        mac: link.mac ?? '',
        address,
        timeoutMs: options.timeoutMs,
        ...(options.probes !== undefined ? { probes: options.probes } : {}),
        clock: this.clock,
        signal: this.probes.signal,
      });
    });
  }

  /**
   * RFC 5227 §2.3 announcements of `address` on the link (arp.ts): a send-only packet
   * socket created inside the platform's namespace, closed after the last announcement or
   * when cancelled (the caller's signal, or dispose()).
   */
  announceAddress(name: string, address: string, options: { signal?: AbortSignal } = {}): Promise<{ sent: number; cancelled: boolean }> {
    const operation = `announce ${address} on ${name}`;
    return this.run(operation, async (rtnl) => {
      requireIpv4(address, 'address');
      const link = await this.requireLink(rtnl, name, operation);
      const { announceAddress: announceArp } = await import('./arp.js');
      return announceArp({
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
        device: link.name,
        ifindex: link.index,
        mac: link.mac ?? '',
        address,
        clock: this.clock,
        signals: options.signal ? [this.probes.signal, options.signal] : [this.probes.signal],
      });
    });
  }

  /**
   * wpa_supplicant for a WiFi link: attaches to a daemon that already serves it, else starts
   * one of its own (inside the namespace when the platform has one). See supplicant.ts.
   */
  openSupplicant(name: string, options: SupplicantOptions = {}): Promise<SupplicantControl> {
    const operation = `open wpa_supplicant on ${name}`;
    return this.run(operation, async (rtnl) => {
      const link = await this.requireLink(rtnl, name, operation);
      // WiFi only: loaded on first use.
      const { openSupplicant } = await import('./supplicant.js');
      const control: LinuxSupplicantControl = await openSupplicant(link.name, {
        ...options,
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
        ...(link.mac !== undefined ? { mac: link.mac } : {}),
        onReleased: () => this.supplicants.delete(control),
      });
      if (this.disposed) {
        await control.close();
        throw new ClosedError(`${operation}: platform disposed`);
      }
      this.supplicants.add(control);
      return control;
    });
  }

  /** A modem's AT port (serial.ts); startPpp hands it to pppd and it reopens after. */
  async openSerial(device: string, options: SerialOpenOptions = {}): Promise<ByteStream> {
    return (await this.loadModems(`open ${device}`)).openSerial(device, options);
  }

  /** pppd on a dialled modem port, in this platform's namespace (ppp.ts). */
  async startPpp(options: PppOptions): Promise<PppLink> {
    return (await this.loadModems('start pppd')).startPpp(options);
  }

  private async loadModems(operation: string): Promise<LinuxModems> {
    this.assertOpen(operation);
    this.modems ??= import('./ppp.js').then(
      ({ LinuxModems }) =>
        new LinuxModems({
          ...(this.netns !== undefined ? { netns: this.netns } : {}),
          ...(this.pppTuning !== undefined ? { tuning: this.pppTuning } : {}),
          hasAddress: async (ifname, address) => (await this.getAddresses(ifname)).some((a) => a.address === address),
        }),
    );
    let modems: LinuxModems;
    try {
      modems = await this.modems;
    } catch (e) {
      throw asNicupError(e, operation);
    }
    // dispose() may have run while the module loaded; it has ended the modems it found.
    this.assertOpen(operation);
    return modems;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.probes.abort();
    // A modem module that failed to load has nothing to end.
    await this.modems?.then((m) => m.dispose(), () => undefined);
    await Promise.all([...this.supplicants].map((s) => s.close()));
    this.watcher?.close();
    this.channel?.close();
    this.wifi.close();
    await Promise.all([...this.sockets].map((s) => s.close()));
  }

  private open(operation: string): Rtnetlink {
    this.assertOpen(operation);
    if (!this.rtnl) {
      this.channel = new NetlinkChannel(NETLINK_ROUTE, this.netns);
      this.rtnl = new Rtnetlink(this.channel);
    }
    return this.rtnl;
  }

  /** Runs an operation; whatever fails, it rejects with a NicupError. */
  private async run<T>(operation: string, fn: (rtnl: Rtnetlink) => Promise<T>): Promise<T> {
    try {
      return await fn(this.open(operation));
    } catch (e) {
      throw asNicupError(e, operation);
    }
  }

  private async runSync<T>(operation: string, fn: () => T): Promise<T> {
    try {
      this.assertOpen(operation);
      return fn();
    } catch (e) {
      throw asNicupError(e, operation);
    }
  }

  private assertOpen(operation: string): void {
    if (this.disposed) throw new ClosedError(`${operation}: platform disposed`);
  }

  /** The link for a request by ifindex: the watcher's table when it has it, else the kernel. */
  private async requireLink(rtnl: Rtnetlink, name: string, operation: string): Promise<KernelLink> {
    const link = this.watcher?.lookup(checkIfname(name)) ?? (await rtnl.getLink(name));
    if (!link) throw new InterfaceNotFoundError(`${operation}: no interface named ${name}`);
    return link;
  }

  private track(t: LinuxUdpTransport): LinuxUdpTransport {
    this.sockets.add(t);
    return t;
  }

  private readonly forget = (t: LinuxUdpTransport) => {
    this.sockets.delete(t);
  };
}

export function createLinuxPlatform(options: LinuxPlatformOptions = {}): LinuxPlatform {
  return new LinuxPlatform(options);
}

/** dns-handoff.ts (and node:child_process) for programs that opt in to dnsHandoff only. */
async function loadDnsHandoff(operation: string): Promise<typeof import('./dns-handoff.js')> {
  try {
    return await import('./dns-handoff.js');
  } catch (e) {
    throw asNicupError(e, operation);
  }
}

function asNicupError(e: unknown, operation: string): NicupError {
  if (e instanceof NicupError) return e;
  if (e instanceof ErrnoFailure) return e.toNicupError();
  return new PlatformError(`${operation}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

function toLinkInfo(l: KernelLink, wifi: boolean): LinkInfo {
  const info: LinkInfo = {
    name: l.name,
    index: l.index,
    kind: classifyLink({ arphrd: l.arphrd, ...(l.infoKind !== undefined ? { infoKind: l.infoKind } : {}), wifi }),
    adminUp: l.adminUp,
    carrier: l.carrier,
    mtu: l.mtu,
  };
  if (l.mac !== undefined) info.mac = l.mac;
  return info;
}

/** IFNAMSIZ is 16 with the NUL; names never hold '/', whitespace or ':' aliases. */
function checkIfname(name: string): string {
  if (typeof name !== 'string' || !/^[^/\s:]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new ArgumentError('interface: must be a Linux interface name (1-15 characters, no "/", ":" or spaces)', { field: 'interface' });
  }
  return name;
}
