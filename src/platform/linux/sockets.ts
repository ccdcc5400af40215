/**
 * UDP sockets bound to one device (SO_BINDTODEVICE): traffic leaves by that device
 * whatever the routing table says, and only datagrams that arrived on it are received.
 *
 * Node's dgram cannot say where a datagram was sent to (unicast, subnet broadcast or
 * 255.255.255.255), so these sockets are driven directly: socket/bind through libc,
 * readiness from Node's own event loop (uv_poll, via koffi), and recvmsg(2) with
 * IP_PKTINFO, whose ipi_addr is the destination address of the IP header. One socket
 * bound to 0.0.0.0 thus receives unicast and both broadcasts and labels each one.
 */
import type { Datagram, UdpTransport } from '../contract.js';
import { ArgumentError, ClosedError, InterfaceNotFoundError, NicupError, PermissionError, PlatformError, PortInUseError } from '../../errors.js';
import { EACCES, EADDRINUSE, EADDRNOTAVAIL, EMSGSIZE, ENOBUFS, ENODEV, ENXIO, EPERM, errnoError, errnoName } from './errno.js';
import { formatIpv4 } from '../../core/ipv4.js';
import { requireIpv4 } from './ipv4.js';
import {
  AF_INET,
  cmsgLayout,
  decodeSockaddrIn,
  EAGAIN,
  EINTR,
  encodeSockaddrIn,
  int32Buffer,
  IP_PKTINFO,
  IPPROTO_IP,
  libc,
  pollFd,
  recvArena,
  SO_BINDTODEVICE,
  SO_BROADCAST,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
  type FdPoll,
} from './libc.js';
import { inNetns } from './netns.js';

/** Datagrams read per readiness callback before yielding to the event loop. */
const MAX_READS_PER_WAKEUP = 256;

export interface OpenUdpParams {
  /** Named network namespace the socket lives in. */
  netns?: string;
  device: string;
  /** 0: an ephemeral port. */
  port: number;
  /** Local address to bind, as a number; 0 = INADDR_ANY. */
  address: number;
  broadcast: boolean;
  reuseAddress: boolean;
  /** Keep the Node event loop alive while the socket is open (dgram's default). */
  ref: boolean;
  /** For messages: "open DHCP socket on eth0". */
  operation: string;
  /** Called once when the socket closes. */
  onClosed?: (t: LinuxUdpTransport) => void;
}

/** Destinations remembered per socket (their sockaddr already encoded). */
const DESTINATION_CACHE_SIZE = 8;

interface Destination {
  address: string;
  port: number;
  to: Buffer;
}

/** A datagram waiting for the socket to become writable (EAGAIN/ENOBUFS), in send order. */
interface QueuedSend {
  data: Uint8Array;
  to: Buffer;
  address: string;
  port: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class LinuxUdpTransport implements UdpTransport {
  readonly localPort: number;
  readonly device: string;
  private readonly messageListeners = new Set<(d: Datagram) => void>();
  private readonly errorListeners = new Set<(e: Error) => void>();
  private readonly sendQueue: QueuedSend[] = [];
  private readonly poll: FdPoll;
  private closed = false;
  private waitingWritable = false;
  // Recent destinations, checked and encoded: programs send to a few peers over and over, and
  // parsing plus a new sockaddr per send costs more than the sendto itself. An entry is
  // never rewritten in place (a queued send may hold its Buffer); the oldest is replaced.
  private readonly destinations: Destination[] = [];
  private nextDestination = 0;
  // A socket mostly hears from the same peers on the same address: format each once.
  private readonly fromText = new DottedQuadMemo();
  private readonly toText = new DottedQuadMemo();

  static open(p: OpenUdpParams): LinuxUdpTransport {
    const c = libc();
    const fd = inNetns(p.netns, () => c.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd < 0) throw errnoError(`${p.operation}: socket`, c.errno());
    try {
      const setInt = (level: number, name: number, what: string) => {
        if (c.setsockopt(fd, level, name, int32Buffer(1), 4) !== 0) throw errnoError(`${p.operation}: ${what}`, c.errno());
      };
      const dev = Buffer.from(`${p.device}\0`, 'utf8');
      if (c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length) !== 0) {
        const errno = c.errno();
        if (errno === ENODEV) throw new InterfaceNotFoundError(`${p.operation}: no interface named ${p.device}`);
        if (errno === EPERM) throw new PermissionError(`${p.operation}: SO_BINDTODEVICE needs CAP_NET_RAW`);
        throw errnoError(`${p.operation}: SO_BINDTODEVICE`, errno);
      }
      if (p.reuseAddress) setInt(SOL_SOCKET, SO_REUSEADDR, 'SO_REUSEADDR');
      if (p.broadcast) setInt(SOL_SOCKET, SO_BROADCAST, 'SO_BROADCAST');
      setInt(IPPROTO_IP, IP_PKTINFO, 'IP_PKTINFO');
      if (c.bind(fd, encodeSockaddrIn(p.address, p.port), 16) !== 0) {
        const errno = c.errno();
        const where = `${formatIpv4(p.address)}:${p.port} on ${p.device}`;
        if (errno === EADDRINUSE) throw new PortInUseError(`${p.operation}: port ${p.port} is in use (${where})`);
        if (errno === EADDRNOTAVAIL) {
          throw new ArgumentError(`address: ${formatIpv4(p.address)} is not an address of this host (${p.operation})`, { field: 'address' });
        }
        if (errno === EACCES) throw new PermissionError(`${p.operation}: port ${p.port} needs CAP_NET_BIND_SERVICE`);
        throw errnoError(`${p.operation}: bind ${where}`, errno);
      }
      const name = Buffer.alloc(16);
      const length = int32Buffer(16);
      if (c.getsockname(fd, name, length) !== 0) throw errnoError(`${p.operation}: getsockname`, c.errno());
      return new LinuxUdpTransport(fd, decodeSockaddrIn(name).port, p);
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  private constructor(
    private readonly fd: number,
    localPort: number,
    private readonly params: OpenUdpParams,
  ) {
    this.localPort = localPort;
    this.device = params.device;
    this.poll = pollFd(fd, (ev) => this.onReady(ev));
    if (!params.ref) this.poll.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(data: Uint8Array, port: number, address: string): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError(`send on ${this.device}: socket closed`));
    if (!(data instanceof Uint8Array)) return Promise.reject(new ArgumentError('data: must be a Uint8Array or Buffer', { field: 'data' }));
    let to: Buffer;
    try {
      to = this.sockaddrOf(address, port);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.sendQueue.length === 0) {
      // Nothing waits ahead of this datagram, so order allows sending it now.
      const errno = this.sendNow(data, to);
      if (errno === 0) return Promise.resolve();
      if (errno !== EAGAIN && errno !== ENOBUFS) return Promise.reject(sendError(this.describeSend(address, port), errno));
      this.wantWritable(true);
    }
    return new Promise((resolve, reject) => {
      this.sendQueue.push({ data, to, address, port, resolve, reject });
      if (!this.waitingWritable) this.flushSends();
    });
  }

  /** The destination's sockaddr: from the cache, or checked and encoded (and remembered). */
  private sockaddrOf(address: string, port: number): Buffer {
    const cache = this.destinations;
    for (let i = 0; i < cache.length; i++) {
      const d = cache[i]!;
      if (d.port === port && d.address === address) return d.to;
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ArgumentError('port: must be an integer from 1 to 65535', { field: 'port' });
    }
    const to = encodeSockaddrIn(requireIpv4(address, 'address'), port);
    cache[this.nextDestination] = { address, port, to };
    this.nextDestination = (this.nextDestination + 1) % DESTINATION_CACHE_SIZE;
    return to;
  }

  /** 0 once the kernel took the datagram, else the errno (EINTR retried). */
  private sendNow(data: Uint8Array, to: Buffer): number {
    const c = libc();
    for (;;) {
      if (c.sendto(this.fd, data, data.byteLength, 0, to, 16) >= 0) return 0;
      const errno = c.errno();
      if (errno !== EINTR) return errno;
    }
  }

  /** For error messages only: built when a send fails, not for every send. */
  private describeSend(address: string, port: number): string {
    return `send to ${address}:${port} on ${this.device}`;
  }

  onMessage(listener: (d: Datagram) => void): void {
    this.messageListeners.add(listener);
  }

  onError(listener: (e: Error) => void): void {
    this.errorListeners.add(listener);
  }

  /** Lets the process exit while the socket is open (or not): dgram's ref/unref. */
  ref(): void {
    if (!this.closed) this.poll.ref();
  }
  unref(): void {
    if (!this.closed) this.poll.unref();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    // Stop polling before closing: uv_poll must not watch a descriptor that may be reused.
    this.poll.close();
    libc().close(this.fd);
    for (const q of this.sendQueue.splice(0)) q.reject(new ClosedError(`${this.describeSend(q.address, q.port)}: socket closed`));
    this.messageListeners.clear();
    this.errorListeners.clear();
    this.params.onClosed?.(this);
    return Promise.resolve();
  }

  private onReady(ev: { readable: boolean; writable: boolean }): void {
    if (this.closed) return;
    if (ev.writable) this.flushSends();
    if (ev.readable) this.drain();
  }

  private flushSends(): void {
    while (!this.closed && this.sendQueue.length > 0) {
      const q = this.sendQueue[0]!;
      const errno = this.sendNow(q.data, q.to);
      if (errno === EAGAIN || errno === ENOBUFS) {
        this.wantWritable(true);
        return;
      }
      this.sendQueue.shift();
      if (errno === 0) q.resolve();
      else q.reject(sendError(this.describeSend(q.address, q.port), errno));
    }
    this.wantWritable(false);
  }

  private wantWritable(on: boolean): void {
    if (on === this.waitingWritable || this.closed) return;
    this.waitingWritable = on;
    this.poll.start({ readable: true, writable: on }, (ev) => this.onReady(ev));
  }

  private drain(): void {
    const c = libc();
    const a = recvArena();
    const view = a.view;
    const { headerSize, lengthSize } = cmsgLayout();
    for (let i = 0; i < MAX_READS_PER_WAKEUP && !this.closed; i++) {
      a.reset();
      const n = c.recvmsg(this.fd, a.msghdr, 0);
      if (n < 0) {
        const errno = c.errno();
        if (errno === EINTR) continue;
        if (errno !== EAGAIN) this.emitError(new PlatformError(`receive on ${this.device}: ${errnoName(errno)}`));
        return;
      }
      const data = Buffer.allocUnsafe(n);
      view.copy(data, 0, a.dataOffset, a.dataOffset + n);
      // struct sockaddr_in: port and address in network order at bytes 2 and 4.
      const fromPort = view.readUInt16BE(a.nameOffset + 2);
      const fromAddress = this.fromText.of(view.readUInt32BE(a.nameOffset + 4));
      let toAddress = '0.0.0.0';
      const end = a.controlOffset + a.controlLength();
      for (let off = a.controlOffset; off + headerSize <= end; ) {
        // cmsg_len is a size_t; its low 32 bits come first on a little-endian host (as the reads below assume).
        const len = view.readUInt32LE(off);
        if (len < headerSize || off + len > end) break;
        const level = view.readInt32LE(off + lengthSize);
        const type = view.readInt32LE(off + lengthSize + 4);
        // struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
        if (level === IPPROTO_IP && type === IP_PKTINFO && len >= headerSize + 12) {
          toAddress = this.toText.of(view.readUInt32BE(off + headerSize + 8));
        }
        off += (len + lengthSize - 1) & ~(lengthSize - 1);
      }
      const d: Datagram = { data, fromAddress, fromPort, toAddress, toPort: this.localPort };
      for (const l of this.messageListeners) {
        try {
          l(d);
        } catch (err) {
          process.nextTick(() => {
            throw err;
          });
        }
      }
    }
  }

  private emitError(e: Error): void {
    for (const l of this.errorListeners) l(e);
  }
}

/** formatIpv4 with the last answer remembered. */
class DottedQuadMemo {
  private value = -1;
  private text = '';
  of(value: number): string {
    if (value !== this.value) {
      this.value = value;
      this.text = formatIpv4(value);
    }
    return this.text;
  }
}

function sendError(description: string, errno: number): NicupError {
  switch (errno) {
    case EACCES:
      return new ArgumentError(`address: sending to a broadcast address needs a socket opened with broadcast (${description})`, { field: 'address' });
    case EMSGSIZE:
      return new ArgumentError(`data: too large for one datagram (${description})`, { field: 'data' });
    case ENODEV:
    case ENXIO:
      return new InterfaceNotFoundError(`${description}: the interface is gone (${errnoName(errno)})`);
    default:
      return errnoError(description, errno);
  }
}
