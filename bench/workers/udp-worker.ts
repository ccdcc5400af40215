/**
 * The client side of the UDP benchmark, in one of two modes that run the same loops:
 *   dgram: plain node `dgram`, started with `ip netns exec CLIENT node udp-worker.js`
 *          while the interface is configured;
 *   nicup: nicup's interface-bound socket (`iface.openUdp()`), this process in the root
 *          namespace with LinuxPlatform({ netns }); it brings the interface up itself.
 * Loops: send N datagrams (fire-and-forget in batches, yielding to the event loop between
 * batches; the last one awaited), receive N datagrams blasted by the server, and
 * sequential round trips to the server's echo port.
 */
import dgram from 'node:dgram';
import { runWorker, sleep, workerConfig } from './proto.js';

interface UdpConfig {
  mode: 'dgram' | 'nicup';
  netns?: string;
  ifname: string;
  server: string;
  sinkPort: number;
  echoPort: number;
  controlPort: number;
  sizes: number[];
  count: number;
  maxSeconds: number;
  rttCount: number;
  reps: number;
  batch: number;
}

interface Sock {
  /** Fire and forget; false when the socket refused it at once. */
  send(data: Buffer, port: number, address: string): boolean;
  /** Resolves once this datagram (and so every earlier one) was handed to the kernel. */
  sendAwait(data: Buffer, port: number, address: string): Promise<void>;
  onMessage(listener: (data: Buffer, fromPort: number) => void): void;
  close(): Promise<void>;
}

export interface SendResult {
  size: number;
  sent: number;
  refused: number;
  ms: number;
  datagramsPerS: number;
  mbPerS: number;
  cpuUsPerDatagram: number;
  deliveredFraction: number;
}
export interface RecvResult {
  size: number;
  requested: number;
  received: number;
  ms: number;
  datagramsPerS: number;
  mbPerS: number;
  cpuUsPerDatagram: number;
  blasterDatagramsPerS: number;
}
export interface UdpWorkerResult {
  mode: string;
  send: SendResult[];
  recv: RecvResult[];
  rttUs: number[];
}

async function openDgram(): Promise<Sock> {
  // Kernel-default buffers, as nicup's socket has (it offers no SO_RCVBUF option).
  const s = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((res) => s.bind(0, res));
  return {
    send: (d, port, address) => {
      s.send(d, port, address);
      return true;
    },
    sendAwait: (d, port, address) => new Promise((res, rej) => s.send(d, port, address, (err) => (err ? rej(err) : res()))),
    onMessage: (l) => s.on('message', (m, r) => l(m, r.port)),
    close: () => new Promise((res) => s.close(() => res())),
  };
}

async function openNicup(cfg: UdpConfig): Promise<{ sock: Sock; close: () => Promise<void> }> {
  const { Network } = await import('../../src/index.js');
  const { LinuxPlatform } = await import('../../src/platform/linux/index.js');
  const platform = new LinuxPlatform(cfg.netns ? { netns: cfg.netns } : {});
  const net = await Network.create(platform, { logger: { debug: () => {}, error: (m) => process.stderr.write(`nicup: ${m}\n`) } });
  const iface = net.open({ interface: cfg.ifname });
  await iface.connected({ signal: AbortSignal.timeout(10_000) });
  const u = await iface.openUdp();
  const sock: Sock = {
    send: (d, port, address) => u.send(address, port, d) === 0,
    sendAwait: (d, port, address) => u.sendAsync(address, port, d),
    onMessage: (l) => u.on('message', (m) => l(m.data, m.fromPort)),
    close: () => u.close(),
  };
  return {
    sock,
    close: async () => {
      await u.close();
      await iface.close();
      await net.close();
      await platform.dispose();
    },
  };
}

/** A control request/answer with the server, over the socket under test. */
function controller(sock: Sock, cfg: UdpConfig) {
  // Answers carry the request's cmd; a late answer to a timed-out request goes to the next asker of the same cmd.
  const waiting: { cmd: string; resolve: (o: Record<string, number | string>) => void }[] = [];
  let blastSize = -1;
  let received = 0;
  let firstMs = 0;
  let lastMs = 0;
  sock.onMessage((data, fromPort) => {
    if (fromPort !== cfg.controlPort) return;
    if (data.length > 0 && data[0] === 0x7b) {
      const o = JSON.parse(data.toString('utf8')) as Record<string, number | string>;
      const i = waiting.findIndex((w) => w.cmd === o.cmd);
      if (i >= 0) waiting.splice(i, 1)[0]!.resolve(o);
    } else if (data.length === blastSize) {
      const now = performance.now();
      if (received === 0) firstMs = now;
      lastMs = now;
      received++;
    }
  });
  const ask = (o: { cmd: string }, timeoutMs = 5000): Promise<Record<string, number | string>> =>
    new Promise((res, rej) => {
      const waiter = {
        cmd: o.cmd,
        resolve: (a: Record<string, number | string>) => {
          clearTimeout(t);
          res(a);
        },
      };
      const t = setTimeout(() => {
        const i = waiting.indexOf(waiter);
        if (i >= 0) waiting.splice(i, 1);
        rej(new Error(`no answer to ${JSON.stringify(o)}`));
      }, timeoutMs);
      waiting.push(waiter);
      sock.send(Buffer.from(JSON.stringify(o)), cfg.controlPort, cfg.server);
    });
  return {
    ask,
    async blast(count: number, size: number, maxMs: number): Promise<{ received: number; ms: number; blasterRate: number }> {
      blastSize = size;
      received = 0;
      sock.send(Buffer.from(JSON.stringify({ cmd: 'blast', count, size })), cfg.controlPort, cfg.server);
      // Count until the datagrams stop (or all came), then ask how the blast went; the
      // question and its answer are retried, since a full receive queue drops datagrams.
      const deadline = performance.now() + maxMs;
      for (let quiet = 0, seen = -1; quiet < 10 && received < count && performance.now() < deadline; ) {
        await sleep(20);
        if (received !== seen) {
          seen = received;
          quiet = 0;
        } else if (received > 0) quiet++;
      }
      blastSize = -1;
      let status: Record<string, number | string> = { done: 0 };
      for (let attempt = 0; attempt < 20 && !Number(status.done); attempt++) {
        status = await ask({ cmd: 'blast-status' }, 500).catch(() => ({ done: 0 }));
        if (!Number(status.done)) await sleep(100);
      }
      const ms = Number(status.ms ?? 0);
      return { received, ms: received > 1 ? lastMs - firstMs : 0, blasterRate: ms > 0 ? (Number(status.sent) / ms) * 1000 : 0 };
    },
  };
}

async function sendLoop(sock: Sock, cfg: UdpConfig, size: number, ctl: ReturnType<typeof controller>): Promise<SendResult> {
  await ctl.ask({ cmd: 'reset' });
  const payload = Buffer.alloc(size, 0xa5);
  const deadline = performance.now() + cfg.maxSeconds * 1000;
  let sent = 0;
  let refused = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (sent < cfg.count - 1 && performance.now() < deadline) {
    for (let i = 0; i < cfg.batch && sent < cfg.count - 1; i++, sent++) if (!sock.send(payload, cfg.sinkPort, cfg.server)) refused++;
    await new Promise((r) => setImmediate(r));
  }
  await sock.sendAwait(payload, cfg.sinkPort, cfg.server);
  sent++;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await sleep(100);
  const counted = await ctl.ask({ cmd: 'count' });
  return {
    size,
    sent,
    refused,
    ms,
    datagramsPerS: (sent / ms) * 1000,
    mbPerS: (sent * size) / 1e6 / (ms / 1000),
    cpuUsPerDatagram: (cpu.user + cpu.system) / sent,
    deliveredFraction: Number(counted.datagrams) / sent,
  };
}

async function recvLoop(cfg: UdpConfig, size: number, ctl: ReturnType<typeof controller>): Promise<RecvResult> {
  const cpu0 = process.cpuUsage();
  const r = await ctl.blast(cfg.count, size, cfg.maxSeconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  return {
    size,
    requested: cfg.count,
    received: r.received,
    ms: r.ms,
    datagramsPerS: r.ms > 0 ? (r.received / r.ms) * 1000 : 0,
    mbPerS: r.ms > 0 ? (r.received * size) / 1e6 / (r.ms / 1000) : 0,
    cpuUsPerDatagram: (cpu.user + cpu.system) / Math.max(1, r.received),
    blasterDatagramsPerS: r.blasterRate,
  };
}

async function rttLoop(sock: Sock, cfg: UdpConfig): Promise<number[]> {
  let wake: (() => void) | undefined;
  sock.onMessage((_d, fromPort) => {
    if (fromPort === cfg.echoPort) wake?.();
  });
  const payload = Buffer.alloc(64, 0x42);
  const out: number[] = [];
  const warmup = Math.min(200, Math.floor(cfg.rttCount / 10));
  for (let i = 0; i < cfg.rttCount + warmup; i++) {
    const t0 = performance.now();
    const got = new Promise<boolean>((res) => {
      const timer = setTimeout(() => res(false), 1000);
      wake = () => {
        clearTimeout(timer);
        res(true);
      };
    });
    sock.send(payload, cfg.echoPort, cfg.server);
    const ok = await got;
    if (!ok) throw new Error('echo: no answer within 1 s');
    if (i >= warmup) out.push((performance.now() - t0) * 1000);
  }
  return out;
}

runWorker(async (): Promise<UdpWorkerResult> => {
  const cfg = workerConfig<UdpConfig>();
  let sock: Sock;
  let close: () => Promise<void>;
  if (cfg.mode === 'nicup') {
    ({ sock, close } = await openNicup(cfg));
  } else {
    sock = await openDgram();
    close = () => sock.close();
  }
  const ctl = controller(sock, cfg);
  const result: UdpWorkerResult = { mode: cfg.mode, send: [], recv: [], rttUs: [] };
  for (let rep = 0; rep < cfg.reps; rep++) {
    for (const size of cfg.sizes) {
      result.send.push(await sendLoop(sock, cfg, size, ctl));
      result.recv.push(await recvLoop(cfg, size, ctl));
    }
  }
  result.rttUs = await rttLoop(sock, cfg);
  await close();
  return result;
});
