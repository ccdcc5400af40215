/**
 * The Linux platform: rtnetlink for links, addresses, routes and link events; UDP sockets
 * bound to devices; another-manager detection from /proc.
 *
 * With `netns`, every socket it creates (rtnetlink, nl80211, UDP) is created inside that
 * named network namespace (/run/netns/NAME) and keeps it, so one process can drive many
 * namespaces — how the tests and benchmarks run without touching the host's network.
 */
import type { Clock } from '../../core/clock.js';
import { realClock } from '../../core/clock.js';
import { ArgumentError, ClosedError, InterfaceNotFoundError } from '../../errors.js';
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

export type { LinkStats } from './rtnetlink.js';
export { LinuxUdpTransport } from './sockets.js';

export interface LinuxPlatformOptions {
  /** A named network namespace (`ip netns add NAME`); absent: the process's own. */
  netns?: string;
  clock?: Clock;
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
  private readonly sockets = new Set<LinuxUdpTransport>();
  private disposed = false;

  constructor(options: LinuxPlatformOptions = {}) {
    if (options.netns !== undefined) checkNetnsName(options.netns);
    this.netns = options.netns;
    this.clock = options.clock ?? realClock();
    this.wifi = new WifiDetector(this.netns);
  }

  async listLinks(): Promise<LinkInfo[]> {
    const rtnl = this.open('list links');
    const wifi = await this.wifi.wifiIndexes();
    return (await rtnl.dumpLinks()).map((l) => toLinkInfo(l, wifi.has(l.index)));
  }

  async getLink(name: string): Promise<LinkInfo | undefined> {
    const rtnl = this.open(`get link ${name}`);
    checkIfname(name);
    // nl80211 first: the rtnetlink reply must be the last I/O, so that a caller who
    // subscribed with watchLink gets this answer before any later event.
    const wifi = await this.wifi.wifiIndexes();
    const l = await rtnl.getLink(name);
    return l && toLinkInfo(l, wifi.has(l.index));
  }

  watchLink(name: string, listener: (e: LinkEvent) => void): Disposable {
    this.open(`watch link ${name}`);
    checkIfname(name);
    this.watcher ??= new LinkWatcher(this.channel!, async (l) => toLinkInfo(l, await this.wifi.isWifi(l.index)));
    return this.watcher.watch(name, listener);
  }

  async setLinkUp(name: string, up: boolean): Promise<void> {
    const rtnl = this.open(`set ${name} ${up ? 'up' : 'down'}`);
    await rtnl.setLinkUp(await this.requireLink(name, `set ${name} ${up ? 'up' : 'down'}`), up);
  }

  async getAddresses(name: string): Promise<Ipv4Address[]> {
    const rtnl = this.open(`get addresses of ${name}`);
    return rtnl.dumpAddresses((await this.requireLink(name, `get addresses of ${name}`)).index);
  }

  async addAddress(name: string, a: Ipv4Address): Promise<void> {
    const rtnl = this.open(`add address on ${name}`);
    await rtnl.addAddress(await this.requireLink(name, `add address ${a.address}/${a.prefixLength} on ${name}`), a);
  }

  async removeAddress(name: string, a: Ipv4Address): Promise<void> {
    const rtnl = this.open(`remove address from ${name}`);
    const link = await rtnl.getLink(checkIfname(name));
    if (link) await rtnl.removeAddress(link, a);
  }

  async addRoute(name: string, r: Ipv4Route): Promise<void> {
    const rtnl = this.open(`add route on ${name}`);
    await rtnl.addRoute(await this.requireLink(name, `add route ${r.destination}/${r.prefixLength} on ${name}`), r);
  }

  async removeRoute(name: string, r: Ipv4Route): Promise<void> {
    const rtnl = this.open(`remove route from ${name}`);
    const link = await rtnl.getLink(checkIfname(name));
    if (link) await rtnl.removeRoute(link, r);
  }

  /** Linux extra: main-table IPv4 routes that leave by the link, as the kernel has them. */
  async getRoutes(name: string): Promise<Ipv4Route[]> {
    const rtnl = this.open(`get routes of ${name}`);
    return rtnl.dumpRoutes((await this.requireLink(name, `get routes of ${name}`)).index);
  }

  /** Linux extra: the link's packet and byte counters (IFLA_STATS64). */
  async getLinkStats(name: string): Promise<LinkStats> {
    const l = await this.requireLink(name, `get counters of ${name}`);
    return l.stats ?? { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 };
  }

  /**
   * UDP 0.0.0.0:68 on the device, SO_BROADCAST and SO_REUSEADDR, usable before the link has
   * an address. It does not keep the process alive (call `ref()` on it to change that).
   * Replies reach it only when the server broadcasts them: a DISCOVER/REQUEST must set
   * the BROADCAST flag (RFC 2131 §4.1), since a unicast to the not-yet-configured address
   * is dropped by the kernel before any UDP socket sees it.
   */
  async openDhcpSocket(name: string): Promise<UdpTransport> {
    const operation = `open DHCP socket on ${name}`;
    this.assertOpen(operation);
    return this.track(
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
    );
  }

  /**
   * A UDP socket bound to the device. Like a dgram socket it keeps the process alive until
   * closed (`unref()` on it changes that). Each datagram's toAddress is its IP destination.
   */
  async openUdp(name: string, options: UdpOptions = {}): Promise<UdpTransport> {
    const operation = `open UDP socket on ${name}`;
    this.assertOpen(operation);
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

  async detectManager(name: string): Promise<string | undefined> {
    const link = await this.requireLink(name, `detect manager of ${name}`);
    return detectManager({ ifname: link.name, ifindex: link.index, netnsInode: netnsInode(this.netns) });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
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

  private assertOpen(operation: string): void {
    if (this.disposed) throw new ClosedError(`${operation}: platform disposed`);
  }

  private async requireLink(name: string, operation: string): Promise<KernelLink> {
    const link = await this.open(operation).getLink(checkIfname(name));
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
