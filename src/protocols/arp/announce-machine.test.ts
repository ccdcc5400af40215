import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArgumentError } from '../../errors.js';
import { decodeArp } from './packet-codec.js';
import {
  createAnnouncer,
  RFC_ANNOUNCE_INTERVAL_MS,
  RFC_ANNOUNCE_NUM,
  stepAnnouncer,
  type AnnounceAction,
  type AnnounceConfig,
  type AnnounceInput,
  type AnnounceState,
} from './announce-machine.js';

/** NICUP_FUZZ_RUNS raises the number of fuzz cases for a long run. */
const FUZZ_RUNS = Number(process.env.NICUP_FUZZ_RUNS ?? '') || 300;
const OWN = '02:00:00:00:00:0a';
const ADDRESS = '192.168.77.10';

function machine(extra: Partial<AnnounceConfig> = {}): AnnounceState {
  return createAnnouncer({ mac: OWN, address: ADDRESS, ...extra });
}

type Timed = [number, AnnounceAction];

/** Feeds inputs at the given times; returns the final state and every action with its time. */
function run(state: AnnounceState, inputs: [number, AnnounceInput][]): { state: AnnounceState; actions: Timed[] } {
  const actions: Timed[] = [];
  for (const [at, input] of inputs) {
    const r = stepAnnouncer(state, input, at);
    state = r.state;
    for (const a of r.actions) actions.push([at, a]);
  }
  return { state, actions };
}

/** Drives the machine like a driver does: starts it, then fires the timer `lateMs` after it is due, until done. */
function runToEnd(state: AnnounceState, startMs: number, lateMs = 0): { state: AnnounceState; actions: Timed[] } {
  const all: Timed[] = [];
  let timerAt: number | undefined;
  const feed = (input: AnnounceInput, at: number) => {
    const r = stepAnnouncer(state, input, at);
    state = r.state;
    for (const a of r.actions) {
      all.push([at, a]);
      if (a.type === 'setTimer') timerAt = a.atMs;
      if (a.type === 'clearTimer') timerAt = undefined;
    }
  };
  feed({ type: 'start' }, startMs);
  while (state.name === 'announcing' && timerAt !== undefined) {
    const at = timerAt + lateMs;
    timerAt = undefined;
    feed({ type: 'timer' }, at);
  }
  return { state, actions: all };
}

const sends = (actions: Timed[]) => actions.filter(([, a]) => a.type === 'send') as [number, Extract<AnnounceAction, { type: 'send' }>][];
const dones = (actions: Timed[]) => actions.filter(([, a]) => a.type === 'done');

describe('ARP announce machine (RFC 5227 §2.3)', () => {
  test('the RFC schedule: ANNOUNCE_NUM (2) announcements, the first at once, the next ANNOUNCE_INTERVAL (2 s) later', () => {
    assert.equal(RFC_ANNOUNCE_NUM, 2);
    assert.equal(RFC_ANNOUNCE_INTERVAL_MS, 2000);
    const { state, actions } = runToEnd(machine(), 1000);
    assert.deepEqual(
      sends(actions).map(([at, a]) => [at, a.announcement]),
      [
        [1000, 1],
        [3000, 2],
      ],
    );
    assert.deepEqual(dones(actions), [[3000, { type: 'done', result: { sent: 2, cancelled: false } }]]);
    assert.equal(state.name, 'done');
    assert.equal(state.timerAtMs, undefined);
    // Nothing follows done.
    assert.equal(actions.at(-1)![1].type, 'done');
  });

  test('each announcement is a request with sender IP = target IP = the address, from our MAC', () => {
    const { actions } = runToEnd(machine({ mac: OWN.toUpperCase() }), 0);
    assert.equal(sends(actions).length, 2);
    for (const [, a] of sends(actions)) {
      const p = decodeArp(a.data);
      assert.ok(p.ok);
      assert.deepEqual(p.packet, { operation: 'request', senderMac: OWN, senderIp: ADDRESS, targetMac: '00:00:00:00:00:00', targetIp: ADDRESS });
    }
  });

  test('start sends the first at once and arms the timer for the second; the timer is the only wake-up', () => {
    const r = stepAnnouncer(machine(), { type: 'start' }, 50);
    assert.deepEqual(
      r.actions.map((a) => a.type),
      ['send', 'setTimer'],
    );
    assert.deepEqual(r.actions[1], { type: 'setTimer', atMs: 2050 });
    assert.equal(r.state.name, 'announcing');
    assert.equal(r.state.sent, 1);
  });

  test('an early timer sends nothing and re-arms for the due time', () => {
    const { state, actions } = run(machine(), [
      [0, { type: 'start' }],
      [1999, { type: 'timer' }],
    ]);
    assert.equal(sends(actions).length, 1);
    assert.deepEqual(actions.at(-1), [1999, { type: 'setTimer', atMs: 2000 }]);
    assert.equal(state.name, 'announcing');
  });

  test('a late timer: the next is due an interval after the one actually sent, never bunched up', () => {
    const { actions } = runToEnd(machine({ count: 3 }), 0, 700);
    assert.deepEqual(
      sends(actions).map(([at]) => at),
      [0, 2700, 5400],
    );
  });

  test('count and interval can be set; one announcement needs no timer', () => {
    const three = runToEnd(machine({ count: 3, intervalMs: 100 }), 0);
    assert.deepEqual(
      sends(three.actions).map(([at]) => at),
      [0, 100, 200],
    );
    const one = runToEnd(machine({ count: 1 }), 10);
    assert.deepEqual(
      one.actions.map(([at, a]) => [at, a.type]),
      [
        [10, 'send'],
        [10, 'done'],
      ],
    );
  });

  test('cancel between the two: the timer is cleared, done says 1 sent and cancelled, nothing more is sent', () => {
    const { state, actions } = run(machine(), [
      [0, { type: 'start' }],
      [500, { type: 'cancel' }],
      [2000, { type: 'timer' }],
      [2500, { type: 'start' }],
    ]);
    assert.equal(sends(actions).length, 1);
    const atCancel = actions.filter(([at]) => at === 500).map(([, a]) => a);
    assert.deepEqual(atCancel, [{ type: 'clearTimer' }, { type: 'done', result: { sent: 1, cancelled: true } }]);
    assert.equal(state.name, 'done');
    assert.deepEqual(state.result, { sent: 1, cancelled: true });
    assert.equal(state.timerAtMs, undefined);
    // The stray timer is nothing; the second start is logged and ignored.
    assert.deepEqual(
      actions.filter(([at]) => at > 500).map(([, a]) => a.type),
      ['log'],
    );
  });

  test('cancel before start sends nothing; cancel after the end changes nothing', () => {
    const before = run(machine(), [
      [0, { type: 'cancel' }],
      [1, { type: 'start' }],
    ]);
    assert.equal(sends(before.actions).length, 0);
    assert.deepEqual(before.state.result, { sent: 0, cancelled: true });
    const ended = runToEnd(machine(), 0).state;
    const after = stepAnnouncer(ended, { type: 'cancel' }, 5000);
    assert.deepEqual(after.actions, []);
    assert.deepEqual(after.state.result, { sent: 2, cancelled: false });
  });

  test('the config is checked: each bad field is an ArgumentError naming it', () => {
    const bad: [Partial<AnnounceConfig>, string][] = [
      [{ mac: 'nope' }, 'mac'],
      [{ address: '0.0.0.0' }, 'address'],
      [{ address: '255.255.255.255' }, 'address'],
      [{ address: '10.0.0' }, 'address'],
      [{ count: 0 }, 'count'],
      [{ count: 2.5 }, 'count'],
      [{ count: 11 }, 'count'],
      [{ intervalMs: -1 }, 'intervalMs'],
      [{ intervalMs: Number.NaN }, 'intervalMs'],
    ];
    for (const [extra, field] of bad) {
      assert.throws(() => machine(extra), (e: unknown) => e instanceof ArgumentError && e.field === field, `field ${field}`);
    }
  });

  test('any input sequence: never throws, at most `count` sends, each at least an interval after the last, one done, nothing but logs after it', () => {
    const input = fc.constantFrom<AnnounceInput>({ type: 'start' }, { type: 'timer' }, { type: 'cancel' });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3000 }), fc.array(fc.tuple(fc.nat({ max: 3000 }), input), { maxLength: 30 }), (count, intervalMs, steps) => {
        let s = machine({ count, intervalMs });
        let now = 0;
        const sentAt: number[] = [];
        let done = 0;
        for (const [dt, i] of steps) {
          now += dt;
          const r = stepAnnouncer(s, i, now);
          s = r.state;
          for (const a of r.actions) {
            if (done > 0) assert.equal(a.type, 'log', 'nothing but a log line after done');
            if (a.type === 'send') sentAt.push(now);
            if (a.type === 'done') done++;
          }
        }
        assert.ok(sentAt.length <= count);
        for (let k = 1; k < sentAt.length; k++) assert.ok(sentAt[k]! - sentAt[k - 1]! >= intervalMs);
        assert.equal(s.sent, sentAt.length);
        if (s.name === 'done') assert.equal(s.result?.sent, sentAt.length);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
