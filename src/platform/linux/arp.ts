/**
 * ARP probes and announcements on Linux (RFC 5227 address conflict detection): an
 * AF_PACKET/SOCK_DGRAM socket for EtherType 0x0806 bound to one interface — the kernel adds
 * and strips the Ethernet header — read on Node's event loop (uv_poll via koffi) and driven
 * by the sans-I/O probe and announce machines in protocols/arp. A packet socket needs
 * CAP_NET_RAW.
 *
 * The socket is created with protocol 0, which receives nothing, and only bind() names
 * ETH_P_ARP and the ifindex: created with ETH_P_ARP it would queue every interface's ARP
 * traffic in the moment before bind. An announcer only sends, so its bind keeps protocol 0
 * and the kernel queues nothing for it.
 */
import type { Clock } from '../../core/clock.js';
import { ClosedError, PermissionError, PlatformError } from '../../errors.js';
import { BROADCAST_MAC, ETHERTYPE_ARP, macBytes, type AnnounceResult, type ProbeResult } from '../../protocols/arp/index.js';
import { runAnnouncements, runProbe, type ArpIo } from '../../core/arp-runner.js';
import { EACCES, ENOBUFS, EPERM, errnoError, errnoName } from './errno.js';
import { EAGAIN, EINTR, libc, pollFd, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, type FdPoll } from './libc.js';
import { inNetns } from './netns.js';
import { endianness } from 'node:os';

// The runners live in core/arp-runner.ts, shared with the simulator.
export { runAnnouncements, runProbe, type ArpIo, type RunAnnouncementsParams, type RunProbeParams } from '../../core/arp-runner.js';

export const AF_PACKET = 17;
/** sizeof(struct sockaddr_ll). */
export const SOCKADDR_LL_LENGTH = 20;
/** An ARP body is 28 bytes; Ethernet pads it to 46. Anything up to the MTU fits. */
const RECEIVE_BUFFER_BYTES = 1536;
/** Packets read per readiness callback before yielding to the event loop. */
const MAX_READS_PER_WAKEUP = 64;

const littleEndian = endianness() === 'LE';

/**
 * struct sockaddr_ll { u16 family (host order); be16 protocol; int ifindex (host order);
 * u16 hatype; u8 pkttype; u8 halen; u8 addr[8] }.
 */
export function encodeSockaddrLl(ifindex: number, protocol: number, hardwareAddress?: Uint8Array): Buffer {
  const b = Buffer.alloc(SOCKADDR_LL_LENGTH);
  if (littleEndian) {
    b.writeUInt16LE(AF_PACKET, 0);
    b.writeInt32LE(ifindex, 4);
  } else {
    b.writeUInt16BE(AF_PACKET, 0);
    b.writeInt32BE(ifindex, 4);
  }
  b.writeUInt16BE(protocol, 2);
  if (hardwareAddress) {
    b.writeUInt8(hardwareAddress.length, 11);
    b.set(hardwareAddress.subarray(0, 8), 12);
  }
  return b;
}


export interface OpenArpSocketParams {
  netns?: string;
  device: string;
  ifindex: number;
  /** For messages: "probe 192.168.1.10 on eth0". */
  operation: string;
  /** false: a socket that only sends (announcements); nothing is queued or read. Default true. */
  receive?: boolean;
}

/** A packet socket for ARP on one interface. */
export class ArpSocket implements ArpIo {
  private readonly listeners = new Set<(data: Uint8Array) => void>();
  private readonly poll: FdPoll | undefined;
  private readonly buffer = Buffer.alloc(RECEIVE_BUFFER_BYTES);
  private readonly broadcast: Buffer;
  private closed = false;

  static open(p: OpenArpSocketParams): ArpSocket {
    const c = libc();
    const fd = inNetns(p.netns, () => c.socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd < 0) {
      const errno = c.errno();
      if (errno === EPERM || errno === EACCES) {
        throw new PermissionError(`${p.operation}: an ARP (AF_PACKET) socket needs CAP_NET_RAW — run as root or grant cap_net_raw (${errnoName(errno)})`);
      }
      throw errnoError(`${p.operation}: packet socket`, errno);
    }
    try {
      if (c.bind(fd, encodeSockaddrLl(p.ifindex, p.receive === false ? 0 : ETHERTYPE_ARP), SOCKADDR_LL_LENGTH) !== 0) {
        throw errnoError(`${p.operation}: bind packet socket to ${p.device}`, c.errno());
      }
      return new ArpSocket(fd, p);
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  private constructor(
    private readonly fd: number,
    private readonly params: OpenArpSocketParams,
  ) {
    this.broadcast = encodeSockaddrLl(params.ifindex, ETHERTYPE_ARP, macBytes(BROADCAST_MAC));
    if (params.receive === false) return;
    this.poll = pollFd(fd, (ev) => {
      if (ev.readable) this.drain();
    });
    // A probe is bounded in time by its own timer; the socket alone keeps nothing alive.
    this.poll.unref();
  }

  send(data: Uint8Array): void {
    if (this.closed) throw new ClosedError(`${this.params.operation}: socket closed`);
    const c = libc();
    for (;;) {
      const n = c.sendto(this.fd, data, data.byteLength, 0, this.broadcast, SOCKADDR_LL_LENGTH);
      if (n >= 0) return;
      const errno = c.errno();
      if (errno === EINTR) continue;
      // A full queue drops this packet, as the wire could: the schedule sends others.
      if (errno === EAGAIN || errno === ENOBUFS) return;
      throw errnoError(`${this.params.operation}: send ARP packet on ${this.params.device}`, errno);
    }
  }

  onPacket(listener: (data: Uint8Array) => void): void {
    this.listeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Stop polling before closing: uv_poll must not watch a descriptor that may be reused.
    this.poll?.close();
    libc().close(this.fd);
    this.listeners.clear();
  }

  private drain(): void {
    const c = libc();
    for (let i = 0; i < MAX_READS_PER_WAKEUP && !this.closed; i++) {
      const n = c.recv(this.fd, this.buffer, this.buffer.length, 0);
      if (n < 0) {
        const errno = c.errno();
        if (errno === EINTR) continue;
        // EAGAIN: drained. Anything else ends this wake-up; the probe's timer still decides.
        return;
      }
      const data = Buffer.from(this.buffer.subarray(0, n));
      for (const l of this.listeners) l(data);
    }
  }
}

export interface ProbeAddressParams {
  netns?: string;
  device: string;
  ifindex: number;
  /** The interface's own MAC (the probes' sender). */
  mac: string;
  address: string;
  timeoutMs: number;
  probes?: number;
  clock: Clock;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

/** RFC 5227 probe of `address` on a Linux interface: opens the socket, runs, closes. */
export function probeAddress(p: ProbeAddressParams): Promise<ProbeResult> {
  const operation = `probe ${p.address} on ${p.device}`;
  if (!macBytes(p.mac)) return Promise.reject(new PlatformError(`${operation}: the interface has no Ethernet address, so ARP cannot run on it`));
  let io: ArpSocket;
  try {
    io = ArpSocket.open({ ...(p.netns !== undefined ? { netns: p.netns } : {}), device: p.device, ifindex: p.ifindex, operation });
  } catch (e) {
    return Promise.reject(e);
  }
  return runProbe({
    io,
    clock: p.clock,
    mac: p.mac,
    address: p.address,
    timeoutMs: p.timeoutMs,
    ...(p.probes !== undefined ? { probes: p.probes } : {}),
    ...(p.signal ? { signal: p.signal } : {}),
    ...(p.log ? { log: p.log } : {}),
  });
}

export interface AnnounceAddressParams {
  netns?: string;
  device: string;
  ifindex: number;
  /** The interface's own MAC (the announcements' sender). */
  mac: string;
  address: string;
  count?: number;
  intervalMs?: number;
  clock: Clock;
  /** See RunAnnouncementsParams. */
  signals?: readonly AbortSignal[];
  log?: (message: string) => void;
}

/** RFC 5227 §2.3 announcements of `address` on a Linux interface: opens a send-only socket, runs, closes. */
export function announceAddress(p: AnnounceAddressParams): Promise<AnnounceResult> {
  const operation = `announce ${p.address} on ${p.device}`;
  if (!macBytes(p.mac)) return Promise.reject(new PlatformError(`${operation}: the interface has no Ethernet address, so ARP cannot run on it`));
  // Cancelled before it began: no socket at all.
  if (p.signals?.some((s) => s.aborted)) return Promise.resolve({ sent: 0, cancelled: true });
  let io: ArpSocket;
  try {
    io = ArpSocket.open({ ...(p.netns !== undefined ? { netns: p.netns } : {}), device: p.device, ifindex: p.ifindex, operation, receive: false });
  } catch (e) {
    return Promise.reject(e);
  }
  return runAnnouncements({
    io,
    clock: p.clock,
    mac: p.mac,
    address: p.address,
    ...(p.count !== undefined ? { count: p.count } : {}),
    ...(p.intervalMs !== undefined ? { intervalMs: p.intervalMs } : {}),
    ...(p.signals ? { signals: p.signals } : {}),
    ...(p.log ? { log: p.log } : {}),
  });
}
