/**
 * AT fuzz inputs and the invariants they are checked against, shared by the unit fuzz test
 * (src/protocols/at/fuzz.test.ts) and the long fuzzer (faults/fuzz/at.ts). The PIN is
 * planted in the modem's answers and commands: it must never reach a log or the machine's
 * state. Inputs are plain data so that a failing case can be kept as a regression file;
 * each check throws on a broken invariant.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isNetState } from '../../src/states.js';
import { createLineCodec, decodeLines } from '../../src/protocols/at/line-codec.js';
import { createChat, stepChat, type ChatInput } from '../../src/protocols/at/chat.js';
import { createModemMachine, stepModem, type ModemInput } from '../../src/protocols/at/modem-machine.js';
import { classifyLine } from '../../src/protocols/at/response-parser.js';
import { parseCops, parseCpin, parseCsq, parseRegistration } from '../../src/protocols/at/parsers.js';

export const PIN = '9753';
const enc = (s: string) => new TextEncoder().encode(s);

/** Modem-ish lines, including an echo of the PIN entry with and without line noise. */
const token = fc.constantFrom(
  'OK', 'ERROR', '+CME ERROR: 10', '+CME ERROR: 14', '+CME ERROR: 16', '+CME ERROR: SIM not inserted', '+CMS ERROR: 500',
  '+CPIN: READY', '+CPIN: SIM PIN', '+CPIN: SIM PUK', '+CPIN: NOT INSERTED', '+CREG: 2,1', '+CREG: 0,3', '+CREG: 5',
  '+CEREG: 1,"00A1","0001B2C3",7', '+CGREG: 2,2', '+CSQ: 20,99', '+COPS: 0,0,"Op",7', 'NO CARRIER', 'CONNECT 150000000',
  'BUSY', 'RING', 'RDY', '^SYSSTART', '> ', 'AT', `AT+CPIN="${PIN}"`, `\x00\xffAT+CPIN="${PIN}"`, `~AT+CPIN=${PIN}`, '"', ',,,',
  '+CREG: 2,1,"FFFF","FFFFFFFF",99', '+CSQ: 99,99', '+CPIN: ', '+COPS: 0,0,"\\"Op",7',
);
const terminator = fc.constantFrom('\r\n', '\r', '\n', '', '\r\r\n');
const modemText = fc.array(fc.tuple(token, terminator), { maxLength: 12 }).map((parts) => parts.map(([t, e]) => t + e).join(''));
/** What one read from the port gives: random bytes or modem lines, cut anywhere. */
const chunk = fc.oneof(fc.uint8Array({ maxLength: 64 }), modemText.map(enc));

export interface CodecCase {
  chunks: Uint8Array[];
  max: number;
}

/** Up to 30 chunks and a line limit of 1 to 64 bytes. */
export const codecCaseArb: fc.Arbitrary<CodecCase> = fc.record({ chunks: fc.array(chunk, { maxLength: 30 }), max: fc.integer({ min: 1, max: 64 }) });

/** The codec never throws, never holds more than the limit, and emits non-empty lines without CR/LF. */
export function checkCodec({ chunks, max }: CodecCase): void {
  let state = createLineCodec({ maxLineBytes: max });
  for (const c of chunks) {
    const r = decodeLines(state, c);
    state = r.state;
    assert.ok(state.pending.length <= max);
    for (const e of r.events) if (e.type === 'line') assert.ok(e.text.length > 0 && !/[\r\n]/.test(e.text));
  }
}

export interface ParserCase {
  line: string;
  /** The command in flight (null: none). */
  command: string | null;
}

export const parserCaseArb: fc.Arbitrary<ParserCase> = fc.record({ line: fc.oneof(fc.string(), modemText), command: fc.option(fc.string(), { nil: null }) });

/** The classifier and the +CREG/+CPIN/+CSQ/+COPS parsers take any string. */
export function checkParsers({ line, command }: ParserCase): void {
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

/** Up to 40 sends, bytes, timers and resets, each after 0–3000 ms. */
export const chatStepsArb: fc.Arbitrary<[ChatStep, number][]> = fc.array(fc.tuple(chatStepArb, fc.nat(3000)), { maxLength: 40 });

/** The chat core never throws, keeps one command in flight, answers every send once, logs no PIN. */
export function checkChat(steps: [ChatStep, number][]): void {
  let state = createChat();
  let now = 0;
  const ended = new Map<string, number>();
  let sends = 0;
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

/** Up to 60 modem inputs in any order, each after 0–20000 ms (a timer comes when due). */
export const modemStepsArb: fc.Arbitrary<[ModemStep, number][]> = fc.array(fc.tuple(modemStepArb, fc.nat(20_000)), { maxLength: 60 });

/** The modem machine never throws, reports valid states, agrees with its driver on the one timer, and keeps the PIN out of logs and state. */
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
  // Text only: the PIN's digits turn up by chance in numbers (a deadline of 29753 ms is not the PIN 9753).
  assert.deepEqual(textsHolding(r.state, PIN), [], 'the PIN in the machine state');
}

/**
 * Paths of the strings (values and keys, also inside Maps and Sets) that hold `needle`:
 * all the text JSON.stringify would show, and more. Numbers are left out (see above); so
 * are byte buffers: the line codec's holds whatever the modem sent until its line ends —
 * an echo of our own AT+CPIN included — in transit, not kept. A SecretText shows no
 * property at all.
 */
function textsHolding(value: unknown, needle: string, path = 'state', out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.includes(needle)) out.push(path);
  } else if (ArrayBuffer.isView(value)) {
    return out;
  } else if (Array.isArray(value) || value instanceof Set) {
    [...value].forEach((v, i) => textsHolding(v, needle, `${path}[${i}]`, out));
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      textsHolding(k, needle, `${path} key`, out);
      textsHolding(v, needle, `${path}.get(${String(k)})`, out);
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes(needle)) out.push(`${path} key ${k}`);
      textsHolding(v, needle, `${path}.${k}`, out);
    }
  }
  return out;
}
