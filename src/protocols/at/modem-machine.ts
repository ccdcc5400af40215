/**
 * The cellular bring-up as a pure machine (API.md Part 2, cellular): contact the modem,
 * unlock the SIM, define the PDP context, register, dial, hand the port to pppd. It
 * drives an embedded chat core and merges the chat's command deadline with its own
 * (polls, back-off, registration timeout) into the one timer the driver owns.
 *
 *   start → PINGING 300: AT until OK (pingAttempts), then ATE0, AT+CMEE=1
 *         → AT+CPIN?  READY → REGISTERING 303
 *                     SIM PIN → WAITING_FOR_SIM 301 (sim-pin-required), AT+CPIN="…" once
 *                     missing → WAITING_FOR_SIM 301 (sim-missing), poll with back-off
 *         → AT+CGDCONT (before registering: many LTE modems attach with context 1's APN)
 *         → AT+CREG=2, AT+CGREG=2, AT+CEREG=2; poll the ? forms, take URCs
 *             stat 1/5 (6/7/9/10) → PPP_CONNECTING 302 (ppp-dialing), ATD*99***<cid>#
 *             stat 3 → REGISTRATION_DENIED 304, polling on; timeout → UNHAPPY 306
 *         → CONNECT → action start-ppp; ppp-up → CONNECTED 1
 *
 * Failures go to CELLULAR_STOPPED_UNHAPPY 306 with a reason and, unless retrying could do
 * harm or cannot help (wrong PIN: each try burns one of the SIM's three; PUK; no PIN
 * configured), start over after an exponential back-off. stop → CELLULAR_STOPPED 305.
 * The PIN is never sent again unless the SIM accepted it before: not after a refusal,
 * a timeout or "SIM busy" (each may have cost a try), nor when the SIM asks again right
 * after an OK (an OK that cannot be trusted).
 */
import { ArgumentError } from '../../errors.js';
import { NetState, Reason, stateName } from '../../states.js';
import type { NetStateValue, ReasonCode } from '../../states.js';
import { chatDeadline, createChat, stepChat } from './chat.js';
import type { ChatAction, ChatInput, ChatState, LogLevel } from './chat.js';
import {
  CmeError,
  REGISTRATION_DOMAINS,
  buildDialCommand,
  buildPdpContextCommand,
  buildPinCommand,
  buildRegistrationReportCommand,
  isRegistered,
  parseRegistration,
  registrationPrefix,
  registrationQueryCommand,
  simStatusFromOutcome,
} from './parsers.js';
import type { PdpType, RegistrationDomain, SimStatus } from './parsers.js';
import { SecretText } from './redact.js';
import type { CommandOutcome, Urc } from './response-parser.js';

export interface ModemTiming {
  /** Wait for each AT while pinging. */
  pingTimeoutMs: number;
  /** ATs without OK before the modem counts as silent. */
  pingAttempts: number;
  /** Pause after an AT that was answered with something other than OK. */
  pingIntervalMs: number;
  /** Default command timeout (ATE0, CMEE, CGDCONT, CREG…). */
  commandTimeoutMs: number;
  /** AT+CPIN? and PIN entry: SIM I/O can take seconds. */
  simTimeoutMs: number;
  /** Pause before asking again when the SIM is busy, or after the PIN was accepted. */
  simBusyRetryMs: number;
  /** Busy/error answers to AT+CPIN? in a row before giving up (modem-error). */
  simErrorAttempts: number;
  /** Back-off while the SIM is missing: from min, doubling, up to max. */
  simPollMinMs: number;
  simPollMaxMs: number;
  /** Pause between registration poll rounds. */
  registrationPollMs: number;
  /** Pause between polls while registration is denied. */
  deniedPollMs: number;
  /** Not registered (and not denied) by then → 306 registration-timeout. */
  registrationTimeoutMs: number;
  /** ATD until CONNECT. */
  dialTimeoutMs: number;
  /** Back-off before starting over after a failure: from min, doubling, up to max. */
  retryMinMs: number;
  retryMaxMs: number;
  /**
   * Silence before and after the "+++" escape (V.250 S12; its default is 1 s, so a little
   * more). A silent modem may be in data mode from a call nobody ended: the escape brings it
   * back to commands, and ATH ends the call.
   */
  escapeGuardMs: number;
}

export const DEFAULT_MODEM_TIMING: Readonly<ModemTiming> = {
  pingTimeoutMs: 1000,
  pingAttempts: 10,
  pingIntervalMs: 1000,
  commandTimeoutMs: 5000,
  simTimeoutMs: 10_000,
  simBusyRetryMs: 1000,
  simErrorAttempts: 10,
  simPollMinMs: 2000,
  simPollMaxMs: 60_000,
  registrationPollMs: 2000,
  deniedPollMs: 30_000,
  registrationTimeoutMs: 180_000,
  dialTimeoutMs: 30_000,
  retryMinMs: 2000,
  retryMaxMs: 300_000,
  escapeGuardMs: 1100,
};

/** After the escape's ATH, time for its answer before the next AT (the modem may take a moment to hang up). */
const ESCAPE_SETTLE_MS = 500;

export interface ModemConfig {
  /** TS 23.003 APN; "" asks for the network's default. */
  apn: string;
  /** The SIM PIN in plain digits (a sealed PIN is opened by the driver first). */
  pin?: string;
  /** PDP context id, default 1. */
  cid?: number;
  /** Default 'IP'. */
  pdpType?: PdpType;
  timing?: Partial<ModemTiming>;
}

export type ModemPhase =
  | 'idle'
  | 'pinging'
  | 'configuring'
  | 'checking-sim'
  | 'entering-pin'
  | 'waiting-for-sim'
  | 'defining-context'
  | 'registering'
  | 'dialing'
  | 'ppp-starting'
  | 'online'
  | 'backing-off'
  /** Settled: needs a new PIN, a PUK or a new config; no retry. */
  | 'failed'
  | 'stopped';

export type ModemInput =
  | { type: 'start' }
  | { type: 'data'; bytes: Uint8Array }
  | { type: 'timer' }
  /** pppd has the link up (ppp0 has its address). */
  | { type: 'ppp-up' }
  /** pppd ended or lost the link; `reason` is the driver's text, for the log. */
  | { type: 'ppp-down'; reason?: string }
  /** The driver saw the carrier go (DCD dropped) while the port was in data mode. */
  | { type: 'no-carrier' }
  | { type: 'stop' };

export type ModemAction =
  /** Bytes for the modem's port. `secret` writes carry a PIN: never log them. */
  | { type: 'write'; bytes: Uint8Array; secret: boolean }
  /** Arm the driver's one timer at `atMs` (the clock of `nowMs`), replacing any armed one. */
  | { type: 'setTimer'; atMs: number; delayMs: number }
  | { type: 'clearTimer' }
  /** An impOS state change, with its reason. */
  | { type: 'state'; state: NetStateValue; reason: ReasonCode }
  /** CONNECT seen: the port is in data mode; start pppd on it. */
  | { type: 'start-ppp' }
  | { type: 'stop-ppp' }
  /**
   * End any call: ATH. With `escapeGuardMs`, the modem may be in data mode: first the
   * escape, "+++" with that much silence before and after it, then ATH.
   */
  | { type: 'hangup'; escapeGuardMs?: number }
  | { type: 'urc'; urc: Urc }
  | { type: 'log'; level: LogLevel; message: string };

/** Timeouts in a row (outside pinging, which counts its own) that make a modem silent. */
const SILENT_AFTER_TIMEOUTS = 3;

type Purpose =
  | 'ping'
  | 'echo-off'
  | 'cmee'
  | 'cpin-query'
  | 'cpin-enter'
  | 'cgdcont'
  | `report-${RegistrationDomain}`
  | `query-${RegistrationDomain}`
  | 'dial';

/** What the modem last said about one registration domain. */
export interface DomainRegistration {
  /** False once AT+C*REG=2 was refused (no such radio, e.g. +CEREG on a 3G modem). */
  supported: boolean;
  stat?: number;
}

/** Whether the SIM took the configured PIN; 'rejected' and 'uncertain' forbid another try. */
export type PinState = 'unused' | 'accepted' | 'rejected' | 'uncertain';

interface PreparedConfig {
  readonly pinCommand: SecretText | undefined;
  readonly pdpContextCommand: string;
  readonly dialCommand: string;
  readonly timing: Readonly<ModemTiming>;
}

export interface ModemStats {
  /** Bytes that arrived when no command could be running (data mode, stopped). */
  droppedBytes: number;
  failures: number;
}

export interface ModemState {
  readonly config: PreparedConfig;
  readonly phase: ModemPhase;
  /** The last impOS state reported (UNKNOWN before start). */
  readonly netState: NetStateValue;
  readonly reason: ReasonCode | undefined;
  readonly chat: ChatState;
  /** Commands whose outcome this phase waits for; any other outcome is stale. */
  readonly outstanding: readonly { readonly id: string; readonly purpose: Purpose }[];
  readonly seq: number;
  /** The phase's own deadline: next ping, SIM poll, registration poll, retry. */
  readonly wakeAtMs: number | undefined;
  readonly registrationDeadlineMs: number | undefined;
  /** Where the driver's timer is set now. */
  readonly timerAtMs: number | undefined;
  readonly pingsSent: number;
  readonly pingAnswered: boolean;
  readonly simPolls: number;
  readonly simErrors: number;
  readonly pinState: PinState;
  readonly pinSentThisCycle: boolean;
  /** Consecutive failures, for the back-off; reset once CONNECTED. */
  readonly failures: number;
  /** Command timeouts in a row; SILENT_AFTER_TIMEOUTS of them → modem-silent. */
  readonly unansweredCommands: number;
  readonly registration: Readonly<Record<RegistrationDomain, Readonly<DomainRegistration>>>;
  readonly stats: Readonly<ModemStats>;
}

function checkTiming(timing: Partial<ModemTiming> | undefined): ModemTiming {
  const merged: ModemTiming = { ...DEFAULT_MODEM_TIMING, ...(timing ?? {}) };
  for (const [key, value] of Object.entries(merged)) {
    const counts = key === 'pingAttempts' || key === 'simErrorAttempts';
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (counts && !Number.isInteger(value))) {
      throw new ArgumentError(`timing.${key}: must be a positive ${counts ? 'integer' : 'number'}`, { field: `timing.${key}` });
    }
  }
  return merged;
}

function freshRegistration(): Record<RegistrationDomain, DomainRegistration> {
  return { cs: { supported: true }, ps: { supported: true }, eps: { supported: true } };
}

/** Validates the config (ArgumentError naming the field, never the PIN) and builds the commands. */
export function createModemMachine(config: ModemConfig): ModemState {
  if (typeof config !== 'object' || config === null) throw new ArgumentError('cellconfig: must be an object', { field: 'cellconfig' });
  const cid = config.cid ?? 1;
  const pdpContextCommand = buildPdpContextCommand({ apn: config.apn, cid, pdpType: config.pdpType ?? 'IP' });
  const pinCommand = config.pin === undefined ? undefined : new SecretText(buildPinCommand(config.pin));
  return {
    config: { pinCommand, pdpContextCommand, dialCommand: buildDialCommand(cid), timing: checkTiming(config.timing) },
    phase: 'idle',
    netState: NetState.UNKNOWN,
    reason: undefined,
    chat: createChat(),
    outstanding: [],
    seq: 0,
    wakeAtMs: undefined,
    registrationDeadlineMs: undefined,
    timerAtMs: undefined,
    pingsSent: 0,
    pingAnswered: false,
    simPolls: 0,
    simErrors: 0,
    pinState: 'unused',
    pinSentThisCycle: false,
    failures: 0,
    unansweredCommands: 0,
    registration: freshRegistration(),
    stats: { droppedBytes: 0, failures: 0 },
  };
}

type Draft = { -readonly [K in keyof ModemState]: ModemState[K] } & {
  outstanding: { id: string; purpose: Purpose }[];
  registration: Record<RegistrationDomain, DomainRegistration>;
  stats: ModemStats;
};

interface Ctx {
  d: Draft;
  now: number;
  actions: ModemAction[];
}

export function stepModem(state: ModemState, input: ModemInput, nowMs: number): { state: ModemState; actions: ModemAction[] } {
  const d: Draft = {
    ...state,
    outstanding: [...state.outstanding],
    registration: { cs: { ...state.registration.cs }, ps: { ...state.registration.ps }, eps: { ...state.registration.eps } },
    stats: { ...state.stats },
  };
  const ctx: Ctx = { d, now: nowMs, actions: [] };
  switch (input.type) {
    case 'start':
      onStart(ctx);
      break;
    case 'data':
      onData(ctx, input.bytes);
      break;
    case 'timer':
      onTimer(ctx);
      break;
    case 'ppp-up':
      onPppUp(ctx);
      break;
    case 'ppp-down':
      onPppDown(ctx, input.reason);
      break;
    case 'no-carrier':
      if (isCallPhase(d.phase)) fail(ctx, Reason.NO_CARRIER_MODEM, true);
      break;
    case 'stop':
      onStop(ctx);
      break;
  }
  syncTimer(ctx);
  return { state: d, actions: ctx.actions };
}

// ---------------------------------------------------------------------------------------
// Plumbing

function log(ctx: Ctx, level: LogLevel, message: string): void {
  ctx.actions.push({ type: 'log', level, message });
}

/** The one place the impOS state changes; logs "X -> Y (reason)". */
function setNetState(ctx: Ctx, state: NetStateValue, reason: ReasonCode): void {
  const { d } = ctx;
  if (d.netState === state && d.reason === reason) return;
  log(ctx, 'info', `${stateName(d.netState) ?? d.netState} -> ${stateName(state) ?? state} (${reason})`);
  d.netState = state;
  d.reason = reason;
  ctx.actions.push({ type: 'state', state, reason });
}

/** Changes phase; outcomes of the old phase's commands become stale. */
function enter(ctx: Ctx, phase: ModemPhase): void {
  const { d } = ctx;
  if (d.phase !== phase) log(ctx, 'debug', `phase ${d.phase} -> ${phase}`);
  d.phase = phase;
  d.outstanding = [];
  d.wakeAtMs = undefined;
  if (phase !== 'registering') d.registrationDeadlineMs = undefined;
}

function isCallPhase(phase: ModemPhase): boolean {
  return phase === 'dialing' || phase === 'ppp-starting' || phase === 'online';
}

function runChat(ctx: Ctx, input: ChatInput): void {
  const { d } = ctx;
  const { state, actions } = stepChat(d.chat, input, ctx.now);
  d.chat = state;
  for (const a of actions) handleChatAction(ctx, a);
}

function handleChatAction(ctx: Ctx, a: ChatAction): void {
  switch (a.type) {
    case 'write':
    case 'log':
      ctx.actions.push(a);
      return;
    case 'urc':
      ctx.actions.push(a);
      onUrc(ctx, a.urc);
      return;
    case 'result':
      ctx.d.unansweredCommands = 0;
      onOutcome(ctx, a.id, { final: a.final, lines: a.lines });
      return;
    case 'timeout':
      ctx.d.unansweredCommands++;
      // A modem that stops answering mid-sequence is silent, whatever the step.
      if (ctx.d.unansweredCommands >= SILENT_AFTER_TIMEOUTS && ctx.d.phase !== 'pinging' && ctx.d.phase !== 'entering-pin') {
        fail(ctx, Reason.MODEM_SILENT, true);
        return;
      }
      onOutcome(ctx, a.id, { lines: a.lines });
      return;
    case 'rejected':
      log(ctx, 'warn', `chat refused command ${a.id}: ${a.rule}`);
      onOutcome(ctx, a.id, { lines: [] });
      return;
    case 'cancelled':
    case 'setTimer':
    case 'clearTimer':
      // Cancellations are our own resets; the timer is merged in syncTimer.
      return;
  }
}

function send(ctx: Ctx, purpose: Purpose, command: string | SecretText, timeoutMs: number, expect?: string): void {
  const { d } = ctx;
  d.seq++;
  const id = `${purpose}#${d.seq}`;
  d.outstanding.push({ id, purpose });
  const secret = typeof command !== 'string';
  const text = typeof command === 'string' ? command : command.reveal();
  const input: ChatInput = expect === undefined
    ? { type: 'send', id, command: text, timeoutMs, secret }
    : { type: 'send', id, command: text, timeoutMs, secret, expect };
  runChat(ctx, input);
}

function resetChat(ctx: Ctx): void {
  runChat(ctx, { type: 'reset' });
}

function wakeIn(ctx: Ctx, delayMs: number): void {
  ctx.d.wakeAtMs = ctx.now + delayMs;
}

function syncTimer(ctx: Ctx): void {
  const { d } = ctx;
  let want: number | undefined;
  for (const t of [chatDeadline(d.chat), d.wakeAtMs, d.registrationDeadlineMs]) {
    if (t !== undefined && (want === undefined || t < want)) want = t;
  }
  if (want === d.timerAtMs) return;
  d.timerAtMs = want;
  ctx.actions.push(want === undefined ? { type: 'clearTimer' } : { type: 'setTimer', atMs: want, delayMs: Math.max(0, want - ctx.now) });
}

function backoff(minMs: number, maxMs: number, step: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(step, 30));
}

// ---------------------------------------------------------------------------------------
// Inputs

function onStart(ctx: Ctx): void {
  const { d } = ctx;
  if (d.phase !== 'idle' && d.phase !== 'stopped' && d.phase !== 'failed') {
    log(ctx, 'debug', `start ignored in phase ${d.phase}`);
    return;
  }
  d.failures = 0;
  startCycle(ctx, Reason.MODEM_PROBING);
}

function onData(ctx: Ctx, bytes: Uint8Array): void {
  const { d } = ctx;
  // In data mode the port is pppd's; stopped or failed, nothing listens.
  if (d.phase === 'idle' || d.phase === 'stopped' || d.phase === 'failed' || d.phase === 'ppp-starting' || d.phase === 'online') {
    d.stats.droppedBytes += bytes instanceof Uint8Array ? bytes.length : 0;
    return;
  }
  if (!(bytes instanceof Uint8Array)) return;
  runChat(ctx, { type: 'data', bytes });
}

function onTimer(ctx: Ctx): void {
  const { d } = ctx;
  // The driver's timer has fired, so it is no longer set.
  d.timerAtMs = undefined;
  runChat(ctx, { type: 'timer' });
  if (d.registrationDeadlineMs !== undefined && ctx.now >= d.registrationDeadlineMs) {
    d.registrationDeadlineMs = undefined;
    if (d.phase === 'registering' && d.netState !== NetState.CELLULAR_REGISTRATION_DENIED) {
      fail(ctx, Reason.REGISTRATION_TIMEOUT, true);
      return;
    }
  }
  if (d.wakeAtMs !== undefined && ctx.now >= d.wakeAtMs) {
    d.wakeAtMs = undefined;
    onWake(ctx);
  }
}

function onWake(ctx: Ctx): void {
  switch (ctx.d.phase) {
    case 'pinging':
      sendPing(ctx);
      return;
    case 'waiting-for-sim':
      checkSim(ctx);
      return;
    case 'registering':
      pollRegistration(ctx);
      return;
    case 'backing-off':
      startCycle(ctx, Reason.RETRY);
      return;
    default:
      return;
  }
}

function onPppUp(ctx: Ctx): void {
  const { d } = ctx;
  if (d.phase !== 'ppp-starting') {
    log(ctx, 'debug', `ppp-up ignored in phase ${d.phase}`);
    return;
  }
  enter(ctx, 'online');
  d.failures = 0;
  setNetState(ctx, NetState.CONNECTED, Reason.PPP_UP);
}

function onPppDown(ctx: Ctx, reason: string | undefined): void {
  const { d } = ctx;
  if (d.phase !== 'ppp-starting' && d.phase !== 'online') return;
  log(ctx, 'info', `ppp down${typeof reason === 'string' && reason !== '' ? `: ${reason}` : ''}`);
  fail(ctx, d.phase === 'online' ? Reason.PPP_DROPPED : Reason.PPP_FAILED, true);
}

function onStop(ctx: Ctx): void {
  const { d } = ctx;
  if (d.phase === 'stopped') return;
  if (d.phase === 'ppp-starting' || d.phase === 'online') ctx.actions.push({ type: 'stop-ppp' });
  if (d.phase !== 'idle') ctx.actions.push({ type: 'hangup' });
  resetChat(ctx);
  enter(ctx, 'stopped');
  setNetState(ctx, NetState.CELLULAR_STOPPED, Reason.CLOSED_BY_USER);
}

function onUrc(ctx: Ctx, urc: Urc): void {
  const { d } = ctx;
  if (urc.kind === 'registration') {
    const reg = urc.registration;
    d.registration[reg.domain] = { supported: true, stat: reg.stat };
    if (d.phase === 'registering') evaluateRegistration(ctx);
    return;
  }
  if (urc.kind === 'sim-status' && (urc.sim.kind === 'missing' || urc.sim.kind === 'failure')) {
    if (d.phase === 'defining-context' || d.phase === 'registering') simGone(ctx);
  }
}

// ---------------------------------------------------------------------------------------
// The sequence

function startCycle(ctx: Ctx, reason: ReasonCode): void {
  const { d } = ctx;
  resetChat(ctx);
  d.pingsSent = 0;
  d.unansweredCommands = 0;
  d.pingAnswered = false;
  d.simPolls = 0;
  d.simErrors = 0;
  d.pinSentThisCycle = false;
  d.registration = freshRegistration();
  enter(ctx, 'pinging');
  setNetState(ctx, NetState.CELLULAR_PINGING, reason);
  sendPing(ctx);
}

function sendPing(ctx: Ctx): void {
  ctx.d.pingsSent++;
  send(ctx, 'ping', 'AT', ctx.d.config.timing.pingTimeoutMs);
}

function onOutcome(ctx: Ctx, id: string, outcome: CommandOutcome): void {
  const { d } = ctx;
  const index = d.outstanding.findIndex((o) => o.id === id);
  const entry = d.outstanding[index];
  if (!entry) return; // stale: its phase is over
  d.outstanding.splice(index, 1);
  const { timing } = d.config;
  const ok = outcome.final?.kind === 'ok';
  switch (entry.purpose) {
    case 'ping':
      if (ok) {
        enter(ctx, 'configuring');
        // V.250 §6.2.4: echo off. The chat drops echoes anyway, should this be refused.
        send(ctx, 'echo-off', 'ATE0', timing.commandTimeoutMs);
        return;
      }
      if (outcome.final) d.pingAnswered = true;
      if (d.pingsSent >= timing.pingAttempts) {
        fail(ctx, d.pingAnswered ? Reason.MODEM_ERROR : Reason.MODEM_SILENT, true);
      } else if (outcome.final) {
        wakeIn(ctx, timing.pingIntervalMs);
      } else {
        sendPing(ctx);
      }
      return;
    case 'echo-off':
      // TS 27.007 §9.1: numeric +CME ERROR codes, so SIM errors can be told apart.
      send(ctx, 'cmee', 'AT+CMEE=1', timing.commandTimeoutMs);
      return;
    case 'cmee':
      checkSim(ctx);
      return;
    case 'cpin-query':
      onSimStatus(ctx, simStatusFromOutcome(outcome), outcome.final === undefined);
      return;
    case 'cpin-enter':
      onPinOutcome(ctx, outcome);
      return;
    case 'cgdcont':
      if (ok) startRegistration(ctx);
      else fail(ctx, outcome.final ? Reason.MODEM_ERROR : Reason.MODEM_SILENT, true);
      return;
    case 'report-cs':
    case 'report-ps':
    case 'report-eps': {
      const domain = domainOf(entry.purpose);
      if (!ok) d.registration[domain] = { ...d.registration[domain], supported: false };
      if (!d.outstanding.some((o) => o.purpose.startsWith('report-'))) pollRegistration(ctx);
      return;
    }
    case 'query-cs':
    case 'query-ps':
    case 'query-eps': {
      const domain = domainOf(entry.purpose);
      for (const line of outcome.lines) {
        const reg = parseRegistration(line);
        if (reg && reg.domain === domain) d.registration[domain] = { ...d.registration[domain], stat: reg.stat };
      }
      if (d.outstanding.some((o) => o.purpose.startsWith('query-'))) return;
      evaluateRegistration(ctx);
      if (d.phase === 'registering') {
        wakeIn(ctx, d.netState === NetState.CELLULAR_REGISTRATION_DENIED ? timing.deniedPollMs : timing.registrationPollMs);
      }
      return;
    }
    case 'dial':
      if (outcome.final?.kind === 'connect') {
        onConnect(ctx);
        return;
      }
      fail(ctx, outcome.final?.kind === 'no-carrier' ? Reason.NO_CARRIER_MODEM : Reason.MODEM_ERROR, true);
      return;
  }
}

function domainOf(purpose: Purpose): RegistrationDomain {
  return purpose.endsWith('eps') ? 'eps' : purpose.endsWith('ps') ? 'ps' : 'cs';
}

function checkSim(ctx: Ctx): void {
  enter(ctx, 'checking-sim');
  send(ctx, 'cpin-query', 'AT+CPIN?', ctx.d.config.timing.simTimeoutMs, '+CPIN:');
}

function onSimStatus(ctx: Ctx, status: SimStatus, timedOut: boolean): void {
  const { d } = ctx;
  const { timing } = d.config;
  switch (status.kind) {
    case 'ready':
      defineContext(ctx);
      return;
    case 'pin-required':
      // PIN2 guards only some phonebook and charging functions, not network access.
      if (status.lock === 'SIM PIN2') defineContext(ctx);
      else if (status.lock === 'SIM PIN') enterPin(ctx);
      else fail(ctx, Reason.SIM_PIN_REQUIRED, false); // PH-* personalisation locks: not ours to unlock
      return;
    case 'puk-required':
      if (status.lock === 'SIM PUK2') defineContext(ctx);
      else fail(ctx, Reason.SIM_PUK_REQUIRED, false);
      return;
    case 'missing':
    case 'failure':
      simGone(ctx);
      return;
    case 'busy':
    case 'wrong-password':
    case 'error':
      d.simErrors++;
      if (d.simErrors >= timing.simErrorAttempts) {
        fail(ctx, timedOut ? Reason.MODEM_SILENT : Reason.MODEM_ERROR, true);
        return;
      }
      enter(ctx, 'waiting-for-sim');
      wakeIn(ctx, timing.simBusyRetryMs);
      return;
  }
}

function simGone(ctx: Ctx): void {
  const { d } = ctx;
  const { timing } = d.config;
  setNetState(ctx, NetState.CELLULAR_WAITING_FOR_SIM, Reason.SIM_MISSING);
  enter(ctx, 'waiting-for-sim');
  wakeIn(ctx, backoff(timing.simPollMinMs, timing.simPollMaxMs, d.simPolls));
  d.simPolls++;
}

function enterPin(ctx: Ctx): void {
  const { d } = ctx;
  const pin = d.config.pinCommand;
  if (!pin) return fail(ctx, Reason.SIM_PIN_REQUIRED, false);
  // Each wrong try burns one of the SIM's (usually three) tries; the third blocks it.
  if (d.pinState === 'rejected') return fail(ctx, Reason.SIM_PIN_WRONG, false);
  if (d.pinState === 'uncertain') return fail(ctx, Reason.MODEM_ERROR, false);
  // "Accepted", yet the SIM asks again at once: that OK cannot be trusted (noise, a
  // modem reset), so neither can the PIN. Settle rather than risk a try.
  if (d.pinSentThisCycle) {
    d.pinState = 'uncertain';
    return fail(ctx, Reason.MODEM_ERROR, false);
  }
  setNetState(ctx, NetState.CELLULAR_WAITING_FOR_SIM, Reason.SIM_PIN_REQUIRED);
  enter(ctx, 'entering-pin');
  d.pinSentThisCycle = true;
  send(ctx, 'cpin-enter', pin, d.config.timing.simTimeoutMs);
}

function onPinOutcome(ctx: Ctx, outcome: CommandOutcome): void {
  const { d } = ctx;
  const { timing } = d.config;
  const final = outcome.final;
  if (final?.kind === 'ok') {
    d.pinState = 'accepted';
  } else if (final === undefined || (final.kind === 'cme-error' && final.code === CmeError.SIM_BUSY)) {
    // No answer, or "busy": the SIM may or may not have counted a try. Do not risk
    // another; +CPIN? will tell whether it took this one.
    if (d.pinState !== 'accepted') d.pinState = 'uncertain';
  } else if (final.kind === 'cme-error' && final.code === CmeError.SIM_PUK_REQUIRED) {
    d.pinState = 'rejected';
    return fail(ctx, Reason.SIM_PUK_REQUIRED, false);
  } else if (d.pinState === 'accepted') {
    return fail(ctx, Reason.MODEM_ERROR, true);
  } else {
    // +CME ERROR: 16 incorrect password, or a bare ERROR (+CMEE=0 firmwares).
    d.pinState = 'rejected';
    return fail(ctx, Reason.SIM_PIN_WRONG, false);
  }
  // The SIM needs a moment after a PIN before +CPIN? says READY.
  enter(ctx, 'waiting-for-sim');
  wakeIn(ctx, timing.simBusyRetryMs);
}

function defineContext(ctx: Ctx): void {
  setNetState(ctx, NetState.CELLULAR_REGISTERING, Reason.REGISTERING);
  enter(ctx, 'defining-context');
  send(ctx, 'cgdcont', ctx.d.config.pdpContextCommand, ctx.d.config.timing.commandTimeoutMs);
}

function startRegistration(ctx: Ctx): void {
  const { d } = ctx;
  const { timing } = d.config;
  enter(ctx, 'registering');
  d.registrationDeadlineMs = ctx.now + timing.registrationTimeoutMs;
  for (const domain of REGISTRATION_DOMAINS) {
    send(ctx, `report-${domain}`, buildRegistrationReportCommand(domain, 2), timing.commandTimeoutMs);
  }
}

function pollRegistration(ctx: Ctx): void {
  const { d } = ctx;
  if (d.outstanding.some((o) => o.purpose.startsWith('query-'))) return;
  const domains = REGISTRATION_DOMAINS.filter((x) => d.registration[x].supported);
  // Every 27.007 modem has +CREG, even one that refused the =2 form.
  for (const domain of domains.length > 0 ? domains : (['cs'] as const)) {
    send(ctx, `query-${domain}`, registrationQueryCommand(domain), d.config.timing.commandTimeoutMs, registrationPrefix(domain));
  }
}

/**
 * Registered in any domain → dial. Denied (stat 3) in one and searching in none → 304:
 * CS is often denied on data-only SIMs while EPS is still attaching, so 3 alone is not enough.
 */
function evaluateRegistration(ctx: Ctx): void {
  const { d } = ctx;
  const stats = REGISTRATION_DOMAINS.map((x) => d.registration[x].stat).filter((s): s is number => s !== undefined);
  if (stats.some(isRegistered)) {
    startDial(ctx);
    return;
  }
  if (stats.includes(3) && !stats.includes(2)) setNetState(ctx, NetState.CELLULAR_REGISTRATION_DENIED, Reason.REGISTRATION_DENIED);
  else setNetState(ctx, NetState.CELLULAR_REGISTERING, Reason.REGISTERING);
}

function startDial(ctx: Ctx): void {
  setNetState(ctx, NetState.CELLULAR_PPP_CONNECTING, Reason.PPP_DIALING);
  enter(ctx, 'dialing');
  send(ctx, 'dial', ctx.d.config.dialCommand, ctx.d.config.timing.dialTimeoutMs);
}

function onConnect(ctx: Ctx): void {
  // From here the port carries PPP frames, not lines: pppd's, not the chat's.
  resetChat(ctx);
  enter(ctx, 'ppp-starting');
  ctx.actions.push({ type: 'start-ppp' });
}

/** To 306 with a reason; then start over after a back-off, or settle when `retry` is false. */
function fail(ctx: Ctx, reason: ReasonCode, retry: boolean): void {
  const { d } = ctx;
  const { timing } = d.config;
  if (d.phase === 'ppp-starting' || d.phase === 'online') ctx.actions.push({ type: 'stop-ppp' });
  // A silent modem may be stuck in data mode from an earlier session: escape first.
  const escape = reason === Reason.MODEM_SILENT;
  if (escape) ctx.actions.push({ type: 'hangup', escapeGuardMs: timing.escapeGuardMs });
  else if (isCallPhase(d.phase)) ctx.actions.push({ type: 'hangup' });
  resetChat(ctx);
  d.stats.failures++;
  setNetState(ctx, NetState.CELLULAR_STOPPED_UNHAPPY, reason);
  if (!retry) {
    enter(ctx, 'failed');
    return;
  }
  // The escape needs the port to itself: nothing is sent until it is over.
  const delayMs = Math.max(backoff(timing.retryMinMs, timing.retryMaxMs, d.failures), escape ? 2 * timing.escapeGuardMs + ESCAPE_SETTLE_MS : 0);
  d.failures++;
  enter(ctx, 'backing-off');
  wakeIn(ctx, delayMs);
  log(ctx, 'info', `retrying in ${delayMs} ms`);
}
