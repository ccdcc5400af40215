/**
 * Network: the modern entry point. Holds the platform, the table of links, and one
 * session per open interface, and applies the open/re-open rules:
 *  - an identical NIC (key order ignored) gives a new handle on the live interface;
 *  - `{interface}` alone attaches to the live interface;
 *  - a different NIC is refused ("cannot reconfigure interface when active") unless
 *    `{ reconfigure: true }`, which tears down and brings up afresh.
 * (impOS 47 refuses even an identical NIC; nicup fixes that known issue.)
 */
import { inspect } from 'node:util';
import type { Platform, LinkInfo, Disposable } from '../platform/contract.js';
import { parseNic, checkApplicable, nicEquals, isAttachOnly, type InterfaceKind, type Nic } from '../nic.js';
import { ArgumentError, InterfaceBusyError, InterfaceNotFoundError, NotSupportedError } from '../errors.js';
import { Session, type DriverFactory, type DriverOptions } from './session.js';
import { NetInterface, toIpTable } from './interface.js';
import { NetState, type NetStateValue } from '../states.js';
import { DEFAULT_ROUTE_METRIC } from './ip-configurator.js';
import type { IpTable, StateChange } from './types.js';
import { defaultLogger, stateChannel, type Logger } from './log.js';
import { defaultDrivers, loadDrivers } from './drivers.js';
import { VirtualClock } from './clock.js';

export interface NetworkOptions {
  logger?: Logger;
  /** Defaults for every interface's driver (timeouts, back-off, ARP probe). */
  driver?: DriverOptions;
  /**
   * Keep the process alive while any interface is open, as an open server socket does
   * (default: true on real time, false on the simulator's virtual clock).
   */
  keepAlive?: boolean;
  /** Drivers by kind; defaults to nicup's own. */
  drivers?: Partial<Record<InterfaceKind, DriverFactory>>;
}

export interface OpenOptions {
  /** Replace a live interface's configuration (tear down, bring up afresh). */
  reconfigure?: boolean;
  /** Called on every state change, like impOS's callback. */
  onState?: (state: NetStateValue, change: StateChange) => void;
  /** Driver options for this interface (override the network's). */
  driver?: DriverOptions;
}

export interface NetInfoInterface {
  type: 'ethernet' | 'wifi' | 'cell';
  macaddress: string;
  name: string;
  state: NetStateValue;
}

/** impOS imp.net.info(). */
export interface NetInfo {
  interface: NetInfoInterface[];
  /** Index in `interface` of the one carrying default traffic; absent when none. */
  active?: number;
  ipv4?: IpTable['ipv4'];
  lasterror?: { interface: string; state: NetStateValue; reason: string; detail?: string };
}

function isUnhappy(s: NetStateValue): boolean {
  return s === NetState.WIFI_STOPPED_UNHAPPY || s === NetState.ETHERNET_STOPPED_UNHAPPY || s === NetState.CELLULAR_STOPPED_UNHAPPY || s === NetState.CELLULAR_REGISTRATION_DENIED;
}

export class Network {
  readonly platform: Platform;
  private links = new Map<string, LinkInfo>();
  private sessions = new Map<string, Session>();
  private readonly log: Logger;
  private watch: Disposable | undefined;
  private disposed = false;
  private keepAliveTimer: NodeJS.Timeout | undefined;

  private constructor(platform: Platform, private readonly options: NetworkOptions) {
    this.platform = platform;
    this.log = options.logger ?? defaultLogger();
  }

  /** Creates a network on a platform and loads its table of links. */
  static async create(platform: Platform, options: NetworkOptions = {}): Promise<Network> {
    const n = new Network(platform, options);
    await n.refresh();
    if (platform.watchLinks) {
      n.watch = platform.watchLinks((name, e) => {
        if (e.type === 'removed') n.links.delete(name);
        else if (e.type === 'added') n.links.set(name, e.link);
        else {
          const l = n.links.get(name);
          if (l && e.type === 'carrier') n.links.set(name, { ...l, carrier: e.carrier });
          if (l && e.type === 'admin') n.links.set(name, { ...l, adminUp: e.up });
        }
      });
    }
    // After the watch, so no link event is missed while the modules load.
    await loadDrivers(n.interfaces.map((l) => l.kind), options.drivers);
    return n;
  }

  /**
   * A short view for util.inspect: the platform underneath holds secrets in use (a
   * simulated AP's key, pppd's credentials), so inspect never walks into it.
   */
  [inspect.custom](): string {
    return `Network { platform: '${this.platform.name}', links: [${this.interfaces.map((l) => `'${l.name}'`).join(', ')}], open: [${[...this.sessions.keys()].map((n) => `'${n}'`).join(', ')}] }`;
  }

  /** Re-reads the platform's links. */
  async refresh(): Promise<void> {
    const links = await this.platform.listLinks();
    this.links = new Map(links.map((l) => [l.name, l]));
  }

  /** The links nicup can see (a snapshot). */
  get interfaces(): LinkInfo[] {
    return [...this.links.values()].sort((a, b) => a.index - b.index);
  }

  /**
   * Resolves an interface name: a real name, or an impOS alias — "wlN" the N-th wireless
   * link, "cellN" the N-th modem, "ethN" that name if it exists, else the N-th wired link.
   */
  resolve(name: string): LinkInfo | undefined {
    const direct = this.links.get(name);
    if (direct) return direct;
    const m = /^(wl|cell|eth)(\d+)$/.exec(name);
    if (!m) return undefined;
    const kind: InterfaceKind = m[1] === 'wl' ? 'wifi' : m[1] === 'cell' ? 'cell' : 'ethernet';
    return this.interfaces.filter((l) => l.kind === kind)[Number(m[2])];
  }

  /** The live session's NetInterface handles share; undefined when the interface is not open. */
  session(ifname: string): Session | undefined {
    return this.sessions.get(ifname);
  }

  /**
   * Opens an interface. Returns at once; states follow by callback and events. Throws
   * NicError for a bad NIC, InterfaceNotFoundError when the interface does not exist,
   * InterfaceBusyError when it is open with another configuration.
   */
  open(input: unknown, options: OpenOptions | ((state: NetStateValue, change: StateChange) => void) = {}): NetInterface {
    const opts: OpenOptions = typeof options === 'function' ? { onState: options } : options;
    if (this.disposed) throw new NotSupportedError('network is disposed');
    const nic = parseNic(input);
    let link = this.resolve(nic.interface);
    if (!link && nic.cellconfig?.device && /^cell\d+$/.test(nic.interface)) {
      // A modem is not a network link until PPP is up: it is named by its port.
      link = { name: nic.interface, index: -1, kind: 'cell', adminUp: false, carrier: false, mtu: 1500 };
    }
    if (!link) throw new InterfaceNotFoundError(`interface: "${nic.interface}" is not available on this ${this.platform.name} host`);
    if (link.kind === 'other') throw new NotSupportedError(`interface: "${link.name}" is not an Ethernet, WiFi or cellular interface`);
    checkApplicable(nic, link.kind);
    const live = this.sessions.get(link.name);
    if (live && !live.closed) {
      if (isAttachOnly(input) || nicEquals(live.nic, { ...nic, interface: live.nic.interface })) {
        return this.handle(live, opts);
      }
      if (!opts.reconfigure) throw new InterfaceBusyError(`${link.name}: cannot reconfigure interface when active (pass { reconfigure: true } to replace its configuration)`);
      void live.reconfigure(nic);
      return this.handle(live, opts);
    }
    const factory = this.options.drivers?.[link.kind] ?? defaultDrivers[link.kind];
    if (!factory) throw new NotSupportedError(`${link.name}: no driver for ${link.kind} interfaces yet`);
    const driverOptions: DriverOptions = { ...this.options.driver, ...opts.driver };
    if (driverOptions.routeMetric === undefined && this.serverInterfaces) driverOptions.routeMetric = this.metricFor(link.name, link.kind);
    const session = new Session(this.platform, link, nic, factory, driverOptions, this.log);
    session.onChange((c) => {
      if (stateChannel.hasSubscribers) stateChannel.publish(c);
      if (isUnhappy(c.state)) this.lastError = { interface: c.interface, state: c.state, reason: c.reason, ...(c.detail ? { detail: c.detail } : {}) };
    });
    session.routeMetric = driverOptions.routeMetric ?? this.metricFor(link.name, link.kind);
    this.sessions.set(link.name, session);
    const handle = this.handle(session, opts);
    session.start();
    this.updateKeepAlive();
    return handle;
  }

  private handle(session: Session, opts: OpenOptions): NetInterface {
    return new NetInterface(session, this.platform, opts.onState, (s) => {
      if (this.sessions.get(s.ifname) === s) this.sessions.delete(s.ifname);
      this.updateKeepAlive();
    });
  }

  /**
   * The order in which interfaces carry default traffic (impOS setserverinterfaces):
   * generic kinds ("ethernet", "wifi", "cell") and names ("eth0", "wl0", "wlan0"); after
   * the list, the default order Ethernet, WiFi, cellular. Realized as default-route
   * metrics: the preferred CONNECTED interface carries default traffic, and when it drops
   * its routes go with it, so traffic fails over at once and comes back when it returns.
   */
  setServerInterfaces(list: readonly string[]): Promise<void> {
    if (!Array.isArray(list)) throw new ArgumentError('interfaces: must be an array of interface names or kinds', { field: 'interfaces' });
    list.forEach((e, i) => {
      if (typeof e !== 'string' || e.length === 0 || e.length > 15) throw new ArgumentError(`interfaces[${i}]: must be "ethernet", "wifi", "cell" or an interface name`, { field: `interfaces[${i}]` });
    });
    this.serverInterfaces = [...list];
    return Promise.all([...this.sessions.values()].map((s) => s.setRouteMetric(this.metricFor(s.ifname, s.kind)))).then(() => {});
  }

  getServerInterfaces(): string[] {
    return [...(this.serverInterfaces ?? [])];
  }

  private serverInterfaces: string[] | undefined;

  /** 100 for the most preferred, then 200, 300…; without a list, NetworkManager's 100/600/700. */
  private metricFor(ifname: string, kind: LinkInfo['kind']): number {
    const list = this.serverInterfaces;
    if (!list) return DEFAULT_ROUTE_METRIC[kind];
    const generic = kind === 'cell' ? 'cell' : kind;
    const aliasOf = (entry: string) => this.resolve(entry)?.name;
    let rank = list.findIndex((e) => e === ifname || e === generic || aliasOf(e) === ifname);
    if (rank < 0) rank = list.length + ['ethernet', 'wifi', 'cell', 'other'].indexOf(kind);
    return 100 * (rank + 1);
  }

  /** The NIC in use on an interface (secrets included: callers seal or redact it). */
  nicInUse(ifname: string): Nic | undefined {
    const s = this.sessions.get(this.resolve(ifname)?.name ?? ifname);
    return s && !s.closed ? s.nic : undefined;
  }

  /** impOS imp.net.info(): the interfaces nicup sees, the active one, its IPv4, the last error. */
  info(): NetInfo {
    const links = this.interfaces.filter((l) => l.kind !== 'other');
    const rows = links.map((l) => {
      const s = this.sessions.get(l.name);
      return { type: l.kind === 'cell' ? 'cell' : l.kind, macaddress: l.mac ?? '', name: l.name, state: s?.state ?? NetState.UNKNOWN } as NetInfoInterface;
    });
    let active: number | undefined;
    let best = Infinity;
    rows.forEach((r, i) => {
      const s = this.sessions.get(r.name);
      if (!s || s.state !== NetState.CONNECTED || !s.ipv4?.gateway) return;
      const m = s.routeMetric ?? DEFAULT_ROUTE_METRIC[s.kind];
      if (m < best) {
        best = m;
        active = i;
      }
    });
    const out: NetInfo = { interface: rows };
    if (active !== undefined) {
      out.active = active;
      const s = this.sessions.get(rows[active]!.name)!;
      const table = toIpTable(s.ipv4!, s.nic);
      out.ipv4 = table.ipv4;
    }
    if (this.lastError) out.lasterror = this.lastError;
    return out;
  }

  private lastError: { interface: string; state: NetStateValue; reason: string; detail?: string } | undefined;

  /** One referenced timer while any interface is open: the process lives as long as they do. */
  private updateKeepAlive(): void {
    const wanted = (this.options.keepAlive ?? !(this.platform.clock instanceof VirtualClock)) && this.sessions.size > 0;
    if (wanted && !this.keepAliveTimer) this.keepAliveTimer = setInterval(() => {}, 2 ** 31 - 1);
    else if (!wanted && this.keepAliveTimer) {
      clearInterval(this.keepAliveTimer);
      this.keepAliveTimer = undefined;
    }
  }

  /** Stops every interface and releases the platform's watchers (not the platform itself). */
  async close(): Promise<void> {
    this.disposed = true;
    this.watch?.dispose();
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.updateKeepAlive();
    await Promise.all(all.map((s) => s.stop()));
  }
}
