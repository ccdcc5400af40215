/**
 * A modem's AT port as a ByteStream, with serialport 13 (prebuilt binding): 115200 8N1,
 * raw, no flow control, an exclusive flock(2) so that two programs do not talk AT over
 * each other, and HUPCL, so that the last close drops DTR (which hangs up a call that a
 * crashed program left behind).
 *
 * Handing the port to pppd: once the modem said CONNECT, pppd must get the tty without
 * the call being dropped. Closing serialport's descriptor would be the tty's last close,
 * and with HUPCL the kernel then drops DTR — most modems hang up on that (V.250 &D2). So
 * handOver() first opens a second descriptor on the same tty (the tty stays open), then
 * closes serialport's (which stops our reads: two readers would split pppd's frames
 * between them), and gives the second descriptor to the caller, who makes it pppd's
 * stdin. reclaim() reopens the port for AT commands once pppd has gone; until then writes
 * wait. The same ByteStream keeps working for its owner across the PPP session.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { SerialPort } from 'serialport';
import type { ByteStream } from '../contract.js';
import { ArgumentError, ClosedError, InterfaceBusyError, InterfaceNotFoundError, NicupError, PermissionError, PlatformError } from '../../errors.js';

export const MODEM_BAUD_RATE = 115200;

type PortState = 'open' | 'handed-over' | 'reopening' | 'closed';

export interface SerialOptions {
  /** reclaim(): tries to reopen 3 times, this long apart, times the attempt (default 200 ms). */
  reopenRetryMs?: number;
}

/** Opens a modem's AT port. Errors name the device and the cause, nothing else. */
export async function openSerial(device: string, options: SerialOptions = {}): Promise<LinuxSerialPort> {
  checkDevicePath(device);
  const port = await openPort(device);
  return new LinuxSerialPort(device, port, options.reopenRetryMs ?? 200);
}

export class LinuxSerialPort implements ByteStream {
  private state: PortState = 'open';
  private readonly dataListeners = new Set<(data: Buffer) => void>();
  private readonly closeListeners = new Set<(err?: Error) => void>();
  /** Settles when the port is usable again after a hand-over (or closed for good). */
  private reopened: Promise<void> | undefined;
  private reopenDone: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private reclaiming: Promise<void> | undefined;

  /** @internal use openSerial() */
  constructor(
    readonly device: string,
    private port: SerialPort,
    private readonly reopenRetryMs: number,
  ) {
    this.attach(port);
  }

  /** Whether pppd (or another process) holds the tty now. */
  get handedOver(): boolean {
    return this.state === 'handed-over' || this.state === 'reopening';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  async write(data: Uint8Array | string): Promise<void> {
    if (this.state !== 'open' && this.reopened) await this.reopened;
    if (this.state !== 'open') throw new ClosedError(`${this.device}: port closed`);
    const port = this.port;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    await new Promise<void>((resolve, reject) => {
      port.write(bytes, (err) => (err ? reject(portError(this.device, 'write', err)) : resolve()));
    });
  }

  onData(listener: (data: Buffer) => void): void {
    this.dataListeners.add(listener);
  }

  /** The port went away (unplugged, or it could not be reopened after pppd); not called for close(). */
  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.add(listener);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const wasOpen = this.state === 'open';
      this.state = 'closed';
      this.reopenDone?.();
      if (wasOpen) await closePort(this.port);
      // A reopen in flight closes what it opened; the port is free only after that.
      await this.reclaiming;
    })();
    return this.closing;
  }

  /**
   * Gives the tty to another process without hanging up: returns a new descriptor on it
   * (O_RDWR, O_NOCTTY, close-on-exec) for the caller to pass to the child as stdin and
   * then close. Our own reads stop. Call reclaim() once the child has exited.
   */
  async handOver(): Promise<number> {
    if (this.state !== 'open') throw new ClosedError(`${this.device}: port is ${this.state === 'closed' ? 'closed' : 'already handed over'}`);
    let fd: number;
    try {
      // O_NONBLOCK: a modem line without carrier would otherwise block the open (CLOCAL is set, but be sure).
      fd = openSync(this.device, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (err) {
      throw portError(this.device, 'open for pppd', err);
    }
    this.state = 'handed-over';
    this.reopened = new Promise<void>((resolve) => (this.reopenDone = resolve));
    try {
      await closePort(this.port);
    } catch (err) {
      closeSync(fd);
      this.reopenDone?.();
      void this.close();
      throw err;
    }
    return fd;
  }

  /**
   * Reopens the port for AT commands after the process it was handed to has exited (the
   * tty and its lock are free again then). If that fails, onClose listeners hear why.
   */
  reclaim(): Promise<void> {
    if (this.state !== 'handed-over') return this.reclaiming ?? Promise.resolve();
    this.state = 'reopening';
    this.reclaiming = this.reopen();
    return this.reclaiming;
  }

  private async reopen(): Promise<void> {
    let port: SerialPort | undefined;
    let error: Error | undefined;
    // A USB modem may re-enumerate after a call; give it a moment before calling it gone.
    for (let attempt = 0; attempt < 3 && !port; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.reopenRetryMs * attempt));
      if (this.state !== 'reopening') break;
      try {
        port = await openPort(this.device);
      } catch (err) {
        error = err as Error;
      }
    }
    if (this.state !== 'reopening') {
      // close() came first.
      if (port) await closePort(port).catch(() => {});
      return;
    }
    const done = this.reopenDone;
    this.reopenDone = undefined;
    this.reopened = undefined;
    if (!port) {
      this.state = 'closed';
      done?.();
      this.emitClose(error ?? new PlatformError(`${this.device}: cannot reopen the port`));
      return;
    }
    this.port = port;
    this.attach(port);
    this.state = 'open';
    done?.();
  }

  private attach(port: SerialPort): void {
    port.on('data', (data: Buffer) => {
      if (this.port !== port || this.state !== 'open') return;
      for (const l of [...this.dataListeners]) l(data);
    });
    port.on('error', () => {
      // Reported through 'close' (disconnect) or the write callback; an unhandled 'error' would throw.
    });
    port.on('close', (err?: Error | null) => {
      if (this.port !== port || this.state !== 'open') return;
      this.state = 'closed';
      this.emitClose(err ? portError(this.device, 'read', err) : new PlatformError(`${this.device}: port closed`));
    });
  }

  private emitClose(err: Error): void {
    for (const l of [...this.closeListeners]) l(err);
  }
}

export function checkDevicePath(device: string): void {
  if (typeof device !== 'string' || !device.startsWith('/') || device.includes('\0')) {
    throw new ArgumentError('device: must be an absolute path to a serial port (e.g. /dev/ttyUSB2)', { field: 'device' });
  }
}

function openPort(device: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    let port: SerialPort;
    try {
      port = new SerialPort({ path: device, baudRate: MODEM_BAUD_RATE, autoOpen: false, lock: true, hupcl: true, rtscts: false });
    } catch (err) {
      reject(portError(device, 'open', err));
      return;
    }
    port.open((err) => (err ? reject(portError(device, 'open', err)) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => {
    // A close error (the device vanished meanwhile) leaves nothing to release.
    port.close(() => resolve());
  });
}

/** serialport's errors carry text, not always a code: map both to our classes, naming the device. */
export function portError(device: string, operation: string, err: unknown): NicupError {
  if (err instanceof NicupError) return err;
  const e = err as { code?: string; message?: string };
  const text = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : (/\b(E[A-Z]{3,})\b/.exec(text)?.[1] ?? '');
  const why = (text.replace(/^Error:?\s*/, '').replace(/,?\s*cannot open\s+\S+$/i, '') || 'failed').trim();
  const message = `${device}: ${operation}: ${why}`;
  if (code === 'ENOENT' || /no such file/i.test(text)) return new InterfaceNotFoundError(`${device}: no such serial port`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || /permission denied/i.test(text)) {
    return new PermissionError(`${device}: ${operation}: permission denied (root or the dialout group)`, { cause: err });
  }
  if (/cannot lock port|resource temporarily unavailable/i.test(text) || code === 'EBUSY') {
    return new InterfaceBusyError(`${device}: in use by another program`, { cause: err });
  }
  return new PlatformError(message, { cause: err });
}
