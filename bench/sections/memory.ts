/**
 * Memory: separate child processes with the same node flags (--expose-gc), compiled JS.
 *   - RSS of a process holding one CONNECTED interface against bare node;
 *   - open → CONNECTED → close cycles on the simulator (virtual time) and on the real lab:
 *     RSS and heap growth, open descriptors, process listeners, active handles and nicup's
 *     internal tables before and after. Growth is measured from the end of a warm-up
 *     (the first tenth of the cycles: JIT and pools settle there) to the end.
 */
import { runWorker } from '../lib/children.js';
import { quietNamespace, type BenchContext } from '../lib/context.js';
import { summarize, type Summary } from '../lib/stats.js';
import type { MemResult } from '../workers/mem-worker.js';

export interface CycleReport {
  cycles: number;
  elapsedMs: number;
  failures: number;
  rssGrowthMb: number;
  heapGrowthMb: number;
  rssGrowthFromStartMb: number;
  /** RSS growth over the second half of the cycles: a leak keeps growing, heap sizing levels off. */
  rssGrowthSecondHalfMb: number;
  heapTotalMb: { warm: number; end: number };
  /** Per 1,000 cycles after warm-up. */
  heapGrowthKbPer1000: number;
  fds: { start: number; warm: number; end: number };
  processListeners: { start: number; end: number };
  activeResources: { start: Record<string, number>; end: Record<string, number> };
  extra: { start: Record<string, number>; warm: Record<string, number>; end: Record<string, number> };
  curve: [number, number, number][];
}

/**
 * Flat: after warm-up the heap in use (after GC) grows < 1 MB, RSS grows < 3 MB over the
 * second half, and no descriptor, process listener or internal table entry is left behind.
 */
export function isFlat(c: CycleReport): boolean {
  return leavesNothing(c) && c.rssGrowthSecondHalfMb < 3;
}

/** Nothing retained: heap in use, descriptors, listeners and internal tables as at warm-up (RSS aside). */
export function leavesNothing(c: CycleReport): boolean {
  const tables = Object.keys(c.extra.end).every((k) => (c.extra.end[k] ?? 0) <= (c.extra.warm[k] ?? 0));
  return Math.abs(c.heapGrowthMb) < 1 && c.fds.end <= c.fds.warm && c.processListeners.end <= c.processListeners.start && tables && c.failures === 0;
}

export interface MemoryResult {
  bareRssMb: Summary;
  holdRssMb: Summary;
  overheadMb: number;
  /** RSS over bare node of: importing nicup without opening anything; koffi alone (libc loaded); netlink alone. */
  loadOnlyOverheadMb: number;
  koffiOnlyOverheadMb: number;
  netlinkOnlyOverheadMb: number;
  serialportOnlyOverheadMb: number;
  /** Median import time of: nicup (index + Linux platform), koffi, netlink, serialport, each in a fresh process. */
  importMs: Record<string, number>;
  holdHeapMb: number;
  bareHeapMb: number;
  sim: CycleReport;
  lab: CycleReport;
}

const MB = 1024 * 1024;

export async function benchMemory(ctx: BenchContext): Promise<MemoryResult> {
  const { lab, settings, js } = ctx;
  const client = await lab.addNamespace('mem-client');
  const server = await lab.addNamespace('mem-server');
  await quietNamespace(lab, client);
  await quietNamespace(lab, server);
  const pair = await lab.addVethPair({ clientNs: client, serverNs: server, serverAddress: '192.168.80.1/24' });
  const dns = await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.80.10', '192.168.80.50'] });
  const worker = (cfg: object) => runWorker<MemResult>([process.execPath, '--expose-gc', js.worker('mem-worker'), JSON.stringify(cfg)], 900_000);
  try {
    const bare: MemResult[] = [];
    const hold: MemResult[] = [];
    const parts: Record<string, number[]> = { load: [], koffi: [], netlink: [], serialport: [] };
    const importMs: Record<string, number[]> = { load: [], koffi: [], netlink: [], serialport: [] };
    const reps = settings.quick ? 2 : 5;
    for (let i = 0; i < reps; i++) {
      bare.push(await worker({ mode: 'bare' }));
      hold.push(await worker({ mode: 'hold', netns: client, ifname: pair.clientName }));
      for (const mode of Object.keys(parts)) {
        const r = await worker({ mode });
        parts[mode]!.push(r.end.rssBytes / MB);
        importMs[mode]!.push(r.elapsedMs);
      }
    }
    ctx.log(`memory: ${settings.memory.simCycles} cycles on the simulator`);
    const sim = await worker({ mode: 'sim-cycles', cycles: settings.memory.simCycles });
    ctx.log(`memory: ${settings.memory.labCycles} cycles on the lab`);
    const labCycles = await worker({ mode: 'lab-cycles', cycles: settings.memory.labCycles, netns: client, ifname: pair.clientName });
    const bareRss = summarize(bare.map((b) => b.end.rssBytes / MB));
    const holdRss = summarize(hold.map((b) => b.end.rssBytes / MB));
    return {
      bareRssMb: bareRss,
      holdRssMb: holdRss,
      overheadMb: holdRss.median - bareRss.median,
      loadOnlyOverheadMb: summarize(parts.load!).median - bareRss.median,
      koffiOnlyOverheadMb: summarize(parts.koffi!).median - bareRss.median,
      netlinkOnlyOverheadMb: summarize(parts.netlink!).median - bareRss.median,
      serialportOnlyOverheadMb: summarize(parts.serialport!).median - bareRss.median,
      importMs: Object.fromEntries(Object.entries(importMs).map(([k, v]) => [k, summarize(v).median])),
      bareHeapMb: summarize(bare.map((b) => b.end.heapUsedBytes / MB)).median,
      holdHeapMb: summarize(hold.map((b) => b.end.heapUsedBytes / MB)).median,
      sim: cycleReport(sim),
      lab: cycleReport(labCycles),
    };
  } finally {
    await dns.stop();
  }
}

function cycleReport(r: MemResult): CycleReport {
  const warm = r.warm ?? r.start;
  const afterWarm = r.cycles - Math.max(1, Math.floor(r.cycles / 10));
  return {
    cycles: r.cycles,
    elapsedMs: r.elapsedMs,
    failures: r.failures,
    rssGrowthMb: (r.end.rssBytes - warm.rssBytes) / MB,
    heapGrowthMb: (r.end.heapUsedBytes - warm.heapUsedBytes) / MB,
    rssGrowthFromStartMb: (r.end.rssBytes - r.start.rssBytes) / MB,
    heapGrowthKbPer1000: afterWarm > 0 ? ((r.end.heapUsedBytes - warm.heapUsedBytes) / 1024 / afterWarm) * 1000 : 0,
    fds: { start: r.start.openFds, warm: warm.openFds, end: r.end.openFds },
    processListeners: { start: r.start.processListeners, end: r.end.processListeners },
    activeResources: { start: r.start.activeResources, end: r.end.activeResources },
    extra: { start: r.start.extra ?? {}, warm: warm.extra ?? {}, end: r.end.extra ?? {} },
    curve: r.curve,
    rssGrowthSecondHalfMb: ((r.curve[r.curve.length - 1]?.[1] ?? 0) - (r.curve.find((p) => p[0] >= r.cycles / 2)?.[1] ?? 0)) / MB,
    heapTotalMb: { warm: warm.heapTotalBytes / MB, end: r.end.heapTotalBytes / MB },
  };
}
