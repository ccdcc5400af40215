import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RFC_INITIAL_RETRANSMIT_MS,
  RFC_MAX_RETRANSMIT_MS,
  defaultT1S,
  defaultT2S,
  leaseDeadlines,
  leaseTimersS,
  nakRestartDelayMs,
  renewRetransmitAtMs,
  retransmitDelayMs,
  secsSince,
} from './timing.js';
import { INFINITE_LEASE_S } from './message-codec.js';

const rfc = { initialMs: RFC_INITIAL_RETRANSMIT_MS, maxMs: RFC_MAX_RETRANSMIT_MS };
const fixed = (x: number) => () => x;

describe('retransmitDelayMs (RFC 2131 §4.1)', () => {
  test('4 s doubling to 64 s without jitter at random 0.5', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6].map((n) => retransmitDelayMs(n, rfc, fixed(0.5)));
    assert.deepEqual(delays, [4_000, 8_000, 16_000, 32_000, 64_000, 64_000, 64_000]);
  });
  test('±1 s jitter at the ends of the random range', () => {
    assert.deepEqual([0, 4].map((n) => retransmitDelayMs(n, rfc, fixed(0))), [3_000, 63_000]);
    assert.deepEqual([0, 4].map((n) => retransmitDelayMs(n, rfc, fixed(0.999999))), [5_000, 65_000]);
  });
  test('a fast start (departure): 1 s doubling, jitter scaled to a quarter of the base', () => {
    const fast = { initialMs: 1_000, maxMs: 8_000 };
    assert.deepEqual([0, 1, 2, 3, 4].map((n) => retransmitDelayMs(n, fast, fixed(0.5))), [1_000, 2_000, 4_000, 8_000, 8_000]);
    assert.deepEqual([0, 1, 2, 3].map((n) => retransmitDelayMs(n, fast, fixed(0))), [750, 1_500, 3_000, 7_000]);
  });
  test('sub-second start stays positive', () => {
    assert.equal(retransmitDelayMs(0, { initialMs: 200, maxMs: 64_000 }, fixed(0)), 150);
    assert.equal(retransmitDelayMs(0, { initialMs: 1, maxMs: 1 }, fixed(0)), 1);
  });
  test('a broken random source does not make NaN', () => {
    assert.equal(retransmitDelayMs(0, rfc, fixed(Number.NaN)), 4_000);
    assert.equal(retransmitDelayMs(0, rfc, fixed(7)), 5_000);
  });
  test('huge attempt counts stay at the cap', () => {
    assert.equal(retransmitDelayMs(10_000, rfc, fixed(0.5)), 64_000);
  });
});

describe('T1 and T2 (RFC 2131 §4.4.5)', () => {
  test('defaults are 0.5 and 0.875 of the lease', () => {
    assert.equal(defaultT1S(3600), 1800);
    assert.equal(defaultT2S(3600), 3150);
    assert.equal(defaultT2S(7), 6);
  });
  test('server values are used when ordered', () => {
    assert.deepEqual(leaseTimersS(3600, 1000, 2000), { t1S: 1000, t2S: 2000 });
  });
  test('missing values take the defaults', () => {
    assert.deepEqual(leaseTimersS(3600), { t1S: 1800, t2S: 3150 });
    assert.deepEqual(leaseTimersS(3600, 600), { t1S: 600, t2S: 3150 });
    assert.deepEqual(leaseTimersS(3600, undefined, 3000), { t1S: 1800, t2S: 3000 });
  });
  test('nonsense falls back to the defaults', () => {
    assert.deepEqual(leaseTimersS(3600, 3000, 2000), { t1S: 1800, t2S: 2000 });
    assert.deepEqual(leaseTimersS(3600, 100, 4000), { t1S: 100, t2S: 3150 });
    assert.deepEqual(leaseTimersS(3600, 5000, 5000), { t1S: 1800, t2S: 3150 });
    assert.deepEqual(leaseTimersS(100, 900, 1000), { t1S: 50, t2S: 87 });
  });
  test('an infinite lease has infinite timers and no deadlines', () => {
    assert.deepEqual(leaseTimersS(INFINITE_LEASE_S, 10, 20), { t1S: INFINITE_LEASE_S, t2S: INFINITE_LEASE_S });
    assert.equal(leaseDeadlines({ acquiredAtMs: 5, leaseTimeS: INFINITE_LEASE_S, t1S: INFINITE_LEASE_S, t2S: INFINITE_LEASE_S }), undefined);
  });
  test('deadlines count from when the request was sent (§4.4.1)', () => {
    assert.deepEqual(leaseDeadlines({ acquiredAtMs: 1_000, leaseTimeS: 100, t1S: 50, t2S: 87 }), {
      t1AtMs: 51_000,
      t2AtMs: 88_000,
      expiryAtMs: 101_000,
    });
  });
});

describe('renewRetransmitAtMs (RFC 2131 §4.4.5)', () => {
  test('half of the remaining time', () => {
    assert.equal(renewRetransmitAtMs(0, 1_000_000, 60_000), 500_000);
    assert.equal(renewRetransmitAtMs(500_000, 1_000_000, 60_000), 750_000);
  });
  test('at least the minimum', () => {
    assert.equal(renewRetransmitAtMs(0, 100_000, 60_000), 60_000);
  });
  test('the deadline itself when less than the minimum remains', () => {
    assert.equal(renewRetransmitAtMs(50_000, 100_000, 60_000), 100_000);
    assert.equal(renewRetransmitAtMs(100_000, 100_000, 60_000), 100_000);
  });
  test('a short minimum for tests', () => {
    assert.equal(renewRetransmitAtMs(0, 10_000, 1_000), 5_000);
    assert.equal(renewRetransmitAtMs(9_500, 10_000, 1_000), 10_000);
  });
});

describe('other timing', () => {
  test('nakRestartDelayMs: first NAK restarts at once, then back-off', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => nakRestartDelayMs(n, rfc)), [0, 4_000, 8_000, 16_000, 32_000, 64_000, 64_000, 64_000]);
  });
  test('secsSince: whole seconds, never negative, at most 16 bits', () => {
    assert.equal(secsSince(1_000, 3_999), 2);
    assert.equal(secsSince(5_000, 1_000), 0);
    assert.equal(secsSince(0, 1e12), 0xffff);
  });
});
