/**
 * Unix datagram sockets (AF_UNIX, SOCK_DGRAM) for wpa_supplicant's control interface,
 * through libc with koffi and polled on Node's own event loop. Node has no Unix
 * datagram sockets; this replaces a native add-on whose npm lock entries break `npm ci`.
 */
import { AF_UNIX, EAGAIN, EINTR, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, libc, pollFd, type FdPoll } from './libc.js';

/** struct sockaddr_un: sun_family (host order) + a NUL-terminated path of at most 107 bytes. */
export function encodeSockaddrUn(path: string): Buffer {
  const p = Buffer.from(path, 'utf8');
  if (p.length === 0 || p.length > 107 || p.includes(0)) throw new Error(`unix socket path must be 1–107 bytes without NUL`);
  const b = Buffer.alloc(2 + 108);
  b.writeUInt16LE(AF_UNIX, 0);
  p.copy(b, 2);
  return b;
}

const MAX_DATAGRAM = 65536;

export class UnixDgramSocket {
  private readonly fd: number;
  private poll: FdPoll | undefined;
  private closed = false;
  private readonly buffer = Buffer.alloc(MAX_DATAGRAM);
  private listener: ((data: Buffer) => void) | undefined;

  /** Creates a socket bound to `localPath` (which must not exist yet). */
  constructor(localPath: string) {
    const c = libc();
    const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket(AF_UNIX): errno ${c.errno()}`);
    const addr = encodeSockaddrUn(localPath);
    if (c.bind(fd, addr, addr.length) !== 0) {
      const e = c.errno();
      c.close(fd);
      throw new Error(`bind ${localPath}: errno ${e}`);
    }
    this.fd = fd;
  }

  /** Sends one datagram to the socket at `path`; throws with the errno on failure (ECONNREFUSED = 111: nobody there). */
  send(data: Uint8Array | string, path: string): void {
    if (this.closed) throw new Error('socket closed');
    const c = libc();
    const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    const addr = encodeSockaddrUn(path);
    const n = c.sendto(this.fd, buf, buf.length, 0, addr, addr.length);
    if (n < 0) {
      const e = c.errno();
      const err = new Error(`send to ${path}: errno ${e}`) as Error & { errno: number };
      err.errno = e;
      throw err;
    }
  }

  /** Every datagram received (one listener). */
  onMessage(listener: (data: Buffer) => void): void {
    this.listener = listener;
    if (this.poll || this.closed) return;
    this.poll = pollFd(this.fd, (ev) => {
      if (ev.readable) this.drain();
    });
  }

  private drain(): void {
    const c = libc();
    while (!this.closed) {
      const n = c.recv(this.fd, this.buffer, this.buffer.length, 0);
      if (n < 0) {
        const e = c.errno();
        if (e === EINTR) continue;
        if (e === EAGAIN) return;
        return;
      }
      this.listener?.(Buffer.from(this.buffer.subarray(0, n)));
    }
  }

  ref(): void {
    this.poll?.ref();
  }
  unref(): void {
    this.poll?.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poll?.close();
    libc().close(this.fd);
  }
}
