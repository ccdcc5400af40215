/**
 * Runs the sans-I/O DHCPv4 client machine (protocols/dhcp4) on a platform: owns its one
 * socket and its one timer, feeds packets and timeouts in, carries actions out. What a
 * lease means for the interface (addresses, routes, states) is the caller's business,
 * told through the handlers.
 */
import { createClient, step, type ClientAction, type ClientInput, type ClientState, type Lease } from '../protocols/dhcp4/index.js';
import type { Platform, UdpTransport } from '../platform/contract.js';
import type { TimerHandle } from './clock.js';

export interface Dhcp4Handlers {
  bound(lease: Lease): void;
  renewed(lease: Lease): void;
  expired(lease: Lease): void;
  nak(lostLease: Lease | undefined, message: string | undefined): void;
  declined(address: string): void;
  gaveUp(elapsedMs: number): void;
  log(message: string): void;
}

export interface Dhcp4DriverOptions {
  mac: Uint8Array;
  hostname?: string;
  requestedAddress?: string;
  initialRetransmitMs?: number;
  giveUpAfterMs?: number;
  rapidCommit?: boolean;
  minRenewRetryMs?: number;
  declineWaitMs?: number;
}

export class Dhcp4Driver {
  private state: ClientState;
  private socket: UdpTransport | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly platform: Platform,
    private readonly ifname: string,
    options: Dhcp4DriverOptions,
    private readonly handlers: Dhcp4Handlers,
  ) {
    this.state = createClient({
      mac: options.mac,
      random: Math.random,
      rapidCommit: options.rapidCommit ?? true,
      // nicup departs from RFC 2131 §4.1's 4 s first timeout: on a LAN a server answers in
      // milliseconds, and the first DISCOVER right after carrier is sometimes lost (the
      // peer's port not yet forwarding), so we resend after 250 ms (still doubling up to
      // 64 s, jitter ±base/4: timing.ts). A slower server just sees the same xid twice.
      initialRetransmitMs: options.initialRetransmitMs ?? 250,
      giveUpAfterMs: options.giveUpAfterMs ?? 30_000,
      ...(options.minRenewRetryMs !== undefined ? { minRenewRetryMs: options.minRenewRetryMs } : {}),
      ...(options.declineWaitMs !== undefined ? { declineWaitMs: options.declineWaitMs } : {}),
      ...(options.hostname ? { hostname: options.hostname } : {}),
      ...(options.requestedAddress ? { requestedAddress: options.requestedAddress } : {}),
    });
  }

  /** The machine's current state name (for logs and tests). */
  get stateName(): string {
    return this.state.name;
  }
  get stats() {
    return this.state.stats;
  }

  async start(): Promise<void> {
    this.socket = await this.platform.openDhcpSocket(this.ifname);
    if (this.stopped) {
      await this.socket.close();
      return;
    }
    this.socket.onMessage((d) => this.input({ type: 'packet', data: d.data, fromAddress: d.fromAddress }));
    this.socket.onError((e) => this.handlers.log(`dhcp socket error: ${e.message}`));
    this.input({ type: 'start' });
  }

  /** The link went down: the machine goes idle; the lease is remembered by the caller. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.input({ type: 'stop' });
    this.stopped = true;
    this.platform.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.socket?.close().catch(() => {});
    this.socket = undefined;
  }

  /** The address was found in use (ARP): DECLINE it and start again. */
  conflict(): void {
    this.input({ type: 'address-conflict' });
  }

  private input(i: ClientInput): void {
    if (this.stopped) return;
    const r = step(this.state, i, this.platform.clock.now());
    this.state = r.state;
    for (const a of r.actions) this.act(a);
  }

  private act(a: ClientAction): void {
    const clock = this.platform.clock;
    switch (a.type) {
      case 'send': {
        const to = a.to === 'broadcast' ? '255.255.255.255' : a.to;
        this.socket?.send(a.data, a.port, to).catch((e: Error) => this.handlers.log(`dhcp send ${a.message}: ${e.message}`));
        return;
      }
      case 'setTimer':
        clock.clearTimeout(this.timer);
        this.timer = clock.setTimeout(() => {
          this.timer = undefined;
          this.input({ type: 'timer' });
        }, a.atMs - clock.now());
        return;
      case 'clearTimer':
        clock.clearTimeout(this.timer);
        this.timer = undefined;
        return;
      case 'bound':
        return this.handlers.bound(a.lease);
      case 'renewed':
        return this.handlers.renewed(a.lease);
      case 'expired':
        return this.handlers.expired(a.lease);
      case 'nak':
        return this.handlers.nak(a.lostLease, a.message);
      case 'declined':
        return this.handlers.declined(a.address);
      case 'gave-up':
        return this.handlers.gaveUp(a.elapsedMs);
      case 'log':
        return this.handlers.log(a.message);
    }
  }
}
