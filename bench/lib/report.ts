/**
 * bench/results/latest.md: the run's numbers as tables, each target with its verdict, and
 * for every target missed what the measurements say about why (from the phase timings and
 * the platform-call timings the bench records around nicup).
 */
import type { BenchResults } from '../run.js';
import type { BringupConfigResult } from '../sections/bringup.js';
import { isFlat, leavesNothing, type CycleReport } from '../sections/memory.js';
import type { Summary } from './stats.js';
import { fmtMs, fmtNum } from './svg.js';

const mark = (t: Target) => (t.notRun ? '– not run' : t.met ? '✅ met' : t.partly ? '⚠️ partly' : '❌ missed');
const ms = (v: number) => fmtMs(v);
const x = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}×`);
const mb = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)} MB`;

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function summaryCells(s: Summary): string[] {
  return [ms(s.median), ms(s.p95), ms(s.min), ms(s.max), String(s.n)];
}

interface Target {
  name: string;
  measured: string;
  met: boolean;
  /** Missed, but only in part (memory: nothing retained, RSS still growing). */
  partly?: boolean;
  notRun?: boolean;
}

function targets(r: BenchResults): Target[] {
  const out: Target[] = [];
  for (const c of r.bringup?.configs ?? []) {
    const nicup = c.variants.find((v) => v.id === 'nicup')!;
    out.push({
      name: `bring-up ≤ 0.5× the fastest peer (server: ${c.server})`,
      measured: `${x(c.ratioToFastest)}: nicup ${ms(nicup.summary.median)} vs ${c.fastestPeer?.label ?? '–'} ${ms(c.fastestPeer?.median ?? NaN)}`,
      met: (c.ratioToFastest ?? Infinity) <= 0.5,
    });
  }
  if (r.linkLoss) out.push({ name: 'link loss → callback p99 ≤ 5 ms', measured: `p99 ${ms(r.linkLoss.callback.p99)} (median ${ms(r.linkLoss.callback.median)})`, met: r.linkLoss.callback.p99 <= 5 });
  if (r.udp) {
    const scored = r.udp.rows.map((w) => ({ w, score: udpScore(w) }));
    const worst = [...scored].sort((a, b) => a.score - b.score)[0]!;
    out.push({
      name: 'UDP ≥ 0.9× plain dgram (send: datagrams/s; receive: CPU per datagram)',
      measured: `lowest ${x(worst.score)} (${worst.w.direction} ${worst.w.size} B); all: ${scored.map(({ w, score }) => `${w.direction} ${w.size} B ${x(score)}${w.direction === 'receive' ? ` (rate ${x(w.ratio)})` : ''}`).join(', ')}`,
      met: worst.score >= 0.9,
    });
  }
  if (r.memory) {
    out.push({ name: 'RSS overhead ≤ 10 MB', measured: `${mb(r.memory.overheadMb)} (bare ${r.memory.bareRssMb.median.toFixed(1)} MB → ${r.memory.holdRssMb.median.toFixed(1)} MB)`, met: r.memory.overheadMb <= 10 });
    for (const [name, c] of [
      ['simulator', r.memory.sim],
      ['real lab', r.memory.lab],
    ] as const) {
      out.push({ name: `flat over ${fmtNum(c.cycles)} open/close cycles (${name})`, measured: flatText(c), met: isFlat(c), partly: leavesNothing(c) });
    }
  }
  if (r.scale) {
    const big = r.scale.rows.find((w) => w.interfaces === 256);
    out.push({
      name: '256 interfaces CONNECTED within 2 s',
      measured: big ? `${ms(big.allConnectedMs.median)} (p95 ${ms(big.allConnectedMs.p95)})${big.failures.length ? `; ${big.failures.length} failed repeat(s)` : ''}` : 'not run (quick mode)',
      met: big !== undefined && big.allConnectedMs.median <= 2000 && big.failures.length === 0,
      notRun: big === undefined,
    });
  }
  return out;
}

function flatText(c: CycleReport): string {
  const changed = Object.keys(c.extra.end).filter((k) => c.extra.end[k] !== c.extra.warm[k]);
  return `heap in use ${mb(c.heapGrowthMb)} and RSS ${mb(c.rssGrowthMb)} after warm-up (${mb(c.rssGrowthSecondHalfMb)} over the second half); fds ${c.fds.warm}→${c.fds.end}; process listeners ${c.processListeners.start}→${c.processListeners.end}${changed.length ? `; ${changed.map((k) => `${k} ${c.extra.warm[k]}→${c.extra.end[k]}`).join(', ')}` : ''}${c.failures ? `; ${c.failures} failed cycles` : ''}`;
}

function bringupSection(c: BringupConfigResult, r: NonNullable<BenchResults['bringup']>): string {
  const rows = c.variants.map((v) => [v.kind === 'peer' ? v.label : `**${v.label}**`, ...summaryCells(v.summary), v.nicupRatio !== undefined ? x(v.nicupRatio) : '', v.failures.length ? `${v.failures.length}: ${v.failures[0]!.slice(0, 80)}` : '']);
  let s = `### Server: ${c.server === 'plain' ? 'plain DHCP (DISCOVER → OFFER → REQUEST → ACK)' : 'dnsmasq `--dhcp-rapid-commit` (DISCOVER → ACK for clients that send option 80)'}\n\n`;
  s += table(['client', 'median', 'p95', 'min', 'max', 'n', 'nicup / this', 'failures'], rows);
  s += `\n\nnicup in-process, open() → CONNECTED **callback**: median ${ms(c.nicupCallback.median)}, p95 ${ms(c.nicupCallback.p95)}.`;
  if (c.fastestPeer) s += ` Fastest peer: ${c.fastestPeer.label} (${ms(c.fastestPeer.median)}); target ½ of it = ${ms(c.fastestPeer.median / 2)}.`;
  s += '\n\nWhere nicup\'s time goes (in-process; from its debug lines and timed platform calls):\n\n';
  s += table(['phase', 'median', 'p95'], c.phases.map((p) => [p.phase, ms(p.summary.median), ms(p.summary.p95)]));
  s += '\n\n';
  s += table(['platform call (summed per bring-up)', 'calls', 'median', 'p95'], c.platformCalls.map((p) => [p.method, p.callsPerRun, ms(p.summary.median), ms(p.summary.p95)]));
  if (c.freshProcess?.some((p) => p.summary.n > 0)) {
    s += '\n\nnicup from a fresh `node` process (worker marks):\n\n';
    s += table(['step', 'median', 'p95'], c.freshProcess.map((p) => [p.phase, ms(p.summary.median), ms(p.summary.p95)]));
  }
  void r;
  return `${s}\n\n`;
}

function analysis(r: BenchResults): string {
  const out: string[] = [];
  for (const c of r.bringup?.configs ?? []) {
    const phase = (re: RegExp) => c.phases.find((p) => re.test(p.phase))?.summary.median ?? NaN;
    const linkUp = phase(/open\(\) → link up/);
    const sock = phase(/DISCOVER sent/);
    const server = phase(/OFFER \(server\)/) + (Number.isFinite(phase(/REQUEST → ACK/)) ? phase(/REQUEST → ACK/) : 0) || phase(/rapid commit/);
    const apply = phase(/address \+ route applied/);
    const call = (m: string) => c.platformCalls.find((p) => p.method === m);
    const callText = ['detectManager', 'getLink', 'setLinkUp', 'openDhcpSocket', 'addAddress', 'addRoute']
      .map((m) => call(m))
      .filter((p) => p !== undefined)
      .map((p) => `${p.method} ×${p.callsPerRun} ${ms(p.summary.median)}`)
      .join(', ');
    const nicup = c.variants.find((v) => v.id === 'nicup')!;
    const met = (c.ratioToFastest ?? Infinity) <= 0.5;
    out.push(
      `- **Bring-up (${c.server})** ${met ? 'meets' : 'misses'} the target: ${ms(nicup.summary.median)} = ${x(c.ratioToFastest)} ${c.fastestPeer?.label}. ` +
        `Of it, open() → link up takes ${ms(linkUp)} (platform calls: ${callText}), link up → DISCOVER ${ms(sock)}, ` +
        `the server's answers ${ms(server)}, applying address + route ${ms(apply)}. ` +
        `The server's share is fixed; everything before the first DISCOVER and after the ACK is nicup's own.`,
    );
  }
  if (r.bringup) {
    const proc = r.bringup.configs[0]?.freshProcess;
    const load = proc?.find((p) => /load nicup/.test(p.phase))?.summary.median;
    const start = proc?.find((p) => /node start/.test(p.phase))?.summary.median;
    const create = proc?.find((p) => /Network.create/.test(p.phase))?.summary.median;
    if (load !== undefined) {
      out.push(`- **Cold start**: a fresh process spends ${ms(start ?? NaN)} starting node, ${ms(load)} loading nicup and ${ms(create ?? NaN)} in Network.create before open(); node alone (\`node -e 0\`) takes ${ms(r.bringup.nodeStartOverhead.median)} to run and exit. The peers' figures include ${ms(r.bringup.peerLaunchOverhead.median)} of launch (\`nsenter\` + \`ip netns exec\` of \`true\`).`);
    }
  }
  if (r.linkLoss) {
    const l = r.linkLoss;
    out.push(
      `- **Link loss**: the kernel's carrier-off event reaches the bench's own socket in ${ms(l.kernelEvent.median)} (p99 ${ms(l.kernelEvent.p99)}) and nicup's callback comes ${ms(l.nicupShare.median)} after it at the median (p99 ${ms(l.nicupShare.p99)}; negative: nicup's socket is read first in the same event loop): the callback time is the kernel's, the p99 is scheduling on a loaded machine. After the link returns, CONNECTED comes back in ${ms(l.reconnect.median)} (INIT-REBOOT of the remembered lease).`,
    );
  }
  if (r.udp) {
    for (const row of r.udp.rows) {
      if (row.direction === 'receive') {
        // Both receivers get what the blaster manages to send, which varies between repetitions on a shared machine.
        out.push(
          `- **UDP receive ${row.size} B**: nicup costs ${row.nicup.cpuUsPerDatagram.median.toFixed(2)} µs CPU per datagram against dgram's ${row.dgram.cpuUsPerDatagram.median.toFixed(2)} µs (${x(row.cpuRatio)}); it received ${x(row.ratio)} dgram's rate, delivered ${(row.nicup.delivered * 100).toFixed(0)}% vs dgram ${(row.dgram.delivered * 100).toFixed(0)}% of a ${fmtNum(row.blasterDatagramsPerS?.median ?? NaN)}/s blast. The rate follows the blaster's (it varies between repetitions), so the target is judged on CPU per datagram.`,
        );
        continue;
      }
      if (row.ratio >= 0.9) continue;
      out.push(
        `- **UDP send ${row.size} B** at ${x(row.ratio)} dgram: nicup costs ${row.nicup.cpuUsPerDatagram.median.toFixed(2)} µs CPU per datagram against dgram's ${row.dgram.cpuUsPerDatagram.median.toFixed(2)} µs (a send with nothing queued is one sendto through koffi to a cached sockaddr; dgram goes straight to libuv).`,
      );
    }
  }
  if (r.memory) {
    const m = r.memory;
    for (const [name, c] of [
      ['simulator', m.sim],
      ['real lab', m.lab],
    ] as const) {
      out.push(
        `- **${fmtNum(c.cycles)} cycles on the ${name}** (${ms(c.elapsedMs / c.cycles)} each): heap in use after GC ${mb(c.heapGrowthMb)} after warm-up; RSS ${mb(c.rssGrowthMb)} after warm-up but ${mb(c.rssGrowthSecondHalfMb)} over the second half, while V8's committed heap went ${c.heapTotalMb.warm.toFixed(0)} → ${c.heapTotalMb.end.toFixed(0)} MB: ` +
          (isFlat(c)
            ? 'V8 sizing its heap to the churn, which levels off; nothing is left behind (descriptors, listeners, handles and internal tables as at warm-up).'
            : leavesNothing(c)
              ? 'nothing is retained (heap in use, descriptors, listeners, handles and internal tables as at warm-up), so the RSS growth is V8 committing more heap for the allocation churn of each cycle, not a leak; less garbage per open/close would keep it down.'
              : `not flat — ${flatText(c)}.`),
      );
    }
    if (m.overheadMb > 10) {
      out.push(
        `- **Memory**: holding one interface costs ${mb(m.overheadMb)} RSS over bare node, and importing nicup alone already ${mb(m.loadOnlyOverheadMb)} (in ${ms(m.importMs.load ?? NaN)}): of the packages only koffi (${mb(m.koffiOnlyOverheadMb)}) and netlink's raw socket load (netlink's index, ${mb(m.netlinkOnlyOverheadMb)} alone, and serialport, ${mb(m.serialportOnlyOverheadMb)}, do not: serialport loads with the first modem, the WiFi and cellular drivers, proxy, ARP, DNS hand-off and crypto on first use). The JS heap in use grows ${(m.holdHeapMb - m.bareHeapMb).toFixed(1)} MB. Much of the rest is probably not nicup's own: a breakdown by hand (smaps against bare node, not part of this bench) put about 4 MB on V8's optimizing compiler loading its code the first time anything in the process is optimized, and about 2.4 MB on node's built-in modules (util, fs/promises, net, streams).`,
      );
    }
  }
  if (r.scale) {
    for (const row of r.scale.rows) {
      const top = row.platformCalls.slice(0, 3).map((p) => `${p.method} ×${p.count} (${ms(p.totalMs)} summed)`).join(', ');
      out.push(`- **Scale ${row.interfaces}**: all CONNECTED in ${ms(row.allConnectedMs.median)}; last LINK_UP at ${ms(row.lastReachedMs.ETHERNET_LINK_UP ?? NaN)}, last DHCPING at ${ms(row.lastReachedMs.ETHERNET_DHCPING ?? NaN)}; CPU ${ms(row.cpuMsPerInterface)} per interface; heaviest calls: ${top}.${row.failures.length ? ` Failures: ${row.failures.join('; ')}` : ''}`);
    }
  }
  return out.join('\n');
}

export function renderMarkdown(r: BenchResults): string {
  const t = targets(r);
  let s = `# nicup benchmarks — ${r.quick ? 'quick smoke run' : 'full run'}\n\n`;
  s += `Run ${r.startedAt} (${r.durationS} s) on ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB, Linux ${r.machine.kernel}, node ${r.machine.node}. `;
  s += `Peers: dnsmasq ${r.machine.versions.dnsmasq}, busybox ${r.machine.versions.busybox}, dhclient ${r.machine.versions.dhclient}, dhcpcd ${r.machine.versions.dhcpcd}. `;
  s += `Code: ${r.git.commit}${r.git.uncommittedSrc.length ? ` plus uncommitted changes in ${r.git.uncommittedSrc.join(', ')}` : ''}. `;
  s += `Host left unchanged (root namespace links/addresses/routes/rules, /etc/resolv.conf bytes, hostname): **${r.host.unchanged ? 'yes' : `NO — ${r.host.differences.join('; ')}`}**.\n\n`;
  s += `Load average (1/5/15 min) at start ${r.machine.loadAverage.start.join(' / ')}, at end ${r.machine.loadAverage.end.join(' / ')} on ${r.machine.cpus} CPUs: other work shared the machine.\n\n`;
  s += `Chart: [latest.svg](latest.svg). Raw numbers: [latest.json](latest.json). Timings are reported, never asserted; the machine is shared, so expect noise.\n\n`;
  s += '## Targets\n\n';
  s += table(['target', 'measured', 'verdict'], t.map((v) => [v.name, v.measured, mark(v)]));
  s += '\n\n## What the numbers say\n\n';
  s += `${analysis(r)}\n\n`;
  if (Object.keys(r.errors).length) s += `## Sections that failed\n\n${Object.entries(r.errors).map(([k, e]) => `- ${k}: \`${e.split('\n')[0]}\``).join('\n')}\n\n`;

  if (r.bringup) {
    const b = r.bringup;
    s += `## 1. Bring-up\n\nopen() → IPv4 address AND default route in the kernel, read by the bench's own rtnetlink socket. Every run gets a fresh veth pair and a fresh dnsmasq (no leases); the clients take turns in a rotating order; one unrecorded nicup bring-up warms the in-process Network first (the fresh-process row is the cold figure). ${b.runs} runs per client and server configuration (${b.slowRuns} for dhcpcd with its ARP probe, which spends seconds in RFC 5227 timers). Processes are timed from just before spawn(), so their figures include starting the process: ${ms(b.peerLaunchOverhead.median)} for \`nsenter … ip netns exec NS true\`, ${ms(b.nodeStartOverhead.median)} for \`node -e 0\`.\n\n`;
    for (const c of b.configs) s += bringupSection(c, b);
    s += 'How each client was run:\n\n';
    for (const v of b.configs[0]?.variants ?? []) s += `- **${v.label}**: ${v.notes}\n`;
    s += `\nThe peers ran in a mount namespace whose /etc is an overlay and whose /var/lib/dhcp, /var/lib/dhcpcd, /run/dhcpcd and /run/systemd/netif are private tmpfs; what they wrote under /etc stayed in the overlay: ${b.etcWritesCaptured.length ? b.etcWritesCaptured.map((f) => `\`${f}\``).join(', ') : 'nothing'}.\n\n`;
  }
  if (r.linkLoss) {
    const l = r.linkLoss;
    s += `## 2. Link loss\n\n${l.flaps} flaps of a CONNECTED interface: the bench clears IFF_UP on the server end with one RTM_NEWLINK; the clock starts just before it is sent.\n\n`;
    s += table(['measure', 'median', 'p95', 'p99', 'max', 'n'], [
      ['request → kernel ACK', ms(l.requestAck.median), ms(l.requestAck.p95), ms(l.requestAck.p99), ms(l.requestAck.max), l.requestAck.n],
      ['request → carrier-off event seen by the bench (floor)', ms(l.kernelEvent.median), ms(l.kernelEvent.p95), ms(l.kernelEvent.p99), ms(l.kernelEvent.max), l.kernelEvent.n],
      ['**request → nicup callback ETHERNET_STOPPED_NO_LINK**', ms(l.callback.median), ms(l.callback.p95), ms(l.callback.p99), ms(l.callback.max), l.callback.n],
      ['callback − kernel event (nicup\'s share; both read in one event loop)', ms(l.nicupShare.median), ms(l.nicupShare.p95), ms(l.nicupShare.p99), ms(l.nicupShare.max), l.nicupShare.n],
      ['link up again → CONNECTED (INIT-REBOOT)', ms(l.reconnect.median), ms(l.reconnect.p95), ms(l.reconnect.p99), ms(l.reconnect.max), l.reconnect.n],
    ]);
    s += l.failures.length ? `\n\nFailures: ${l.failures.join('; ')}\n\n` : '\n\n';
  }
  if (r.udp) {
    const u = r.udp;
    s += `## 3. UDP\n\nnicup's interface-bound socket (\`iface.openUdp()\`, default rules) against plain node \`dgram\` on the same veth path, both clients in child processes running the same compiled loops against the same plain-dgram server in the server namespace. Send: ${fmtNum(u.count)} datagrams fire-and-forget in batches of 64 with a yield between batches, the last one awaited. Receive: the server blasts ${fmtNum(u.count)} datagrams; the rate is counted between the first and the last one received. ${u.reps} repetition(s); medians.\n\n`;
    s += table(
      ['loop', 'nicup datagrams/s', 'dgram datagrams/s', 'nicup / dgram', 'nicup MB/s', 'dgram MB/s', 'CPU µs/datagram nicup · dgram', 'delivered nicup · dgram'],
      u.rows.map((w) => [
        `${w.direction} ${w.size} B`,
        fmtNum(w.nicup.datagramsPerS.median),
        fmtNum(w.dgram.datagramsPerS.median),
        x(w.ratio),
        w.nicup.mbPerS.median.toFixed(1),
        w.dgram.mbPerS.median.toFixed(1),
        `${w.nicup.cpuUsPerDatagram.median.toFixed(2)} · ${w.dgram.cpuUsPerDatagram.median.toFixed(2)}`,
        `${(w.nicup.delivered * 100).toFixed(1)}% · ${(w.dgram.delivered * 100).toFixed(1)}%`,
      ]),
    );
    const blast = u.rows.filter((w) => w.blasterDatagramsPerS).map((w) => `${w.size} B: ${fmtNum(w.blasterDatagramsPerS!.median)}/s`);
    s += `\n\nThe server's blast rate (plain dgram): ${blast.join(', ')}. A receiver that keeps up with it shows the blaster's rate, not its own ceiling; then CPU per datagram is the fairer comparison.\n\n`;
    s += table(['round trip, 64 B, sequential', 'p50', 'p95', 'p99', 'max', 'n'], [
      ['**nicup**', `${u.rtt.nicup.median.toFixed(0)} µs`, `${u.rtt.nicup.p95.toFixed(0)} µs`, `${u.rtt.nicup.p99.toFixed(0)} µs`, `${u.rtt.nicup.max.toFixed(0)} µs`, u.rtt.nicup.n],
      ['dgram', `${u.rtt.dgram.median.toFixed(0)} µs`, `${u.rtt.dgram.p95.toFixed(0)} µs`, `${u.rtt.dgram.p99.toFixed(0)} µs`, `${u.rtt.dgram.max.toFixed(0)} µs`, u.rtt.dgram.n],
    ]);
    s += `\n\nnicup / dgram: p50 ${x(u.rtt.ratioP50)}, p99 ${x(u.rtt.ratioP99)}.\n\n`;
  }
  if (r.memory) {
    const m = r.memory;
    s += `## 4. Memory\n\nSeparate child processes, \`node --expose-gc\`, compiled JS, two forced GCs before each snapshot.\n\n`;
    s += table(['process', 'RSS median', 'RSS p95', 'heap used'], [
      ['bare node', `${m.bareRssMb.median.toFixed(1)} MB`, `${m.bareRssMb.p95.toFixed(1)} MB`, `${m.bareHeapMb.toFixed(1)} MB`],
      ['**nicup holding one CONNECTED interface**', `${m.holdRssMb.median.toFixed(1)} MB`, `${m.holdRssMb.p95.toFixed(1)} MB`, `${m.holdHeapMb.toFixed(1)} MB`],
    ]);
    s += `\n\nOverhead ${mb(m.overheadMb)}. What loading costs, each in a fresh process:\n\n`;
    s += table(['import', 'RSS over bare node', 'import time'], [
      ['nicup (index + Linux platform), nothing opened', mb(m.loadOnlyOverheadMb), ms(m.importMs.load ?? NaN)],
      ['netlink (the package index: rt and nl80211 generated structs; nicup loads only its raw socket)', mb(m.netlinkOnlyOverheadMb), ms(m.importMs.netlink ?? NaN)],
      ['serialport (loaded with the first modem port only)', mb(m.serialportOnlyOverheadMb), ms(m.importMs.serialport ?? NaN)],
      ['koffi (libc loaded)', mb(m.koffiOnlyOverheadMb), ms(m.importMs.koffi ?? NaN)],
    ]);
    s += '\n\n';
    const cyc = (name: string, c: CycleReport) => [
      name,
      fmtNum(c.cycles),
      `${(c.elapsedMs / 1000).toFixed(1)} s (${ms(c.elapsedMs / c.cycles)}/cycle)`,
      `${mb(c.rssGrowthMb)} (2nd half ${mb(c.rssGrowthSecondHalfMb)})`,
      `${mb(c.heapGrowthMb)} (V8 committed ${c.heapTotalMb.warm.toFixed(0)}→${c.heapTotalMb.end.toFixed(0)} MB)`,
      `${c.heapGrowthKbPer1000.toFixed(0)} kB`,
      `${c.fds.start} / ${c.fds.warm} / ${c.fds.end}`,
      `${c.processListeners.start} → ${c.processListeners.end}`,
      `${JSON.stringify(c.activeResources.start)} → ${JSON.stringify(c.activeResources.end)}`,
      Object.keys(c.extra.end).map((k) => `${k} ${c.extra.start[k]}/${c.extra.warm[k]}/${c.extra.end[k]}`).join(', '),
      c.failures,
    ];
    s += table(
      ['open/close cycles', 'cycles', 'time', 'RSS after warm-up', 'heap in use after warm-up', 'heap per 1,000', 'fds start / warm / end', 'process listeners', 'active handles start → end', 'internal tables start / warm / end', 'failed'],
      [cyc('simulator (virtual time)', m.sim), cyc('real lab', m.lab)],
    );
    s += '\n\n';
  }
  if (r.scale) {
    const sc = r.scale;
    s += `## 5. Scale\n\nN interfaces opened at once by one Network in one namespace; one veth pair and one /24 per interface, one dnsmasq serving all of them (fresh per measurement). Not one bridge: with all client ends in one kernel, every broadcast reply on a 256-port bridge is delivered 256 times and overflows the per-CPU backlog, losing DHCP replies — a lab artifact. Each interface has its own route metric (100 + k). Setting up ${Math.max(...sc.rows.map((w) => w.interfaces))} pairs took ${ms(sc.setupMs)}.\n\n`;
    s += table(
      ['interfaces', 'all CONNECTED (median)', 'p95', 'per interface', 'CPU per interface', 'open() loop', 'last LINK_UP', 'last DHCPING', 'repeats', 'failures'],
      sc.rows.map((w) => [
        w.interfaces,
        ms(w.allConnectedMs.median),
        ms(w.allConnectedMs.p95),
        ms(w.perInterfaceMs),
        ms(w.cpuMsPerInterface),
        ms(w.openLoopMs),
        ms(w.lastReachedMs.ETHERNET_LINK_UP ?? NaN),
        ms(w.lastReachedMs.ETHERNET_DHCPING ?? NaN),
        w.repeats,
        w.failures.length ? w.failures.join('; ') : '',
      ]),
    );
    s += '\n\nPlatform calls for the whole bring-up (median over repeats):\n\n';
    s += table(['interfaces', ...[...new Set(sc.rows.flatMap((w) => w.platformCalls.map((p) => p.method)))]], sc.rows.map((w) => [w.interfaces, ...[...new Set(sc.rows.flatMap((v) => v.platformCalls.map((p) => p.method)))].map((m) => {
      const p = w.platformCalls.find((c) => c.method === m);
      return p ? `×${p.count}, ${ms(p.totalMs)}` : '';
    })]));
    s += '\n\n';
  }
  s += '---\nGenerated by `npm run bench` (bench/run.ts). `NICUP_BENCH_QUICK=1` for the one-minute version; `NICUP_BENCH_RUNS`, `NICUP_BENCH_SLOW_RUNS`, `NICUP_BENCH_ONLY` — see bench/README.md.\n';
  return s;
}

/** What the UDP target judges: send by datagrams per second; receive by CPU per datagram (the rate is the blaster's). */
function udpScore(row: { direction: string; ratio: number; cpuRatio: number }): number {
  return row.direction === 'receive' ? row.cpuRatio : row.ratio;
}
