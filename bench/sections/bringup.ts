/**
 * Bring-up: open() → address AND default route in the kernel, on a fresh veth pair and a
 * fresh dnsmasq for every run, nicup and its peers interleaved (the order rotates each run),
 * under two server configurations: plain DHCP (DISCOVER/OFFER/REQUEST/ACK) and dnsmasq
 * with --dhcp-rapid-commit (DISCOVER/ACK for clients that ask, RFC 4039).
 *
 * The finish line is the same for everyone and seen by the same yardstick: the bench's own
 * rtnetlink socket in the client namespace (rtnl.ts). The clock starts just before
 * net.open() for nicup in-process, and just before spawn() for processes (peers, and nicup
 * in a fresh node process), so those include their process start.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Network } from '../../src/core/network.js';
import { LinuxPlatform } from '../../src/platform/linux/index.js';
import { NetState } from '../../src/states.js';
import type { VethPair } from '../../test/lab/netns.js';
import { startChild } from '../lib/children.js';
import { quietNamespace, type BenchContext } from '../lib/context.js';
import { TimedLog, timedPlatform, type PlatformCall } from '../lib/instrument.js';
import { makePeers, networkdConfig, NETWORKD_FILE, type PeerSpec } from '../lib/peers.js';
import { NsRtnl, waitConfigured } from '../lib/rtnl.js';
import { summarize, type Summary } from '../lib/stats.js';

export type ServerConfig = 'plain' | 'rapid-commit';

export interface BringupVariantResult {
  id: string;
  label: string;
  notes: string;
  kind: 'nicup' | 'nicup-process' | 'peer';
  samplesMs: number[];
  failures: string[];
  summary: Summary;
  /** nicup in-process median / this median (for peers). */
  nicupRatio?: number;
}

export interface PhaseResult {
  phase: string;
  summary: Summary;
}

export interface CallResult {
  method: string;
  callsPerRun: number;
  /** Sum of the call's durations in one bring-up. */
  summary: Summary;
}

export interface BringupConfigResult {
  server: ServerConfig;
  dnsmasqArgs: string[];
  variants: BringupVariantResult[];
  /** nicup in-process: open() → CONNECTED callback. */
  nicupCallback: Summary;
  phases: PhaseResult[];
  platformCalls: CallResult[];
  /** nicup in a fresh process: where the time goes (marks from the child; 'spawn' ≈ its time origin). */
  freshProcess?: PhaseResult[];
  fastestPeer?: { id: string; label: string; median: number };
  /** nicup median / fastest peer median (target ≤ 0.5). */
  ratioToFastest?: number;
}

export interface BringupResult {
  runs: number;
  slowRuns: number;
  configs: BringupConfigResult[];
  /** spawn() → exit of `nsenter … ip netns exec NS true`: the launch cost inside every peer's figure. */
  peerLaunchOverhead: Summary;
  /** spawn() → exit of `node -e 0`: inside the fresh-process nicup figure. */
  nodeStartOverhead: Summary;
  /** What the peers tried to write under /etc (it went to the jail's overlay). */
  etcWritesCaptured: string[];
}

interface Variant {
  id: string;
  label: string;
  notes: string;
  kind: 'nicup' | 'nicup-process' | 'peer';
  peer?: PeerSpec;
  slow?: boolean;
}

interface NicupRunDetail {
  callbackMs: number;
  phases: Record<string, number>;
  calls: Record<string, { count: number; ms: number }>;
}

const SERVER_ADDRESS = '192.168.77.1/24';
const RANGE: [string, string] = ['192.168.77.10', '192.168.77.250'];
const TIMEOUT_MS = 10_000;
const SLOW_TIMEOUT_MS = 20_000;

/** The fresh-process figure, cut at the marks the worker prints (its clock starts at its own time origin). */
const PROCESS_STEPS: [string, string, string][] = [
  ['node start → worker main runs', 'spawn', 'main'],
  ['load nicup (compiled JS, koffi, netlink)', 'main', 'imported'],
  ['LinuxPlatform + Network.create (link table)', 'imported', 'created'],
  ['open() → CONNECTED', 'created', 'connected'],
  ['rest: spawn() → node time origin, CONNECTED → kernel event', 'connected', 'kernel'],
];

const PHASES: { name: string; from: RegExp | 'open'; to: RegExp | 'kernel' }[] = [
  { name: 'open() → link up (manager check, admin up, carrier)', from: 'open', to: /-> ETHERNET_LINK_UP/ },
  { name: 'link up → DISCOVER sent (DHCP socket opened)', from: /-> ETHERNET_LINK_UP/, to: /dhcp: INIT -> SELECTING/ },
  { name: 'DISCOVER → OFFER (server)', from: /dhcp: INIT -> SELECTING/, to: /dhcp: SELECTING -> REQUESTING/ },
  { name: 'REQUEST → ACK (server)', from: /dhcp: SELECTING -> REQUESTING/, to: /dhcp: REQUESTING -> BOUND/ },
  { name: 'DISCOVER → ACK (rapid commit)', from: /dhcp: INIT -> SELECTING/, to: /dhcp: SELECTING -> BOUND/ },
  { name: 'ACK → address + route applied (CONNECTED)', from: /dhcp: \w+ -> BOUND/, to: /-> CONNECTED/ },
  { name: 'CONNECTED → kernel event read by the bench', from: /-> CONNECTED/, to: 'kernel' },
];

export async function benchBringup(ctx: BenchContext): Promise<BringupResult> {
  const { lab, jail, settings } = ctx;
  const client = await lab.addNamespace('bu-client');
  const server = await lab.addNamespace('bu-server');
  await quietNamespace(lab, client);
  await quietNamespace(lab, server);
  jail.privateResolvConf(client);
  const peerDir = join(ctx.workDir, 'peers');
  mkdirSync(peerDir, { recursive: true });
  const peers = makePeers(peerDir, { networkd: jail.canRunNetworkd });
  if (jail.canRunNetworkd) {
    jail.sysfsFor(client);
    jail.installEtcFile(NETWORKD_FILE, networkdConfig('eth0'));
  }
  const variants: Variant[] = [
    { id: 'nicup', label: 'nicup (in-process)', notes: 'net.open({ interface }) on a Network made once per process (LinuxPlatform({ netns })); default options', kind: 'nicup' },
    { id: 'nicup-process', label: 'nicup (fresh node process)', notes: 'node + compiled nicup started for each run: process start, module load, Network.create, open', kind: 'nicup-process' },
    ...peers.map((p): Variant => ({ id: p.id, label: p.label, notes: p.notes, kind: 'peer', peer: p, ...(p.slow ? { slow: true } : {}) })),
  ];

  const rtnl = new NsRtnl(client);
  const log = new TimedLog();
  const calls: PlatformCall[] = [];
  const platform = new LinuxPlatform({ netns: client });
  const net = await Network.create(timedPlatform(platform, calls), { logger: log });
  let runSeq = 0;

  const measure = async (v: Variant, rapid: boolean): Promise<{ ms: number; detail?: NicupRunDetail; processMarks?: Record<string, number> }> => {
    const pair: VethPair = await lab.addVethPair({ clientNs: client, serverNs: server, serverAddress: SERVER_ADDRESS });
    const dns = await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: RANGE, extraArgs: rapid ? ['--dhcp-rapid-commit'] : [] });
    if (v.peer?.id.startsWith('dhcpcd')) jail.forgetDhcpcdLeases();
    const runDir = join(ctx.workDir, `run-${++runSeq}`);
    mkdirSync(runDir);
    const finish = waitConfigured(rtnl, pair.clientIndex, v.slow ? SLOW_TIMEOUT_MS : TIMEOUT_MS);
    let stop: () => Promise<void> = async () => {};
    try {
      if (v.kind === 'nicup') {
        await net.refresh();
        log.clear();
        calls.length = 0;
        let callbackAt = 0;
        const t0 = performance.now();
        const iface = net.open({ interface: pair.clientName }, (s) => {
          if (s === NetState.CONNECTED && callbackAt === 0) callbackAt = performance.now();
        });
        stop = () => iface.close();
        const kernelAt = await finish.done;
        await iface.connected({ signal: AbortSignal.timeout(TIMEOUT_MS) });
        return { ms: kernelAt - t0, detail: nicupDetail(log, calls, t0, kernelAt, callbackAt) };
      }
      const argv =
        v.kind === 'nicup-process'
          ? [process.execPath, ctx.js.worker('bringup-worker'), JSON.stringify({ netns: client, ifname: pair.clientName })]
          : v.peer!.launch === 'net-only'
            ? jail.argvNet(client, v.peer!.argv({ ns: client, ifname: pair.clientName, dir: runDir }))
            : jail.argv(client, v.peer!.argv({ ns: client, ifname: pair.clientName, dir: runDir }));
      const env = v.peer?.env ? { ...process.env, ...v.peer.env } : undefined;
      const t0 = performance.now();
      const child = startChild(argv, env ? { env } : {});
      stop = () => child.stop();
      const kernelAt = await Promise.race([
        finish.done,
        child.exited.then(async ({ code }) => {
          // udhcpc -q exits once configured; give the kernel event a moment to be read.
          if (code === 0) return Promise.race([finish.done, new Promise<number>((_, rej) => setTimeout(() => rej(new Error('exited without configuring')), 1000))]);
          throw new Error(`exited with ${code}: ${child.stderr().trim().slice(-300)}`);
        }),
      ]);
      if (v.kind === 'nicup-process') {
        const line = await child.line(/^CONNECTED /, 2000).catch(() => undefined);
        if (line) {
          const marks = JSON.parse(line.slice('CONNECTED '.length)) as Record<string, number>;
          // The child's clock starts at its own time origin, shortly after spawn().
          return { ms: kernelAt - t0, processMarks: { ...marks, kernel: kernelAt - t0 } };
        }
      }
      return { ms: kernelAt - t0 };
    } finally {
      finish.cancel();
      await stop().catch(() => {});
      await dns.stop();
      await lab.removeVethPair(pair);
    }
  };

  // One unrecorded nicup bring-up first: the in-process figure is for a program that has
  // opened an interface before (JIT warm); the fresh-process figure is the cold one.
  await measure(variants[0]!, false).catch((e: Error) => ctx.log(`bring-up warm-up failed: ${e.message}`));

  const configs: BringupConfigResult[] = [];
  for (const server of ['plain', 'rapid-commit'] as const) {
    const rapid = server === 'rapid-commit';
    const samples = new Map<string, number[]>(variants.map((v) => [v.id, []]));
    const failures = new Map<string, string[]>(variants.map((v) => [v.id, []]));
    const details: NicupRunDetail[] = [];
    const marks: Record<string, number>[] = [];
    for (let run = 0; run < settings.runs; run++) {
      const order = variants.map((_, i) => variants[(i + run) % variants.length]!);
      for (const v of order) {
        if (v.slow && run >= settings.slowRuns) continue;
        try {
          const wall = performance.now();
          const r = await measure(v, rapid);
          if (process.env.NICUP_BENCH_VERBOSE === '1') ctx.log(`  ${v.id}: ${r.ms.toFixed(1)} ms (wall ${(performance.now() - wall).toFixed(0)} ms)`);
          samples.get(v.id)!.push(r.ms);
          if (r.detail) details.push(r.detail);
          if (r.processMarks) marks.push(r.processMarks);
        } catch (e) {
          failures.get(v.id)!.push((e as Error).message);
        }
      }
      ctx.log(`bring-up ${server}: run ${run + 1}/${settings.runs} done`);
    }
    const config = summarizeConfig(server, rapid, variants, samples, failures, details);
    config.freshProcess = PROCESS_STEPS.map(([phase, from, to]) => ({
      phase,
      summary: summarize(marks.map((m) => (to in m && (from === 'spawn' || from in m) ? m[to]! - (from === 'spawn' ? 0 : m[from]!) : Number.NaN))),
    }));
    configs.push(config);
  }

  // Launch costs included in the process figures.
  const launch: number[] = [];
  const nodeStart: number[] = [];
  for (let i = 0; i < 10; i++) {
    for (const [argv, into] of [
      [jail.argv(client, ['true']), launch],
      [[process.execPath, '-e', '0'], nodeStart],
    ] as const) {
      const t0 = performance.now();
      const c = startChild(argv);
      await c.exited;
      into.push(performance.now() - t0);
      await c.stop();
    }
  }

  await net.close();
  await platform.dispose();
  rtnl.close();
  return {
    runs: settings.runs,
    slowRuns: settings.slowRuns,
    configs,
    peerLaunchOverhead: summarize(launch),
    nodeStartOverhead: summarize(nodeStart),
    etcWritesCaptured: jail.etcWrites(),
  };
}

function nicupDetail(log: TimedLog, calls: PlatformCall[], t0: number, kernelAt: number, callbackAt: number): NicupRunDetail {
  const at = (p: RegExp | 'open' | 'kernel') => (p === 'open' ? t0 : p === 'kernel' ? kernelAt : log.first(p, t0));
  const phases: Record<string, number> = {};
  for (const ph of PHASES) {
    const a = at(ph.from);
    const b = at(ph.to);
    if (a !== undefined && b !== undefined) phases[ph.name] = b - a;
  }
  const byMethod: Record<string, { count: number; ms: number }> = {};
  for (const c of calls) {
    if (c.startMs < t0 || c.startMs > kernelAt) continue;
    const e = (byMethod[c.method] ??= { count: 0, ms: 0 });
    e.count++;
    e.ms += c.endMs - c.startMs;
  }
  return { callbackMs: callbackAt > 0 ? callbackAt - t0 : Number.NaN, phases, calls: byMethod };
}

function summarizeConfig(
  server: ServerConfig,
  rapid: boolean,
  variants: Variant[],
  samples: Map<string, number[]>,
  failures: Map<string, string[]>,
  details: NicupRunDetail[],
): BringupConfigResult {
  const results: BringupVariantResult[] = variants.map((v) => ({
    id: v.id,
    label: v.label,
    notes: v.notes,
    kind: v.kind,
    samplesMs: samples.get(v.id)!,
    failures: failures.get(v.id)!,
    summary: summarize(samples.get(v.id)!),
  }));
  const nicup = results.find((r) => r.id === 'nicup')!;
  for (const r of results) if (r.kind === 'peer' && r.summary.n > 0) r.nicupRatio = nicup.summary.median / r.summary.median;
  const peers = results.filter((r) => r.kind === 'peer' && r.summary.n > 0).sort((a, b) => a.summary.median - b.summary.median);
  const fastest = peers[0];
  const phaseNames = PHASES.map((p) => p.name).filter((n) => details.some((d) => d.phases[n] !== undefined));
  const methods = [...new Set(details.flatMap((d) => Object.keys(d.calls)))];
  const out: BringupConfigResult = {
    server,
    dnsmasqArgs: rapid ? ['--dhcp-rapid-commit'] : [],
    variants: results,
    nicupCallback: summarize(details.map((d) => d.callbackMs)),
    phases: phaseNames.map((phase) => ({ phase, summary: summarize(details.map((d) => d.phases[phase] ?? Number.NaN)) })),
    platformCalls: methods
      .map((method) => ({
        method,
        callsPerRun: summarize(details.map((d) => d.calls[method]?.count ?? 0)).median,
        summary: summarize(details.map((d) => d.calls[method]?.ms ?? 0)),
      }))
      .sort((a, b) => b.summary.median - a.summary.median),
  };
  if (fastest) {
    out.fastestPeer = { id: fastest.id, label: fastest.label, median: fastest.summary.median };
    out.ratioToFastest = nicup.summary.median / fastest.summary.median;
  }
  return out;
}
