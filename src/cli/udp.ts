/**
 * `nicup udp listen IFACE PORT` and `nicup udp send IFACE ADDRESS PORT DATA`: open the
 * interface, wait for CONNECTED, then receive or send datagrams on a socket bound to it.
 * The socket takes no impOS limits (the modern API's default); the interface's state
 * changes are printed as they happen, so a bounce shows between the datagrams.
 */
import { isIPv4 } from 'node:net';
import { SendError, type UdpMessage, type UdpSocket } from '../index.js';
import { CliFailure, EXIT_OK, UsageError } from './cli-errors.js';
import { openNetwork, type Context } from './context.js';
import { printDatagram, printSend } from './format.js';
import { buildNic, type NicFlags } from './nic-options.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, MAX_TIMEOUT_MS } from './open.js';
import { openWatched, outcomeMessage, parseInteger, waitConnected, waitForStop, type Watched } from './watch.js';

export interface ListenFlags extends NicFlags {
  hex?: boolean;
  count?: string;
  timeout?: string;
}

export interface SendFlags extends NicFlags {
  hex?: boolean;
  count?: string;
  interval?: string;
  wait?: string;
  timeout?: string;
}

const MAX_COUNT = 1_000_000;

export async function runUdpListen(ctx: Context, ifname: string, portText: string, flags: ListenFlags): Promise<number> {
  const port = parseInteger(portText, 'PORT', 0, 65535);
  const count = flags.count === undefined ? undefined : parseInteger(flags.count, '--count', 1, MAX_COUNT);
  const timeoutMs = flags.timeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : parseInteger(flags.timeout, '--timeout', 1, MAX_TIMEOUT_MS);
  return withConnected(ctx, ifname, flags, timeoutMs, async (watched) => {
    const { iface, clock, startMs } = watched;
    const socket = await iface.openUdp({ port });
    try {
      const address = iface.ipTable()?.ipv4.address ?? '0.0.0.0';
      ctx.out.emit(`listening on ${iface.name} ${address}:${socket.localPort} (UDP)`, {
        type: 'listening',
        interface: iface.name,
        address,
        port: socket.localPort,
      });
      let received = 0;
      const enough = new AbortController();
      socket.on('message', (m: UdpMessage) => {
        if (enough.signal.aborted) return;
        printDatagram(ctx.out, iface.name, m, clock.now() - startMs, flags.hex === true);
        received++;
        if (count !== undefined && received >= count) enough.abort();
      });
      socket.on('error', (err: Error) => ctx.out.warn(`${iface.name}: UDP: ${err.message}`));
      await waitForStop(clock, anySignal(ctx.io.signal, enough.signal), undefined);
    } finally {
      await socket.close();
    }
    return EXIT_OK;
  });
}

export async function runUdpSend(ctx: Context, ifname: string, address: string, portText: string, dataText: string, flags: SendFlags): Promise<number> {
  if (!isIPv4(address)) throw new UsageError('ADDRESS: must be a dotted-quad IPv4 address');
  const port = parseInteger(portText, 'PORT', 1, 65535);
  const count = flags.count === undefined ? 1 : parseInteger(flags.count, '--count', 1, MAX_COUNT);
  const intervalMs = flags.interval === undefined ? 0 : parseInteger(flags.interval, '--interval', 0, MAX_TIMEOUT_MS);
  const waitMs = flags.wait === undefined ? 0 : parseInteger(flags.wait, '--wait', 0, MAX_TIMEOUT_MS);
  const timeoutMs = flags.timeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : parseInteger(flags.timeout, '--timeout', 1, MAX_TIMEOUT_MS);
  const data = parseData(dataText, flags.hex === true);
  return withConnected(ctx, ifname, flags, timeoutMs, async (watched) => {
    const { iface, clock, startMs } = watched;
    const signal = ctx.io.signal;
    const socket: UdpSocket = await iface.openUdp();
    let failed = 0;
    let sent = 0;
    try {
      socket.on('message', (m: UdpMessage) => printDatagram(ctx.out, iface.name, m, clock.now() - startMs, flags.hex === true));
      socket.on('error', (err: Error) => ctx.out.warn(`${iface.name}: UDP: ${err.message}`));
      for (let seq = 1; seq <= count && !signal?.aborted; seq++) {
        if (seq > 1 && intervalMs > 0 && (await waitForStop(clock, signal, intervalMs)) === 'interrupted') break;
        const code = socket.send(address, port, data);
        sent++;
        if (code !== SendError.OK) failed++;
        printSend(ctx.out, { atMs: clock.now() - startMs, seq, count, address, port, bytes: data.length, code });
      }
      // Replies (an echo) are printed while we wait.
      if (waitMs > 0 && !signal?.aborted) await waitForStop(clock, signal, waitMs);
    } finally {
      await socket.close();
    }
    if (failed > 0) throw new CliFailure(`${iface.name}: ${failed} of ${sent} datagrams were not sent`);
    return EXIT_OK;
  });
}

function parseData(text: string, hex: boolean): Buffer {
  if (!hex) return Buffer.from(text, 'utf8');
  const digits = text.replace(/^0x/i, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new UsageError('DATA: with --hex, must be pairs of hex digits (e.g. 48656c6c6f)');
  return Buffer.from(digits, 'hex');
}

/** Opens, waits for CONNECTED, runs `body`, closes (the STOPPED line), always disposes. */
async function withConnected(ctx: Context, ifname: string, flags: NicFlags, timeoutMs: number, body: (w: Watched) => Promise<number>): Promise<number> {
  const built = await buildNic(ifname, flags, ctx);
  const opened = await openNetwork(ctx);
  try {
    const watched = openWatched(ctx, opened, built, opened.platform.clock.now());
    try {
      const outcome = await waitConnected(watched, timeoutMs, ctx.io.signal);
      if (outcome.kind !== 'connected') throw new CliFailure(outcomeMessage(watched, outcome));
      return await body(watched);
    } finally {
      await watched.iface.close();
    }
  } finally {
    await opened.dispose();
  }
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length === 1 ? present[0]! : AbortSignal.any(present);
}
