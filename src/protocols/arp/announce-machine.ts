/**
 * ARP announcements (RFC 5227 §2.3), sans I/O: having probed an address and found it free,
 * and having put it on the link, the host announces it — ANNOUNCE_NUM (2) announcements
 * ANNOUNCE_INTERVAL (2 s) apart, the first at once — so that other hosts replace stale
 * ARP cache entries for it. The driver owns the socket and the one timer: it feeds
 * `start`, `timer` and `cancel` in, and carries `send`, `setTimer`, `clearTimer` and
 * `done` out.
 *
 * Unlike the probe, announcing keeps the RFC's timing: it runs after the address is in use
 * and delays nothing. It is a machine of its own, not a tail of the probe machine, because
 * it starts on another event (the address configured, which the probe cannot see) and a
 * probe's verdict is final. Ongoing conflict detection and defence (§2.4) are not done.
 */
import type { ArpMachineAction } from './machine-action.js';
import { ArgumentError } from '../../errors.js';
import { encodeAnnouncement, ipv4Bytes, macBytes } from './packet-codec.js';

/** RFC 5227 §1.1. */
export const RFC_ANNOUNCE_NUM = 2;
export const RFC_ANNOUNCE_INTERVAL_MS = 2000;
export const MAX_ANNOUNCEMENTS = 10;

export interface AnnounceConfig {
  /** Our hardware address: the announcements' sender. */
  mac: string;
  /** The address now in use on the link. */
  address: string;
  /** Announcements to send; default 2 (ANNOUNCE_NUM). */
  count?: number;
  /** Least time between two announcements; default 2000 (ANNOUNCE_INTERVAL). */
  intervalMs?: number;
}

export interface ResolvedAnnounceConfig {
  readonly mac: string;
  readonly address: string;
  readonly count: number;
  readonly intervalMs: number;
}

export type AnnounceStateName = 'idle' | 'announcing' | 'done';

export interface AnnounceResult {
  /** Announcements sent. */
  sent: number;
  /** Stopped by `cancel` before all were sent. */
  cancelled: boolean;
}

export interface AnnounceState {
  readonly name: AnnounceStateName;
  readonly config: ResolvedAnnounceConfig;
  readonly sent: number;
  /** When the next announcement is due; undefined before start and after the last. */
  readonly nextAtMs: number | undefined;
  readonly timerAtMs: number | undefined;
  readonly result: AnnounceResult | undefined;
  /** Inputs that came in the wrong state (a start twice, a timer after done). */
  readonly ignored: number;
}

export type AnnounceInput = { type: 'start' } | { type: 'timer' } | { type: 'cancel' };

/** `announcement` counts from 1; `done` comes when all are sent, or cancelled. */
export type AnnounceAction = ArpMachineAction<AnnounceResult, { announcement: number }>;

export interface AnnounceStepResult {
  state: AnnounceState;
  actions: AnnounceAction[];
}

/** Checks the config (ArgumentError naming the field) and returns a machine in `idle`. */
export function createAnnouncer(config: AnnounceConfig): AnnounceState {
  const c = config;
  if (!macBytes(c.mac)) throw new ArgumentError('mac: must be a MAC address like 02:00:00:00:00:01', { field: 'mac' });
  const ip = ipv4Bytes(c.address);
  if (!ip || ip[0] === 0 || ip[0]! >= 224) throw new ArgumentError('address: must be a unicast dotted-quad IPv4 address', { field: 'address' });
  const count = c.count ?? RFC_ANNOUNCE_NUM;
  if (!Number.isInteger(count) || count < 1 || count > MAX_ANNOUNCEMENTS) {
    throw new ArgumentError(`count: must be an integer from 1 to ${MAX_ANNOUNCEMENTS}`, { field: 'count' });
  }
  const intervalMs = c.intervalMs ?? RFC_ANNOUNCE_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new ArgumentError('intervalMs: must be a finite number of at least 0', { field: 'intervalMs' });
  return {
    name: 'idle',
    config: { mac: c.mac.toLowerCase(), address: c.address, count, intervalMs },
    sent: 0,
    nextAtMs: undefined,
    timerAtMs: undefined,
    result: undefined,
    ignored: 0,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Work {
  s: Mutable<AnnounceState>;
  actions: AnnounceAction[];
  nowMs: number;
}

/** One input in, the next state and the actions out. Never throws. */
export function stepAnnouncer(state: AnnounceState, input: AnnounceInput, nowMs: number): AnnounceStepResult {
  const w: Work = { s: { ...state }, actions: [], nowMs };
  try {
    switch (input.type) {
      case 'start':
        onStart(w);
        break;
      case 'timer':
        w.s.timerAtMs = undefined;
        break;
      case 'cancel':
        onCancel(w);
        break;
    }
    if (w.s.name === 'announcing') sendDue(w);
    armTimer(w);
  } catch (e) {
    // A bug must not wedge the caller: keep the state from before the input.
    return { state: { ...state, ignored: state.ignored + 1 }, actions: [{ type: 'log', message: `arp announce: internal error: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  return { state: w.s, actions: w.actions };
}

function onStart(w: Work): void {
  if (w.s.name !== 'idle') {
    w.s.ignored += 1;
    w.actions.push({ type: 'log', message: `arp announce: start ignored in ${w.s.name}` });
    return;
  }
  w.s.name = 'announcing';
  w.s.nextAtMs = w.nowMs;
}

function onCancel(w: Work): void {
  if (w.s.name === 'done') {
    w.s.ignored += 1;
    return;
  }
  finish(w, true);
}

/**
 * Sends the announcement that is due. The next is due `intervalMs` after the one actually
 * sent, not after the one planned: a late timer (a blocked event loop) must not bunch them
 * up, since the spacing is what gives a lost frame a second chance (§2.3).
 */
function sendDue(w: Work): void {
  const s = w.s;
  if (s.nextAtMs === undefined || s.nextAtMs > w.nowMs) return;
  s.sent += 1;
  w.actions.push({ type: 'send', data: encodeAnnouncement(s.config.mac, s.config.address), announcement: s.sent });
  if (s.sent >= s.config.count) finish(w, false);
  else s.nextAtMs = w.nowMs + s.config.intervalMs;
}

function finish(w: Work, cancelled: boolean): void {
  // The timer goes first: nothing follows `done`.
  if (w.s.timerAtMs !== undefined) {
    w.actions.push({ type: 'clearTimer' });
    w.s.timerAtMs = undefined;
  }
  w.s.name = 'done';
  w.s.nextAtMs = undefined;
  w.s.result = { sent: w.s.sent, cancelled };
  w.actions.push({ type: 'done', result: w.s.result });
}

function armTimer(w: Work): void {
  const s = w.s;
  const next = s.name === 'announcing' ? s.nextAtMs : undefined;
  if (next === s.timerAtMs) return;
  w.actions.push(next === undefined ? { type: 'clearTimer' } : { type: 'setTimer', atMs: next });
  s.timerAtMs = next;
}
