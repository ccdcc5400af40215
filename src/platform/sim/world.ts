/**
 * The simulated world: links with cables, LAN segments with DHCP servers and UDP hosts,
 * WiFi access points, and modems with SIMs and networks. Everything a test or an app
 * developer can script lives here; SimPlatform (platform.ts) exposes it to nicup's core
 * through the Platform contract, speaking real DHCP, wpa_supplicant control and AT text.
 */
import { inspect } from 'node:util';
import { VirtualClock, realClock, type Clock } from '../../core/clock.js';
import { broadcastOf, inSubnet, parseIpv4 } from '../../core/ipv4.js';
import type { Datagram, Ipv4Address, Ipv4Route, LinkEvent, LinkInfo } from '../contract.js';
import { SimDhcpServer, type SimDhcpServerOptions } from './dhcp-server.js';
import { appendBounded, checkRecordLimit, DEFAULT_RECORD_LIMIT } from './bounded-record.js';
import type { SimSupplicant } from './supplicant.js';

export interface SegmentOptions {
  /** Network in CIDR form, e.g. "192.168.1.0/24". */
  subnet: string;
  /** Gateway/DHCP server address; default: the first host address. */
  gateway?: string;
  /** A DHCP server on the segment (default on); false = none. */
  dhcp?: Partial<SimDhcpServerOptions> | false;
}

/** A LAN: where a wired link or an access point leads. */
export class SimSegment {
  readonly network: string;
  readonly prefixLength: number;
  readonly gateway: string;
  dhcp: SimDhcpServer | undefined;
  readonly hosts = new Map<string, SimHost>();

  constructor(
    readonly world: SimWorld,
    options: SegmentOptions,
  ) {
    const [net, len] = options.subnet.split('/');
    this.network = net ?? '192.168.1.0';
    this.prefixLength = Number(len ?? 24);
    const base = parseIpv4(this.network) ?? 0;
    const fmt = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    this.gateway = options.gateway ?? fmt(base + 1);
    if (options.dhcp !== false) {
      this.dhcp = new SimDhcpServer({
        serverAddress: this.gateway,
        prefixLength: this.prefixLength,
        poolStart: fmt(base + 100),
        poolEnd: fmt(base + 199),
        ...(options.dhcp ?? {}),
      });
    }
  }

  /** A host on this segment that can send and receive UDP (a peer for tests and demos). */
  host(address: string): SimHost {
    let h = this.hosts.get(address);
    if (!h) {
      h = new SimHost(this, address);
      this.hosts.set(address, h);
    }
    return h;
  }

  get broadcast(): string {
    return broadcastOf(this.network, this.prefixLength);
  }

  /**
   * The MAC that answers ARP for `address` on this segment: a host, the gateway, or another
   * link (not `asking`) that has the address. Undefined when the address is free.
   */
  arpOwner(address: string, asking?: string): string | undefined {
    const host = this.hosts.get(address);
    if (host) return host.mac;
    if (address === this.gateway) return simHostMac(address);
    for (const [name, l] of this.world.links) {
      if (name === asking || !l.info.carrier || !l.info.mac || (l.segment ?? l.ap?.segment) !== this) continue;
      if (l.addresses.some((a) => a.address === address)) return l.info.mac;
    }
    return undefined;
  }

  /** Delivers a datagram sent by a simulated interface into the segment. */
  deliverFromInterface(d: Datagram): void {
    const isBroadcast = d.toAddress === '255.255.255.255' || d.toAddress === this.broadcast;
    for (const h of this.hosts.values()) {
      if (isBroadcast || h.address === d.toAddress) h.receive(d);
    }
  }
}

export type HostListener = (d: Datagram) => void;

/** A stable, locally administered MAC for a simulated host: 02:5e followed by its IPv4 address. */
export function simHostMac(address: string): string {
  const bytes = address.split('.').map((p) => Number(p) & 255);
  return ['02', '5e', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** A simulated UDP peer on a segment. It holds its address: it answers ARP for it (RFC 5227 probes see it). */
export class SimHost {
  private ports = new Map<number, HostListener>();
  readonly mac: string;
  constructor(
    readonly segment: SimSegment,
    readonly address: string,
  ) {
    this.mac = simHostMac(address);
  }

  /** Listens on a UDP port. */
  bind(port: number, listener: HostListener): this {
    this.ports.set(port, listener);
    return this;
  }
  unbind(port: number): void {
    this.ports.delete(port);
  }
  /** Replies to everything received on `port` with the same data (an echo server). */
  echo(port: number): this {
    return this.bind(port, (d) => this.send(port, d.fromAddress, d.fromPort, d.data));
  }
  /** @internal */
  receive(d: Datagram): void {
    const l = this.ports.get(d.toPort);
    if (l) this.segment.world.later(() => l(d));
  }
  /** Sends a datagram from this host into the segment (to an interface's address or a broadcast). */
  send(fromPort: number, toAddress: string, toPort: number, data: Uint8Array | string): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    this.segment.world.deliverToInterfaces(this.segment, { data: buf, fromAddress: this.address, fromPort, toAddress, toPort });
  }
}

export interface AccessPointOptions {
  ssid: string;
  /** Passphrase; null = open network. */
  key?: string | null;
  hidden?: boolean;
  /** Supports WPS push-button. */
  wps?: boolean;
  segment?: SegmentOptions;
}

export class SimAccessPoint {
  up = true;
  /** Pressing the WPS button on the AP: the next WPS_PBC within 120 s succeeds. */
  wpsButtonPressedAtMs: number | undefined;
  readonly segment: SimSegment;
  readonly bssid: string;
  constructor(
    readonly world: SimWorld,
    readonly options: AccessPointOptions,
    index: number,
  ) {
    this.segment = new SimSegment(world, options.segment ?? { subnet: `192.168.${10 + index}.0/24` });
    this.bssid = `02:00:00:00:01:${index.toString(16).padStart(2, '0')}`;
  }
  get ssid(): string {
    return this.options.ssid;
  }
  /** Takes the AP off the air (stations lose it) or back on. */
  setUp(up: boolean): void {
    this.up = up;
    this.world.emitAp(this);
  }
  pressWpsButton(): void {
    this.wpsButtonPressedAtMs = this.world.clock.now();
  }
}

export type SimState = 'ready' | 'missing' | 'pin' | 'puk';
export type RegistrationMode = 'home' | 'roaming' | 'denied' | 'searching' | 'slow';

export interface ModemOptions {
  /** The SIM: ready, missing, or locked with a PIN. */
  sim?: SimState;
  /** The PIN that unlocks a locked SIM. */
  pin?: string;
  registration?: RegistrationMode;
  /** For 'slow': ms until registered. */
  registrationDelayMs?: number;
  /** The modem answers nothing. */
  silent?: boolean;
  /**
   * The modem is in data mode from a call nobody ended (a crashed program, a modem that
   * ignores DTR): AT goes nowhere until the V.250 escape, "+++" with a second of silence
   * before and after it; then it answers OK and takes commands (ATH ends the call).
   */
  inDataMode?: boolean;
  /** The address PPP gives. */
  pppAddress?: string;
  pppPeer?: string;
  pppDns?: string[];
  /** Accepted APN (any when absent). */
  apn?: string;
  /** How many of the latest AT command lines `commands` keeps (default 1000). */
  maxCommands?: number;
}

export class SimModem {
  options: Required<Omit<ModemOptions, 'apn'>> & { apn?: string };
  pinAttempts = 0;
  unlocked = false;
  registeredAtMs: number | undefined;
  /** The PPP link, while up. */
  pppUp = false;
  readonly segment: SimSegment;
  /** The latest AT command lines the modem received (at most `options.maxCommands`; PIN commands redacted), for tests. */
  readonly commands: string[] = [];
  /** All AT command lines received since the modem was made: counts on past the `commands` limit. */
  commandCount = 0;
  constructor(
    readonly world: SimWorld,
    readonly name: string,
    options: ModemOptions,
  ) {
    this.options = {
      sim: 'ready',
      pin: '1234',
      registration: 'home',
      registrationDelayMs: 5000,
      silent: false,
      inDataMode: false,
      pppAddress: '10.64.64.2',
      pppPeer: '10.64.64.1',
      pppDns: ['10.64.64.1'],
      maxCommands: DEFAULT_RECORD_LIMIT,
      ...options,
    };
    checkRecordLimit(this.options.maxCommands, 'maxCommands');
    this.segment = new SimSegment(world, { subnet: '10.64.64.0/24', gateway: this.options.pppPeer, dhcp: false });
  }
  /** Records one AT command line the modem received (the caller redacts secrets). */
  recordCommand(line: string): void {
    appendBounded(this.commands, line, this.options.maxCommands);
    this.commandCount++;
  }
  /** Drops the data call: the modem says NO CARRIER and pppd exits. */
  dropCarrier(): void {
    this.world.emitModem(this, 'no-carrier');
  }
}

interface SimLinkState {
  info: LinkInfo;
  cable: boolean;
  segment: SimSegment | undefined;
  /** For WiFi: the AP the station is associated with. */
  ap: SimAccessPoint | undefined;
  addresses: Ipv4Address[];
  routes: Ipv4Route[];
  watchers: Set<(e: LinkEvent) => void>;
}

export interface SimWorldOptions {
  /** 'virtual' (default): time moves only through run(); 'real': wall-clock time. */
  time?: 'virtual' | 'real';
}

/**
 * The world. Create one per test (or per app run); `defaultWorld()` builds the one the
 * examples use: eth0 with a cable and a DHCP server, wlan0 near an AP "Network" with key
 * "Password", and a modem cell0 with a ready SIM that registers.
 */
export class SimWorld {
  readonly clock: Clock;
  readonly virtual: VirtualClock | undefined;
  readonly links = new Map<string, SimLinkState>();
  readonly accessPoints: SimAccessPoint[] = [];
  readonly modems = new Map<string, SimModem>();
  private nextIndex = 2;
  private readonly apListeners = new Set<(ap: SimAccessPoint) => void>();
  private readonly modemListeners = new Set<(m: SimModem, what: 'no-carrier') => void>();
  private readonly linkListeners = new Set<(name: string, e: LinkEvent) => void>();
  /** @internal UDP delivery into interfaces, installed by the platform. */
  udpSink: ((link: string, d: Datagram) => void) | undefined;
  /** Supplicants started (the platform counts them). */
  supplicantsStarted = 0;
  /** ARP probes sent by interfaces (RFC 5227; the platform counts them). */
  arpProbesSent = 0;
  /** ARP announcements sent by interfaces (RFC 5227 §2.3; the platform counts them). */
  arpAnnouncementsSent = 0;
  /** Running simulated wpa_supplicants by interface. */
  readonly supplicants = new Map<string, SimSupplicant>();

  /** Kills the wpa_supplicant of a WiFi interface (it goes away as if the process died). */
  killSupplicant(name: string): boolean {
    const s = this.supplicants.get(name);
    s?.kill();
    return s !== undefined;
  }

  constructor(options: SimWorldOptions = {}) {
    if (options.time === 'real') {
      this.clock = realClock();
    } else {
      this.virtual = new VirtualClock();
      this.clock = this.virtual;
    }
  }

  /** A short view for util.inspect: the world holds the APs' keys and the SIMs' PINs. */
  [inspect.custom](): string {
    return `SimWorld { time: '${this.virtual ? 'virtual' : 'real'}', links: [${[...this.links.keys()].map((n) => `'${n}'`).join(', ')}], accessPoints: ${this.accessPoints.length}, modems: ${this.modems.size} }`;
  }

  /** Runs `fn` soon (after the current transition), on the world's clock. */
  later(fn: () => void, delayMs = 0): void {
    this.clock.setTimeout(fn, delayMs);
  }

  private addLink(name: string, kind: LinkInfo['kind']): SimLinkState {
    if (this.links.has(name)) throw new Error(`sim: link ${name} exists`);
    const index = this.nextIndex++;
    const mac = `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`;
    const state: SimLinkState = {
      info: { name, index, kind, mac, adminUp: false, carrier: false, mtu: 1500 },
      cable: false,
      segment: undefined,
      ap: undefined,
      addresses: [],
      routes: [],
      watchers: new Set(),
    };
    this.links.set(name, state);
    for (const l of this.linkListeners) this.later(() => l(name, { type: 'added', link: { ...state.info } }));
    return state;
  }

  /** A wired interface; `cable` plugged in or not; a segment (with DHCP) behind it. */
  addEthernet(name: string, options: { cable?: boolean; segment?: SegmentOptions } = {}): SimSegment {
    const l = this.addLink(name, 'ethernet');
    l.cable = options.cable ?? true;
    l.segment = new SimSegment(this, options.segment ?? { subnet: `192.168.${l.info.index - 1}.0/24` });
    return l.segment;
  }

  /** A WiFi interface (a station). */
  addWifi(name: string): void {
    this.addLink(name, 'wifi');
  }

  addAccessPoint(options: AccessPointOptions): SimAccessPoint {
    const ap = new SimAccessPoint(this, options, this.accessPoints.length);
    this.accessPoints.push(ap);
    return ap;
  }

  accessPoint(ssid: string): SimAccessPoint | undefined {
    return this.accessPoints.find((a) => a.ssid === ssid);
  }

  /** A modem, named as its impOS alias ("cell0"). */
  addModem(name: string, options: ModemOptions = {}): SimModem {
    this.addLink(name, 'cell').info.device = `/dev/sim/${name}`;
    const m = new SimModem(this, name, options);
    this.modems.set(name, m);
    return m;
  }

  modem(name: string): SimModem {
    const m = this.modems.get(name);
    if (!m) throw new Error(`sim: no modem ${name}`);
    return m;
  }

  /** Removes a link (a USB adapter unplugged). */
  removeLink(name: string): void {
    const l = this.links.get(name);
    if (!l) return;
    this.links.delete(name);
    for (const w of l.watchers) this.later(() => w({ type: 'removed' }));
    for (const w of this.linkListeners) this.later(() => w(name, { type: 'removed' }));
  }

  /** The segment behind a wired link (or the AP's, for an associated station). */
  segment(name: string): SimSegment {
    const l = this.link(name);
    const s = l.segment ?? l.ap?.segment;
    if (!s) throw new Error(`sim: ${name} leads nowhere`);
    return s;
  }

  /** @internal */
  link(name: string): SimLinkState {
    const l = this.links.get(name);
    if (!l) throw new Error(`sim: no link ${name}`);
    return l;
  }

  /** Plugs the cable in or pulls it out. */
  setCable(name: string, plugged: boolean): void {
    const l = this.link(name);
    l.cable = plugged;
    this.updateCarrier(l);
  }

  /** @internal carrier = admin up and (cable in, or associated). */
  updateCarrier(l: SimLinkState): void {
    const carrier = l.info.adminUp && (l.info.kind === 'wifi' ? l.ap !== undefined && l.ap.up : l.cable);
    if (carrier === l.info.carrier) return;
    l.info.carrier = carrier;
    this.emitLink(l, { type: 'carrier', carrier });
  }

  /** @internal */
  emitLink(l: SimLinkState, e: LinkEvent): void {
    for (const w of [...l.watchers]) this.later(() => w(e));
    for (const w of [...this.linkListeners]) this.later(() => w(l.info.name, e));
  }

  /** @internal */
  onLinks(listener: (name: string, e: LinkEvent) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  /** @internal */
  setAssociation(name: string, ap: SimAccessPoint | undefined): void {
    const l = this.link(name);
    l.ap = ap;
    this.updateCarrier(l);
  }

  /** @internal */
  emitAp(ap: SimAccessPoint): void {
    for (const l of this.apListeners) this.later(() => l(ap));
  }
  /** @internal */
  onAp(listener: (ap: SimAccessPoint) => void): () => void {
    this.apListeners.add(listener);
    return () => this.apListeners.delete(listener);
  }
  /** @internal */
  emitModem(m: SimModem, what: 'no-carrier'): void {
    for (const l of this.modemListeners) this.later(() => l(m, what));
  }
  /** @internal */
  onModem(listener: (m: SimModem, what: 'no-carrier') => void): () => void {
    this.modemListeners.add(listener);
    return () => this.modemListeners.delete(listener);
  }

  /** Addresses nicup put on a link (for tests). */
  addresses(name: string): Ipv4Address[] {
    return [...this.link(name).addresses];
  }
  /** Routes nicup put on a link (for tests). */
  routes(name: string): Ipv4Route[] {
    return [...this.link(name).routes];
  }

  /** @internal A host sends: deliver to every link on that segment whose address or broadcast matches. */
  deliverToInterfaces(segment: SimSegment, d: Datagram): void {
    for (const [name, l] of this.links) {
      const seg = l.segment ?? (l.ap?.up ? l.ap.segment : undefined);
      if (seg !== segment || !l.info.carrier) continue;
      const match = l.addresses.some(
        (a) => a.address === d.toAddress || d.toAddress === '255.255.255.255' || broadcastOf(a.address, a.prefixLength) === d.toAddress,
      );
      if (match) this.later(() => this.udpSink?.(name, d));
    }
    // PPP links
    for (const m of this.modems.values()) {
      if (m.segment === segment && m.pppUp && d.toAddress === m.options.pppAddress) {
        const ppp = [...this.links.values()].find((l) => l.info.name.startsWith('ppp') && l.addresses.some((a) => a.address === d.toAddress));
        if (ppp) this.later(() => this.udpSink?.(ppp.info.name, d));
      }
    }
  }

  /** @internal */
  addPppLink(m: SimModem): string {
    let i = 0;
    while (this.links.has(`ppp${i}`)) i++;
    const name = `ppp${i}`;
    const l = this.addLink(name, 'other');
    l.info.adminUp = true;
    l.info.carrier = true;
    l.segment = m.segment;
    l.info.mac = undefined as unknown as string;
    delete l.info.mac;
    return name;
  }

  /**
   * Virtual time: moves the clock forward by `ms`, letting promises settle between timers.
   * In real-time mode it just waits.
   */
  async run(ms: number): Promise<void> {
    const v = this.virtual;
    if (!v) {
      await new Promise((r) => setTimeout(r, ms));
      return;
    }
    const end = v.now() + ms;
    for (;;) {
      await settle();
      const next = v.nextDeadline();
      if (next === undefined || next > end) break;
      v.advance(next - v.now());
    }
    v.advance(end - v.now());
    await settle();
  }

  /** Runs virtual time until `done()` is true (checked after every timer), at most `maxMs`. */
  async runUntil(done: () => boolean, maxMs = 120_000): Promise<boolean> {
    const v = this.virtual;
    const start = this.clock.now();
    if (!v) {
      while (!done() && this.clock.now() - start < maxMs) await new Promise((r) => setTimeout(r, 5));
      return done();
    }
    for (;;) {
      await settle();
      if (done()) return true;
      let next = v.nextDeadline();
      // Nothing armed: real I/O (a module load, a file) may still be on its way — give it
      // a little real time before concluding that nothing more will happen.
      for (let i = 0; next === undefined && i < 20 && !done(); i++) {
        await new Promise((r) => setTimeout(r, 5));
        await settle();
        next = v.nextDeadline();
      }
      if (done()) return true;
      if (next === undefined || next - start > maxMs) return done();
      v.advance(next - v.now());
    }
  }

  /** True when `address` falls inside a segment's subnet. */
  static inSegment(seg: SimSegment, address: string): boolean {
    return inSubnet(address, seg.network, seg.prefixLength);
  }
}

async function settle(): Promise<void> {
  // Two macrotask turns: promise chains started by a timer (and the I/O they await) settle.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}
