/**
 * The few libc calls the Linux platform needs that Node does not offer: setns(2) to create
 * sockets inside another network namespace, and the socket calls behind a device-bound UDP
 * socket that reports each datagram's destination address (IP_PKTINFO via recvmsg(2)).
 * Loaded on first use, so importing the module costs nothing on hosts that never call it.
 */
import koffi from 'koffi';
import { endianness } from 'node:os';

export interface Libc {
  setns(fd: number, nstype: number): number;
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  bind(fd: number, address: Buffer, length: number): number;
  getsockname(fd: number, address: Buffer, length: Buffer): number;
  sendto(fd: number, data: Uint8Array, length: number, flags: number, address: Buffer, addressLength: number): number;
  /** recv(2) into a buffer. */
  recv(fd: number, buffer: Buffer, length: number, flags: number): number;
  /** recvmsg(2) on a msghdr that lives in koffi-allocated memory. */
  recvmsg(fd: number, msghdr: unknown, flags: number): number;
  close(fd: number): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
}

// Linux constants (asm-generic; identical on x86-64, arm64, arm).
export const AF_UNIX = 1;
export const AF_INET = 2;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_BROADCAST = 6;
export const SO_BINDTODEVICE = 25;
export const IPPROTO_IP = 0;
export const IP_PKTINFO = 8;
export const MSG_TRUNC = 0x20;
export const CLONE_NEWNET = 0x40000000;

export const EAGAIN = 11;
export const EINTR = 4;

let loaded: Libc | undefined;

export function libc(): Libc {
  if (loaded) return loaded;
  const lib = koffi.load('libc.so.6');
  const fn = {
    setns: lib.func('int setns(int fd, int nstype)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, void *value, uint32_t length)'),
    bind: lib.func('int bind(int fd, void *address, uint32_t length)'),
    getsockname: lib.func('int getsockname(int fd, void *address, void *length)'),
    sendto: lib.func('intptr_t sendto(int fd, void *data, size_t length, int flags, void *address, uint32_t addressLength)'),
    recvmsg: lib.func('intptr_t recvmsg(int fd, void *msghdr, int flags)'),
    recv: lib.func('intptr_t recv(int fd, _Out_ uint8_t *buffer, size_t length, int flags)'),
    close: lib.func('int close(int fd)'),
  };
  loaded = {
    setns: (fd, nstype) => fn.setns(fd, nstype) as number,
    socket: (d, t, p) => fn.socket(d, t, p) as number,
    setsockopt: (fd, level, name, value, length) => fn.setsockopt(fd, level, name, value, length) as number,
    bind: (fd, address, length) => fn.bind(fd, address, length) as number,
    getsockname: (fd, address, length) => fn.getsockname(fd, address, length) as number,
    sendto: (fd, data, length, flags, address, addressLength) =>
      Number(fn.sendto(fd, data, length, flags, address, addressLength)),
    recvmsg: (fd, msghdr, flags) => Number(fn.recvmsg(fd, msghdr, flags)),
    recv: (fd, buffer, length, flags) => Number(fn.recv(fd, buffer, length, flags)),
    close: (fd) => fn.close(fd) as number,
    errno: () => koffi.errno(),
  };
  return loaded;
}

const littleEndian = endianness() === 'LE';

/** struct sockaddr_in: sin_family in host order, port and address in network order. */
export function encodeSockaddrIn(address: number, port: number): Buffer {
  // From Node's pool, not Buffer.alloc: V8 keeps a fresh 16-byte array inside its heap, and
  // handing that to native code makes it move the bytes out first (microseconds per call).
  const b = Buffer.allocUnsafe(16).fill(0);
  if (littleEndian) b.writeUInt16LE(AF_INET, 0);
  else b.writeUInt16BE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  b.writeUInt32BE(address >>> 0, 4);
  return b;
}

export function decodeSockaddrIn(b: Buffer): { address: number; port: number } {
  return { port: b.readUInt16BE(2), address: b.readUInt32BE(4) };
}

export function int32Buffer(value: number): Buffer {
  const b = Buffer.alloc(4);
  if (littleEndian) b.writeInt32LE(value, 0);
  else b.writeInt32BE(value, 0);
  return b;
}

/**
 * One receive arena for recvmsg(2), shared by every socket: JavaScript runs one recvmsg at a
 * time, and each datagram is copied out before the next call. The msghdr points into the
 * arena itself, so a call passes no JavaScript objects at all.
 */
export interface RecvArena {
  /** Pointer to the msghdr, as koffi wants it. */
  readonly msghdr: unknown;
  /** A view of the whole arena. */
  readonly view: Buffer;
  readonly dataOffset: number;
  readonly dataSize: number;
  readonly nameOffset: number;
  readonly controlOffset: number;
  /** Re-arms msg_namelen, msg_controllen and msg_flags before each call. */
  reset(): void;
  /** Values the kernel wrote back. */
  controlLength(): number;
  flags(): number;
}

let arena: RecvArena | undefined;

export function recvArena(): RecvArena {
  if (arena) return arena;
  const pointerSize = koffi.sizeof('void *');
  const msghdrType = koffi.struct('nicup_msghdr', {
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'void *',
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  const align = (n: number) => (n + 15) & ~15;
  const msghdrSize = koffi.sizeof(msghdrType);
  const iovOffset = align(msghdrSize);
  const nameOffset = align(iovOffset + 2 * pointerSize);
  const controlOffset = align(nameOffset + 16);
  const controlSize = 256;
  const dataOffset = align(controlOffset + controlSize);
  const dataSize = 65536;
  const total = dataOffset + dataSize;
  const block: unknown = koffi.alloc('uint8_t', total);
  const base = koffi.address(block);
  const view = Buffer.from(koffi.view(block, total));
  const off = (m: string) => koffi.offsetof(msghdrType, m);
  const writeSize = (value: bigint | number, at: number) => {
    if (pointerSize === 8 && littleEndian && typeof value === 'number') {
      // Lengths are small numbers: two 32-bit writes, no BigInt per call.
      view.writeUInt32LE(value % 2 ** 32, at);
      view.writeUInt32LE(Math.floor(value / 2 ** 32), at + 4);
    } else if (pointerSize === 8) {
      if (littleEndian) view.writeBigUInt64LE(BigInt(value), at);
      else view.writeBigUInt64BE(BigInt(value), at);
    } else if (littleEndian) view.writeUInt32LE(Number(value), at);
    else view.writeUInt32BE(Number(value), at);
  };
  const readSize = (at: number) =>
    pointerSize === 8
      ? littleEndian
        ? view.readUInt32LE(at) + view.readUInt32LE(at + 4) * 2 ** 32
        : Number(view.readBigUInt64BE(at))
      : littleEndian
        ? view.readUInt32LE(at)
        : view.readUInt32BE(at);
  const writeU32 = (value: number, at: number) =>
    littleEndian ? view.writeUInt32LE(value, at) : view.writeUInt32BE(value, at);
  const readI32 = (at: number) => (littleEndian ? view.readInt32LE(at) : view.readInt32BE(at));
  // Fixed pointers: name, iovec, control and data never move.
  writeSize(base + BigInt(nameOffset), off('msg_name'));
  writeSize(base + BigInt(iovOffset), off('msg_iov'));
  writeSize(1, off('msg_iovlen'));
  writeSize(base + BigInt(controlOffset), off('msg_control'));
  writeSize(base + BigInt(dataOffset), iovOffset);
  writeSize(dataSize, iovOffset + pointerSize);
  // Offsets looked up once: koffi.offsetof is a native call, and these run per datagram.
  const namelenAt = off('msg_namelen');
  const controllenAt = off('msg_controllen');
  const flagsAt = off('msg_flags');
  arena = {
    msghdr: block,
    view,
    dataOffset,
    dataSize,
    nameOffset,
    controlOffset,
    reset() {
      writeU32(16, namelenAt);
      writeSize(controlSize, controllenAt);
      writeU32(0, flagsAt);
    },
    controlLength: () => readSize(controllenAt),
    flags: () => readI32(flagsAt),
  };
  return arena;
}

let layout: { headerSize: number; lengthSize: number } | undefined;

/** Layout of struct cmsghdr on this machine: { size_t len; int level; int type; data }. */
export function cmsgLayout(): { headerSize: number; lengthSize: number } {
  if (layout) return layout;
  const lengthSize = koffi.sizeof('size_t');
  // CMSG_ALIGN rounds to sizeof(size_t); the header is len + level + type.
  const headerSize = (lengthSize + 8 + lengthSize - 1) & ~(lengthSize - 1);
  layout = { headerSize, lengthSize };
  return layout;
}

/** Polls a descriptor on Node's own event loop (koffi's uv_poll wrapper). */
export interface FdPoll {
  start(events: { readable?: boolean; writable?: boolean }, callback: (ev: { readable: boolean; writable: boolean }) => void): void;
  close(): void;
  ref(): void;
  unref(): void;
}

export function pollFd(fd: number, callback: (ev: { readable: boolean; writable: boolean }) => void): FdPoll {
  // koffi calls back with (status, events) although its typings say (events).
  const adapt = (cb: (ev: { readable: boolean; writable: boolean }) => void) =>
    ((status: unknown, events: unknown) => {
      const ev = (typeof status === 'object' ? status : events) as { readable?: boolean; writable?: boolean } | undefined;
      cb({ readable: ev?.readable === true, writable: ev?.writable === true });
    }) as unknown as Parameters<typeof koffi.node.poll>[1];
  const handle = koffi.node.poll(fd, { readable: true }, adapt(callback));
  if (!handle) throw new Error(`cannot poll descriptor ${fd}`);
  return {
    start: (events, cb) => handle.start(events, adapt(cb)),
    close: () => handle.close(),
    ref: () => handle.ref(),
    unref: () => handle.unref(),
  };
}
