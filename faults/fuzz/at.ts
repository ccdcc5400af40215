/**
 * AT fuzzer: the line codec (random chunks), the response parsers and classifier, the chat
 * core and the modem machine (random inputs in random order), with the PIN planted in the
 * modem's answers: it must never reach a log or the machine's state.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { isNetState } from '../../src/states.js';
import { createLineCodec, decodeLines } from '../../src/protocols/at/line-codec.js';
import { createChat, stepChat, type ChatAction, type ChatInput } from '../../src/protocols/at/chat.js';
import { createModemMachine, stepModem, type ModemInput } from '../../src/protocols/at/modem-machine.js';
import { classifyLine } from '../../src/protocols/at/response-parser.js';
import { parseCops, parseCpin, parseCsq, parseRegistration } from '../../src/protocols/at/parsers.js';
import { target, type Fuzzer } from './types.js';

export const PIN = '9753';
const enc = (s: string) => new TextEncoder().encode(s);

const token = fc.constantFrom(
  'OK', 'ERROR', '+CME ERROR: 10', '+CME ERROR: 14', '+CME ERROR: 16', '+CME ERROR: SIM not inserted', '+CMS ERROR: 500',
  '+CPIN: READY', '+CPIN: SIM PIN', '+CPIN: SIM PUK', '+CPIN: NOT INSERTED', '+CREG: 2,1', '+CREG: 0,3', '+CREG: 5',
  '+CEREG: 1,"00A1","0001B2C3",7', '+CGREG: 2,2', '+CSQ: 20,99', '+COPS: 0,0,"Op",7', 'NO CARRIER', 'CONNECT 150000000',
  'BUSY', 'RING', 'RDY', '^SYSSTART', '> ', 'AT', `AT+CPIN="${PIN}"`, `\x00\xffAT+CPIN="${PIN}"`, `~AT+CPIN=${PIN}`, '"', ',,,',
  '+CREG: 2,1,"FFFF","FFFFFFFF",99', '+CSQ: 99,99', '+CPIN: ', '+COPS: 0,0,"\\"Op",7',
);
const terminator = fc.constantFrom('\r\n', '\r', '\n', '', '\r\r\n');
const modemText = fc.array(fc.tuple(token, terminator), { maxLength: 12 }).map((parts) => parts.map(([t, e]) => t + e).join(''));
const chunk = fc.oneof(fc.uint8Array({ maxLength: 64 }), modemText.map(enc));

export interface CodecCase {
  chunks: Uint8Array[];
  max: number;
}

export function checkCodec({ chunks, max }: CodecCase): void {
  let state = createLineCodec({ maxLineBytes: max });
  for (const c of chunks) {
    const r = decodeLines(state, c);
    state = r.state;
    assert.ok(state.pending.length <= max);
    for (const e of r.events) if (e.type === 'line') assert.ok(e.text.length > 0 && !/[\r\n]/.test(e.text));
  }
}

export function checkParsers({ line, command }: { line: string; command: string | null }): void {
  classifyLine(line, command === null ? {} : { command, expect: '+X:' });
  parseRegistration(line);
  parseCpin(line);
  parseCsq(line);
  parseCops(line);
}

/** Chat inputs as data. */
export type ChatStep = { data: Uint8Array } | { send: { id: string; command: string; timeoutMs: number; expect: string | null } } | { timer: true } | { reset: true };

const chatStepArb: fc.Arbitrary<ChatStep> = fc.oneof(
  chunk.map((data) => ({ data })),
  fc.record({
    id: fc.string({ maxLength: 4 }),
    command: fc.constantFrom('AT', 'AT+CSQ', 'ATD*99#', `AT+CPIN="${PIN}"`, 'AT+CREG?', 'bad\r\ncmd', ''),
    timeoutMs: fc.constantFrom(1, 100, 5000, -1, Number.NaN),
    expect: fc.constantFrom(null, '+CSQ:', '+CREG:'),
  }).map((send) => ({ send })),
  fc.constant({ timer: true as const }),
  fc.constant({ reset: true as const }),
);

export function checkChat(steps: [ChatStep, number][]): void {
  let state = createChat();
  let now = 0;
  const ended = new Map<string, number>();
  let sends = 0;
  const all: ChatAction[] = [];
  for (const [s, dt] of steps) {
    now += dt;
    let input: ChatInput;
    if ('data' in s) input = { type: 'data', bytes: s.data };
    else if ('send' in s) {
      sends++;
      const { id, command, timeoutMs, expect } = s.send;
      input = expect === null ? { type: 'send', id, command, timeoutMs } : { type: 'send', id, command, timeoutMs, expect };
    } else if ('timer' in s) input = { type: 'timer' };
    else input = { type: 'reset' };
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
  assert.equal(endings + open, sends, 'every send is answered exactly once');
}

/** Modem inputs as data. */
export type ModemStep = { data: Uint8Array } | { input: 'timer' | 'start' | 'ppp-up' | 'ppp-down' | 'no-carrier' | 'stop' };

const modemStepArb: fc.Arbitrary<ModemStep> = fc.oneof(
  { weight: 6, arbitrary: chunk.map((data) => ({ data })) },
  { weight: 4, arbitrary: fc.constant({ input: 'timer' as const }) },
  { weight: 3, arbitrary: fc.constantFrom('start' as const, 'ppp-up' as const, 'ppp-down' as const, 'no-carrier' as const, 'stop' as const).map((input) => ({ input })) },
);

export function checkModem(steps: [ModemStep, number][]): void {
  let state = createModemMachine({ apn: 'internet', pin: PIN });
  let now = 0;
  let timerAt: number | undefined;
  let r = stepModem(state, { type: 'start' }, now);
  const take = () => {
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
    assert.equal(state.timerAtMs, timerAt, 'the machine and its driver agree on the one timer');
  };
  for (const [s, dt] of steps) {
    take();
    let input: ModemInput;
    if ('data' in s) input = { type: 'data', bytes: s.data };
    else if (s.input === 'ppp-down') input = { type: 'ppp-down', reason: 'x' };
    else input = { type: s.input };
    // The timer is delivered when it is due, as a driver would; other inputs come whenever.
    if (input.type === 'timer' && timerAt !== undefined) now = Math.max(now, timerAt);
    else now += dt;
    if (input.type === 'timer') timerAt = undefined;
    r = stepModem(state, input, now);
  }
  take();
  assert.deepEqual(stringsHolding(r.state, PIN), [], 'the PIN in the machine state');
}

/**
 * Paths of the string values that hold `needle`. Strings only: a deadline of 29753 ms is
 * not the PIN 9753 (the first long run's one "crash" was exactly that), and the line
 * codec's byte buffer holds whatever the modem sent until its line ends — an echo of our
 * own AT+CPIN included — in transit, not kept.
 */
function stringsHolding(value: unknown, needle: string, path = 'state', out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.includes(needle)) out.push(path);
  } else if (ArrayBuffer.isView(value)) {
    return out;
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => stringsHolding(v, needle, `${path}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) stringsHolding(v, needle, `${path}.${k}`, out);
  }
  return out;
}

export const atFuzzer: Fuzzer = {
  name: 'at',
  description: 'AT line codec, response parsers, chat core and modem machine',
  regressionsDir: fileURLToPath(new URL('../../src/protocols/at/regressions/', import.meta.url)),
  targets: [
    target({
      name: 'at.codec',
      description: 'random chunks (≤30) into the line codec with a random line limit',
      arbitrary: fc.record({ chunks: fc.array(chunk, { maxLength: 30 }), max: fc.integer({ min: 1, max: 64 }) }),
      check: checkCodec,
      weight: 2,
    }),
    target({
      name: 'at.parsers',
      description: 'any string into the classifier and the +CREG/+CPIN/+CSQ/+COPS parsers',
      arbitrary: fc.record({ line: fc.oneof(fc.string(), modemText), command: fc.option(fc.string(), { nil: null }) }),
      check: checkParsers,
      weight: 2,
    }),
    target({
      name: 'at.chat',
      description: 'random sends, bytes, timers and resets (≤40) through the chat core',
      arbitrary: fc.array(fc.tuple(chatStepArb, fc.nat(3000)), { maxLength: 40 }),
      check: checkChat,
      weight: 3,
    }),
    target({
      name: 'at.modem',
      description: 'random modem inputs (≤60) in any order through the modem machine',
      arbitrary: fc.array(fc.tuple(modemStepArb, fc.nat(20_000)), { maxLength: 60 }),
      check: checkModem,
      weight: 3,
    }),
  ],
};
