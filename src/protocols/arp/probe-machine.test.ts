import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArgumentError } from '../../errors.js';
import { decodeArp, encodeArp, encodeProbe, encodeReply } from './packet-codec.js';
import { createProbe, probeOffsetsMs, step, type ProbeAction, type ProbeConfig, type ProbeInput, type ProbeState } from './probe-machine.js';

/** NICUP_FUZZ_RUNS raises the number of fuzz cases for a long run. */
const FUZZ_RUNS = Number(process.env.NICUP_FUZZ_RUNS ?? '') || 300;
const OWN = '02:00:00:00:00:0a';
const OTHER = '52:54:00:12:34:56';
const ADDRESS = '192.168.77.10';

function machine(extra: Partial<ProbeConfig> = {}, random = () => 0.5): ProbeState {
  return createProbe({ mac: OWN, address: ADDRESS, random, ...extra });
}

/** Feeds inputs at times; returns the final state and every action with its time. */
function run(state: ProbeState, inputs: [number, ProbeInput][]): { state: ProbeState; actions: [number, ProbeAction][] } {
  const actions: [number, ProbeAction][] = [];
  for (const [at, input] of inputs) {
    const r = step(state, input, at);
    state = r.state;
    for (const a of r.actions) actions.push([at, a]);
  }
  return { state, actions };
}

/** Drives the machine like a driver does: fires the timer when it is due, until done. */
function runToEnd(state: ProbeState, startMs: number, packets: [number, Uint8Array][] = []): { state: ProbeState; actions: [number, ProbeAction][] } {
  const all: [number, ProbeAction][] = [];
  let timerAt: number | undefined;
  const feed = (input: ProbeInput, at: number) => {
    const r = step(state, input, at);
    state = r.state;
    for (const a of r.actions) {
      all.push([at, a]);
      if (a.type === 'setTimer') timerAt = a.atMs;
      if (a.type === 'clearTimer') timerAt = undefined;
    }
  };
  feed({ type: 'start' }, startMs);
  const queue = [...packets];
  while (state.name === 'probing') {
    const next = queue[0];
    if (next && (timerAt === undefined || next[0] < timerAt)) {
      queue.shift();
      feed({ type: 'packet', data: next[1] }, next[0]);
    } else if (timerAt !== undefined) {
      const at = timerAt;
      timerAt = undefined;
      feed({ type: 'timer' }, at);
    } else {
      break;
    }
  }
  return { state, actions: all };
}

const sends = (actions: [number, ProbeAction][]) => actions.filter(([, a]) => a.type === 'send') as [number, Extract<ProbeAction, { type: 'send' }>][];
const dones = (actions: [number, ProbeAction][]) => actions.filter(([, a]) => a.type === 'done') as [number, Extract<ProbeAction, { type: 'done' }>][];

describe('ARP probe schedule (RFC 5227 §2.1.1, shortened)', () => {
  test('first probe at once, then gaps of [g/2, g], g = timeout / 2 / (probes - 1)', () => {
    assert.deepEqual(probeOffsetsMs(400, 3, () => 0), [0, 50, 100]);
    assert.deepEqual(probeOffsetsMs(400, 3, () => 0.999999).map(Math.round), [0, 100, 200]);
    assert.deepEqual(probeOffsetsMs(400, 5, () => 0.5), [0, 37.5, 75, 112.5, 150]);
    assert.deepEqual(probeOffsetsMs(400, 1, () => 0.5), [0]);
    // A misbehaving random source cannot push probes outside the window.
    assert.deepEqual(probeOffsetsMs(400, 3, () => 7), [0, 100, 200]);
    assert.deepEqual(probeOffsetsMs(400, 3, () => Number.NaN), [0, 50, 100]);
  });
});

describe('ARP probe machine', () => {
  test('no answer: three probes on schedule, then "free" exactly timeoutMs after the start', () => {
    const { state, actions } = runToEnd(machine({ timeoutMs: 400 }, () => 0.5), 1000);
    assert.deepEqual(
      sends(actions).map(([at, a]) => [at, a.probe]),
      [
        [1000, 1],
        [1075, 2],
        [1150, 3],
      ],
    );
    for (const [, a] of sends(actions)) assert.deepEqual(Buffer.from(a.data), Buffer.from(encodeProbe(OWN, ADDRESS)));
    assert.deepEqual(dones(actions), [[1400, { type: 'done', result: { inUse: false } }]]);
    assert.equal(state.name, 'done');
    assert.deepEqual(state.result, { inUse: false });
    // Timers: armed for each next probe and for the verdict, and no timer left afterwards.
    assert.deepEqual(
      actions.filter(([, a]) => a.type === 'setTimer').map(([, a]) => (a as { atMs: number }).atMs),
      [1075, 1150, 1400],
    );
    assert.equal(state.timerAtMs, undefined);
  });

  test('a reply from the holder ends the probe at once: in use, by its MAC, timer cleared', () => {
    const reply = encodeArp({ operation: 'reply', senderMac: OTHER, senderIp: ADDRESS, targetMac: OWN, targetIp: '0.0.0.0' });
    const { state, actions } = runToEnd(machine(), 0, [[1, reply]]);
    assert.equal(sends(actions).length, 1, 'one probe sent before the answer');
    assert.deepEqual(dones(actions), [[1, { type: 'done', result: { inUse: true, by: OTHER } }]]);
    assert.ok(actions.some(([, a]) => a.type === 'clearTimer'));
    assert.ok(actions.some(([, a]) => a.type === 'log' && a.message.includes(`${ADDRESS} is in use: reply from ${ADDRESS} by ${OTHER}`)));
    assert.equal(state.timerAtMs, undefined);
    // Whatever comes after the verdict is counted and dropped; nothing is sent.
    const after = run(state, [
      [2, { type: 'packet', data: reply }],
      [3, { type: 'timer' }],
    ]);
    assert.equal(after.state.stats.droppedBy['not-probing'], 1);
    assert.equal(sends(after.actions).length, 0);
    assert.equal(dones(after.actions).length, 0);
  });

  test('another host probing for the same address is a conflict; a reply after the last probe still counts', () => {
    const theirProbe = encodeProbe(OTHER, ADDRESS);
    const r1 = runToEnd(machine(), 0, [[60, theirProbe]]);
    assert.deepEqual(r1.state.result, { inUse: true, by: OTHER });
    const ourProbe = decodeArp(encodeProbe(OWN, ADDRESS));
    assert.ok(ourProbe.ok);
    const late = encodeReply(ourProbe.packet, OTHER, ADDRESS);
    const r2 = runToEnd(machine({ timeoutMs: 400 }, () => 0), 0, [[399, late]]);
    assert.equal(sends(r2.actions).length, 3);
    assert.deepEqual(r2.state.result, { inUse: true, by: OTHER });
  });

  test('our own looped-back probes, other hosts\' traffic and garbage do not end the probe', () => {
    const ownProbe = encodeProbe(OWN, ADDRESS);
    const unrelated = encodeArp({ operation: 'request', senderMac: OTHER, senderIp: '192.168.77.1', targetMac: '00:00:00:00:00:00', targetIp: '192.168.77.2' });
    const garbage = Uint8Array.of(1, 2, 3);
    const { state } = runToEnd(machine(), 0, [
      [0, ownProbe],
      [10, unrelated],
      [20, garbage],
    ]);
    assert.deepEqual(state.result, { inUse: false });
    assert.equal(state.stats.received, 3);
    assert.equal(state.stats.unrelated, 2);
    assert.deepEqual(state.stats.droppedBy, { decode: 1 });
  });

  test('a late timer sends the remaining probes but still listens half the budget after the last', () => {
    let s = machine({ timeoutMs: 400 }, () => 0);
    const r0 = step(s, { type: 'start' }, 0);
    s = r0.state;
    // The event loop was blocked: the timer for probe 2 (due at 50) fires at 500.
    const r1 = step(s, { type: 'timer' }, 500);
    assert.deepEqual(r1.actions.filter((a) => a.type === 'send').map((a) => (a as { probe: number }).probe), [2, 3]);
    assert.equal(r1.actions.some((a) => a.type === 'done'), false);
    assert.deepEqual(r1.actions.filter((a) => a.type === 'setTimer'), [{ type: 'setTimer', atMs: 700 }]);
    const r2 = step(r1.state, { type: 'timer' }, 700);
    assert.deepEqual(r2.state.result, { inUse: false });
  });

  test('one probe: the whole budget is listening time', () => {
    const { actions } = runToEnd(machine({ probes: 1, timeoutMs: 100 }), 0);
    assert.equal(sends(actions).length, 1);
    assert.deepEqual(dones(actions), [[100, { type: 'done', result: { inUse: false } }]]);
  });

  test('start twice, timers before start: logged or ignored, never a second run', () => {
    const first = step(machine(), { type: 'start' }, 0);
    const again = step(first.state, { type: 'start' }, 5);
    assert.ok(again.actions.some((a) => a.type === 'log' && /start ignored in probing/.test(a.message)));
    assert.equal(again.actions.some((a) => a.type === 'send'), false);
    const idle = step(machine(), { type: 'timer' }, 5);
    assert.equal(idle.state.name, 'idle');
    assert.equal(idle.actions.length, 0);
  });

  test('the config is checked: each bad field is an ArgumentError naming it', () => {
    const bad: [Partial<ProbeConfig>, string][] = [
      [{ mac: 'nope' }, 'mac'],
      [{ address: '0.0.0.0' }, 'address'],
      [{ address: '224.0.0.1' }, 'address'],
      [{ address: '10.0.0' }, 'address'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs'],
      [{ probes: 0 }, 'probes'],
      [{ probes: 1.5 }, 'probes'],
      [{ probes: 11 }, 'probes'],
      [{ random: 'x' as unknown as () => number }, 'random'],
    ];
    for (const [extra, field] of bad) {
      assert.throws(() => machine(extra), (e: unknown) => e instanceof ArgumentError && e.field === field, `field ${field}`);
    }
  });

  test('any input sequence: never throws, at most `probes` sends, at most one verdict, nothing after it', () => {
    const input = fc.oneof(
      fc.constant<ProbeInput>({ type: 'start' }),
      fc.constant<ProbeInput>({ type: 'timer' }),
      fc.uint8Array({ maxLength: 60 }).map((data): ProbeInput => ({ type: 'packet', data })),
      fc.constantFrom(encodeProbe(OTHER, ADDRESS), encodeProbe(OWN, ADDRESS)).map((data): ProbeInput => ({ type: 'packet', data })),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.nat({ max: 1000 }), input), { maxLength: 30 }), (probes, steps) => {
        let s = machine({ probes });
        let now = 0;
        let sent = 0;
        let verdicts = 0;
        for (const [dt, i] of steps) {
          now += dt;
          const r = step(s, i, now);
          s = r.state;
          for (const a of r.actions) {
            if (a.type === 'send') {
              assert.equal(verdicts, 0, 'no probe after the verdict');
              sent++;
            }
            if (a.type === 'done') verdicts++;
          }
        }
        assert.ok(sent <= probes);
        assert.ok(verdicts <= 1);
        assert.equal(s.stats.droppedBy['internal-error'], undefined);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
