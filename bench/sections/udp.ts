/**
 * UDP through nicup's interface-bound socket against plain node dgram on the same path
 * (client namespace → veth → server namespace), both in child processes running the same
 * compiled loops (workers/udp-worker.ts) against the same plain-dgram server
 * (workers/udp-server.ts): send rate, receive rate, CPU per datagram, round trips.
 * The dgram client runs under `ip netns exec CLIENT` while the interface is configured by
 * nicup in this process; the nicup client runs in the root namespace with
 * LinuxPlatform({ netns }) and brings the interface up itself.
 */
import { Network } from '../../src/core/network.js';
import { LinuxPlatform } from '../../src/platform/linux/index.js';
import { findBinary } from '../../test/lab/netns.js';
import { runWorker, startChild } from '../lib/children.js';
import { quietNamespace, type BenchContext } from '../lib/context.js';
import { summarize, type Summary } from '../lib/stats.js';
import type { RecvResult, SendResult, UdpWorkerResult } from '../workers/udp-worker.js';

export interface UdpRow {
  direction: 'send' | 'receive';
  size: number;
  nicup: { datagramsPerS: Summary; mbPerS: Summary; cpuUsPerDatagram: Summary; delivered: number };
  dgram: { datagramsPerS: Summary; mbPerS: Summary; cpuUsPerDatagram: Summary; delivered: number };
  /** nicup / dgram, medians of datagrams per second (target ≥ 0.9). */
  ratio: number;
  /** dgram / nicup CPU per datagram (≥ 1 means nicup is as cheap). */
  cpuRatio: number;
  blasterDatagramsPerS?: Summary;
}

export interface UdpResult {
  count: number;
  reps: number;
  rows: UdpRow[];
  rtt: { nicup: Summary; dgram: Summary; ratioP50: number; ratioP99: number };
  raw: { nicup: UdpWorkerResult; dgram: UdpWorkerResult };
}

const SERVER = '192.168.79.1';
const PORTS = { sinkPort: 9000, echoPort: 9001, controlPort: 9002 };

export async function benchUdp(ctx: BenchContext): Promise<UdpResult> {
  const { lab, settings, js } = ctx;
  const client = await lab.addNamespace('udp-client');
  const server = await lab.addNamespace('udp-server');
  await quietNamespace(lab, client);
  await quietNamespace(lab, server);
  const pair = await lab.addVethPair({ clientNs: client, serverNs: server, serverAddress: `${SERVER}/24` });
  const dns = await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.79.10', '192.168.79.50'] });
  const peer = startChild([findBinary('ip'), 'netns', 'exec', server, process.execPath, js.worker('udp-server'), JSON.stringify({ address: SERVER, ...PORTS })]);
  try {
    await peer.line(/^READY/, 10_000);
    const base = { ifname: pair.clientName, server: SERVER, ...PORTS, ...settings.udp, reps: 1, rttCount: Math.ceil(settings.udp.rttCount / settings.udp.reps), batch: 64 };
    const timeoutMs = 600_000;
    // NICUP_BENCH_PROFILE=DIR: CPU profiles of the client workers (node --cpu-prof) into DIR.
    const profileDir = process.env.NICUP_BENCH_PROFILE;
    const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];

    // Repetitions alternate dgram and nicup, so a burst of load on this shared machine
    // does not land on one side only. dgram runs on an interface nicup configured in this
    // process; the nicup client brings the interface up itself.
    const runDgram = async (): Promise<UdpWorkerResult> => {
      const platform = new LinuxPlatform({ netns: client });
      const net = await Network.create(platform, { logger: { debug: () => {}, error: () => {} } });
      const iface = net.open({ interface: pair.clientName });
      try {
        await iface.connected({ signal: AbortSignal.timeout(10_000) });
        return await runWorker<UdpWorkerResult>([findBinary('ip'), 'netns', 'exec', client, process.execPath, ...profile, js.worker('udp-worker'), JSON.stringify({ ...base, mode: 'dgram' })], timeoutMs);
      } finally {
        await iface.close();
        await net.close();
        await platform.dispose();
      }
    };
    const runNicup = () => runWorker<UdpWorkerResult>([process.execPath, ...profile, js.worker('udp-worker'), JSON.stringify({ ...base, mode: 'nicup', netns: client })], timeoutMs);
    const merge = (list: UdpWorkerResult[]): UdpWorkerResult => ({
      mode: list[0]?.mode ?? '',
      send: list.flatMap((l) => l.send),
      recv: list.flatMap((l) => l.recv),
      rttUs: list.flatMap((l) => l.rttUs),
    });
    const dgramRuns: UdpWorkerResult[] = [];
    const nicupRuns: UdpWorkerResult[] = [];
    for (let rep = 0; rep < settings.udp.reps; rep++) {
      ctx.log(`udp: repetition ${rep + 1}/${settings.udp.reps}: plain dgram, then nicup`);
      dgramRuns.push(await runDgram());
      nicupRuns.push(await runNicup());
    }
    const dgram = merge(dgramRuns);
    const nicup = merge(nicupRuns);

    const rows: UdpRow[] = [];
    for (const size of settings.udp.sizes) {
      rows.push(sendRow(size, nicup.send.filter((s) => s.size === size), dgram.send.filter((s) => s.size === size)));
      rows.push(recvRow(size, nicup.recv.filter((s) => s.size === size), dgram.recv.filter((s) => s.size === size)));
    }
    const rn = summarize(nicup.rttUs);
    const rd = summarize(dgram.rttUs);
    return {
      count: settings.udp.count,
      reps: settings.udp.reps,
      rows,
      rtt: { nicup: rn, dgram: rd, ratioP50: rn.median / rd.median, ratioP99: rn.p99 / rd.p99 },
      raw: { nicup: { ...nicup, rttUs: [] }, dgram: { ...dgram, rttUs: [] } },
    };
  } finally {
    await peer.stop();
    await dns.stop();
  }
}

function side(list: (SendResult | RecvResult)[], delivered: number) {
  return {
    datagramsPerS: summarize(list.map((s) => s.datagramsPerS)),
    mbPerS: summarize(list.map((s) => s.mbPerS)),
    cpuUsPerDatagram: summarize(list.map((s) => s.cpuUsPerDatagram)),
    delivered,
  };
}

function sendRow(size: number, n: SendResult[], d: SendResult[]): UdpRow {
  const frac = (l: SendResult[]) => summarize(l.map((s) => s.deliveredFraction)).median;
  const nicup = side(n, frac(n));
  const dgram = side(d, frac(d));
  return { direction: 'send', size, nicup, dgram, ratio: nicup.datagramsPerS.median / dgram.datagramsPerS.median, cpuRatio: dgram.cpuUsPerDatagram.median / nicup.cpuUsPerDatagram.median };
}

function recvRow(size: number, n: RecvResult[], d: RecvResult[]): UdpRow {
  const frac = (l: RecvResult[]) => summarize(l.map((s) => s.received / s.requested)).median;
  const nicup = side(n, frac(n));
  const dgram = side(d, frac(d));
  return {
    direction: 'receive',
    size,
    nicup,
    dgram,
    ratio: nicup.datagramsPerS.median / dgram.datagramsPerS.median,
    cpuRatio: dgram.cpuUsPerDatagram.median / nicup.cpuUsPerDatagram.median,
    blasterDatagramsPerS: summarize([...n, ...d].map((s) => s.blasterDatagramsPerS)),
  };
}
