/**
 * Memory and resource use, one mode per child process (all started with the same node
 * flags, --expose-gc):
 *   bare:       plain node, nothing loaded;
 *   load:       nicup's modules imported, nothing opened; koffi / netlink / serialport: that
 *               dependency alone (RSS, and the import time as elapsedMs);
 *   hold:       nicup loaded, one interface CONNECTED on the lab (LinuxPlatform({ netns }));
 *   lab-cycles: `cycles` open → CONNECTED → close cycles on the lab;
 *   sim-cycles: the same on the simulator in virtual time.
 * Snapshots (after a forced GC): at start, after a warm-up tenth of the cycles, and at the
 * end; RSS is also sampled along the way for the chart.
 */
import { runWorker, sleep, snapshot, workerConfig, type ResourceSnapshot } from './proto.js';

interface MemConfig {
  mode: 'bare' | 'load' | 'koffi' | 'netlink' | 'serialport' | 'hold' | 'lab-cycles' | 'sim-cycles';
  netns?: string;
  ifname?: string;
  cycles?: number;
  samples?: number;
}

export interface MemResult {
  mode: string;
  cycles: number;
  start: ResourceSnapshot;
  warm?: ResourceSnapshot;
  end: ResourceSnapshot;
  /** [cycle, rss bytes, heapUsed bytes] along the way. */
  curve: [number, number, number][];
  elapsedMs: number;
  failures: number;
}

const silent = { debug: () => {}, error: (m: string) => process.stderr.write(`nicup: ${m}\n`) };

function sizeOf(v: unknown): number {
  return v instanceof Map || v instanceof Set ? v.size : Array.isArray(v) ? v.length : -1;
}

async function cycles(cfg: MemConfig, kind: 'lab' | 'sim'): Promise<MemResult> {
  const { Network, NetState } = await import('../../src/index.js');
  const total = cfg.cycles ?? 100;
  const every = Math.max(1, Math.floor(total / (cfg.samples ?? 50)));
  let platform: import('../../src/platform/contract.js').Platform;
  let runUntil: (done: () => boolean) => Promise<void>;
  let extra: () => Record<string, number>;
  if (kind === 'sim') {
    const { createSimPlatform } = await import('../../src/platform/sim/index.js');
    const sim = createSimPlatform();
    platform = sim;
    runUntil = async (done) => {
      await sim.world.runUntil(done, 60_000);
    };
    extra = () => ({
      pendingTimers: sim.world.virtual?.pending ?? -1,
      worldLinkListeners: sizeOf(Reflect.get(sim.world, 'linkListeners')),
      platformDisposables: sizeOf(Reflect.get(sim, 'disposables')),
      platformSockets: sizeOf(Reflect.get(sim, 'sockets')),
    });
  } else {
    const { LinuxPlatform } = await import('../../src/platform/linux/index.js');
    const linux = new LinuxPlatform({ netns: cfg.netns! });
    platform = linux;
    runUntil = async (done) => {
      const deadline = performance.now() + 10_000;
      while (!done()) {
        if (performance.now() > deadline) throw new Error('lab cycle: timed out');
        await new Promise((r) => setImmediate(r));
      }
    };
    extra = () => {
      const watcher: unknown = Reflect.get(linux, 'watcher');
      const channel: unknown = Reflect.get(linux, 'channel');
      return {
        platformSockets: sizeOf(Reflect.get(linux, 'sockets')),
        linkWatches: watcher ? sizeOf(Reflect.get(watcher as object, 'watches')) : 0,
        netlinkPending: channel ? sizeOf(Reflect.get(channel as object, 'pending')) : 0,
        netlinkEventListeners: channel ? sizeOf(Reflect.get(channel as object, 'eventListeners')) : 0,
      };
    };
  }
  const net = await Network.create(platform, { logger: silent });
  const withNet = () => ({ ...extra(), networkSessions: sizeOf(Reflect.get(net, 'sessions')) });
  const start = snapshot(withNet());
  const curve: [number, number, number][] = [];
  let warm: ResourceSnapshot | undefined;
  let failures = 0;
  const t0 = performance.now();
  for (let i = 1; i <= total; i++) {
    let state: number = NetState.UNKNOWN;
    const iface = net.open({ interface: cfg.ifname ?? 'eth0' }, (s) => (state = s));
    try {
      await runUntil(() => state === NetState.CONNECTED);
    } catch {
      failures++;
    }
    let closed = false;
    void iface.close().then(() => (closed = true));
    await runUntil(() => closed);
    if (i === Math.max(1, Math.floor(total / 10))) warm = snapshot(withNet());
    if (i % every === 0 || i === total) {
      const m = process.memoryUsage();
      curve.push([i, m.rss, m.heapUsed]);
    }
  }
  const elapsedMs = performance.now() - t0;
  await sleep(50);
  const end = snapshot(withNet());
  await net.close();
  await platform.dispose();
  const r: MemResult = { mode: `${kind}-cycles`, cycles: total, start, end, curve, elapsedMs, failures };
  if (warm) r.warm = warm;
  return r;
}

runWorker(async (): Promise<MemResult> => {
  const cfg = workerConfig<MemConfig>();
  if (cfg.mode === 'bare') {
    await sleep(300);
    const s = snapshot();
    return { mode: 'bare', cycles: 0, start: s, end: s, curve: [], elapsedMs: 0, failures: 0 };
  }
  if (cfg.mode === 'load' || cfg.mode === 'koffi' || cfg.mode === 'netlink' || cfg.mode === 'serialport') {
    // What loading alone costs (RSS, and import time as elapsedMs): nicup's modules with no
    // I/O, or one of the dependencies the Linux platform imports at load.
    const t0 = performance.now();
    if (cfg.mode === 'load') {
      await import('../../src/index.js');
      await import('../../src/platform/linux/index.js');
    } else if (cfg.mode === 'koffi') {
      const koffi = await import('koffi');
      koffi.default.load('libc.so.6');
    } else if (cfg.mode === 'netlink') {
      await import('netlink');
    } else {
      await import('serialport');
    }
    const elapsedMs = performance.now() - t0;
    await sleep(300);
    const s = snapshot();
    return { mode: cfg.mode, cycles: 0, start: s, end: s, curve: [], elapsedMs, failures: 0 };
  }
  if (cfg.mode === 'hold') {
    const { Network } = await import('../../src/index.js');
    const { LinuxPlatform } = await import('../../src/platform/linux/index.js');
    const platform = new LinuxPlatform({ netns: cfg.netns! });
    const net = await Network.create(platform, { logger: silent });
    const iface = net.open({ interface: cfg.ifname ?? 'eth0' });
    await iface.connected({ signal: AbortSignal.timeout(10_000) });
    await sleep(300);
    const s = snapshot();
    await iface.close();
    await net.close();
    await platform.dispose();
    return { mode: 'hold', cycles: 0, start: s, end: s, curve: [], elapsedMs: 0, failures: 0 };
  }
  return cycles(cfg, cfg.mode === 'sim-cycles' ? 'sim' : 'lab');
});
