/**
 * Address conflict detection (RFC 5227 §2.1), sans I/O: before using an address, send ARP
 * probes for it and listen; any answer from another host means the address is in use.
 * The driver owns the socket and the one timer: it feeds `start`, `timer` and received
 * packets in, and carries `send`, `setTimer`, `clearTimer` and `done` out.
 *
 * Timing departs from the RFC on purpose. RFC 5227 §1.1 waits PROBE_WAIT (0–1 s), sends
 * PROBE_NUM (3) probes PROBE_MIN–PROBE_MAX (1–2 s) apart, then waits ANNOUNCE_WAIT (2 s):
 * 3–7 s before an address may be used, which defeats a bring-up measured in milliseconds.
 * On a LAN an ARP answer takes well under a millisecond (a sleeping WiFi station a DTIM
 * period, ~100–300 ms), so nicup squeezes the same shape into `timeoutMs` (default 400):
 * the first probe at once (no PROBE_WAIT: it only spreads hosts powered on together, and
 * the DHCP exchange before it already does), the others at random gaps in the first half,
 * and the verdict at `timeoutMs` — at least half of it after the last probe.
 */
import type { ArpMachineAction } from './machine-action.js';
import { ArgumentError } from '../../errors.js';
import { decodeArp, encodeProbe, ipv4Bytes, isConflict, macBytes } from './packet-codec.js';

/** RFC 5227 §1.1 constants, for reference and for callers who want the RFC's schedule. */
export const RFC_PROBE_WAIT_MS = 1000;
export const RFC_PROBE_NUM = 3;
export const RFC_PROBE_MIN_MS = 1000;
export const RFC_PROBE_MAX_MS = 2000;
export const RFC_ANNOUNCE_WAIT_MS = 2000;

/** nicup's defaults (see the module comment). */
export const DEFAULT_PROBE_TIMEOUT_MS = 400;
export const DEFAULT_PROBES = RFC_PROBE_NUM;
export const MAX_PROBES = 10;

export interface ProbeConfig {
  /** Our hardware address: the probes' sender, and how our own looped-back packets are told apart. */
  mac: string;
  /** The address to test. */
  address: string;
  /** How long the probe lasts when no one answers; default 400. */
  timeoutMs?: number;
  /** Probes to send; default 3 (PROBE_NUM). */
  probes?: number;
  /** Uniform in [0, 1): gap jitter. */
  random: () => number;
}

export interface ResolvedProbeConfig {
  readonly mac: string;
  readonly address: string;
  readonly timeoutMs: number;
  readonly probes: number;
  readonly random: () => number;
}

export interface ProbeResult {
  inUse: boolean;
  /** The MAC of the host that holds (or also probes for) the address. */
  by?: string;
}

export type ProbeStateName = 'idle' | 'probing' | 'done';

export type ProbeDropReason = 'not-probing' | 'decode' | 'internal-error';

export interface ProbeStats {
  readonly received: number;
  /** Well-formed ARP packets that say nothing about the address (other hosts' traffic). */
  readonly unrelated: number;
  readonly dropped: number;
  readonly droppedBy: Readonly<Partial<Record<ProbeDropReason, number>>>;
}

export interface ProbeState {
  readonly name: ProbeStateName;
  readonly config: ResolvedProbeConfig;
  /** When each probe is due (absolute), fixed at start. */
  readonly probeAtMs: readonly number[];
  /** Probes sent so far. */
  readonly sent: number;
  /** The verdict "free" is due then. */
  readonly endAtMs: number | undefined;
  readonly result: ProbeResult | undefined;
  readonly timerAtMs: number | undefined;
  readonly stats: ProbeStats;
}

export type ProbeInput = { type: 'start' } | { type: 'timer' } | { type: 'packet'; data: Uint8Array };

/** `probe` counts from 1; `done` carries the verdict. */
export type ProbeAction = ArpMachineAction<ProbeResult, { probe: number }>;

export interface ProbeStepResult {
  state: ProbeState;
  actions: ProbeAction[];
}

/**
 * When each probe goes out, as offsets from the start: the first at 0, each next one a
 * random gap of [g/2, g] later, g = timeoutMs / 2 / (probes - 1) — so the last probe is
 * sent by timeoutMs / 2 and at least half the budget is left to hear an answer.
 */
export function probeOffsetsMs(timeoutMs: number, probes: number, random: () => number): number[] {
  const offsets = [0];
  if (probes <= 1) return offsets;
  const gapMs = timeoutMs / 2 / (probes - 1);
  for (let i = 1; i < probes; i++) {
    const r = Math.min(Math.max(Number(random()) || 0, 0), 1);
    offsets.push(offsets[i - 1]! + gapMs / 2 + (gapMs / 2) * r);
  }
  return offsets;
}

/** Checks the config (ArgumentError naming the field) and returns a machine in `idle`. */
export function createProbe(config: ProbeConfig): ProbeState {
  const c = config;
  if (!macBytes(c.mac)) throw new ArgumentError('mac: must be a MAC address like 02:00:00:00:00:01', { field: 'mac' });
  const ip = ipv4Bytes(c.address);
  if (!ip || ip[0] === 0 || ip[0]! >= 224) throw new ArgumentError('address: must be a unicast dotted-quad IPv4 address', { field: 'address' });
  const timeoutMs = c.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1) throw new ArgumentError('timeoutMs: must be a finite number of at least 1', { field: 'timeoutMs' });
  const probes = c.probes ?? DEFAULT_PROBES;
  if (!Number.isInteger(probes) || probes < 1 || probes > MAX_PROBES) {
    throw new ArgumentError(`probes: must be an integer from 1 to ${MAX_PROBES}`, { field: 'probes' });
  }
  if (typeof c.random !== 'function') throw new ArgumentError('random: must be a function returning [0, 1)', { field: 'random' });
  return {
    name: 'idle',
    config: { mac: c.mac.toLowerCase(), address: c.address, timeoutMs, probes, random: c.random },
    probeAtMs: [],
    sent: 0,
    endAtMs: undefined,
    result: undefined,
    timerAtMs: undefined,
    stats: { received: 0, unrelated: 0, dropped: 0, droppedBy: {} },
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Work {
  s: Mutable<Omit<ProbeState, 'stats'>> & { stats: Mutable<Omit<ProbeStats, 'droppedBy'>> & { droppedBy: Partial<Record<ProbeDropReason, number>> } };
  actions: ProbeAction[];
  nowMs: number;
}

/** One input in, the next state and the actions out. Never throws. */
export function step(state: ProbeState, input: ProbeInput, nowMs: number): ProbeStepResult {
  const w: Work = { s: { ...state, stats: { ...state.stats, droppedBy: { ...state.stats.droppedBy } } }, actions: [], nowMs };
  try {
    switch (input.type) {
      case 'start':
        onStart(w);
        break;
      case 'timer':
        w.s.timerAtMs = undefined;
        break;
      case 'packet':
        onPacket(w, input.data);
        break;
    }
    if (w.s.name === 'probing') runDue(w);
    armTimer(w);
  } catch (e) {
    // A bug must not wedge the caller: count it and keep the state from before the input.
    const droppedBy = { ...state.stats.droppedBy, 'internal-error': (state.stats.droppedBy['internal-error'] ?? 0) + 1 };
    const kept: ProbeState = { ...state, stats: { ...state.stats, dropped: state.stats.dropped + 1, droppedBy } };
    return { state: kept, actions: [{ type: 'log', message: `arp probe: internal error: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  return { state: w.s, actions: w.actions };
}

function drop(w: Work, reason: ProbeDropReason): void {
  w.s.stats.dropped += 1;
  w.s.stats.droppedBy[reason] = (w.s.stats.droppedBy[reason] ?? 0) + 1;
}

function onStart(w: Work): void {
  if (w.s.name !== 'idle') {
    w.actions.push({ type: 'log', message: `arp probe: start ignored in ${w.s.name}` });
    return;
  }
  const { timeoutMs, probes, random } = w.s.config;
  w.s.probeAtMs = probeOffsetsMs(timeoutMs, probes, random).map((o) => w.nowMs + o);
  w.s.endAtMs = w.nowMs + timeoutMs;
  w.s.name = 'probing';
}

function onPacket(w: Work, data: Uint8Array): void {
  w.s.stats.received += 1;
  if (w.s.name !== 'probing') return drop(w, 'not-probing');
  const r = decodeArp(data);
  if (!r.ok) return drop(w, 'decode');
  if (!isConflict(r.packet, w.s.config.address, w.s.config.mac)) {
    w.s.stats.unrelated += 1;
    return;
  }
  const what = r.packet.senderIp === w.s.config.address ? `${r.packet.operation} from ${r.packet.senderIp}` : 'probe for it';
  w.actions.push({ type: 'log', message: `arp probe: ${w.s.config.address} is in use: ${what} by ${r.packet.senderMac}` });
  finish(w, { inUse: true, by: r.packet.senderMac });
}

/** Sends the probes that are due, then gives the verdict "free" when the time is up. */
function runDue(w: Work): void {
  const s = w.s;
  while (s.sent < s.probeAtMs.length && s.probeAtMs[s.sent]! <= w.nowMs) {
    s.sent += 1;
    w.actions.push({ type: 'send', data: encodeProbe(s.config.mac, s.config.address), probe: s.sent });
    // A late timer (a blocked event loop) must not shorten the time left to hear an answer.
    if (s.sent === s.probeAtMs.length) s.endAtMs = Math.max(s.endAtMs ?? 0, w.nowMs + listenAfterLastMs(s.config));
  }
  if (s.sent === s.probeAtMs.length && s.endAtMs !== undefined && s.endAtMs <= w.nowMs) finish(w, { inUse: false });
}

/** The least time left after the last probe: half the budget (all of it for a single probe). */
function listenAfterLastMs(c: ResolvedProbeConfig): number {
  return c.probes > 1 ? c.timeoutMs / 2 : c.timeoutMs;
}

function finish(w: Work, result: ProbeResult): void {
  w.s.name = 'done';
  w.s.result = result;
  w.actions.push({ type: 'done', result });
}

function armTimer(w: Work): void {
  const s = w.s;
  const next = s.name !== 'probing' ? undefined : s.sent < s.probeAtMs.length ? s.probeAtMs[s.sent] : s.endAtMs;
  if (next === s.timerAtMs) return;
  w.actions.push(next === undefined ? { type: 'clearTimer' } : { type: 'setTimer', atMs: next });
  s.timerAtMs = next;
}
