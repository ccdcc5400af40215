/**
 * Scale: N interfaces opened at once by one Network in one namespace, each a veth pair
 * whose server end is a port of one bridge served by one dnsmasq; time until all are
 * CONNECTED, cost per interface, and when the slowest reached each step.
 *
 * The 256 pairs are made once (one `ip -batch`); each measurement uses the first N with a
 * fresh dnsmasq (no leases) and a fresh LinuxPlatform + Network. Each interface gets its
 * own route metric (100 + k): in one namespace two default routes with the same metric
 * collide (EEXIST), and nicup steps past at most 16 clashes.
 */
import { Network } from '../../src/core/network.js';
import { LinuxPlatform } from '../../src/platform/linux/index.js';
import { NetState } from '../../src/states.js';
import { findBinary } from '../../test/lab/netns.js';
import { quietNamespace, type BenchContext } from '../lib/context.js';
import { timedPlatform, type PlatformCall } from '../lib/instrument.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface ScaleRow {
  interfaces: number;
  repeats: number;
  /** open() of the first → CONNECTED of the last. */
  allConnectedMs: Summary;
  perInterfaceMs: number;
  /** CPU time of this process during the bring-up, per interface. */
  cpuMsPerInterface: number;
  /** Time the synchronous open() loop took. */
  openLoopMs: number;
  /** When the last interface reached each state (medians over repeats). */
  lastReachedMs: Record<string, number>;
  /** Platform calls made for the whole bring-up: count and summed duration (median over repeats). */
  platformCalls: { method: string; count: number; totalMs: number }[];
  failures: string[];
}

export interface ScaleResult {
  rows: ScaleRow[];
  setupMs: number;
}

const STEPS = [NetState.ETHERNET_LINK_UP, NetState.ETHERNET_DHCPING, NetState.CONNECTED] as const;
const STEP_NAMES: Record<number, string> = {
  [NetState.ETHERNET_LINK_UP]: 'ETHERNET_LINK_UP',
  [NetState.ETHERNET_DHCPING]: 'ETHERNET_DHCPING',
  [NetState.CONNECTED]: 'CONNECTED',
};
const WAIT_MS = 60_000;

export async function benchScale(ctx: BenchContext): Promise<ScaleResult> {
  const { lab, settings } = ctx;
  const max = Math.max(...settings.scale.sizes);
  const client = await lab.addNamespace('sc-client');
  const server = await lab.addNamespace('sc-server');
  await quietNamespace(lab, client);
  await quietNamespace(lab, server);
  const t0 = performance.now();
  const lines = ['link add br0 type bridge', 'addr add 10.77.0.1/16 dev br0', 'link set br0 up'];
  for (let k = 0; k < max; k++) {
    // Distinct ifindexes on the two ends: carrier events then count as urgent (lab-notes.md).
    lines.push(`link add s${k} index ${1000 + k} type veth peer name eth${k} index ${2000 + k} netns ${client}`);
    lines.push(`link set s${k} master br0`, `link set s${k} up`);
  }
  await lab.exec(server, [findBinary('ip'), '-batch', '-'], { input: `${lines.join('\n')}\n` });
  const setupMs = performance.now() - t0;
  ctx.log(`scale: ${max} veth pairs on a bridge in ${Math.round(setupMs)} ms`);

  const rows: ScaleRow[] = [];
  for (const n of settings.scale.sizes) {
    const repeats = settings.scale.repeats[n] ?? 1;
    const all: number[] = [];
    const cpu: number[] = [];
    const loops: number[] = [];
    const reached: Record<string, number[]> = {};
    const callStats: Record<string, { count: number[]; ms: number[] }> = {};
    const failures: string[] = [];
    for (let rep = 0; rep < repeats; rep++) {
      const dns = await lab.startDnsmasq({ ns: server, iface: 'br0', range: ['10.77.1.0', '10.77.250.254'], netmask: '255.255.0.0' });
      const calls: PlatformCall[] = [];
      const platform = new LinuxPlatform({ netns: client });
      const net = await Network.create(timedPlatform(platform, calls), { logger: { debug: () => {}, error: () => {} } });
      calls.length = 0;
      const last: Record<number, number> = {};
      let connected = 0;
      let resolveAll: () => void = () => {};
      const allDone = new Promise<void>((r) => (resolveAll = r));
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      const ifaces = [];
      for (let k = 0; k < n; k++) {
        let seenConnected = false;
        ifaces.push(
          net.open({ interface: `eth${k}` }, {
            driver: { routeMetric: 100 + k },
            onState: (s) => {
              const at = performance.now() - start;
              if ((STEPS as readonly number[]).includes(s)) last[s] = Math.max(last[s] ?? 0, at);
              if (s === NetState.CONNECTED && !seenConnected) {
                seenConnected = true;
                if (++connected === n) resolveAll();
              }
            },
          }),
        );
      }
      loops.push(performance.now() - start);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([allDone, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${n} interfaces: only ${connected} CONNECTED after ${WAIT_MS} ms`)), WAIT_MS)))]);
        all.push(performance.now() - start);
        const c = process.cpuUsage(cpu0);
        cpu.push((c.user + c.system) / 1000 / n);
        for (const s of STEPS) (reached[STEP_NAMES[s]!] ??= []).push(last[s] ?? Number.NaN);
        const byMethod: Record<string, { count: number; ms: number }> = {};
        for (const call of calls) {
          const e = (byMethod[call.method] ??= { count: 0, ms: 0 });
          e.count++;
          e.ms += call.endMs - call.startMs;
        }
        for (const [m, v] of Object.entries(byMethod)) {
          const e = (callStats[m] ??= { count: [], ms: [] });
          e.count.push(v.count);
          e.ms.push(v.ms);
        }
      } catch (e) {
        failures.push((e as Error).message);
      } finally {
        clearTimeout(timer);
        await Promise.all(ifaces.map((i) => i.close()));
        await net.close();
        await platform.dispose();
        await dns.stop();
      }
      ctx.log(`scale: ${n} interfaces, repeat ${rep + 1}/${repeats}: ${all.length ? Math.round(all[all.length - 1]!) : 'failed'} ms`);
    }
    const allSummary = summarize(all);
    rows.push({
      interfaces: n,
      repeats,
      allConnectedMs: allSummary,
      perInterfaceMs: allSummary.median / n,
      cpuMsPerInterface: summarize(cpu).median,
      openLoopMs: summarize(loops).median,
      lastReachedMs: Object.fromEntries(Object.entries(reached).map(([k, v]) => [k, summarize(v).median])),
      platformCalls: Object.entries(callStats)
        .map(([method, v]) => ({ method, count: summarize(v.count).median, totalMs: summarize(v.ms).median }))
        .sort((a, b) => b.totalMs - a.totalMs),
      failures,
    });
  }
  return { rows, setupMs };
}
