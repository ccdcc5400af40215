/**
 * One session per interface: the one state value, changed in one place (`transition`),
 * the driver that brings the interface up, and the handles that users hold. Events are
 * queued and delivered after the transition that made them, so user code never runs in
 * the middle of a transition.
 */
import { inspect, type InspectOptions } from 'node:util';
import type { Platform, LinkInfo } from '../platform/contract.js';
import { redactNic, type Nic } from '../nic.js';
import { NetState, Reason, stateName, type NetStateValue, type ReasonCode } from '../states.js';
import type { Ipv4Config, StateChange } from './types.js';
import type { Logger } from './log.js';

/** What a driver reports to its session. */
export interface DriverSink {
  state(value: NetStateValue, reason: ReasonCode, detail?: string): void;
  /** The interface's IPv4 configuration, or undefined when it has none. */
  ipv4(config: Ipv4Config | undefined): void;
  log(message: string): void;
}

/** Brings one interface up on a platform and keeps it up until stopped. */
export interface Driver {
  /** Begins bring-up; progress arrives through the sink. Never throws: failures become states. */
  start(): void;
  /** Stops and undoes everything the driver did. Never rejects. */
  stop(): Promise<void>;
  /** Asks a driver in a settled failure state to try again now (user or recovery). */
  retry?(): void;
  /** Moves the default route to a new metric (interface priority changed). */
  setRouteMetric?(metric: number): Promise<void>;
}

export interface DriverContext {
  platform: Platform;
  link: LinkInfo;
  nic: Nic;
  sink: DriverSink;
  options: DriverOptions;
}

export type DriverFactory = (ctx: DriverContext) => Driver;

export interface DriverOptions {
  /** DHCP: first retransmission timeout. */
  dhcpInitialTimeoutMs?: number;
  /** DHCP: how long without a lease before DHCP is reported as given up (UNHAPPY). */
  dhcpGiveUpMs?: number;
  /** DHCP: shortest wait between REQUESTs while renewing (RFC 2131 §4.4.5 says 60 s). */
  dhcpMinRenewRetryMs?: number;
  /** DHCP: wait after a DECLINE before discovering again (RFC 2131 §3.1.5 says 10 s). */
  dhcpDeclineWaitMs?: number;
  /**
   * Opt-in: hand the interface's DNS servers to systemd-resolved or resolvconf ('auto'
   * picks what is present). Default: none — nicup never touches name resolution.
   */
  dnsHandoff?: 'resolved' | 'resolvconf' | 'auto';
  /** Take over an interface another network manager runs (default: refuse). */
  takeOver?: boolean;
  /** Back-off after a failure, before trying again: first and maximum delay. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Probe a new DHCP or static address with ARP before using it (RFC 5227); in use: DECLINE / address-conflict. Off by default for speed. */
  arpProbe?: boolean;
  /** ARP probe: how long it lasts when no one answers (3 probes in its first half); default 400. */
  arpProbeTimeoutMs?: number;
  /** Hostname sent in DHCP (option 12). */
  hostname?: string;
  /** WiFi: WRONG_KEY failures before reporting wrong-key and disabling the network (default 1). */
  wifiWrongKeyLimit?: number;
  /** WiFi: pin scans to these channels (e.g. [2412]); a full scan can take seconds. */
  wifiFrequenciesMhz?: number[];
  /** Cellular: AT timing overrides (tests shorten them). */
  modemTiming?: Partial<import('../protocols/at/modem-machine.js').ModemTiming>;
  /** Route metric for the default route (interface priority). */
  routeMetric?: number;
}

export type StateListener = (change: StateChange) => void;

export class Session {
  readonly ifname: string;
  readonly kind: LinkInfo['kind'];
  nic: Nic;
  private value: NetStateValue = NetState.UNKNOWN;
  private lastReason: ReasonCode = Reason.OPENED;
  private config: Ipv4Config | undefined;
  private driver: Driver | undefined;
  private readonly listeners = new Set<StateListener>();
  private readonly ipv4Listeners = new Set<(c: Ipv4Config | undefined) => void>();
  private readonly queue: StateChange[] = [];
  private draining = false;
  /** The change listeners are running for: they see its state, not a later one. */
  private delivering: StateChange | undefined;
  private stopping: Promise<void> | undefined;
  handles = 0;
  closed = false;

  constructor(
    private readonly platform: Platform,
    private link: LinkInfo,
    nic: Nic,
    private readonly factory: DriverFactory,
    private readonly options: DriverOptions,
    private readonly log: Logger,
  ) {
    this.ifname = link.name;
    this.kind = link.kind;
    this.nic = nic;
  }

  /** The current state; while listeners run, the state of the change they are given. */
  get state(): NetStateValue {
    return this.delivering ? this.delivering.state : this.value;
  }
  get reason(): ReasonCode {
    return this.delivering ? this.delivering.reason : this.lastReason;
  }
  get ipv4(): Ipv4Config | undefined {
    return this.config;
  }

  /** util.inspect (of a Network, a socket…) shows the NIC redacted, never the driver's secrets. */
  [inspect.custom](_depth: number, options: InspectOptions, inspectValue: typeof inspect): string {
    const view = { ifname: this.ifname, kind: this.kind, state: stateName(this.state), reason: this.reason, handles: this.handles, closed: this.closed, nic: redactNic(this.nic) };
    return `Session ${inspectValue(view, options)}`;
  }

  /** The one place the state changes. */
  transition(value: NetStateValue, reason: ReasonCode, detail?: string): void {
    if (value === this.value && reason === this.lastReason) return;
    if (value === this.value && value === NetState.CONNECTED) {
      // A DHCP renewal is not a change of state: no callback, as impOS. (A new reason in
      // any other state — a NAK while DHCPING, a wrong key after a timeout — is reported,
      // with `previous` equal to `state`.)
      this.lastReason = reason;
      this.log.debug(`${this.ifname}: ${stateName(value)} (${reason}${detail ? `: ${detail}` : ''})`);
      return;
    }
    const previous = this.value;
    this.value = value;
    this.lastReason = reason;
    this.log.debug(`${this.ifname}: ${stateName(previous)} -> ${stateName(value)} (${reason}${detail ? `: ${detail}` : ''})`);
    const change: StateChange = {
      interface: this.ifname,
      state: value,
      name: stateName(value) ?? 'UNKNOWN',
      previous,
      reason,
      atMs: this.platform.clock.now(),
    };
    if (detail !== undefined) change.detail = detail;
    this.queue.push(change);
    this.scheduleDrain();
  }

  onChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onIpv4(listener: (c: Ipv4Config | undefined) => void): () => void {
    this.ipv4Listeners.add(listener);
    return () => this.ipv4Listeners.delete(listener);
  }

  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    queueMicrotask(() => {
      try {
        while (this.queue.length > 0) {
          const change = this.queue.shift()!;
          this.delivering = change;
          for (const l of [...this.listeners]) {
            try {
              l(change);
            } catch (err) {
              // A throwing user callback must not stop delivery to the others.
              this.log.error(`${this.ifname}: state listener threw: ${(err as Error)?.message ?? String(err)}`);
              queueMicrotask(() => {
                throw err;
              });
            }
          }
        }
      } finally {
        this.delivering = undefined;
        this.draining = false;
      }
    });
  }

  private makeSink(): DriverSink {
    // A sink bound to one driver: once that driver is replaced or stopped, its late reports are ignored.
    const owner = {};
    this.sinkOwner = owner;
    return {
      state: (value, reason, detail) => {
        if (this.sinkOwner === owner) this.transition(value, reason, detail);
      },
      ipv4: (c) => {
        if (this.sinkOwner !== owner) return;
        this.config = c;
        for (const l of [...this.ipv4Listeners]) l(c);
      },
      log: (m) => this.log.debug(`${this.ifname}: ${m}`),
    };
  }
  private sinkOwner: object | undefined;

  start(reason: ReasonCode = Reason.OPENED): void {
    this.transition(NetState.STARTING, reason);
    this.driver = this.factory({ platform: this.platform, link: this.link, nic: this.nic, sink: this.makeSink(), options: this.options });
    this.driver.start();
  }

  retry(): void {
    this.driver?.retry?.();
  }

  /** The default-route metric in force (priority); undefined = the kind's default. */
  routeMetric: number | undefined;

  async setRouteMetric(metric: number): Promise<void> {
    if (this.routeMetric === metric) return;
    this.routeMetric = metric;
    this.options.routeMetric = metric;
    await this.driver?.setRouteMetric?.(metric);
  }

  /** Tears down and brings up afresh with a new NIC. */
  async reconfigure(nic: Nic): Promise<void> {
    const old = this.driver;
    this.driver = undefined;
    this.sinkOwner = undefined;
    // The new NIC is in force at once: while the old driver stops, a handle must not see
    // the old CONNECTED state, table or NIC (connected() would resolve with them).
    this.nic = nic;
    this.setIpv4(undefined);
    this.transition(NetState.STARTING, Reason.RECONFIGURED);
    await old?.stop();
    if (this.closed) return;
    this.start(Reason.RECONFIGURED);
  }

  private setIpv4(c: Ipv4Config | undefined): void {
    this.config = c;
    for (const l of [...this.ipv4Listeners]) l(c);
  }

  /** Stops the driver, undoes its work, and reports the kind's STOPPED state. */
  stop(reason: ReasonCode = Reason.CLOSED_BY_USER): Promise<void> {
    if (this.stopping) return this.stopping;
    this.closed = true;
    const driver = this.driver;
    this.driver = undefined;
    this.sinkOwner = undefined;
    this.stopping = (async () => {
      await driver?.stop();
      this.setIpv4(undefined);
      this.transition(stoppedState(this.kind), reason);
    })();
    return this.stopping;
  }
}

export function stoppedState(kind: LinkInfo['kind']): NetStateValue {
  switch (kind) {
    case 'wifi':
      return NetState.WIFI_STOPPED;
    case 'cell':
      return NetState.CELLULAR_STOPPED;
    default:
      return NetState.ETHERNET_STOPPED;
  }
}
