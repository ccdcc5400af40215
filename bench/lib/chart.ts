/**
 * bench/results/latest.svg: one picture of the run. Every measurement is a bar at its
 * median with a whisker to its p95 (and a diamond at p99 where p99 is the target); the
 * target of each panel is a red dashed line, and each panel's title says whether it is met.
 */
import type { BenchResults } from '../run.js';
import type { BringupConfigResult } from '../sections/bringup.js';
import { isFlat, leavesNothing } from '../sections/memory.js';
import type { Summary } from './stats.js';
import { COLORS, diamond, esc, fmtMs, fmtNum, line, linearTicks, logTicks, polyline, rect, text } from './svg.js';

const WIDTH = 1000;
const MARGIN = 24;

interface Panel {
  svg: string;
  height: number;
}

/** Title, then the verdict on its own line (green ✓ / red ✗), then how to read the panel. */
function header(title: string, verdict: { met: boolean; text: string; neutral?: boolean } | undefined, subtitle: string): string {
  let s = rect(MARGIN - 8, 0, WIDTH - 2 * MARGIN + 16, 4, COLORS.nicup);
  s += text(MARGIN, 28, title, { size: 18, weight: 'bold' });
  if (verdict?.neutral) s += text(MARGIN, 48, verdict.text, { size: 14, weight: 'bold', color: COLORS.muted });
  else if (verdict) s += text(MARGIN, 48, `${verdict.met ? '✓' : '✗'} ${verdict.text}`, { size: 14, weight: 'bold', color: verdict.met ? COLORS.good : COLORS.bad });
  s += text(MARGIN, 66, subtitle, { size: 12, color: COLORS.muted });
  return s;
}

/** A ratio for labels: two decimals, or two significant digits below 0.1. */
function ratio(v: number): string {
  return v < 0.1 ? v.toPrecision(2) : v.toFixed(2);
}

interface HBar {
  label: string;
  sublabel?: string;
  s: Summary;
  nicup: boolean;
  note?: string;
  p99?: boolean;
}

/** Horizontal bars (median) with p95 whiskers; log or linear x axis. */
function hbars(bars: HBar[], o: { top: number; log: boolean; min?: number; max?: number; targetAt?: number; targetLabel?: string; unit: (v: number) => string; rowHeight?: number }): Panel {
  const labelW = 250;
  const x0 = MARGIN + labelW;
  // Right of the bars: the value label, then the ratio column (right-aligned).
  const x1 = WIDTH - MARGIN - (bars.some((b) => b.note) ? 300 : 190);
  const rowH = o.rowHeight ?? 26;
  const values = bars.flatMap((b) => [b.s.median, b.s.p95, b.p99 ? b.s.p99 : b.s.median]).filter((v) => Number.isFinite(v) && v > 0);
  const maxV = o.max ?? Math.max(...values, o.targetAt ?? 0) * (o.log ? 1.5 : 1.1);
  const minV = o.min ?? (o.log ? 10 ** Math.floor(Math.log10(Math.min(...values, o.targetAt ?? Infinity) * 0.8)) : 0);
  const ticks = o.log ? logTicks(minV, maxV) : linearTicks(maxV);
  const top = o.top;
  const tickMax = o.log ? maxV : (ticks[ticks.length - 1] ?? maxV);
  const xOf = (v: number) => (o.log ? x0 + ((Math.log10(Math.max(v, minV)) - Math.log10(minV)) / (Math.log10(tickMax) - Math.log10(minV))) * (x1 - x0) : x0 + (v / tickMax) * (x1 - x0));
  const bottom = top + bars.length * rowH + 6;
  let s = '';
  let lastLabelX = -Infinity;
  for (const t of ticks) {
    const x = xOf(t);
    s += line(x, top - 4, x, bottom, COLORS.grid);
    if (x - lastLabelX < 48) continue;
    lastLabelX = x;
    s += text(x, bottom + 14, o.unit(t), { size: 10, anchor: 'middle', color: COLORS.muted });
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const cy = y + rowH / 2;
    if (b.nicup) s += rect(MARGIN - 6, y + 1, WIDTH - 2 * MARGIN + 12, rowH - 2, '#ecfdf5');
    s += text(MARGIN, cy + 4, b.label, { size: 13, weight: b.nicup ? 'bold' : 'normal', color: b.nicup ? COLORS.nicup : COLORS.text });
    if (!Number.isFinite(b.s.median)) {
      s += text(x0 + 4, cy + 4, 'no data', { size: 12, color: COLORS.muted, italic: true });
      return;
    }
    const xm = xOf(b.s.median);
    s += rect(x0, y + 5, xm - x0, rowH - 10, b.nicup ? COLORS.nicup : COLORS.peer, 'rx="2"');
    const xp = xOf(b.s.p95);
    s += line(xm, cy, xp, cy, COLORS.whisker, { width: 1.5 });
    s += line(xp, cy - 5, xp, cy + 5, COLORS.whisker, { width: 1.5 });
    let xr = Math.max(xp, xm);
    if (b.p99 && Number.isFinite(b.s.p99)) {
      const x99 = xOf(b.s.p99);
      s += line(xp, cy, x99, cy, COLORS.whisker, { width: 1, dash: '2,2' });
      s += diamond(x99, cy, 4, COLORS.whisker);
      xr = Math.max(xr, x99);
    }
    const label = `${o.unit(b.s.median)}${b.p99 ? `  p99 ${o.unit(b.s.p99)}` : `  p95 ${o.unit(b.s.p95)}`}`;
    s += text(xr + 8, cy + 4, label, { size: 12, weight: b.nicup ? 'bold' : 'normal' });
    if (b.note) s += text(WIDTH - MARGIN, cy + 4, b.note, { size: 12, anchor: 'end', weight: 'bold', color: COLORS.peerDark });
  });
  if (o.targetAt !== undefined && Number.isFinite(o.targetAt)) {
    const xt = xOf(o.targetAt);
    s += line(xt, top - 8, xt, bottom, COLORS.target, { width: 2, dash: '6,4' });
    if (o.targetLabel) s += text(xt + 4, top - 10, o.targetLabel, { size: 11, color: COLORS.target });
  }
  return { svg: s, height: bottom + 22 - top };
}

function bringupPanel(c: BringupConfigResult, title: string): Panel {
  const nicup = c.variants.find((v) => v.id === 'nicup');
  const target = c.fastestPeer ? c.fastestPeer.median * 0.5 : undefined;
  const met = c.ratioToFastest !== undefined && c.ratioToFastest <= 0.5;
  const bars: HBar[] = c.variants.map((v) => ({
    label: v.label,
    s: v.summary,
    nicup: v.kind !== 'peer',
    ...(v.nicupRatio !== undefined ? { note: `nicup ×${ratio(v.nicupRatio)}` } : {}),
  }));
  let s = header(
    title,
    c.ratioToFastest !== undefined ? { met, text: `nicup takes ${ratio(c.ratioToFastest)}× the time of the fastest peer, ${c.fastestPeer?.label} (target ≤ 0.5×)` } : undefined,
    `open() → address + default route in the kernel, fresh veth + dnsmasq, ${nicup ? `${nicup.summary.n} runs` : ''}. Median, whisker p95, log scale. Right: nicup ÷ peer.`,
  );
  const body = hbars(bars, { top: 96, log: true, targetAt: target, targetLabel: 'target: ½ × fastest peer', unit: fmtMs });
  s += body.svg;
  return { svg: s, height: 96 + body.height };
}

function linkLossPanel(r: NonNullable<BenchResults['linkLoss']>): Panel {
  const met = r.callback.p99 <= 5;
  let s = header(
    'Link loss → ETHERNET_STOPPED_NO_LINK callback',
    { met, text: `callback p99 ${fmtMs(r.callback.p99)}; target ≤ 5 ms` },
    `${r.flaps} flaps: peer end set down by one RTM_NEWLINK; clock starts just before it is sent. Bar: median, whisker: p95, ◆: p99.`,
  );
  const bars: HBar[] = [
    { label: 'kernel carrier-off event (floor)', s: r.kernelEvent, nicup: false, p99: true },
    { label: 'nicup callback: NO_LINK', s: r.callback, nicup: true, p99: true },
    { label: 'link back → CONNECTED again', s: r.reconnect, nicup: true, p99: true },
  ];
  const body = hbars(bars, { top: 96, log: false, targetAt: 5, targetLabel: 'target p99 ≤ 5 ms', unit: fmtMs, rowHeight: 30 });
  s += body.svg;
  return { svg: s, height: 96 + body.height };
}

/** Vertical grouped bars: groups of (nicup, other) with p95 whiskers. */
function vgroups(
  groups: { label: string; bars: { label: string; s: Summary; nicup: boolean }[]; note?: string[] }[],
  o: { left: number; right: number; top: number; height: number; unit: (v: number) => string; axisLabel: string; targetAt?: number; targetLabel?: string },
): string {
  const values = groups.flatMap((g) => g.bars.flatMap((b) => [b.s.median, b.s.p95])).filter(Number.isFinite);
  const ticks = linearTicks(Math.max(...values, o.targetAt ?? 0) * 1.05);
  const maxT = ticks[ticks.length - 1] ?? 1;
  const x0 = o.left + 50;
  const bottom = o.top + o.height;
  const yOf = (v: number) => bottom - (v / maxT) * o.height;
  let s = '';
  for (const t of ticks) {
    s += line(x0, yOf(t), o.right, yOf(t), COLORS.grid);
    s += text(x0 - 6, yOf(t) + 4, o.unit(t), { size: 10, anchor: 'end', color: COLORS.muted });
  }
  s += text(o.left, o.top - 12, o.axisLabel, { size: 11, color: COLORS.muted });
  const gw = (o.right - x0) / groups.length;
  groups.forEach((g, gi) => {
    const gx = x0 + gi * gw;
    const gap = 18;
    const bw = Math.min(46, (gw - 30 - gap * (g.bars.length - 1)) / g.bars.length);
    const start = gx + (gw - bw * g.bars.length - gap * (g.bars.length - 1)) / 2;
    g.bars.forEach((b, bi) => {
      const x = start + bi * (bw + gap);
      if (!Number.isFinite(b.s.median)) return;
      s += rect(x, yOf(b.s.median), bw, bottom - yOf(b.s.median), b.nicup ? COLORS.nicup : COLORS.peer, 'rx="2"');
      if (Number.isFinite(b.s.p95) && b.s.p95 !== b.s.median) {
        s += line(x + bw / 2, yOf(b.s.median), x + bw / 2, yOf(b.s.p95), COLORS.whisker, { width: 1.5 });
        s += line(x + bw / 2 - 5, yOf(b.s.p95), x + bw / 2 + 5, yOf(b.s.p95), COLORS.whisker, { width: 1.5 });
      }
      s += text(x + bw / 2, yOf(Math.max(b.s.median, Number.isFinite(b.s.p95) ? b.s.p95 : 0)) - 5, o.unit(b.s.median), { size: 10, anchor: 'middle', weight: b.nicup ? 'bold' : 'normal' });
      s += text(x + bw / 2, bottom + 13, b.label, { size: 10, anchor: 'middle', color: b.nicup ? COLORS.nicup : COLORS.peerDark });
    });
    s += text(gx + gw / 2, bottom + 29, g.label, { size: 12, anchor: 'middle', weight: 'bold' });
    (g.note ?? []).forEach((n, i) => (s += text(gx + gw / 2, bottom + 45 + i * 14, n, { size: 11, anchor: 'middle', color: COLORS.peerDark })));
  });
  if (o.targetAt !== undefined) {
    s += line(x0, yOf(o.targetAt), o.right, yOf(o.targetAt), COLORS.target, { width: 2, dash: '6,4' });
    if (o.targetLabel) s += text(x0 + 4, yOf(o.targetAt) - 4, o.targetLabel, { size: 11, color: COLORS.target });
  }
  return s;
}

function udpPanel(r: NonNullable<BenchResults['udp']>): Panel {
  const worst = Math.min(...r.rows.map((x) => x.ratio));
  let s = header(
    'UDP: nicup interface-bound socket vs plain node dgram',
    { met: worst >= 0.9, text: `lowest ratio ${worst.toFixed(2)}× dgram; target ≥ 0.9×` },
    `${fmtNum(r.count)} datagrams per loop, ${r.reps} repetition(s), same path and server. Median, whisker p95. Under each group: nicup ÷ dgram (rate; CPU per datagram).`,
  );
  const groups = r.rows.map((row) => ({
    label: `${row.direction} ${row.size} B`,
    note: [`rate ×${ratio(row.ratio)}`, `CPU ×${ratio(1 / row.cpuRatio)}`],
    bars: [
      { label: 'nicup', s: row.nicup.datagramsPerS, nicup: true },
      { label: 'dgram', s: row.dgram.datagramsPerS, nicup: false },
    ],
  }));
  s += vgroups(groups, { left: MARGIN, right: 660, top: 110, height: 200, unit: fmtNum, axisLabel: 'datagrams per second (higher is better)' });
  // Round trips on the right.
  const rtt = [
    { label: 'nicup', s: r.rtt.nicup, nicup: true },
    { label: 'dgram', s: r.rtt.dgram, nicup: false },
  ];
  s += vgroups([{ label: 'round trip 64 B', note: [`p50: nicup ×${ratio(r.rtt.ratioP50)}`, `p99: nicup ×${ratio(r.rtt.ratioP99)}`], bars: rtt }], {
    left: 720,
    right: WIDTH - MARGIN,
    top: 110,
    height: 200,
    unit: (v) => `${Math.round(v)} µs`,
    axisLabel: 'round trip (lower is better)',
  });
  return { svg: s, height: 390 };
}

function memoryPanel(r: NonNullable<BenchResults['memory']>): Panel {
  const flat = isFlat(r.sim) && isFlat(r.lab);
  const clean = leavesNothing(r.sim) && leavesNothing(r.lab);
  const met = r.overheadMb <= 10 && flat;
  let s = header(
    'Memory',
    { met, text: `RSS +${r.overheadMb.toFixed(1)} MB for one interface (target ≤ 10); over cycles: ${flat ? 'flat' : clean ? 'nothing retained, but RSS grows (V8 heap sizing)' : 'NOT flat'}` },
    'Left: RSS after GC, separate processes, same flags (median, whisker p95). Right: RSS and heap along open/close cycles.',
  );
  s += vgroups(
    [
      {
        label: 'RSS',
        note: [`nicup holds one interface:`, `+${r.overheadMb.toFixed(1)} MB`],
        bars: [
          { label: 'bare', s: r.bareRssMb, nicup: false },
          { label: 'nicup', s: r.holdRssMb, nicup: true },
        ],
      },
    ],
    { left: MARGIN, right: 290, top: 110, height: 190, unit: (v) => `${Math.round(v)} MB`, axisLabel: 'resident set size', targetAt: r.bareRssMb.median + 10, targetLabel: 'bare + 10 MB' },
  );
  const plot = (c: typeof r.sim, title: string, left: number, right: number): string => {
    const top = 130;
    const h = 190;
    const pts = c.curve;
    if (pts.length === 0) return '';
    const maxX = pts[pts.length - 1]![0];
    const maxY = Math.max(...pts.map((p) => p[1] / 2 ** 20)) * 1.1;
    const ticks = linearTicks(maxY, 4);
    const tMax = ticks[ticks.length - 1]!;
    const x0 = left + 44;
    const xOf = (v: number) => x0 + (v / maxX) * (right - x0);
    const yOf = (v: number) => top + h - (v / tMax) * h;
    let g = text(left, top - 34, title, { size: 12, weight: 'bold' });
    const sign = (v: number) => (v >= 0 ? '+' : '');
    g += text(left, top - 18, `heap in use ${sign(c.heapGrowthMb)}${c.heapGrowthMb.toFixed(2)} MB · RSS 2nd half ${sign(c.rssGrowthSecondHalfMb)}${c.rssGrowthSecondHalfMb.toFixed(1)} MB`, { size: 11, color: COLORS.muted });
    for (const t of ticks) {
      g += line(x0, yOf(t), right, yOf(t), COLORS.grid);
      g += text(x0 - 6, yOf(t) + 4, `${Math.round(t)} MB`, { size: 10, anchor: 'end', color: COLORS.muted });
    }
    for (const t of linearTicks(maxX, 4)) if (t <= maxX) g += text(xOf(t), top + h + 14, fmtNum(t), { size: 10, anchor: 'middle', color: COLORS.muted });
    g += polyline(pts.map((p) => [xOf(p[0]), yOf(p[1] / 2 ** 20)]), COLORS.nicup, 2);
    g += polyline(pts.map((p) => [xOf(p[0]), yOf(p[2] / 2 ** 20)]), COLORS.peerDark, 2);
    g += text(right, top + h + 28, 'open/close cycles', { size: 11, anchor: 'end', color: COLORS.muted });
    return g;
  };
  s += plot(r.sim, `simulator, ${fmtNum(r.sim.cycles)} cycles`, 330, 640);
  s += plot(r.lab, `real lab, ${fmtNum(r.lab.cycles)} cycles`, 680, WIDTH - MARGIN);
  s += text(360, 360, '— RSS', { size: 11, color: COLORS.nicup, weight: 'bold' });
  s += text(410, 360, '— heap used', { size: 11, color: COLORS.peerDark, weight: 'bold' });
  return { svg: s, height: 380 };
}

function scalePanel(r: NonNullable<BenchResults['scale']>): Panel {
  const big = r.rows.find((x) => x.interfaces === 256) ?? r.rows[r.rows.length - 1];
  const met = big !== undefined && big.interfaces === 256 && big.allConnectedMs.median <= 2000 && big.failures.length === 0;
  let s = header(
    'Scale: N interfaces opened at once, one Network',
    big
      ? big.interfaces === 256
        ? { met, text: `256 CONNECTED in ${fmtMs(big.allConnectedMs.median)}; target ≤ 2 s${big.failures.length ? `; ${big.failures.length} repeat(s) failed` : ''}` }
        : { met, neutral: true, text: `256 not run (quick mode); ${big.interfaces} CONNECTED in ${fmtMs(big.allConnectedMs.median)}` }
      : undefined,
    'open() of the first → CONNECTED of the last; one veth pair and /24 per interface, one dnsmasq. Bar: median, whisker: p95 over repeats.',
  );
  const groups = r.rows.map((row) => ({
    label: `${row.interfaces} interface${row.interfaces === 1 ? '' : 's'}`,
    note: Number.isFinite(row.perInterfaceMs) ? [`${fmtMs(row.perInterfaceMs)} per interface`, `CPU ${fmtMs(row.cpuMsPerInterface)} per interface`] : [row.failures[0] ?? 'failed'],
    bars: [{ label: '', s: row.allConnectedMs, nicup: true }],
  }));
  s += vgroups(groups, { left: MARGIN, right: WIDTH - MARGIN, top: 110, height: 190, unit: fmtMs, axisLabel: 'time until all CONNECTED', targetAt: 2000, targetLabel: 'target: 256 in 2 s' });
  return { svg: s, height: 380 };
}

export function renderSvg(r: BenchResults): string {
  const panels: Panel[] = [];
  for (const c of r.bringup?.configs ?? []) {
    panels.push(bringupPanel(c, c.server === 'plain' ? 'Bring-up · server: plain DHCP (DISCOVER, OFFER, REQUEST, ACK)' : 'Bring-up · server: dnsmasq --dhcp-rapid-commit (DISCOVER, ACK)'));
  }
  if (r.linkLoss) panels.push(linkLossPanel(r.linkLoss));
  if (r.udp) panels.push(udpPanel(r.udp));
  if (r.memory) panels.push(memoryPanel(r.memory));
  if (r.scale) panels.push(scalePanel(r.scale));
  let y = 70;
  let body = '';
  for (const p of panels) {
    body += `<g transform="translate(0,${y})">${p.svg}</g>`;
    y += p.height + 30;
  }
  const title = `nicup benchmarks — ${r.quick ? 'QUICK smoke run' : 'full run'}, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
  const sub = `${r.machine.cpus} × ${r.machine.cpuModel}, Linux ${r.machine.kernel}, node ${r.machine.node}; host unchanged: ${r.host.unchanged ? 'yes' : 'NO'}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${text(MARGIN, 32, title, { size: 22, weight: 'bold' })}
${text(MARGIN, 52, sub, { size: 12, color: COLORS.muted })}
${body}
<!-- ${esc(`generated by bench/run.ts; numbers in latest.json`)} -->
</svg>
`;
}
