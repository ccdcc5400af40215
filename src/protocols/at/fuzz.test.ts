/**
 * Random bytes and random event orders into the codec, the chat core and the modem
 * machine: nothing throws, the invariants hold, and the PIN never reaches a log.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isNetState } from '../../states.js';
import { createLineCodec, decodeLines } from './line-codec.js';
import { createChat, stepChat } from './chat.js';
import type { ChatAction, ChatInput } from './chat.js';
import { createModemMachine, stepModem } from './modem-machine.js';
import type { ModemInput } from './modem-machine.js';
import { classifyLine } from './response-parser.js';
import { parseCops, parseCpin, parseCsq, parseRegistration } from './parsers.js';

const PIN = '9753';
const enc = (s: string) => new TextEncoder().encode(s);

/** Modem-ish lines, including an echo of the PIN entry with and without line noise. */
const token = fc.constantFrom(
  'OK',
  'ERROR',
  '+CME ERROR: 10',
  '+CME ERROR: 14',
  '+CME ERROR: 16',
  '+CME ERROR: SIM not inserted',
  '+CMS ERROR: 500',
  '+CPIN: READY',
  '+CPIN: SIM PIN',
  '+CPIN: SIM PUK',
  '+CPIN: NOT INSERTED',
  '+CREG: 2,1',
  '+CREG: 0,3',
  '+CREG: 5',
  '+CEREG: 1,"00A1","0001B2C3",7',
  '+CGREG: 2,2',
  '+CSQ: 20,99',
  '+COPS: 0,0,"Op",7',
  'NO CARRIER',
  'CONNECT 150000000',
  'BUSY',
  'RING',
  'RDY',
  '^SYSSTART',
  '> ',
  'AT',
  `AT+CPIN="${PIN}"`,
  `\x00\xffAT+CPIN="${PIN}"`,
  `~AT+CPIN=${PIN}`,
  '"',
  ',,,',
);
const terminator = fc.constantFrom('\r\n', '\r', '\n', '', '\r\r\n');
const modemText = fc.array(fc.tuple(token, terminator), { maxLength: 12 }).map((parts) => parts.map(([t, e]) => t + e).join(''));
const chunk = fc.oneof(fc.uint8Array({ maxLength: 64 }), modemText.map(enc));

describe('fuzz', () => {
  test('codec: random chunks never throw and never hold more than the limit', () => {
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (chunks, max) => {
        let state = createLineCodec({ maxLineBytes: max });
        for (const c of chunks) {
          const r = decodeLines(state, c);
          state = r.state;
          assert.ok(state.pending.length <= max);
          for (const e of r.events) if (e.type === 'line') assert.ok(e.text.length > 0 && !/[\r\n]/.test(e.text));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('parsers and the classifier take any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), modemText), fc.option(fc.string(), { nil: undefined }), (line, command) => {
        classifyLine(line, command === undefined ? {} : { command, expect: '+X:' });
        parseRegistration(line);
        parseCpin(line);
        parseCsq(line);
        parseCops(line);
      }),
      { numRuns: 1000 },
    );
  });

  const chatInput: fc.Arbitrary<ChatInput> = fc.oneof(
    chunk.map((bytes): ChatInput => ({ type: 'data', bytes })),
    fc
      .record({
        id: fc.string({ maxLength: 4 }),
        command: fc.constantFrom('AT', 'AT+CSQ', 'ATD*99#', `AT+CPIN="${PIN}"`, 'AT+CREG?', 'bad\r\ncmd', ''),
        timeoutMs: fc.constantFrom(1, 100, 5000, -1, Number.NaN),
        expect: fc.option(fc.constantFrom('+CSQ:', '+CREG:'), { nil: undefined }),
      })
      .map((r): ChatInput => (r.expect === undefined ? { type: 'send', id: r.id, command: r.command, timeoutMs: r.timeoutMs } : { type: 'send', ...r })),
    fc.constant<ChatInput>({ type: 'timer' }),
    fc.constant<ChatInput>({ type: 'reset' }),
  );

  test('chat: any inputs, no throw, one in flight, every send answered once, no PIN in logs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(chatInput, fc.nat(3000)), { maxLength: 40 }), (steps) => {
        let state = createChat();
        let now = 0;
        const ended = new Map<string, number>();
        let sends = 0;
        const all: ChatAction[] = [];
        for (const [input, dt] of steps) {
          now += dt;
          if (input.type === 'send') sends++;
          const r = stepChat(state, input, now);
          state = r.state;
          all.push(...r.actions);
          for (const a of r.actions) {
            if (a.type === 'result' || a.type === 'timeout' || a.type === 'cancelled' || a.type === 'rejected') ended.set(a.id, (ended.get(a.id) ?? 0) + 1);
            if (a.type === 'setTimer') assert.ok(a.atMs >= now && a.delayMs >= 0);
            if (a.type === 'log') assert.ok(!a.message.includes(PIN), a.message);
          }
        }
        const endings = [...ended.values()].reduce((x, y) => x + y, 0);
        const open = state.queue.length + (state.inFlight ? 1 : 0);
        assert.equal(endings + open, sends);
      }),
      { numRuns: 300 },
    );
  });

  const modemInput: fc.Arbitrary<ModemInput> = fc.oneof(
    { weight: 6, arbitrary: chunk.map((bytes): ModemInput => ({ type: 'data', bytes })) },
    { weight: 4, arbitrary: fc.constant<ModemInput>({ type: 'timer' }) },
    fc.constant<ModemInput>({ type: 'start' }),
    fc.constant<ModemInput>({ type: 'ppp-up' }),
    fc.constant<ModemInput>({ type: 'ppp-down', reason: 'x' }),
    fc.constant<ModemInput>({ type: 'no-carrier' }),
    fc.constant<ModemInput>({ type: 'stop' }),
  );

  test('modem machine: any inputs in any order, no throw, valid states, one timer, no PIN in logs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(modemInput, fc.nat(20_000)), { maxLength: 60 }), (steps) => {
        let state = createModemMachine({ apn: 'internet', pin: PIN });
        let now = 0;
        let timerAt: number | undefined;
        let r = stepModem(state, { type: 'start' }, now);
        for (const [input, dt] of steps) {
          for (const a of r.actions) {
            if (a.type === 'state') assert.ok(isNetState(a.state));
            if (a.type === 'log') assert.ok(!a.message.includes(PIN), a.message);
            if (a.type === 'setTimer') {
              assert.ok(a.atMs >= now);
              timerAt = a.atMs;
            }
            if (a.type === 'clearTimer') timerAt = undefined;
          }
          state = r.state;
          assert.equal(state.timerAtMs, timerAt);
          // Deliver the timer when it is due, as a driver would, or another input.
          if (input.type === 'timer' && timerAt !== undefined) now = Math.max(now, timerAt);
          else now += dt;
          if (input.type === 'timer') timerAt = undefined;
          r = stepModem(state, input, now);
        }
        assert.doesNotMatch(JSON.stringify(r.state), new RegExp(PIN));
      }),
      { numRuns: 300 },
    );
  });
});
