/**
 * The AT chat core: a queue of commands with one in flight (V.250 §5.2: a DCE takes the
 * next command line only after the final result of the last). Each command has its own
 * timeout; the driver owns the one real timer and is told where to set it (`setTimer`
 * with an absolute `atMs` in the driver's clock, as passed in `nowMs`). URCs come out as
 * separate actions whenever they arrive.
 *
 * Secrets: a command sent with `secret: true` (or one the redaction table knows, such as
 * AT+CPIN=) is held as a SecretText and appears in `log` actions as "AT+CPIN=****". Its
 * `write` action carries the real bytes and `secret: true`: drivers must not log writes.
 */
import { createLineCodec, decodeLines } from './line-codec.js';
import type { LineCodecState } from './line-codec.js';
import { classifyLine, isSuccess } from './response-parser.js';
import type { FinalResult, Urc } from './response-parser.js';
import { SecretText, containsSecretCommand, isSecretCommand, redactCommand, redactResponseLine } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn';

export interface ChatCommand {
  /** Chosen by the caller; comes back on the command's result, timeout or cancellation. */
  id: string;
  /** The command line without its CR, e.g. "AT+CPIN?". */
  command: string;
  /** From the moment the command is written. */
  timeoutMs: number;
  /** The information-response prefix, e.g. "+CPIN:"; other prefixed lines become URCs. */
  expect?: string;
  /** Hide the command's arguments in logs. AT+CPIN=, AT+CGAUTH= and the like are always hidden. */
  secret?: boolean;
  /** Text written after the "> " prompt (AT+CMGS), followed by Ctrl-Z (TS 27.005 §3.5.1). */
  payload?: string;
}

export type ChatInput =
  | { type: 'data'; bytes: Uint8Array }
  | ({ type: 'send' } & ChatCommand)
  | { type: 'timer' }
  /** Forget everything: codec buffer, queue and the command in flight (each is `cancelled`). */
  | { type: 'reset' };

export type ChatAction =
  | { type: 'write'; bytes: Uint8Array; secret: boolean }
  | { type: 'result'; id: string; ok: boolean; final: FinalResult; lines: string[] }
  /** No final result within timeoutMs; `lines` holds what did arrive. */
  | { type: 'timeout'; id: string; lines: string[] }
  /** Dropped by a reset before it ended. */
  | { type: 'cancelled'; id: string }
  /** The send input itself was unusable (empty, CR/LF inside, bad timeout): nothing was written. */
  | { type: 'rejected'; id: string; rule: string }
  | { type: 'urc'; urc: Urc }
  | { type: 'setTimer'; atMs: number; delayMs: number }
  | { type: 'clearTimer' }
  | { type: 'log'; level: LogLevel; message: string };

export interface ChatStats {
  linesReceived: number;
  echoes: number;
  urcs: number;
  /** Final results that arrived with no command in flight. */
  strayFinals: number;
  /** Information lines beyond maxResponseLines, dropped. */
  droppedLines: number;
  prompts: number;
  timeouts: number;
}

interface QueuedCommand {
  readonly id: string;
  /** The real text; a SecretText for secret commands. */
  readonly text: string | SecretText;
  /** The text for logs. */
  readonly display: string;
  readonly timeoutMs: number;
  readonly expect: string | undefined;
  readonly secret: boolean;
  readonly payload: string | SecretText | undefined;
}

interface InFlight extends QueuedCommand {
  readonly deadlineMs: number;
  readonly lines: readonly string[];
}

export interface ChatState {
  readonly codec: LineCodecState;
  readonly queue: readonly QueuedCommand[];
  readonly inFlight: InFlight | undefined;
  /** Where the driver's timer is set now, if it is. */
  readonly timerAtMs: number | undefined;
  readonly maxResponseLines: number;
  readonly stats: Readonly<ChatStats>;
}

export interface ChatOptions {
  maxLineBytes?: number;
  /** Information lines kept per command; default 256. */
  maxResponseLines?: number;
}

export function createChat(options: ChatOptions = {}): ChatState {
  const codecOptions = options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes };
  const maxLines = options.maxResponseLines;
  return {
    codec: createLineCodec(codecOptions),
    queue: [],
    inFlight: undefined,
    timerAtMs: undefined,
    maxResponseLines: maxLines !== undefined && Number.isInteger(maxLines) && maxLines > 0 ? maxLines : 256,
    stats: { linesReceived: 0, echoes: 0, urcs: 0, strayFinals: 0, droppedLines: 0, prompts: 0, timeouts: 0 },
  };
}

/** The deadline of the command in flight, for a driver that merges timers. */
export function chatDeadline(state: ChatState): number | undefined {
  return state.inFlight?.deadlineMs;
}

/** True when nothing is in flight or queued. */
export function chatIdle(state: ChatState): boolean {
  return state.inFlight === undefined && state.queue.length === 0;
}

const encoder = new TextEncoder();

function reveal(text: string | SecretText): string {
  return typeof text === 'string' ? text : text.reveal();
}

/** Mutable working copy for one step; the input state is never changed. */
interface Draft {
  codec: LineCodecState;
  queue: QueuedCommand[];
  inFlight: InFlight | undefined;
  timerAtMs: number | undefined;
  maxResponseLines: number;
  stats: ChatStats;
}

export function stepChat(state: ChatState, input: ChatInput, nowMs: number): { state: ChatState; actions: ChatAction[] } {
  const d: Draft = { ...state, queue: [...state.queue], stats: { ...state.stats } };
  const actions: ChatAction[] = [];
  switch (input.type) {
    case 'send':
      onSend(d, input, nowMs, actions);
      break;
    case 'data':
      onData(d, input.bytes, nowMs, actions);
      break;
    case 'timer':
      // The driver's timer has fired, so it is no longer set.
      d.timerAtMs = undefined;
      onTimer(d, nowMs, actions);
      break;
    case 'reset':
      onReset(d, actions);
      break;
  }
  syncTimer(d, nowMs, actions);
  return { state: d, actions };
}

function onSend(d: Draft, input: ChatCommand, nowMs: number, actions: ChatAction[]): void {
  const rule = checkCommand(input);
  const secret = input.secret === true || isSecretCommand(String(input.command));
  if (rule) {
    actions.push({ type: 'rejected', id: String(input.id), rule });
    actions.push({ type: 'log', level: 'warn', message: `rejected command ${String(input.id)}: ${rule}` });
    return;
  }
  const payload = input.payload === undefined ? undefined : secret ? new SecretText(input.payload) : input.payload;
  d.queue.push({
    id: input.id,
    text: secret ? new SecretText(input.command) : input.command,
    display: redactCommand(input.command, secret),
    timeoutMs: input.timeoutMs,
    expect: input.expect,
    secret,
    payload,
  });
  if (!d.inFlight) writeNext(d, nowMs, actions);
}

function checkCommand(input: ChatCommand): string | undefined {
  if (typeof input.id !== 'string') return 'id must be a string';
  if (typeof input.command !== 'string' || input.command.trim() === '') return 'command must be a non-empty string';
  // One command line per send: a CR, LF or Ctrl-Z inside would let text smuggle a second one.
  if (hasAny(input.command, '\r\n\x00\x1a\x1b')) return 'command must not contain CR, LF, NUL, Ctrl-Z or ESC';
  if (typeof input.timeoutMs !== 'number' || !Number.isFinite(input.timeoutMs) || input.timeoutMs <= 0) {
    return 'timeoutMs must be a positive number';
  }
  if (input.expect !== undefined && typeof input.expect !== 'string') return 'expect must be a string';
  if (input.payload !== undefined && (typeof input.payload !== 'string' || hasAny(input.payload, '\x1a\x1b'))) {
    return 'payload must be a string without Ctrl-Z or ESC';
  }
  return undefined;
}

function hasAny(text: string, chars: string): boolean {
  for (const c of chars) if (text.includes(c)) return true;
  return false;
}

function writeNext(d: Draft, nowMs: number, actions: ChatAction[]): void {
  const next = d.queue.shift();
  if (!next) return;
  d.inFlight = { ...next, deadlineMs: nowMs + next.timeoutMs, lines: [] };
  actions.push({ type: 'log', level: 'debug', message: `-> ${next.display}` });
  actions.push({ type: 'write', bytes: encoder.encode(`${reveal(next.text)}\r`), secret: next.secret });
}

function finish(d: Draft, nowMs: number, actions: ChatAction[], action: ChatAction): void {
  d.inFlight = undefined;
  actions.push(action);
  writeNext(d, nowMs, actions);
}

function onData(d: Draft, bytes: Uint8Array, nowMs: number, actions: ChatAction[]): void {
  const overlongBefore = d.codec.overlongLines;
  const decoded = decodeLines(d.codec, bytes);
  d.codec = decoded.state;
  if (d.codec.overlongLines !== overlongBefore) {
    actions.push({ type: 'log', level: 'warn', message: `dropped ${d.codec.overlongLines - overlongBefore} overlong line(s)` });
  }
  for (const event of decoded.events) {
    if (event.type === 'prompt') {
      onPrompt(d, actions);
      continue;
    }
    onLine(d, event.text, nowMs, actions);
  }
}

function onPrompt(d: Draft, actions: ChatAction[]): void {
  d.stats.prompts++;
  const cmd = d.inFlight;
  if (cmd?.payload !== undefined) {
    actions.push({ type: 'log', level: 'debug', message: cmd.secret ? '-> (payload ****)' : `-> (payload ${String(cmd.payload).length} chars)` });
    actions.push({ type: 'write', bytes: encoder.encode(`${reveal(cmd.payload)}\x1a`), secret: cmd.secret });
  } else {
    // Nothing to send: ESC leaves text entry without sending (TS 27.005 §3.5.1).
    actions.push({ type: 'log', level: 'warn', message: 'prompt with no payload; cancelled with ESC' });
    actions.push({ type: 'write', bytes: Uint8Array.of(0x1b), secret: false });
  }
}

function onLine(d: Draft, line: string, nowMs: number, actions: ChatAction[]): void {
  d.stats.linesReceived++;
  const cmd = d.inFlight;
  const context = cmd ? (cmd.expect === undefined ? { command: reveal(cmd.text) } : { command: reveal(cmd.text), expect: cmd.expect }) : {};
  const cls = classifyLine(line, context);
  // An echo of a secret command is the secret: it is neither logged nor kept, even when
  // line noise hides it from the echo test. Finals are kept: they end the command.
  const secretEcho = containsSecretCommand(line) || (cmd?.secret === true && containsSecretArgument(line, cmd.text));
  if (cls.kind === 'echo' || (secretEcho && cls.kind !== 'final')) {
    d.stats.echoes++;
    actions.push({ type: 'log', level: 'debug', message: '<- (echo)' });
    return;
  }
  if (cls.kind !== 'empty') {
    // A garbled echo of the secret in flight must not reach the log either.
    const withheld = secretEcho;
    actions.push({ type: 'log', level: 'debug', message: withheld ? '<- (line withheld: may echo a secret)' : `<- ${redactResponseLine(line.trim())}` });
  }
  switch (cls.kind) {
    case 'empty':
      return;
    case 'final':
      if (!cmd) return;
      finish(d, nowMs, actions, { type: 'result', id: cmd.id, ok: isSuccess(cls.final), final: cls.final, lines: [...cmd.lines] });
      return;
    case 'intermediate':
      if (!cmd) return;
      if (cmd.lines.length >= d.maxResponseLines) {
        d.stats.droppedLines++;
        return;
      }
      d.inFlight = { ...cmd, lines: [...cmd.lines, cls.text] };
      return;
    case 'urc':
      d.stats.urcs++;
      actions.push({ type: 'urc', urc: cls.urc });
      return;
    case 'stray-final':
      d.stats.strayFinals++;
      actions.push({ type: 'log', level: 'warn', message: `final result with no command in flight: ${cls.final.kind}` });
      return;
  }
}

/** Whether a line holds the arguments of a secret command (the PIN digits, say). */
function containsSecretArgument(line: string, text: string | SecretText): boolean {
  const full = reveal(text);
  const eq = full.indexOf('=');
  const argument = (eq >= 0 ? full.slice(eq + 1) : full).replace(/"/g, '');
  // Short arguments ("1" in AT+QICSGP=1, a read) would match any line and hide nothing.
  return argument.length >= 4 && (line.includes(argument) || line.replace(/"/g, '').includes(argument));
}

function onTimer(d: Draft, nowMs: number, actions: ChatAction[]): void {
  const cmd = d.inFlight;
  // A timer that fires early (or a stale one) changes nothing; syncTimer re-arms it.
  if (!cmd || nowMs < cmd.deadlineMs) return;
  d.stats.timeouts++;
  actions.push({ type: 'log', level: 'warn', message: `timeout after ${cmd.timeoutMs} ms: ${cmd.display}` });
  finish(d, nowMs, actions, { type: 'timeout', id: cmd.id, lines: [...cmd.lines] });
}

function onReset(d: Draft, actions: ChatAction[]): void {
  if (d.inFlight) actions.push({ type: 'cancelled', id: d.inFlight.id });
  for (const q of d.queue) actions.push({ type: 'cancelled', id: q.id });
  d.inFlight = undefined;
  d.queue = [];
  d.codec = { ...createLineCodec({ maxLineBytes: d.codec.maxLineBytes }), overlongLines: d.codec.overlongLines };
}

function syncTimer(d: Draft, nowMs: number, actions: ChatAction[]): void {
  const want = d.inFlight?.deadlineMs;
  if (want === d.timerAtMs) return;
  d.timerAtMs = want;
  actions.push(want === undefined ? { type: 'clearTimer' } : { type: 'setTimer', atMs: want, delayMs: Math.max(0, want - nowMs) });
}
