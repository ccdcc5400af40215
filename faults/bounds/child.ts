/**
 * Resource bounds, measured in a process of their own (node --expose-gc): prints one JSON
 * line per sample, then {"done":...}. Modes:
 *   open-close N   N open → CONNECTED → close cycles of eth0 on the simulator (every 10th
 *                  a WiFi cycle, every 50th a cellular one)
 *   dhcp-day H     one eth0 on the simulator with 60 s leases for H simulated hours
 * Each sample: heapUsed and RSS after a full GC, open descriptors, libuv resources,
 * timers armed on the virtual clock, listeners on the world, the network's open sessions;
 * after the warm-up and at the end also a heap snapshot (its file name), which the parent weighs.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { Network, NetState } from '../../src/index.js';
import type { NetInterface, StateChange } from '../../src/index.js';
import { SimPlatform, defaultWorld, type SimWorld } from '../../src/platform/sim/index.js';
import type { Logger } from '../../src/core/log.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('bounds child: run with node --expose-gc\n');
  process.exit(2);
}

export interface BoundsSample {
  at: number;
  heapUsed: number;
  rss: number;
  fds: number;
  resources: number;
  timers: number;
  worldListeners: number;
  sessions: number;
  handleListeners: number;
  /** Entries the simulator's own records had gained (see drainSimRecords). */
  simRecords: number;
  /** A heap snapshot file taken right after this sample. */
  snapshot?: string;
  /** Bytes of JavaScript data in that snapshot (filled in by run.ts). */
  jsData?: number;
}

/**
 * The simulator keeps a record of the latest DHCP messages and AT commands it received (for
 * tests to read; capped, with a counter for the total). The counters are summed, and the
 * records emptied before each sample, so that the heap figure is nicup's own.
 */
let simRecords = 0;
function drainSimRecords(world: SimWorld): void {
  let total = 0;
  for (const server of [world.segment('eth0').dhcp, ...world.accessPoints.map((ap) => ap.segment.dhcp)]) {
    if (!server) continue;
    total += server.receivedCount;
    server.received.splice(0);
  }
  for (const m of world.modems.values()) {
    total += m.commandCount;
    m.commands.splice(0);
  }
  simRecords = total;
}

function sample(at: number, world: SimWorld, net: Network, last: NetInterface | undefined): BoundsSample {
  drainSimRecords(world);
  gc!();
  gc!();
  const m = process.memoryUsage();
  const w = world as unknown as { linkListeners: Set<unknown>; apListeners: Set<unknown>; modemListeners: Set<unknown> };
  const sessions = ['eth0', 'wlan0', 'cell0'].filter((n) => net.session(n) !== undefined).length;
  return {
    at,
    heapUsed: m.heapUsed,
    rss: m.rss,
    fds: readdirSync('/proc/self/fd').length,
    resources: process.getActiveResourcesInfo().length,
    timers: world.virtual?.pending ?? -1,
    worldListeners: w.linkListeners.size + w.apListeners.size + w.modemListeners.size,
    sessions,
    handleListeners: last ? last.listenerCount('state') + last.listenerCount('connected') + last.listenerCount('close') : 0,
    simRecords,
  };
}

/**
 * A heap snapshot for the parent to weigh (run.ts counts the JavaScript data in it).
 * Written here, parsed there: parsing it here would raise this process's RSS.
 */
let snapshots = 0;
function heapSnapshot(): string {
  return writeHeapSnapshot(join(tmpdir(), `nicup-bounds-${process.pid}-${snapshots++}.heapsnapshot`));
}

const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const quiet: Logger = { debug: () => {}, error: () => {} };

async function openClose(cycles: number): Promise<void> {
  const world = defaultWorld();
  const platform = new SimPlatform(world);
  const net = await Network.create(platform, { logger: quiet });
  const every = Math.max(1, Math.floor(cycles / 20));
  let last: NetInterface | undefined;
  const started = performance.now();
  for (let i = 1; i <= cycles; i++) {
    const nic = i % 50 === 0 ? { interface: 'cell0', cellconfig: { apn: 'internet' } } : i % 10 === 0 ? { interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } } : { interface: 'eth0' };
    const iface = net.open(nic);
    if (!(await world.runUntil(() => iface.state === NetState.CONNECTED, 120_000))) throw new Error(`cycle ${i}: ${iface.name} did not connect (${iface.state})`);
    await iface.close();
    // Let the simulated daemons' last one-shot timers (a scan, a reply in flight) fall due.
    await world.run(5_000);
    last = iface;
    if (i === 1 || i % every === 0) {
      const s = sample(i, world, net, last);
      const dataAt = i === Math.round(cycles * 0.2) || i === cycles;
      emit(dataAt ? { ...s, snapshot: heapSnapshot() } : s);
    }
  }
  await net.close();
  emit({ done: true, cycles, ms: Math.round(performance.now() - started) });
}

async function dhcpDay(hours: number): Promise<void> {
  const world = defaultWorld();
  world.segment('eth0').dhcp!.options.leaseTimeS = 60;
  const platform = new SimPlatform(world);
  let renewals = 0;
  const logger: Logger = { debug: (m) => void (/dhcp: RENEWING -> BOUND/.test(m) && renewals++), error: () => {} };
  const net = await Network.create(platform, { logger, driver: { dhcpMinRenewRetryMs: 5_000 } });
  const changes: StateChange[] = [];
  const eth = net.open({ interface: 'eth0' }, (_s, c) => void changes.push(c));
  if (!(await world.runUntil(() => eth.state === NetState.CONNECTED, 60_000))) throw new Error('eth0 did not connect');
  const connectedAt = changes.length;
  const address = eth.ipTable()?.ipv4.address;
  const started = performance.now();
  emit({ ...sample(0, world, net, undefined), renewals });
  for (let h = 1; h <= hours; h++) {
    await world.run(3_600_000);
    const dataAt = h === Math.round(hours * 0.25) || h === hours;
    emit({ ...sample(h, world, net, undefined), renewals, state: eth.state, address: eth.ipTable()?.ipv4.address === address, ...(dataAt ? { snapshot: heapSnapshot() } : {}) });
  }
  emit({ done: true, hours, renewals, changesAfterConnected: changes.length - connectedAt, leases: world.segment('eth0').dhcp!.leases.size, ms: Math.round(performance.now() - started) });
  await eth.close();
  await net.close();
}

const [mode, n] = process.argv.slice(2);
const run = mode === 'open-close' ? openClose(Number(n)) : mode === 'dhcp-day' ? dhcpDay(Number(n)) : Promise.reject(new Error(`unknown mode ${mode}`));
run.catch((e: unknown) => {
  process.stderr.write(`bounds child: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
