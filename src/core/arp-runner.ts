/**
 * Runs the sans-I/O ARP machines (RFC 5227 probe and announcements) over any ArpIo, owning
 * their one timer: the Linux platform gives them a packet socket (platform/linux/arp.ts),
 * the simulator its segments (platform/sim/platform.ts).
 */
import type { Clock, TimerHandle } from './clock.js';
import { ClosedError } from '../errors.js';
import {
  createAnnouncer,
  createProbe,
  step,
  stepAnnouncer,
  type AnnounceResult,
  type AnnounceState,
  type ArpMachineAction,
  type ProbeResult,
  type ProbeState,
} from '../protocols/arp/index.js';

/** What the probe runner needs from a socket; the Linux one is ArpSocket, tests pass a fake. */
export interface ArpIo {
  /** Sends one ARP body to the broadcast MAC. Throws on a failure the probe cannot go on after. */
  send(data: Uint8Array): void;
  onPacket(listener: (data: Uint8Array) => void): void;
  close(): void;
}

export interface RunProbeParams {
  io: ArpIo;
  clock: Clock;
  mac: string;
  address: string;
  timeoutMs: number;
  probes?: number;
  random?: () => number;
  /** Aborting closes the socket and rejects with ClosedError (platform disposed). */
  signal?: AbortSignal;
  log?: (message: string) => void;
}

/**
 * Runs one probe to its verdict over `io`, owning the one timer; `io` is closed when it
 * settles, whatever the outcome.
 */
export function runProbe(p: RunProbeParams): Promise<ProbeResult> {
  let state: ProbeState;
  try {
    state = createProbe({ mac: p.mac, address: p.address, timeoutMs: p.timeoutMs, random: p.random ?? Math.random, ...(p.probes !== undefined ? { probes: p.probes } : {}) });
  } catch (e) {
    p.io.close();
    return Promise.reject(e);
  }
  return runMachine({
    io: p.io,
    clock: p.clock,
    state,
    step,
    start: { type: 'start' },
    timer: { type: 'timer' },
    packet: (data) => ({ type: 'packet' as const, data }),
    signals: p.signal ? [p.signal] : [],
    abort: { error: () => new ClosedError(`probe ${p.address}: platform disposed`) },
    ...(p.log ? { log: p.log } : {}),
  });
}

interface MachineRun<S, I, R> {
  io: ArpIo;
  clock: Clock;
  state: S;
  step(state: S, input: I, nowMs: number): { state: S; actions: readonly ArpMachineAction<R>[] };
  start: I;
  timer: I;
  /** Received packets as the machine's input (a machine that only sends has none). */
  packet?: (data: Uint8Array) => I;
  signals: readonly AbortSignal[];
  /** On abort: an input the machine settles on by itself, or an error to reject with. */
  abort: { input: I } | { error: () => Error };
  log?: (message: string) => void;
}

/**
 * Runs an ARP machine to its `done` over `io`, owning the one timer; `io` is closed when it
 * settles, whatever the outcome. A send failure (the link gone) rejects with it.
 */
function runMachine<S, I, R>(m: MachineRun<S, I, R>): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let state = m.state;
    let timer: TimerHandle | undefined;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      m.clock.clearTimeout(timer);
      timer = undefined;
      for (const s of m.signals) s.removeEventListener('abort', onAbort);
      m.io.close();
      fn();
    };
    const abort = m.abort;
    const onAbort = () => ('input' in abort ? input(abort.input) : settle(() => reject(abort.error())));
    const input = (i: I) => {
      if (settled) return;
      const r = m.step(state, i, m.clock.now());
      state = r.state;
      for (const a of r.actions) {
        switch (a.type) {
          case 'send':
            try {
              m.io.send(a.data);
            } catch (e) {
              settle(() => reject(e));
              return;
            }
            break;
          case 'setTimer':
            m.clock.clearTimeout(timer);
            timer = m.clock.setTimeout(() => {
              timer = undefined;
              input(m.timer);
            }, a.atMs - m.clock.now());
            break;
          case 'clearTimer':
            m.clock.clearTimeout(timer);
            timer = undefined;
            break;
          case 'done':
            settle(() => resolve(a.result));
            return;
          case 'log':
            m.log?.(a.message);
            break;
        }
      }
    };
    if (m.signals.some((s) => s.aborted)) {
      onAbort();
      return;
    }
    for (const s of m.signals) s.addEventListener('abort', onAbort, { once: true });
    const packet = m.packet;
    if (packet) m.io.onPacket((data) => input(packet(data)));
    input(m.start);
  });
}

export interface RunAnnouncementsParams {
  io: ArpIo;
  clock: Clock;
  mac: string;
  address: string;
  /** Default 2 (RFC 5227 ANNOUNCE_NUM). */
  count?: number;
  /** Default 2000 (RFC 5227 ANNOUNCE_INTERVAL). */
  intervalMs?: number;
  /**
   * Any of them aborting cancels the announcements not yet sent: resolves `{ sent,
   * cancelled: true }`. A list, not AbortSignal.any: that leaks on a long-lived signal
   * (nodejs/node#55351), and the platform's dispose signal lives as long as the platform.
   */
  signals?: readonly AbortSignal[];
  log?: (message: string) => void;
}

/**
 * Sends the RFC 5227 §2.3 announcements over `io`, owning the one timer; `io` is closed at
 * the end, whatever it is. A send failure (the link gone) rejects with it.
 */
export function runAnnouncements(p: RunAnnouncementsParams): Promise<AnnounceResult> {
  let state: AnnounceState;
  try {
    state = createAnnouncer({
      mac: p.mac,
      address: p.address,
      ...(p.count !== undefined ? { count: p.count } : {}),
      ...(p.intervalMs !== undefined ? { intervalMs: p.intervalMs } : {}),
    });
  } catch (e) {
    p.io.close();
    return Promise.reject(e);
  }
  return runMachine({
    io: p.io,
    clock: p.clock,
    state,
    step: stepAnnouncer,
    start: { type: 'start' },
    timer: { type: 'timer' },
    signals: p.signals ?? [],
    abort: { input: { type: 'cancel' } },
    ...(p.log ? { log: p.log } : {}),
  });
}
