/**
 * Scale: N interfaces opened at once by one Network in one namespace; time until all are
 * CONNECTED, cost per interface, when the slowest reached each step, and how the failures
 * (if any) ended.
 *
 * The 256 veth pairs are made once (one `ip -batch`), each its own /24 (10.78.k.0/24, the
 * server end .1) served by one dnsmasq with a range per interface. Not one bridge: with
 * every client end in one kernel, each broadcast OFFER/ACK on a 256-port bridge is
 * delivered 256 times, which overflows the per-CPU backlog and loses DHCP replies — a
 * property of the lab, not of a LAN. Each measurement uses the first N pairs with a fresh
 * dnsmasq (no leases) and a fresh LinuxPlatform + Network. Each interface gets its own
 * route metric (100 + k): in one namespace two default routes with the same metric collide
 * (EEXIST), and nicup steps past at most 16 clashes.
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
  const lines: string[] = [];
  const dnsmasqArgs: string[] = [];
  for (let k = 0; k < max; k++) {
    // Distinct ifindexes on the two ends: carrier events then count as urgent (lab-notes.md).
    lines.push(`link add s${k} index ${1000 + k} type veth peer name eth${k} index ${2000 + k} netns ${client}`);
    lines.push(`addr add 10.78.${k}.1/24 dev s${k}`, `link set s${k} up`);
    if (k > 0) dnsmasqArgs.push(`--interface=s${k}`, `--dhcp-range=10.78.${k}.10,10.78.${k}.250,255.255.255.0,1h`);
  }
  await lab.exec(server, [findBinary('ip'), '-batch', '-'], { input: `${lines.join('\n')}\n` });
  const setupMs = performance.now() - t0;
  ctx.log(`scale: ${max} veth pairs in ${Math.round(setupMs)} ms`);

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
      const dns = await lab.startDnsmasq({ ns: server, iface: 's0', range: ['10.78.0.10', '10.78.0.250'], extraArgs: dnsmasqArgs });
      const calls: PlatformCall[] = [];
      const platform = new LinuxPlatform({ netns: client });
      const net = await Network.create(timedPlatform(platform, calls), { logger: { debug: () => {}, error: () => {} } });
      calls.length = 0;
      const last: Record<number, number> = {};
      const finalState = new Map<number, string>();
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
            onState: (s, change) => {
              finalState.set(k, `${change.name} (${change.reason}${change.detail ? `: ${change.detail.replace(/eth\d+/g, 'ethN')}` : ''})`);
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
      let took: number | undefined;
      try {
        await Promise.race([allDone, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${n} interfaces: only ${connected} CONNECTED after ${WAIT_MS} ms`)), WAIT_MS)))]);
        took = performance.now() - start;
        all.push(took);
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
        // How the interfaces that did not make it ended, counted by state and reason.
        const ends = new Map<string, number>();
        for (const v of finalState.values()) if (!v.startsWith('CONNECTED')) ends.set(v, (ends.get(v) ?? 0) + 1);
        failures.push(`${(e as Error).message}: ${[...ends].map(([v, c]) => `${c} × ${v}`).join('; ')}`);
      } finally {
        clearTimeout(timer);
        await Promise.all(ifaces.map((i) => i.close()));
        await net.close();
        await platform.dispose();
        await dns.stop();
      }
      ctx.log(`scale: ${n} interfaces, repeat ${rep + 1}/${repeats}: ${took === undefined ? 'failed' : `${Math.round(took)} ms`}`);
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
