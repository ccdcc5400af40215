/**
 * SimPlatform: the Platform contract over a SimWorld. Kernel-like behaviour where it
 * matters to callers: carrier only while admin up, idempotent removals, port clashes,
 * events delivered after the call that caused them.
 */
import { inspect } from 'node:util';
import type {
  ByteStream,
  Datagram,
  Disposable,
  Ipv4Address,
  Ipv4Route,
  LinkEvent,
  LinkInfo,
  Platform,
  PppLink,
  PppOptions,
  SupplicantControl,
  SupplicantOptions,
  UdpOptions,
  UdpTransport,
} from '../contract.js';
import { InterfaceNotFoundError, PlatformError, PortInUseError, ClosedError } from '../../errors.js';
import { broadcastOf, networkOf } from '../../core/ipv4.js';
import type { SimWorld } from './world.js';
import { SimSupplicant } from './supplicant.js';
import { openSimModemPort, startSimPpp } from './modem.js';
import { decodeArp, encodeReply } from '../../protocols/arp/index.js';
import { runAnnouncements, runProbe, type ArpIo } from '../../core/arp-runner.js';

interface SocketEntry {
  link: string;
  port: number;
  listeners: Set<(d: Datagram) => void>;
}

export class SimPlatform implements Platform {
  readonly name = 'sim';
  private sockets = new Set<SocketEntry>();
  private disposables = new Set<{ dispose(): void }>();
  private nextEphemeral = 49152;

  constructor(readonly world: SimWorld) {
    world.udpSink = (link, d) => {
      for (const s of this.sockets) {
        if (s.link === link && s.port === d.toPort) for (const l of s.listeners) l(d);
      }
    };
  }

  /** A short view for util.inspect: the world holds the APs' keys and the SIMs' PINs. */
  [inspect.custom](): string {
    return `SimPlatform { links: [${[...this.world.links.keys()].map((n) => `'${n}'`).join(', ')}] }`;
  }

  get clock() {
    return this.world.clock;
  }

  async listLinks(): Promise<LinkInfo[]> {
    return [...this.world.links.values()].map((l) => ({ ...l.info }));
  }

  async getLink(name: string): Promise<LinkInfo | undefined> {
    const l = this.world.links.get(name);
    return l ? { ...l.info } : undefined;
  }

  watchLink(name: string, listener: (e: LinkEvent) => void): Disposable {
    const l = this.world.links.get(name);
    const off = this.world.onLinks((n, e) => {
      // Watchers follow the name, so a re-created link (USB re-plug) is seen again.
      if (n === name) listener(e);
    });
    void l;
    const d = { dispose: () => { off(); this.disposables.delete(d); } };
    this.disposables.add(d);
    return d;
  }

  watchLinks(listener: (name: string, e: LinkEvent) => void): Disposable {
    const off = this.world.onLinks(listener);
    const d = { dispose: () => { off(); this.disposables.delete(d); } };
    this.disposables.add(d);
    return d;
  }

  private link(name: string) {
    const l = this.world.links.get(name);
    if (!l) throw new InterfaceNotFoundError(`${name}: no such interface`);
    return l;
  }

  async setLinkUp(name: string, up: boolean): Promise<void> {
    const l = this.link(name);
    if (l.info.adminUp === up) return;
    l.info.adminUp = up;
    this.world.emitLink(l, { type: 'admin', up });
    this.world.updateCarrier(l);
  }

  async getAddresses(name: string): Promise<Ipv4Address[]> {
    return this.link(name).addresses.map((a) => ({ ...a }));
  }

  async addAddress(name: string, a: Ipv4Address): Promise<void> {
    const l = this.link(name);
    const existing = l.addresses.find((x) => x.address === a.address && x.prefixLength === a.prefixLength);
    const full = { ...a, broadcast: a.broadcast ?? broadcastOf(a.address, a.prefixLength) };
    if (existing) Object.assign(existing, full);
    else l.addresses.push(full);
    // The kernel adds the subnet route with the address.
    const net = { destination: networkOfAddr(a), prefixLength: a.prefixLength, source: a.address };
    if (!l.routes.some((r) => r.destination === net.destination && r.prefixLength === net.prefixLength)) l.routes.push(net);
  }

  async removeAddress(name: string, a: Ipv4Address): Promise<void> {
    const l = this.world.links.get(name);
    if (!l) return;
    l.addresses = l.addresses.filter((x) => !(x.address === a.address && x.prefixLength === a.prefixLength));
    l.routes = l.routes.filter((r) => !(r.source === a.address && r.gateway === undefined));
  }

  async addRoute(name: string, r: Ipv4Route): Promise<void> {
    const l = this.link(name);
    if (r.gateway && !l.addresses.some((a) => networkOfAddr(a) === networkOfAddr({ address: r.gateway!, prefixLength: a.prefixLength }))) {
      throw new PlatformError(`${name}: add route: gateway unreachable (ENETUNREACH)`);
    }
    if (l.routes.some((x) => sameRoute(x, r))) throw new PlatformError(`${name}: add route: exists (EEXIST)`);
    l.routes.push({ ...r });
  }

  async removeRoute(name: string, r: Ipv4Route): Promise<void> {
    const l = this.world.links.get(name);
    if (!l) return;
    l.routes = l.routes.filter((x) => !sameRoute(x, r));
  }

  async openDhcpSocket(name: string): Promise<UdpTransport> {
    this.link(name);
    const world = this.world;
    const entry: SocketEntry = { link: name, port: 68, listeners: new Set() };
    this.sockets.add(entry);
    let closed = false;
    return {
      localPort: 68,
      send: async (data) => {
        if (closed) throw new ClosedError('dhcp socket closed');
        const l = world.links.get(name);
        if (!l || !l.info.carrier) return; // sent into a dead link: lost
        const seg = l.segment ?? l.ap?.segment;
        const server = seg?.dhcp;
        if (!server) return;
        const delay = server.options.delayMs;
        world.later(() => {
          const reply = server.handle(data, world.clock.now());
          if (!reply) return;
          const l2 = world.links.get(name);
          if (!l2 || !l2.info.carrier) return;
          const d: Datagram = { data: Buffer.from(reply), fromAddress: seg!.gateway, fromPort: 67, toAddress: '255.255.255.255', toPort: 68 };
          for (const fn of entry.listeners) fn(d);
        }, delay);
      },
      onMessage: (fn) => void entry.listeners.add(fn),
      onError: () => {},
      close: async () => {
        closed = true;
        this.sockets.delete(entry);
      },
    };
  }

  async openUdp(name: string, options: UdpOptions): Promise<UdpTransport> {
    return this.openUdpSync(name, options);
  }

  openUdpSync(name: string, options: UdpOptions): UdpTransport {
    const l = this.link(name);
    let port = options.port ?? 0;
    const taken = (p: number) => [...this.sockets].some((s) => s.link === name && s.port === p);
    if (port === 0) {
      do port = this.nextEphemeral++ > 60999 ? (this.nextEphemeral = 49152) : this.nextEphemeral - 1;
      while (taken(port));
    } else if (taken(port)) {
      throw new PortInUseError(`${name}: UDP port ${port} is in use`);
    }
    const entry: SocketEntry = { link: name, port, listeners: new Set() };
    this.sockets.add(entry);
    const world = this.world;
    let closed = false;
    return {
      localPort: port,
      send: async (data, toPort, toAddress) => {
        if (closed) throw new ClosedError('socket closed');
        const cur = world.links.get(name);
        if (!cur || !cur.info.carrier) throw new PlatformError(`${name}: network is down (ENETDOWN)`);
        const from = cur.addresses[0]?.address ?? '0.0.0.0';
        const seg = cur.segment ?? cur.ap?.segment;
        const d: Datagram = { data: Buffer.from(data), fromAddress: from, fromPort: port, toAddress, toPort };
        // Datagrams to the interface itself or to its broadcast come back to local sockets too.
        seg?.deliverFromInterface(d);
        void l;
      },
      onMessage: (fn) => void entry.listeners.add(fn),
      onError: () => {},
      close: async () => {
        closed = true;
        this.sockets.delete(entry);
      },
    };
  }

  async detectManager(): Promise<string | undefined> {
    return undefined;
  }

  /**
   * RFC 5227 probe on the simulated segment, run by the same probe machine as on Linux:
   * each probe (real ARP bytes) reaches the segment, and whoever holds the address there
   * (a `segment.host(address)`, the gateway, another link) answers with an ARP reply 1 ms
   * later. Probes sent while the link has no carrier are lost.
   */
  probeAddress(name: string, address: string, options: { timeoutMs: number; probes?: number }): Promise<{ inUse: boolean; by?: string }> {
    const world = this.world;
    const listeners = new Set<(data: Uint8Array) => void>();
    const io: ArpIo = {
      send: (data) => {
        world.arpProbesSent++;
        const l = world.links.get(name);
        const probe = decodeArp(data);
        if (!l || !l.info.carrier || !probe.ok) return; // sent into a dead link: lost
        const owner = (l.segment ?? l.ap?.segment)?.arpOwner(probe.packet.targetIp, name);
        if (!owner) return;
        const reply = encodeReply(probe.packet, owner, probe.packet.targetIp);
        world.later(() => {
          for (const listener of listeners) listener(reply);
        }, 1);
      },
      onPacket: (listener) => void listeners.add(listener),
      close: () => listeners.clear(),
    };
    return this.runArp((signal) =>
      runProbe({ io, clock: world.clock, mac: this.arpMac(name, `probe ${address}`), address, timeoutMs: options.timeoutMs, ...(options.probes !== undefined ? { probes: options.probes } : {}), signal }),
    );
  }

  /**
   * RFC 5227 §2.3 announcements, run by the same announce machine as on Linux on the
   * world's clock: `world.arpAnnouncementsSent` counts them (the simulated hosts keep no
   * ARP cache, so nothing else changes). Cancelled by `signal` or dispose().
   */
  announceAddress(name: string, address: string, options: { signal?: AbortSignal } = {}): Promise<{ sent: number; cancelled: boolean }> {
    const world = this.world;
    const io: ArpIo = { send: () => void world.arpAnnouncementsSent++, onPacket: () => {}, close: () => {} };
    return this.runArp((disposed) =>
      runAnnouncements({ io, clock: world.clock, mac: this.arpMac(name, `announce ${address}`), address, signals: options.signal ? [options.signal, disposed] : [disposed] }),
    );
  }

  /** The link's MAC, which ARP needs. */
  private arpMac(name: string, operation: string): string {
    const mac = this.link(name).info.mac;
    if (!mac) throw new PlatformError(`${operation} on ${name}: the interface has no Ethernet address, so ARP cannot run on it`);
    return mac;
  }

  /** Runs an ARP machine with a signal that dispose() aborts; an error before it starts rejects. */
  private runArp<T>(run: (disposed: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    const d = { dispose: () => ac.abort() };
    this.disposables.add(d);
    let running: Promise<T>;
    try {
      running = run(ac.signal);
    } catch (e) {
      running = Promise.reject(e);
    }
    return running.finally(() => this.disposables.delete(d));
  }

  async openSupplicant(name: string, _options: SupplicantOptions): Promise<SupplicantControl> {
    const l = this.link(name);
    if (l.info.kind !== 'wifi') throw new PlatformError(`${name}: not a WiFi interface`);
    this.world.supplicantsStarted++;
    return new SimSupplicant(this.world, name);
  }

  async openSerial(device: string): Promise<ByteStream> {
    return openSimModemPort(this.world, device);
  }

  async startPpp(options: PppOptions): Promise<PppLink> {
    return startSimPpp(this.world, this, options);
  }

  /** @internal used by the sim PPP to give ppp0 its addresses. */
  simAddAddress(name: string, a: Ipv4Address): void {
    const l = this.link(name);
    l.addresses.push({ ...a, broadcast: a.broadcast ?? broadcastOf(a.address, a.prefixLength) });
  }

  async dispose(): Promise<void> {
    for (const d of [...this.disposables]) d.dispose();
    this.sockets.clear();
  }
}

function networkOfAddr(a: { address: string; prefixLength: number }): string {
  return networkOf(a.address, a.prefixLength);
}

function sameRoute(a: Ipv4Route, b: Ipv4Route): boolean {
  return a.destination === b.destination && a.prefixLength === b.prefixLength && (a.metric ?? 0) === (b.metric ?? 0);
}
