/**
 * DHCPv4 client timing: every deadline the client machine arms comes from one of these
 * small functions, each quoting the RFC 2131 section it implements and saying where nicup
 * departs from it. Pure: time and randomness are passed in.
 */
import { INFINITE_LEASE_S } from './message-codec.js';

/** RFC 2131 §4.1: "...a delay of 4 seconds before the first retransmission". */
export const RFC_INITIAL_RETRANSMIT_MS = 4_000;
/** RFC 2131 §4.1: "...doubled ... up to a maximum of 64 seconds". */
export const RFC_MAX_RETRANSMIT_MS = 64_000;
/** RFC 2131 §4.1: "randomized by the value of a uniform random number chosen from the range -1 to +1" (seconds). */
export const RFC_RETRANSMIT_JITTER_MS = 1_000;
/** RFC 2131 §4.4.5: renew/rebind retransmission waits "down to a minimum of 60 seconds". */
export const RFC_MIN_RENEW_RETRY_MS = 60_000;
/** RFC 2131 §3.1.5: after a DECLINE, "wait a minimum of ten seconds before restarting". */
export const RFC_DECLINE_WAIT_MS = 10_000;

export interface RetransmitPolicy {
  /** Delay before the first retransmission (RFC: 4 s). */
  initialMs: number;
  /** Cap of the doubling (RFC: 64 s). */
  maxMs: number;
}

/**
 * Delay before retransmitting DISCOVER / REQUEST (SELECTING, REQUESTING, REBOOTING).
 * RFC 2131 §4.1: 4 s, doubled on each retransmission up to 64 s, each ±1 s at random.
 *
 * Departures: the initial delay is configurable (nicup wants fast bring-up and may start
 * at 1 s or less), and the jitter is ±min(1 s, base/4) so a short base is not swamped by
 * a full second of jitter. With the RFC's 4 s start both rules give the RFC's numbers.
 *
 * @param attempt 0 for the delay after the first transmission, 1 after the second, …
 * @param random uniform in [0, 1)
 */
export function retransmitDelayMs(attempt: number, policy: RetransmitPolicy, random: () => number): number {
  const doublings = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const baseMs = Math.min(policy.initialMs * 2 ** doublings, policy.maxMs);
  const jitterMs = Math.min(RFC_RETRANSMIT_JITTER_MS, baseMs / 4);
  const delayMs = baseMs + (clampUnit(random()) * 2 - 1) * jitterMs;
  return Math.max(1, Math.round(delayMs));
}

/** A misbehaving random source must not make a deadline NaN. */
function clampUnit(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 1) : 0.5;
}

/** RFC 2131 §4.4.5: "T1 defaults to (0.5 * duration_of_lease)". */
export function defaultT1S(leaseTimeS: number): number {
  return Math.floor(leaseTimeS * 0.5);
}

/** RFC 2131 §4.4.5: "T2 defaults to (0.875 * duration_of_lease)". */
export function defaultT2S(leaseTimeS: number): number {
  return Math.floor(leaseTimeS * 0.875);
}

/**
 * T1 and T2 for a lease: the server's values when they make sense, else the §4.4.5
 * defaults. The RFC does not say what to do with T1 ≥ T2 or T2 ≥ lease; like systemd we
 * fall back to the defaults rather than renew after the lease is gone.
 */
export function leaseTimersS(leaseTimeS: number, serverT1S?: number, serverT2S?: number): { t1S: number; t2S: number } {
  if (leaseTimeS === INFINITE_LEASE_S) return { t1S: INFINITE_LEASE_S, t2S: INFINITE_LEASE_S };
  let t2S = serverT2S !== undefined && serverT2S < leaseTimeS ? serverT2S : defaultT2S(leaseTimeS);
  let t1S = serverT1S !== undefined && serverT1S < t2S ? serverT1S : defaultT1S(leaseTimeS);
  if (t1S >= t2S) {
    t1S = defaultT1S(leaseTimeS);
    t2S = defaultT2S(leaseTimeS);
  }
  return { t1S, t2S };
}

export interface LeaseDeadlines {
  t1AtMs: number;
  t2AtMs: number;
  expiryAtMs: number;
}

/**
 * Absolute deadlines of a lease. RFC 2131 §4.4.1: the lease runs from the time the
 * client sent the request that was acknowledged (`acquiredAtMs`), not from the ACK.
 * An infinite lease (RFC 2131 §3.3, 0xffffffff) has no deadlines.
 */
export function leaseDeadlines(lease: { acquiredAtMs: number; leaseTimeS: number; t1S: number; t2S: number }): LeaseDeadlines | undefined {
  if (lease.leaseTimeS === INFINITE_LEASE_S) return undefined;
  return {
    t1AtMs: lease.acquiredAtMs + lease.t1S * 1000,
    t2AtMs: lease.acquiredAtMs + lease.t2S * 1000,
    expiryAtMs: lease.acquiredAtMs + lease.leaseTimeS * 1000,
  };
}

/**
 * When to retransmit a REQUEST in RENEWING (deadline = T2) or REBINDING (deadline = lease
 * expiry). RFC 2131 §4.4.5: wait "one-half of the remaining time ... down to a minimum of
 * 60 seconds". When less than the minimum remains, the next event is the deadline itself.
 * The minimum is configurable so tests and short lab leases need not wait a minute.
 */
export function renewRetransmitAtMs(nowMs: number, deadlineMs: number, minRetryMs: number): number {
  const remainingMs = deadlineMs - nowMs;
  if (remainingMs <= minRetryMs) return deadlineMs;
  return nowMs + Math.max(minRetryMs, Math.floor(remainingMs / 2));
}

/**
 * Delay before restarting discovery after a NAK. RFC 2131 §3.1 step 5 restarts at once;
 * a server that NAKs every REQUEST would then loop DISCOVER/REQUEST/NAK at full speed, so
 * (as systemd does) the first restart is immediate and consecutive NAKs back off along
 * the retransmission curve, without jitter.
 *
 * @param consecutiveNaks NAKs received since the last BOUND, counting this one (≥ 1)
 */
export function nakRestartDelayMs(consecutiveNaks: number, policy: RetransmitPolicy): number {
  if (consecutiveNaks <= 1) return 0;
  const doublings = Math.min(consecutiveNaks - 2, 30);
  return Math.min(policy.initialMs * 2 ** doublings, policy.maxMs);
}

/** RFC 2131 §4.1 (table in §4.4.1): `secs` is the whole seconds since the client began acquiring, capped at 16 bits. */
export function secsSince(startMs: number, nowMs: number): number {
  return Math.min(0xffff, Math.max(0, Math.floor((nowMs - startMs) / 1000)));
}
