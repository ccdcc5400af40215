/**
 * NetInterface: what `open()` returns — one handle on an interface's session. Several
 * handles may share a session (re-open with an identical NIC, or `{interface}` alone);
 * the interface is released when the last handle closes.
 *
 * States arrive four ways, all fed from the session's one queue:
 *   - the callback given to open()
 *   - `on('state', fn)` typed events
 *   - `for await (const change of iface.changes())`
 *   - `await iface.connected({ signal })`
 */
import { EventEmitter } from 'node:events';
import type { Resolver } from 'node:dns';
import { createRequire } from 'node:module';
import { inspect, type InspectOptions } from 'node:util';
import { NetState, isStopped, stateName, type NetStateValue, type ReasonCode } from '../states.js';
import { AbortError, ClosedError, InterfaceNotUpError } from '../errors.js';
import type { Session } from './session.js';
import type { IpTable, Ipv4Config, StateChange } from './types.js';
import type { Nic } from '../nic.js';
import { redactNic } from '../nic.js';
import { UdpSocket, type UdpSocketOptions } from './udp.js';
import type { Platform } from '../platform/contract.js';

export interface NetInterfaceEvents {
  state: [StateChange];
  connected: [IpTable];
  close: [];
}

export interface ConnectedOptions {
  signal?: AbortSignal;
}

export class NetInterface extends EventEmitter<NetInterfaceEvents> {
  #closed = false;
  #closing: Promise<void> | undefined;
  #unsubscribe: () => void;
  #sockets = new Set<UdpSocket>();

  /** @internal */
  constructor(
    private readonly session: Session,
    private readonly platform: Platform,
    callback: ((state: NetStateValue, change: StateChange) => void) | undefined,
    private readonly onRelease: (session: Session) => void,
  ) {
    super();
    session.handles++;
    this.#unsubscribe = session.onChange((change) => {
      if (this.#closed && !isStopped(change.state)) return;
      // Each consumer on its own: one that throws must not keep the change from the others
      // (connected() and changes() listen on 'state' too). The session logs what was thrown
      // and rethrows it outside the transition.
      const errors: unknown[] = [];
      const guarded = (fn: () => void) => {
        try {
          fn();
        } catch (err) {
          errors.push(err);
        }
      };
      if (callback) guarded(() => callback(change.state, change));
      for (const l of this.rawListeners('state')) guarded(() => Reflect.apply(l, this, [change]));
      if (change.state === NetState.CONNECTED) {
        const t = this.ipTable();
        if (t) for (const l of this.rawListeners('connected')) guarded(() => Reflect.apply(l, this, [t]));
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${this.name}: ${errors.length} state listeners threw`);
    });
  }

  /** The interface's name on this host ("eth0", "wlan0", "cell0"). */
  get name(): string {
    return this.session.ifname;
  }
  get kind(): 'ethernet' | 'wifi' | 'cell' | 'other' {
    return this.session.kind;
  }
  /** The current state constant. */
  get state(): NetStateValue {
    return this.session.state;
  }
  get reason(): ReasonCode {
    return this.session.reason;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** The NIC in use, with secrets redacted. */
  get nic(): object {
    return redactNic(this.session.nic);
  }
  /** @internal the NIC in use, secrets included (for getcurrentconfig). */
  get rawNic(): Nic {
    return this.session.nic;
  }

  /** The IPv4 configuration in impOS's getiptable() form, or undefined when not connected. */
  ipTable(): IpTable | undefined {
    const c = this.session.ipv4;
    if (!c || this.session.state !== NetState.CONNECTED) return undefined;
    return toIpTable(c, this.session.nic);
  }

  /** The internal IPv4 configuration (address, prefix, gateway, DNS, lease). */
  get ipv4(): Ipv4Config | undefined {
    return this.session.ipv4;
  }

  /** Resolves with the IP table once CONNECTED (at once if it is); rejects on close or abort. */
  connected(options: ConnectedOptions = {}): Promise<IpTable> {
    const now = this.ipTable();
    if (now) return Promise.resolve(now);
    if (this.#closed) return Promise.reject(new ClosedError(`${this.name}: interface handle is closed`));
    return new Promise<IpTable>((resolve, reject) => {
      const { signal } = options;
      const cleanup = () => {
        this.off('state', onState);
        this.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const onState = (c: StateChange) => {
        if (c.state === NetState.CONNECTED) {
          const t = this.ipTable();
          if (t) {
            cleanup();
            resolve(t);
          }
        } else if (isStopped(c.state)) {
          cleanup();
          reject(new ClosedError(`${this.name}: interface stopped (${c.reason})`));
        }
      };
      const onClose = () => {
        cleanup();
        reject(new ClosedError(`${this.name}: interface handle closed`));
      };
      const onAbort = () => {
        cleanup();
        reject(new AbortError(`${this.name}: wait for CONNECTED aborted`, { cause: signal?.reason }));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.on('state', onState);
      this.on('close', onClose);
    });
  }

  /** State changes as an async iterator; ends when the handle closes or the signal aborts. */
  async *changes(options: { signal?: AbortSignal } = {}): AsyncGenerator<StateChange, void, undefined> {
    const buffer: StateChange[] = [];
    let wake: (() => void) | undefined;
    let done = this.#closed;
    const onState = (c: StateChange) => {
      buffer.push(c);
      wake?.();
    };
    const onEnd = () => {
      done = true;
      wake?.();
    };
    this.on('state', onState);
    this.on('close', onEnd);
    options.signal?.addEventListener('abort', onEnd, { once: true });
    try {
      while (true) {
        while (buffer.length > 0) yield buffer.shift()!;
        if (done || options.signal?.aborted) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      this.off('state', onState);
      this.off('close', onEnd);
      options.signal?.removeEventListener('abort', onEnd);
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<StateChange, void, undefined> {
    return this.changes();
  }

  /**
   * Opens a UDP socket bound to this interface. The interface must be CONNECTED (the
   * impOS rule); the socket then survives bounces: sends fail with NOT_CONNECTED while the
   * interface is down, and it is re-bound when the interface returns.
   */
  async openUdp(options: UdpSocketOptions = {}): Promise<UdpSocket> {
    this.assertOpen();
    if (this.session.state !== NetState.CONNECTED) {
      throw new InterfaceNotUpError(`${this.name}: openUdp needs a CONNECTED interface`);
    }
    const socket = new UdpSocket(this.platform, this.session, options);
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    await socket.bindNow();
    return socket;
  }

  /**
   * Opens a UDP socket at once (the impOS facade's openudp is synchronous): binds
   * synchronously where the platform can, else in the background (errors as 'error' events).
   */
  openUdpNow(options: UdpSocketOptions = {}): UdpSocket {
    this.assertOpen();
    if (this.session.state !== NetState.CONNECTED) {
      throw new InterfaceNotUpError(`${this.name}: openudp needs a CONNECTED interface`);
    }
    const socket = new UdpSocket(this.platform, this.session, options);
    if (!socket.bindSync()) {
      void socket.bindNow().catch((err: Error) => {
        if (socket.listenerCount('error') > 0) socket.emit('error', err);
      });
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    return socket;
  }

  /**
   * A DNS resolver that uses this interface's DNS servers and its address as the source.
   * nicup never rewrites the system's resolv.conf.
   */
  resolver(): Resolver {
    const c = this.session.ipv4;
    if (!c) throw new InterfaceNotUpError(`${this.name}: no IPv4 configuration yet`);
    const r = new (loadDns().Resolver)({ timeout: 2000, tries: 2 });
    if (c.dns.length > 0) r.setServers(c.dns);
    r.setLocalAddress(c.address);
    return r;
  }

  /** Tries again now after a settled failure (UNHAPPY, NO_LINK…), skipping the back-off. */
  retry(): void {
    this.assertOpen();
    this.session.retry();
  }

  /** Releases this handle; the interface is stopped when the last handle closes. Closing twice is harmless. */
  close(): Promise<void> {
    // A second close waits for the first: once any close() resolves, the handle is closed.
    this.#closing ??= this.#release();
    return this.#closing;
  }

  async #release(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#sockets].map((s) => s.close()));
    this.session.handles--;
    if (this.session.handles === 0) {
      this.onRelease(this.session);
      await this.session.stop();
    }
    this.#unsubscribe();
    this.emit('close');
  }

  /** util.inspect shows what a person needs, with the NIC redacted: never a secret. */
  [inspect.custom](_depth: number, options: InspectOptions, inspectValue: typeof inspect): string {
    const view = { name: this.name, kind: this.kind, state: stateName(this.state), reason: this.reason, closed: this.#closed, nic: this.nic, ipv4: this.ipv4 };
    return `NetInterface ${inspectValue(view, options)}`;
  }

  private assertOpen(): void {
    if (this.#closed) throw new ClosedError(`${this.name}: interface handle is closed`);
  }
}

export function toIpTable(c: Ipv4Config, nic: Nic): IpTable {
  const v4: IpTable['ipv4'] = { dnsserver: [...c.dns] };
  const put = (k: 'address' | 'broadcast' | 'gateway' | 'netmask' | 'dhcpserver', v: string | undefined) => {
    if (v && v !== '0.0.0.0') v4[k] = v;
  };
  put('address', c.address);
  put('broadcast', c.broadcast);
  put('gateway', c.gateway);
  put('netmask', c.netmask);
  put('dhcpserver', c.dhcpServer);
  const p = nic.proxyconfig;
  if (p) {
    v4.proxy = { address: p.address, port: p.port, type: 'http' };
    if (p.username) v4.proxy.user = p.username;
  }
  return { ipv4: v4 };
}

/** node:dns on the first resolver() (synchronous, so not import()): most programs never ask for one. */
function loadDns(): typeof import('node:dns') {
  return createRequire(import.meta.url)('node:dns') as typeof import('node:dns');
}
