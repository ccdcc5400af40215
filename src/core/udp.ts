/**
 * UDP sockets bound to an interface. The impOS rules (no ports 67/68, private
 * destinations only, 1024–65535 local ports, bursts of 100 refilled at 25/s) are a
 * `UdpRules` object: the impOS facade turns them all on; the modern API lets a program
 * choose. A socket survives an interface bounce: while the interface is down, send
 * returns NOT_CONNECTED; when it returns, the socket is re-bound to the same port.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { NetState, SendError, type SendErrorCode } from '../states.js';
import { ArgumentError, ClosedError, InterfaceNotUpError, isNicupError } from '../errors.js';
import type { Platform, UdpTransport, Datagram } from '../platform/contract.js';
import type { Session } from './session.js';
import { isPrivateIpv4 } from './ipv4.js';

/** The largest UDP payload over IPv4 (65535 − 8 − 20). */
export const MAX_UDP_PAYLOAD = 65507;

export interface UdpRules {
  /** Refuse destination ports 67 and 68 (DHCP). */
  forbidDhcpPorts?: boolean;
  /** Only RFC 1918 destinations (traffic stays on the local network). */
  privateOnly?: boolean;
  /** Local ports must be 1024–65535. */
  unprivilegedLocalPort?: boolean;
  /** Token bucket: `burst` datagrams, refilled at `perSecond`. */
  rateLimit?: { burst: number; perSecond: number };
}

/** The rules impOS enforces on udpsocket. */
export const IMPOS_UDP_RULES: Required<UdpRules> = {
  forbidDhcpPorts: true,
  privateOnly: true,
  unprivilegedLocalPort: true,
  rateLimit: { burst: 100, perSecond: 25 },
};

export interface UdpMessage {
  fromAddress: string;
  fromPort: number;
  /** The interface's address, its subnet broadcast, or 255.255.255.255. */
  toAddress: string;
  toPort: number;
  data: Buffer;
}

export interface UdpSocketOptions {
  /** Local port; absent or 0 = assigned by the system. */
  port?: number;
  onMessage?: (m: UdpMessage) => void;
  rules?: UdpRules;
}

export interface UdpSocketEvents {
  message: [UdpMessage];
  error: [Error];
  close: [];
}

export class UdpSocket extends EventEmitter<UdpSocketEvents> {
  #transport: UdpTransport | undefined;
  #closed = false;
  #port: number;
  #tokens: number;
  #refilledAtMs: number;
  #unsubscribe: () => void;
  #binding: Promise<void> | undefined;
  // The last destination that passed the format check, and whether it is RFC 1918:
  // a program sends to the same peer over and over, so each send skips the parse.
  #checkedAddress: string | undefined;
  #checkedPrivate = false;
  readonly rules: UdpRules;

  /** @internal use NetInterface.openUdp */
  constructor(
    private readonly platform: Platform,
    private readonly session: Session,
    options: UdpSocketOptions,
  ) {
    super();
    this.rules = options.rules ?? {};
    const port = options.port ?? 0;
    const min = this.rules.unprivilegedLocalPort ? 1024 : 1;
    if (!Number.isInteger(port) || (port !== 0 && (port < min || port > 65535))) {
      throw new ArgumentError(`localPort: must be an integer from ${min} to 65535`, { field: 'localPort' });
    }
    this.#port = port;
    this.#tokens = this.rules.rateLimit?.burst ?? Infinity;
    this.#refilledAtMs = platform.clock.now();
    if (options.onMessage) this.on('message', options.onMessage);
    this.#unsubscribe = session.onChange((c) => {
      if (this.#closed) return;
      // A failed re-bind (the port taken meanwhile) is reported as an 'error' event, never thrown.
      if (c.state === NetState.CONNECTED) this.rebind().catch((err: Error) => this.report(err));
      else this.unbind();
    });
  }

  /** The local port (assigned once bound). */
  get localPort(): number {
    return this.#port;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** True while bound to the interface (false while the interface is down). */
  get bound(): boolean {
    return this.#transport !== undefined;
  }

  /** @internal */
  async bindNow(): Promise<void> {
    try {
      await this.rebind();
    } catch (err) {
      this.#closed = true;
      this.#unsubscribe();
      throw err;
    }
  }

  /** @internal Binds at once where the platform can (the impOS facade must throw synchronously). */
  bindSync(): boolean {
    if (!this.platform.openUdpSync) return false;
    try {
      this.adopt(this.platform.openUdpSync(this.device, { port: this.#port, broadcast: true }));
      return true;
    } catch (err) {
      this.#closed = true;
      this.#unsubscribe();
      throw err;
    }
  }

  private adopt(t: UdpTransport): void {
    this.#transport = t;
    this.#port = t.localPort;
    t.onMessage((d: Datagram) => this.emit('message', { ...d }));
    t.onError((e) => this.report(e));
  }

  private rebind(): Promise<void> {
    if (this.#transport || this.#closed) return Promise.resolve();
    if (this.#binding) return this.#binding;
    this.#binding = (async () => {
      try {
        const t = await this.platform.openUdp(this.device, { port: this.#port, broadcast: true });
        if (this.#closed || this.session.state !== NetState.CONNECTED) {
          await t.close();
          return;
        }
        this.adopt(t);
      } catch (err) {
        if (isNicupError(err, 'NICUP_PORT_IN_USE')) throw err;
        if (this.listenerCount('error') > 0 && this.session.state === NetState.CONNECTED) this.emit('error', err as Error);
        else if (this.session.state === NetState.CONNECTED) throw err;
      } finally {
        this.#binding = undefined;
      }
    })();
    return this.#binding;
  }

  private unbind(): void {
    const t = this.#transport;
    this.#transport = undefined;
    if (t) void t.close().catch(() => {});
  }

  /** The kernel link that carries the traffic (ppp0 for a modem named cell0). */
  private get device(): string {
    return this.session.ipv4?.device ?? this.session.ifname;
  }

  // One handler for every fire-and-forget send, not a closure per datagram.
  readonly #reportSendError = (err: Error): void => this.report(err);

  /** Errors after the fact go to 'error' listeners; without one they are dropped (a socket error must not end the process). */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Checks a send against the rules; throws ArgumentError/ClosedError as impOS does. */
  private check(address: string, port: number, data: Uint8Array | string): Buffer {
    if (this.#closed) throw new ClosedError('udpsocket: socket is closed');
    // typeof first: a missing address must not match the empty cache (undefined === undefined).
    if (typeof address !== 'string' || address !== this.#checkedAddress) {
      if (typeof address !== 'string' || isIP(address) !== 4) throw new ArgumentError('address: must be a dotted-quad IPv4 address', { field: 'address' });
      this.#checkedAddress = address;
      this.#checkedPrivate = isPrivateIpv4(address);
    }
    if (this.rules.privateOnly && !this.#checkedPrivate) {
      throw new ArgumentError('address: must be private (10/8, 172.16/12 or 192.168/16)', { field: 'address' });
    }
    // impOS allows 0; no datagram can be sent to port 0, so nicup refuses it at once.
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ArgumentError('port: must be an integer from 1 to 65535', { field: 'port' });
    if (this.rules.forbidDhcpPorts && (port === 67 || port === 68)) throw new ArgumentError('port: 67 and 68 are reserved for DHCP', { field: 'port' });
    let buf: Buffer;
    if (Buffer.isBuffer(data)) buf = data;
    else if (typeof data === 'string') buf = Buffer.from(data, 'utf8');
    else if (data instanceof Uint8Array) buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else throw new ArgumentError('data: must be a string or a Uint8Array/Buffer', { field: 'data' });
    if (buf.length > MAX_UDP_PAYLOAD) throw new ArgumentError(`data: at most ${MAX_UDP_PAYLOAD} bytes`, { field: 'data' });
    return buf;
  }

  private takeToken(): boolean {
    const rl = this.rules.rateLimit;
    if (!rl) return true;
    const now = this.platform.clock.now();
    this.#tokens = Math.min(rl.burst, this.#tokens + ((now - this.#refilledAtMs) * rl.perSecond) / 1000);
    this.#refilledAtMs = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * impOS-style send: returns 0 when the datagram was handed to the interface, else a
   * send error code (NOT_CONNECTED while the interface is down, WOULDBLOCK when the burst
   * allowance is spent). Throws for bad arguments and on a closed socket.
   */
  send(address: string, port: number, data: Uint8Array | string): SendErrorCode {
    const buf = this.check(address, port, data);
    const t = this.#transport;
    if (!t) return SendError.NOT_CONNECTED;
    if (!this.takeToken()) return SendError.WOULDBLOCK;
    t.send(buf, port, address).then(undefined, this.#reportSendError);
    return SendError.OK;
  }

  /** Promise form of send: resolves once the kernel took the datagram, rejects with the reason otherwise. */
  async sendAsync(address: string, port: number, data: Uint8Array | string): Promise<void> {
    const buf = this.check(address, port, data);
    const t = this.#transport;
    if (!t) throw new InterfaceNotUpError(`${this.session.ifname}: interface not connected`);
    if (!this.takeToken()) throw new ArgumentError('rate limit: burst allowance spent', { field: 'rate' });
    await t.send(buf, port, address);
  }

  /** Frees the port. Later calls throw; closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    const t = this.#transport;
    this.#transport = undefined;
    await t?.close().catch(() => {});
    this.emit('close');
  }
}

