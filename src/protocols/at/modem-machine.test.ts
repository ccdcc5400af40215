import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inspect } from 'node:util';
import { NetState, Reason } from '../../states.js';
import { isNicupError } from '../../errors.js';
import { createModemMachine, stepModem } from './modem-machine.js';
import type { ModemAction, ModemConfig, ModemInput, ModemState } from './modem-machine.js';
import type { RegistrationDomain } from './parsers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

const PIN = '2468';

interface FakeModemOptions {
  /** No answer at all (until `silentUntilMs`). */
  silent?: boolean;
  silentUntilMs?: number;
  sim?: 'ready' | 'pin' | 'puk' | 'ph-net';
  /** SIM missing until then (+CME ERROR: 10). */
  simMissingUntilMs?: number;
  /** +CME ERROR: 14 until then. */
  simBusyUntilMs?: number;
  pin?: string;
  /** The <stat> each domain reports at a time. */
  stat?: (domain: RegistrationDomain, nowMs: number) => number;
  /** AT+CEREG=2 answered ERROR (no LTE radio). */
  noLte?: boolean;
  dial?: 'connect' | 'no-carrier';
  /** Swallow the PIN entry (no answer). */
  pinNoAnswer?: boolean;
}

/** A scripted modem answering like TS 27.007 firmware, echo on until ATE0. */
class FakeModem {
  echo = true;
  unlocked = false;
  pinAttempts = 0;
  commands: string[] = [];
  times: number[] = [];
  constructor(readonly o: FakeModemOptions) {}

  answer(cmd: string, now: number): string | undefined {
    this.commands.push(cmd);
    this.times.push(now);
    const o = this.o;
    if (o.silent && (o.silentUntilMs === undefined || now < o.silentUntilMs)) return undefined;
    const echo = this.echo ? `${cmd}\r` : '';
    const r = (...lines: string[]) => echo + lines.map((l) => `\r\n${l}\r\n`).join('');
    const up = cmd.toUpperCase();
    const stat = (d: RegistrationDomain) => (o.stat ?? (() => 1))(d, now);
    if (up === 'AT' || up === 'AT+CMEE=1') return r('OK');
    if (up === 'ATE0') {
      this.echo = false;
      return r('OK');
    }
    if (up === 'AT+CPIN?') {
      if (o.simMissingUntilMs !== undefined && now < o.simMissingUntilMs) return r('+CME ERROR: 10');
      if (o.simBusyUntilMs !== undefined && now < o.simBusyUntilMs) return r('+CME ERROR: 14');
      if (o.sim === 'puk' || this.pinAttempts >= 3) return r('+CPIN: SIM PUK', 'OK');
      if (o.sim === 'ph-net') return r('+CPIN: PH-NET PIN', 'OK');
      if (o.sim === 'pin' && !this.unlocked) return r('+CPIN: SIM PIN', 'OK');
      return r('+CPIN: READY', 'OK');
    }
    const pin = /^AT\+CPIN="(\d+)"$/.exec(up);
    if (pin) {
      if (o.pinNoAnswer) return undefined;
      if (pin[1] === o.pin) {
        this.unlocked = true;
        return r('OK');
      }
      this.pinAttempts++;
      return r(this.pinAttempts >= 3 ? '+CME ERROR: 12' : '+CME ERROR: 16');
    }
    if (up.startsWith('AT+CGDCONT=')) return r('OK');
    const set = /^AT\+(CREG|CGREG|CEREG)=2$/.exec(up);
    if (set) return set[1] === 'CEREG' && o.noLte ? r('ERROR') : r('OK');
    const query = /^AT\+(CREG|CGREG|CEREG)\?$/.exec(up);
    if (query) {
      const name = query[1] ?? '';
      if (name === 'CEREG' && o.noLte) return r('ERROR');
      const domain: RegistrationDomain = name === 'CREG' ? 'cs' : name === 'CGREG' ? 'ps' : 'eps';
      return r(`+${name}: 2,${stat(domain)}`, 'OK');
    }
    if (/^ATD\*99\*\*\*1#$/.test(up)) return r(o.dial === 'no-carrier' ? 'NO CARRIER' : 'CONNECT 150000000');
    return r('ERROR');
  }
}

/** A driver with virtual time: one timer, a wire with latency, the fake modem behind it. */
class Rig {
  state: ModemState;
  now = 0;
  timerAt: number | undefined;
  wire: { at: number; input: ModemInput }[] = [];
  actions: ModemAction[] = [];
  stateTimes: number[] = [];
  modem: FakeModem;
  autoPppUpMs: number | undefined;
  constructor(config: Partial<ModemConfig>, modem: FakeModemOptions, options: { autoPppUpMs?: number } = {}) {
    this.state = createModemMachine({ apn: 'internet', ...config });
    this.modem = new FakeModem(modem);
    this.autoPppUpMs = options.autoPppUpMs;
  }

  apply(input: ModemInput): void {
    const r = stepModem(this.state, input, this.now);
    this.state = r.state;
    for (const a of r.actions) {
      this.actions.push(a);
      if (a.type === 'state') this.stateTimes.push(this.now);
      if (a.type === 'setTimer') this.timerAt = a.atMs;
      else if (a.type === 'clearTimer') this.timerAt = undefined;
      else if (a.type === 'write') {
        for (const cmd of dec(a.bytes).split('\r')) {
          if (cmd === '') continue;
          const reply = this.modem.answer(cmd, this.now);
          if (reply !== undefined) this.at(this.now + 5, { type: 'data', bytes: enc(reply) });
        }
      } else if (a.type === 'start-ppp' && this.autoPppUpMs !== undefined) this.at(this.now + this.autoPppUpMs, { type: 'ppp-up' });
    }
  }

  at(atMs: number, input: ModemInput): void {
    this.wire.push({ at: atMs, input });
    this.wire.sort((a, b) => a.at - b.at);
  }

  /** Runs events (wire first on ties) until `untilMs` of virtual time. */
  run(untilMs: number): this {
    for (;;) {
      const next = this.wire[0];
      const useWire = next !== undefined && (this.timerAt === undefined || next.at <= this.timerAt);
      const t = useWire ? next.at : this.timerAt;
      if (t === undefined || t > untilMs) break;
      this.now = Math.max(this.now, t);
      if (useWire) {
        this.wire.shift();
        this.apply(next.input);
      } else {
        this.timerAt = undefined;
        this.apply({ type: 'timer' });
      }
    }
    this.now = Math.max(this.now, untilMs);
    return this;
  }

  start(): this {
    this.apply({ type: 'start' });
    return this;
  }
  states(): [number, string][] {
    return this.actions.flatMap((a) => (a.type === 'state' ? [[a.state, a.reason] as [number, string]] : []));
  }
  last(): [number, string] | undefined {
    return this.states().at(-1);
  }
  count(type: ModemAction['type']): number {
    return this.actions.filter((a) => a.type === type).length;
  }
  commandsLike(re: RegExp): string[] {
    return this.modem.commands.filter((c) => re.test(c));
  }
  /** Gaps between the writes of matching commands, in ms. */
  gaps(re: RegExp): number[] {
    const times = this.modem.times.filter((_, i) => re.test(this.modem.commands[i] ?? ''));
    return times.slice(1).map((t, i) => t - (times[i] ?? 0));
  }
  logText(): string {
    return this.actions.flatMap((a) => (a.type === 'log' ? [a.message] : [])).join('\n');
  }
}

const S = NetState;

describe('modem machine', () => {
  test('happy path: probe, SIM ready, context, registration, dial, CONNECT, ppp up', () => {
    const rig = new Rig({}, { stat: (d) => (d === 'eps' ? 1 : 0) }).start().run(10_000);
    assert.deepEqual(rig.states(), [
      [S.CELLULAR_PINGING, Reason.MODEM_PROBING],
      [S.CELLULAR_REGISTERING, Reason.REGISTERING],
      [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING],
    ]);
    assert.deepEqual(rig.modem.commands, [
      'AT',
      'ATE0',
      'AT+CMEE=1',
      'AT+CPIN?',
      'AT+CGDCONT=1,"IP","internet"',
      'AT+CREG=2',
      'AT+CGREG=2',
      'AT+CEREG=2',
      'AT+CREG?',
      'AT+CGREG?',
      'AT+CEREG?',
      'ATD*99***1#',
    ]);
    assert.equal(rig.count('start-ppp'), 1);
    assert.equal(rig.state.phase, 'ppp-starting');
    // The port is pppd's now: bytes are not taken as lines.
    rig.apply({ type: 'data', bytes: enc('~\x7d\x23\r\nOK\r\n') });
    assert.equal(rig.state.stats.droppedBytes, 9);
    rig.apply({ type: 'ppp-up' });
    assert.deepEqual(rig.last(), [S.CONNECTED, Reason.PPP_UP]);
    // Nothing left to time while online.
    assert.equal(rig.timerAt, undefined);
    rig.run(1_000_000);
    assert.equal(rig.modem.commands.length, 12);
  });

  test('the echo before ATE0 is dropped, and no state repeats', () => {
    const rig = new Rig({}, {}).start().run(10_000);
    assert.ok(rig.state.chat.stats.echoes >= 1);
    const states = rig.states().map(([s]) => s);
    assert.deepEqual(states, [...new Set(states)]);
  });

  test('SIM missing: WAITING_FOR_SIM (sim-missing), polled with back-off until inserted', () => {
    const rig = new Rig({}, { simMissingUntilMs: 20_000 }, { autoPppUpMs: 300 }).start().run(60_000);
    assert.deepEqual(rig.states(), [
      [S.CELLULAR_PINGING, Reason.MODEM_PROBING],
      [S.CELLULAR_WAITING_FOR_SIM, Reason.SIM_MISSING],
      [S.CELLULAR_REGISTERING, Reason.REGISTERING],
      [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING],
      [S.CONNECTED, Reason.PPP_UP],
    ]);
    // Each wait doubles from simPollMinMs (2 s); +5 ms for the answer to arrive.
    assert.deepEqual(rig.gaps(/^AT\+CPIN\?$/), [2005, 4005, 8005, 16005]);
  });

  test('SIM missing forever: the poll interval is capped at simPollMaxMs', () => {
    const rig = new Rig({ timing: { simPollMinMs: 1000, simPollMaxMs: 4000 } }, { simMissingUntilMs: Infinity }).start().run(100_000);
    // Waits 1, 2, 4, 4, 4 … seconds, +5 ms for each answer to arrive.
    const gaps = rig.gaps(/^AT\+CPIN\?$/);
    assert.deepEqual(gaps.slice(0, 5), [1005, 2005, 4005, 4005, 4005]);
    assert.ok(gaps.length > 20 && gaps.every((g) => g <= 4005));
    assert.deepEqual(rig.last(), [S.CELLULAR_WAITING_FOR_SIM, Reason.SIM_MISSING]);
  });

  test('SIM busy for a while is waited out without a state change', () => {
    const rig = new Rig({}, { simBusyUntilMs: 3000 }).start().run(10_000);
    assert.deepEqual(
      rig.states().map(([s]) => s),
      [S.CELLULAR_PINGING, S.CELLULAR_REGISTERING, S.CELLULAR_PPP_CONNECTING],
    );
  });

  test('PIN required: WAITING_FOR_SIM (sim-pin-required), the PIN sent once, never logged', () => {
    const rig = new Rig({ pin: PIN }, { sim: 'pin', pin: PIN }).start().run(10_000);
    assert.deepEqual(rig.states(), [
      [S.CELLULAR_PINGING, Reason.MODEM_PROBING],
      [S.CELLULAR_WAITING_FOR_SIM, Reason.SIM_PIN_REQUIRED],
      [S.CELLULAR_REGISTERING, Reason.REGISTERING],
      [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING],
    ]);
    assert.deepEqual(rig.commandsLike(/^AT\+CPIN=/), [`AT+CPIN="${PIN}"`]);
    const pinWrites = rig.actions.filter((a) => a.type === 'write' && dec(a.bytes).includes(PIN));
    assert.equal(pinWrites.length, 1);
    assert.ok(pinWrites.every((a) => a.type === 'write' && a.secret));
    assert.match(rig.logText(), /AT\+CPIN=\*\*\*\*/);
    assert.doesNotMatch(rig.logText(), new RegExp(PIN));
    assert.doesNotMatch(JSON.stringify(rig.state), new RegExp(PIN));
    assert.doesNotMatch(inspect(rig.state, { depth: 20 }), new RegExp(PIN));
  });

  test('wrong PIN: 306 sim-pin-wrong, and the PIN is never tried again, even after a new start', () => {
    const rig = new Rig({ pin: '1111' }, { sim: 'pin', pin: PIN }).start().run(3_600_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.SIM_PIN_WRONG]);
    assert.equal(rig.state.phase, 'failed');
    assert.equal(rig.commandsLike(/^AT\+CPIN=/).length, 1);
    assert.equal(rig.timerAt, undefined);
    rig.start().run(7_200_000);
    assert.equal(rig.commandsLike(/^AT\+CPIN=/).length, 1);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.SIM_PIN_WRONG]);
    assert.equal(rig.modem.pinAttempts, 1);
    assert.doesNotMatch(rig.logText(), /1111/);
  });

  test('PIN entry without an answer: not retried (the SIM may have counted it)', () => {
    const rig = new Rig({ pin: PIN, timing: { simTimeoutMs: 2000 } }, { sim: 'pin', pin: PIN, pinNoAnswer: true }).start().run(600_000);
    assert.equal(rig.commandsLike(/^AT\+CPIN=/).length, 1);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.MODEM_ERROR]);
    assert.equal(rig.state.pinState, 'uncertain');
  });

  test('PIN required but none configured: 306 sim-pin-required, settled', () => {
    const rig = new Rig({}, { sim: 'pin', pin: PIN }).start().run(600_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.SIM_PIN_REQUIRED]);
    assert.equal(rig.commandsLike(/^AT\+CPIN=/).length, 0);
    assert.equal(rig.commandsLike(/^AT\+CPIN\?$/).length, 1);
  });

  test('SIM blocked (PUK) and network-locked: settled, no PIN sent', () => {
    const puk = new Rig({ pin: PIN }, { sim: 'puk' }).start().run(600_000);
    assert.deepEqual(puk.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.SIM_PUK_REQUIRED]);
    assert.equal(puk.commandsLike(/^AT\+CPIN=/).length, 0);
    const net = new Rig({ pin: PIN }, { sim: 'ph-net' }).start().run(600_000);
    assert.deepEqual(net.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.SIM_PIN_REQUIRED]);
    assert.equal(net.commandsLike(/^AT\+CPIN=/).length, 0);
  });

  test('registration denied: 304, polling goes on, and a later registration dials', () => {
    const rig = new Rig({}, { stat: (_d, now) => (now < 100_000 ? 3 : 5) }).start().run(60_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_REGISTRATION_DENIED, Reason.REGISTRATION_DENIED]);
    // Denied is not a timeout, however long it lasts.
    rig.run(250_000);
    assert.ok(!rig.states().some(([, r]) => r === Reason.REGISTRATION_TIMEOUT));
    assert.deepEqual(rig.last(), [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING]);
    const denied = rig.states().filter(([s]) => s === S.CELLULAR_REGISTRATION_DENIED);
    assert.equal(denied.length, 1);
  });

  test('CS denied while EPS still searches is not yet denied; EPS home then dials', () => {
    const rig = new Rig({}, { stat: (d, now) => (d === 'cs' ? 3 : d === 'eps' ? (now < 10_000 ? 2 : 1) : 0) }).start().run(30_000);
    assert.ok(!rig.states().some(([s]) => s === S.CELLULAR_REGISTRATION_DENIED));
    assert.deepEqual(rig.last(), [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING]);
  });

  test('slow registration: REGISTERING while searching, then dial', () => {
    const rig = new Rig({}, { stat: (_d, now) => (now < 40_000 ? 2 : 1) }).start().run(39_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_REGISTERING, Reason.REGISTERING]);
    const rounds = rig.commandsLike(/^AT\+CREG\?$/).length;
    assert.ok(rounds >= 15 && rounds <= 20, `rounds=${rounds}`);
    rig.run(50_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING]);
  });

  test('registration timeout: 306 registration-timeout, then a retry after back-off', () => {
    const rig = new Rig({ timing: { registrationTimeoutMs: 30_000, retryMinMs: 5000 } }, { stat: () => 2 }).start().run(31_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.REGISTRATION_TIMEOUT]);
    rig.run(31_000 + 5_100);
    assert.deepEqual(rig.last(), [S.CELLULAR_REGISTERING, Reason.REGISTERING]);
    assert.ok(rig.states().some(([s, r]) => s === S.CELLULAR_PINGING && r === Reason.RETRY));
  });

  test('a registration URC in the middle of a poll answer dials at once', () => {
    const rig = new Rig({}, { stat: () => 2 }).start().run(2_000);
    assert.equal(rig.state.phase, 'registering');
    // The modem pushes "+CEREG: 1" between the lines of its next answer.
    rig.apply({ type: 'data', bytes: enc('\r\n+CEREG: 1,"00A1","0001B2C3",7\r\n') });
    assert.deepEqual(rig.last(), [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING]);
    assert.ok(rig.actions.some((a) => a.type === 'urc' && a.urc.kind === 'registration'));
  });

  test('a modem without LTE: +CEREG refused, only +CREG/+CGREG polled', () => {
    const rig = new Rig({}, { noLte: true, stat: (_d, now) => (now < 5000 ? 2 : 1) }).start().run(20_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING]);
    assert.equal(rig.commandsLike(/^AT\+CEREG\?$/).length, 0);
    assert.ok(rig.commandsLike(/^AT\+CGREG\?$/).length >= 2);
  });

  test('silent modem: pingAttempts ATs, then 306 modem-silent with a hangup, then retries with back-off', () => {
    const rig = new Rig({ timing: { pingAttempts: 5, pingTimeoutMs: 1000, retryMinMs: 2000, retryMaxMs: 8000 } }, { silent: true }).start();
    rig.run(5_000);
    assert.equal(rig.commandsLike(/^AT$/).length, 5);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.MODEM_SILENT]);
    assert.equal(rig.count('hangup'), 1);
    // It may be in data mode from a call nobody ended: the driver escapes (+++ with guard times) before ATH.
    assert.deepEqual(rig.actions.find((a) => a.type === 'hangup'), { type: 'hangup', escapeGuardMs: 1100 });
    rig.run(7_699);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.MODEM_SILENT]);
    rig.run(7_700);
    assert.deepEqual(rig.last(), [S.CELLULAR_PINGING, Reason.RETRY]);
    // 5 s of pings per cycle; back-off 2 s stretched to 2.7 s (the escape: 2 × 1.1 s guard + 0.5 s for ATH), 4 s, 8 s, then capped at 8 s.
    rig.run(60_000);
    const failedAt = rig.stateTimes.filter((_, i) => rig.states()[i]?.[1] === Reason.MODEM_SILENT);
    assert.deepEqual(failedAt, [5000, 12_700, 21_700, 34_700, 47_700]);
    assert.ok(rig.actions.filter((a) => a.type === 'hangup').every((a) => a.type === 'hangup' && a.escapeGuardMs === 1100));
  });

  test('a modem that goes quiet mid-registration: modem-silent after three unanswered commands', () => {
    const rig = new Rig({ timing: { commandTimeoutMs: 1000, retryMinMs: 60_000 } }, { stat: () => 2 }).start().run(3_000);
    assert.equal(rig.state.phase, 'registering');
    rig.modem.o.silent = true;
    rig.run(10_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.MODEM_SILENT]);
    assert.equal(rig.count('hangup'), 1);
  });

  test('a modem that wakes up later is picked up by a retry', () => {
    const rig = new Rig({ timing: { pingAttempts: 3 } }, { silent: true, silentUntilMs: 4000 }).start().run(30_000);
    assert.deepEqual(rig.last(), [S.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING]);
  });

  test('NO CARRIER mid-session: stop pppd, hang up, 306 modem-no-carrier, then reconnect', () => {
    const rig = new Rig({ timing: { retryMinMs: 1000 } }, {}, { autoPppUpMs: 300 }).start().run(10_000);
    assert.deepEqual(rig.last(), [S.CONNECTED, Reason.PPP_UP]);
    rig.apply({ type: 'no-carrier' });
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.NO_CARRIER_MODEM]);
    const tail = rig.actions.slice(-8).map((a) => a.type);
    assert.ok(tail.indexOf('stop-ppp') >= 0 && tail.indexOf('stop-ppp') < tail.indexOf('hangup'));
    rig.run(20_000);
    assert.deepEqual(rig.last(), [S.CONNECTED, Reason.PPP_UP]);
    assert.equal(rig.count('start-ppp'), 2);
  });

  test('ppp-down: ppp-failed before up, ppp-dropped after', () => {
    const before = new Rig({}, {}).start().run(10_000);
    before.apply({ type: 'ppp-down', reason: 'LCP timeout' });
    assert.deepEqual(before.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.PPP_FAILED]);
    const after = new Rig({}, {}, { autoPppUpMs: 100 }).start().run(10_000);
    after.apply({ type: 'ppp-down', reason: 'peer terminated' });
    assert.deepEqual(after.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.PPP_DROPPED]);
  });

  test('dial answered NO CARRIER: 306 modem-no-carrier and a retry', () => {
    const rig = new Rig({ timing: { retryMinMs: 1000 } }, { dial: 'no-carrier' }).start().run(5_000);
    assert.ok(rig.states().some(([s, r]) => s === S.CELLULAR_STOPPED_UNHAPPY && r === Reason.NO_CARRIER_MODEM));
    assert.ok(rig.count('hangup') >= 1);
    assert.ok(rig.commandsLike(/^ATD/).length >= 2);
  });

  test('stop: hang up, CELLULAR_STOPPED, timer cleared, then quiet', () => {
    const rig = new Rig({}, { stat: () => 2 }).start().run(5_000);
    rig.apply({ type: 'stop' });
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED, Reason.CLOSED_BY_USER]);
    assert.equal(rig.count('hangup'), 1);
    assert.equal(rig.timerAt, undefined);
    const n = rig.actions.length;
    rig.run(1_000_000);
    rig.apply({ type: 'data', bytes: enc('\r\n+CREG: 1\r\n') });
    rig.apply({ type: 'stop' });
    assert.equal(rig.actions.length, n);
  });

  test('stop while online also stops pppd', () => {
    const rig = new Rig({}, {}, { autoPppUpMs: 100 }).start().run(10_000);
    const from = rig.actions.length;
    rig.apply({ type: 'stop' });
    assert.deepEqual(
      rig.actions.slice(from).map((a) => a.type).filter((t) => t !== 'log'),
      ['stop-ppp', 'hangup', 'state'],
    );
  });

  test('the timer is always the earliest deadline, and only one is set', () => {
    const rig = new Rig({ timing: { registrationTimeoutMs: 9000, registrationPollMs: 5000 } }, { stat: () => 2 }).start();
    rig.run(8_990);
    // Next poll at ~5 s + 5 s, registration deadline at ~9 s: the deadline wins.
    assert.ok(rig.timerAt !== undefined && rig.timerAt <= rig.state.registrationDeadlineMs!);
    rig.run(9_100);
    assert.deepEqual(rig.last(), [S.CELLULAR_STOPPED_UNHAPPY, Reason.REGISTRATION_TIMEOUT]);
  });

  test('property: scripted modem plus random noise, URCs and driver events: no throw, a wrong PIN at most once, no PIN in logs', () => {
    const noise = fc.constantFrom('OK', 'ERROR', '+CME ERROR: 14', '+CME ERROR: 16', '+CPIN: READY', '+CPIN: SIM PIN', '+CREG: 1', '+CEREG: 3', 'NO CARRIER', 'CONNECT', 'RDY', '> ', 'garbage"');
    const driverEvent = fc.constantFrom<ModemInput>({ type: 'ppp-up' }, { type: 'ppp-down', reason: 'x' }, { type: 'no-carrier' }, { type: 'stop' }, { type: 'start' });
    fc.assert(
      fc.property(
        fc.record({
          sim: fc.constantFrom<'ready' | 'pin' | 'puk'>('ready', 'pin', 'puk'),
          pinRight: fc.boolean(),
          stats: fc.array(fc.integer({ min: 0, max: 11 }), { minLength: 1, maxLength: 5 }),
          simMissingUntilMs: fc.option(fc.nat(30_000), { nil: undefined }),
          noise: fc.array(fc.tuple(fc.nat(120_000), fc.array(noise, { maxLength: 3 })), { maxLength: 15 }),
          events: fc.array(fc.tuple(fc.nat(120_000), driverEvent), { maxLength: 6 }),
        }),
        (sc) => {
          const rig = new Rig(
            { pin: PIN, timing: { registrationTimeoutMs: 20_000, retryMaxMs: 10_000 } },
            {
              sim: sc.sim,
              pin: sc.pinRight ? PIN : '0000',
              stat: (_d, now) => sc.stats[Math.floor(now / 10_000) % sc.stats.length] ?? 0,
              ...(sc.simMissingUntilMs === undefined ? {} : { simMissingUntilMs: sc.simMissingUntilMs }),
            },
            { autoPppUpMs: 300 },
          ).start();
          for (const [t, lines] of sc.noise) rig.at(t, { type: 'data', bytes: enc(lines.map((l) => `\r\n${l}\r\n`).join('')) });
          for (const [t, e] of sc.events) rig.at(t, e);
          rig.run(150_000);
          if (!sc.pinRight) assert.ok(rig.commandsLike(/^AT\+CPIN=/).length <= 1);
          assert.doesNotMatch(rig.logText(), new RegExp(PIN));
          for (const [state] of rig.states()) assert.ok(state === S.CONNECTED || (state >= 300 && state <= 306), String(state));
          // CONNECTED only ever follows a start-ppp.
          let started = false;
          for (const a of rig.actions) {
            if (a.type === 'start-ppp') started = true;
            if (a.type === 'state' && a.state === S.CONNECTED) assert.ok(started);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('bad config is refused up front, naming the field and never the PIN', () => {
    assert.throws(() => createModemMachine({ apn: 'a"b' }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'cellconfig.apn');
    assert.throws(
      () => createModemMachine({ apn: 'x', pin: '12345678901' }),
      (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'cellconfig.pin' && !e.message.includes('12345678901'),
    );
    assert.throws(() => createModemMachine({ apn: 'x', timing: { pingAttempts: 0 } }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'timing.pingAttempts');
  });
});
