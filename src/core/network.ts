/**
 * Network: the modern entry point. Holds the platform, the table of links, and one
 * session per open interface, and applies the open/re-open rules:
 *  - an identical NIC (key order ignored) gives a new handle on the live interface;
 *  - `{interface}` alone attaches to the live interface;
 *  - a different NIC is refused ("cannot reconfigure interface when active") unless
 *    `{ reconfigure: true }`, which tears down and brings up afresh.
 * (impOS 47 refuses even an identical NIC; nicup fixes that known issue.)
 */
import type { Platform, LinkInfo, Disposable } from '../platform/contract.js';
import { parseNic, checkApplicable, nicEquals, isAttachOnly, type InterfaceKind } from '../nic.js';
import { InterfaceBusyError, InterfaceNotFoundError, NotSupportedError } from '../errors.js';
import { Session, type DriverFactory, type DriverOptions } from './session.js';
import { NetInterface } from './interface.js';
import type { NetStateValue } from '../states.js';
import type { StateChange } from './types.js';
import { defaultLogger, stateChannel, type Logger } from './log.js';
import { defaultDrivers } from './drivers.js';
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
    return n;
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
    const session = new Session(this.platform, link, nic, factory, { ...this.options.driver, ...opts.driver }, this.log);
    session.onChange((c) => {
      if (stateChannel.hasSubscribers) stateChannel.publish(c);
    });
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
