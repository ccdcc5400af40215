import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { createChat, stepChat } from './chat.js';
import type { ChatAction, ChatInput, ChatState } from './chat.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Feeds inputs in order at the given times; collects every action. */
class Harness {
  state: ChatState = createChat();
  actions: ChatAction[] = [];
  now = 0;
  step(input: ChatInput, atMs = this.now): ChatAction[] {
    this.now = atMs;
    const r = stepChat(this.state, input, atMs);
    this.state = r.state;
    this.actions.push(...r.actions);
    return r.actions;
  }
  send(id: string, command: string, extra: Partial<Extract<ChatInput, { type: 'send' }>> = {}): ChatAction[] {
    return this.step({ type: 'send', id, command, timeoutMs: 1000, ...extra });
  }
  data(text: string, atMs = this.now): ChatAction[] {
    return this.step({ type: 'data', bytes: enc(text) }, atMs);
  }
  writes(): string[] {
    return this.actions.filter((a) => a.type === 'write').map((a) => dec(a.bytes));
  }
  of<T extends ChatAction['type']>(type: T): Extract<ChatAction, { type: T }>[] {
    return this.actions.filter((a): a is Extract<ChatAction, { type: T }> => a.type === type);
  }
  logs(): string {
    return this.of('log')
      .map((a) => a.message)
      .join('\n');
  }
}

describe('chat core', () => {
  test('one command: written with CR, result with its lines, timer set then cleared', () => {
    const h = new Harness();
    const first = h.send('q', 'AT+CSQ', { expect: '+CSQ:' });
    assert.deepEqual(
      first.filter((a) => a.type !== 'log'),
      [
        { type: 'write', bytes: enc('AT+CSQ\r'), secret: false },
        { type: 'setTimer', atMs: 1000, delayMs: 1000 },
      ],
    );
    h.data('\r\n+CSQ: 20,99\r\n\r\nOK\r\n', 40);
    assert.deepEqual(h.of('result'), [{ type: 'result', id: 'q', ok: true, final: { kind: 'ok' }, lines: ['+CSQ: 20,99'] }]);
    assert.deepEqual(h.of('clearTimer'), [{ type: 'clearTimer' }]);
    assert.equal(h.state.inFlight, undefined);
  });

  test('one in flight: the next is written only after the final result', () => {
    const h = new Harness();
    h.send('a', 'ATE0');
    h.send('b', 'AT+CMEE=1');
    assert.deepEqual(h.writes(), ['ATE0\r']);
    h.data('\r\nOK\r\n', 10);
    assert.deepEqual(h.writes(), ['ATE0\r', 'AT+CMEE=1\r']);
    // The second command's deadline counts from its own write.
    assert.deepEqual(h.of('setTimer').at(-1), { type: 'setTimer', atMs: 1010, delayMs: 1000 });
    h.data('\r\nERROR\r\n', 20);
    assert.deepEqual(
      h.of('result').map((r) => [r.id, r.ok, r.final.kind]),
      [
        ['a', true, 'ok'],
        ['b', false, 'error'],
      ],
    );
  });

  test('echo lines are dropped', () => {
    const h = new Harness();
    h.send('p', 'AT');
    h.data('AT\r\r\nOK\r\n');
    assert.deepEqual(h.of('result')[0]?.lines, []);
    assert.equal(h.state.stats.echoes, 1);
  });

  test('URCs interleaved in the middle of a response come out separately', () => {
    const h = new Harness();
    h.send('r', 'AT+CREG?', { expect: '+CREG:' });
    h.data('\r\n+CREG: 2,1,"00C3","A13F"\r\n\r\n+CEREG: 5\r\n\r\nRING\r\n\r\n+CREG: 2\r\n\r\nOK\r\n');
    assert.deepEqual(h.of('result')[0]?.lines, ['+CREG: 2,1,"00C3","A13F"']);
    const urcs = h.of('urc').map((a) => a.urc);
    assert.deepEqual(
      urcs.map((u) => u.kind),
      ['registration', 'ring', 'registration'],
    );
    const regs = urcs.flatMap((u) => (u.kind === 'registration' ? [[u.registration.domain, u.registration.stat]] : []));
    assert.deepEqual(regs, [
      ['eps', 5],
      ['cs', 2],
    ]);
  });

  test('a URC split across chunks arrives whole, with nothing in flight', () => {
    const h = new Harness();
    h.data('\r\n+CRE');
    assert.deepEqual(h.of('urc'), []);
    h.data('G: 5\r\n');
    assert.equal(h.of('urc')[0]?.urc.kind, 'registration');
  });

  test('NO CARRIER: final for a dial, a URC for anything else', () => {
    const h = new Harness();
    h.send('d', 'ATD*99***1#');
    h.data('\r\nNO CARRIER\r\n');
    assert.deepEqual(h.of('result')[0], { type: 'result', id: 'd', ok: false, final: { kind: 'no-carrier' }, lines: [] });
    h.send('q', 'AT+CSQ', { expect: '+CSQ:' });
    h.data('\r\nNO CARRIER\r\n+CSQ: 9,99\r\nOK\r\n');
    assert.equal(h.of('urc')[0]?.urc.kind, 'no-carrier');
    assert.deepEqual(h.of('result')[1]?.lines, ['+CSQ: 9,99']);
    h.data('\r\nNO CARRIER\r\n');
    assert.equal(h.of('urc')[1]?.urc.kind, 'no-carrier');
  });

  test('CONNECT with a rate is a success', () => {
    const h = new Harness();
    h.send('d', 'ATD*99#');
    h.data('\r\nCONNECT 150000000\r\n');
    assert.deepEqual(h.of('result')[0], { type: 'result', id: 'd', ok: true, final: { kind: 'connect', text: '150000000' }, lines: [] });
  });

  test('per-command timeouts: an early timer changes nothing; the deadline produces a timeout and the next command', () => {
    const h = new Harness();
    h.send('slow', 'AT+COPS=?', { timeoutMs: 5000 });
    h.send('next', 'AT', { timeoutMs: 300 });
    h.step({ type: 'timer' }, 4000);
    assert.deepEqual(h.of('timeout'), []);
    // Re-armed at the same deadline, since the driver's timer has fired.
    assert.deepEqual(h.of('setTimer').at(-1), { type: 'setTimer', atMs: 5000, delayMs: 1000 });
    h.data('\r\n+COPS: (2,"A"', 4500);
    h.step({ type: 'timer' }, 5001);
    assert.deepEqual(h.of('timeout'), [{ type: 'timeout', id: 'slow', lines: [] }]);
    assert.deepEqual(h.writes(), ['AT+COPS=?\r', 'AT\r']);
    assert.deepEqual(h.of('setTimer').at(-1), { type: 'setTimer', atMs: 5301, delayMs: 300 });
    h.step({ type: 'timer' }, 5301);
    assert.deepEqual(
      h.of('timeout').map((t) => t.id),
      ['slow', 'next'],
    );
    // The timer that just fired needs no clearing, and nothing is left to arm.
    assert.equal(h.of('clearTimer').length, 0);
    assert.equal(h.state.timerAtMs, undefined);
    assert.equal(h.state.stats.timeouts, 2);
  });

  test('a late final after a timeout is counted as stray, not given to anyone', () => {
    const h = new Harness();
    h.send('a', 'AT', { timeoutMs: 10 });
    h.step({ type: 'timer' }, 10);
    h.data('\r\nOK\r\n', 20);
    assert.equal(h.state.stats.strayFinals, 1);
    assert.deepEqual(h.of('result'), []);
  });

  test('secrets: the PIN is in the write only; logs, echo and state show ****', () => {
    const h = new Harness();
    h.send('pin', 'AT+CPIN="4711"');
    h.data('AT+CPIN="4711"\r\r\n+CME ERROR: 16\r\n');
    const write = h.of('write')[0];
    assert.ok(write);
    assert.equal(write.secret, true);
    assert.equal(dec(write.bytes), 'AT+CPIN="4711"\r');
    assert.match(h.logs(), /-> AT\+CPIN=\*\*\*\*/);
    assert.doesNotMatch(h.logs(), /4711/);
    assert.deepEqual(h.of('result')[0]?.final, { kind: 'cme-error', code: 16, text: '16' });

    // A queued secret command, seen through JSON and util.inspect.
    h.send('busy', 'AT');
    h.send('pin2', 'AT+CPIN="4711"');
    assert.doesNotMatch(JSON.stringify(h.state), /4711/);
    assert.doesNotMatch(inspect(h.state, { depth: 10 }), /4711/);
  });

  test('a garbled echo of a secret command is neither logged nor kept', () => {
    const h = new Harness();
    h.send('pin', 'AT+CPIN="4711"');
    h.data('\xffAT+CPIN="4711"\r\n~4711\r\n\r\nOK\r\n');
    assert.doesNotMatch(h.logs(), /4711/);
    assert.deepEqual(h.of('result')[0]?.lines, []);
    assert.equal(h.of('result')[0]?.ok, true);
    // With nothing secret in flight, a stray "AT+CPIN=…" line is still masked.
    h.data('\r\nxAT+CPIN=4711\r\n');
    assert.doesNotMatch(h.logs(), /4711/);
  });

  test('secret: true hides arguments of commands the table does not know', () => {
    const h = new Harness();
    h.send('v', 'AT#SECRET="hunter22",1', { secret: true });
    assert.doesNotMatch(h.logs(), /hunter22/);
    assert.match(h.logs(), /AT#SECRET=\*\*\*\*/);
    h.data('AT#SECRET="hunter22",1\r\nOK\r\n');
    assert.doesNotMatch(h.logs(), /hunter22/);
    assert.equal(h.of('write')[0]?.secret, true);
  });

  test('credential read-backs are masked in logs but kept in result lines', () => {
    const h = new Harness();
    h.send('r', 'AT+QICSGP=1', { expect: '+QICSGP:' });
    h.data('\r\n+QICSGP: 1,"apn","user","s3cret",1\r\nOK\r\n');
    assert.doesNotMatch(h.logs(), /s3cret/);
    assert.deepEqual(h.of('result')[0]?.lines, ['+QICSGP: 1,"apn","user","s3cret",1']);
  });

  test('reset cancels the command in flight and the queue, clears the timer and the line buffer', () => {
    const h = new Harness();
    h.send('a', 'AT');
    h.send('b', 'AT+CSQ');
    h.data('\r\nO');
    const out = h.step({ type: 'reset' });
    assert.deepEqual(out, [
      { type: 'cancelled', id: 'a' },
      { type: 'cancelled', id: 'b' },
      { type: 'clearTimer' },
    ]);
    // The half line "O" is gone: "K" alone is not a final.
    h.data('K\r\n');
    assert.equal(h.state.stats.strayFinals, 0);
  });

  test('commands that could smuggle a second line are rejected, nothing is written', () => {
    const h = new Harness();
    h.send('x', 'AT+CGDCONT=1,"IP","a"\r\nATD112;');
    h.send('y', '');
    h.step({ type: 'send', id: 'z', command: 'AT', timeoutMs: -1 });
    assert.deepEqual(
      h.of('rejected').map((r) => r.id),
      ['x', 'y', 'z'],
    );
    assert.deepEqual(h.writes(), []);
    assert.equal(h.state.inFlight, undefined);
  });

  test('the "> " prompt gets the payload and Ctrl-Z; without one, ESC', () => {
    const h = new Harness();
    h.send('sms', 'AT+CMGS="+447700900123"', { payload: 'hello' });
    h.data('\r\n> ');
    assert.deepEqual(h.writes().at(-1), 'hello\x1a');
    h.data('\r\n+CMGS: 4\r\n\r\nOK\r\n');
    assert.deepEqual(h.of('result')[0]?.lines, ['+CMGS: 4']);
    h.send('sms2', 'AT+CMGS="+447700900123"');
    h.data('\r\n> ');
    assert.deepEqual(h.writes().at(-1), '\x1b');
  });

  test('response lines beyond the limit are dropped and counted', () => {
    let state = createChat({ maxResponseLines: 2 });
    state = stepChat(state, { type: 'send', id: 'i', command: 'ATI', timeoutMs: 100 }, 0).state;
    const r = stepChat(state, { type: 'data', bytes: enc('a\r\nb\r\nc\r\nOK\r\n') }, 1);
    const result = r.actions.find((a) => a.type === 'result');
    assert.deepEqual(result && result.type === 'result' ? result.lines : undefined, ['a', 'b']);
    assert.equal(r.state.stats.droppedLines, 1);
  });

  test('step never changes the state it is given', () => {
    const s0 = createChat();
    const s1 = stepChat(s0, { type: 'send', id: 'a', command: 'AT', timeoutMs: 100 }, 0).state;
    const snapshot = JSON.stringify(s1);
    stepChat(s1, { type: 'data', bytes: enc('OK\r\n') }, 1);
    stepChat(s1, { type: 'reset' }, 1);
    assert.equal(JSON.stringify(s1), snapshot);
    assert.equal(s0.queue.length, 0);
  });
});
