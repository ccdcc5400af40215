/**
 * Classifies one line from a modem: a final result code (V.250 §5.7.2, TS 27.007 §9.2),
 * an information response for the command in flight, an unsolicited result code (URC),
 * or the echo of the command. URCs can arrive anywhere, even between the lines of a
 * command's response, so the class depends on the command in flight and on the prefix
 * its answer is expected to carry.
 */
import { cmeErrorCode, parseCpin, parseRegistration } from './parsers.js';
import type { Registration, SimStatus } from './parsers.js';

export type FinalResult =
  | { kind: 'ok' }
  | { kind: 'error' }
  /** TS 27.007 §9.2: `code` from the number (+CMEE=1) or the verbose text (+CMEE=2). */
  | { kind: 'cme-error'; code?: number; text: string }
  /** TS 27.005 §3.2.5. */
  | { kind: 'cms-error'; code?: number; text: string }
  /** `text` is what follows CONNECT (a rate, "150000000", "LTE"…). */
  | { kind: 'connect'; text?: string }
  | { kind: 'no-carrier' }
  | { kind: 'busy' }
  | { kind: 'no-answer' }
  | { kind: 'no-dialtone' };

/** How a command ended: its final result (undefined after a timeout) and its information lines. */
export interface CommandOutcome {
  final?: FinalResult;
  lines: readonly string[];
}

/** OK, and CONNECT for a dial: the two finals that mean the command did what it was asked. */
export function isSuccess(final: FinalResult): boolean {
  return final.kind === 'ok' || final.kind === 'connect';
}

export type Urc =
  | { kind: 'registration'; text: string; registration: Registration }
  | { kind: 'ring'; text: string }
  /** +CRING: <type> (TS 27.007 §6.11). */
  | { kind: 'cring'; text: string; callType: string }
  /** NO CARRIER outside a dial: the data call or carrier went away. */
  | { kind: 'no-carrier'; text: string }
  /** An unsolicited +CPIN: (SIM inserted, removed, unlocked). */
  | { kind: 'sim-status'; text: string; sim: SimStatus }
  /** Anything else: vendor boot lines (RDY, ^SYSSTART), +CMTI, ^RSSI, … */
  | { kind: 'unknown'; text: string };

export type LineClass =
  | { kind: 'final'; final: FinalResult }
  | { kind: 'intermediate'; text: string }
  | { kind: 'urc'; urc: Urc }
  | { kind: 'echo' }
  /** A final result with no command in flight (a late answer after a timeout). */
  | { kind: 'stray-final'; final: FinalResult }
  | { kind: 'empty' };

export interface LineContext {
  /** The command in flight, as written (without the trailing CR). */
  command?: string;
  /** The prefix of its information response ("+CPIN:"); other prefixed lines are URCs. */
  expect?: string;
}

function errorArgument(line: string): string {
  return line.slice(line.indexOf(':') + 1).trim();
}

/** The final result code on this line, if it is one. */
export function parseFinal(line: string): FinalResult | undefined {
  const text = line.trim();
  const upper = text.toUpperCase();
  switch (upper) {
    case 'OK':
      return { kind: 'ok' };
    case 'ERROR':
      return { kind: 'error' };
    case 'NO CARRIER':
      return { kind: 'no-carrier' };
    case 'BUSY':
      return { kind: 'busy' };
    case 'NO ANSWER':
      return { kind: 'no-answer' };
    case 'NO DIALTONE':
    case 'NO DIAL TONE':
      return { kind: 'no-dialtone' };
    case 'CONNECT':
      return { kind: 'connect' };
  }
  if (upper.startsWith('CONNECT ')) return { kind: 'connect', text: text.slice(8).trim() };
  if (upper.startsWith('+CME ERROR:')) {
    const arg = errorArgument(text);
    const code = cmeErrorCode(arg);
    return code === undefined ? { kind: 'cme-error', text: arg } : { kind: 'cme-error', code, text: arg };
  }
  if (upper.startsWith('+CMS ERROR:')) {
    const arg = errorArgument(text);
    return /^\d{1,5}$/.test(arg) ? { kind: 'cms-error', code: Number(arg), text: arg } : { kind: 'cms-error', text: arg };
  }
  return undefined;
}

/** Finals that only a dial, answer or return-to-online command can end with (V.250 §6.3). */
function isCallFinal(final: FinalResult): boolean {
  return (
    final.kind === 'connect' ||
    final.kind === 'no-carrier' ||
    final.kind === 'busy' ||
    final.kind === 'no-answer' ||
    final.kind === 'no-dialtone'
  );
}

/** ATD…, ATA, ATO and AT+CGDATA answer with CONNECT / NO CARRIER / BUSY … */
export function isDialCommand(command: string): boolean {
  return /^\s*AT\s*(D|A\s*$|O\d?\s*$|\+CGDATA\b)/i.test(command);
}

/** Lines that are unsolicited whatever the command in flight. */
function isKnownUnsolicited(upper: string): boolean {
  return (
    upper === 'RING' ||
    upper === 'RDY' ||
    upper === 'SMS READY' ||
    upper === 'CALL READY' ||
    upper === 'PB DONE' ||
    upper.startsWith('^') || // Huawei/Cinterion vendor reports: ^SYSSTART, ^RSSI, ^MODE, ^BOOT
    upper.startsWith('+CRING:') ||
    upper.startsWith('+CMTI:') ||
    upper.startsWith('+CDSI:') ||
    upper.startsWith('+CGEV:') ||
    upper.startsWith('+CIEV:') ||
    upper.startsWith('+CUSD:')
  );
}

/** Reads a line known to be unsolicited. */
export function parseUrc(line: string): Urc {
  const text = line.trim();
  const upper = text.toUpperCase();
  if (upper === 'RING') return { kind: 'ring', text };
  if (upper === 'NO CARRIER') return { kind: 'no-carrier', text };
  if (upper.startsWith('+CRING:')) return { kind: 'cring', text, callType: text.slice(7).trim() };
  const registration = parseRegistration(text);
  if (registration) return { kind: 'registration', text, registration };
  if (upper.startsWith('+CPIN:')) {
    const sim = parseCpin(text);
    if (sim) return { kind: 'sim-status', text, sim };
  }
  return { kind: 'unknown', text };
}

function sameCommand(a: string, b: string): boolean {
  return a.replace(/\s+/g, '').toUpperCase() === b.replace(/\s+/g, '').toUpperCase();
}

/** The class of one received line, given the command in flight. */
export function classifyLine(line: string, context: LineContext = {}): LineClass {
  const text = line.trim();
  if (text === '') return { kind: 'empty' };
  const upper = text.toUpperCase();
  const { command, expect } = context;

  if (command !== undefined && sameCommand(text, command)) return { kind: 'echo' };

  const final = parseFinal(text);
  if (final) {
    if (command === undefined) return isCallFinal(final) ? { kind: 'urc', urc: parseUrc(text) } : { kind: 'stray-final', final };
    if (isCallFinal(final) && !isDialCommand(command)) return { kind: 'urc', urc: parseUrc(text) };
    return { kind: 'final', final };
  }

  if (command === undefined) return { kind: 'urc', urc: parseUrc(text) };

  // A registration URC ("+CREG: 1") differs from the read answer ("+CREG: 2,1") by form,
  // so it is told apart even while AT+CREG? is in flight.
  const registration = parseRegistration(text);
  if (registration) {
    const expected = expect !== undefined && upper.startsWith(expect.toUpperCase());
    if (registration.form === 'read' && (expected || expect === undefined)) return { kind: 'intermediate', text };
    return { kind: 'urc', urc: { kind: 'registration', text, registration } };
  }

  if (expect !== undefined) {
    if (upper.startsWith(expect.toUpperCase())) return { kind: 'intermediate', text };
    // Whatever else carries a "+XXX:" / "^XXX" prefix belongs to someone else.
    if (/^[+^$%*#&]/.test(text) || isKnownUnsolicited(upper)) return { kind: 'urc', urc: parseUrc(text) };
    return { kind: 'intermediate', text };
  }
  if (isKnownUnsolicited(upper)) return { kind: 'urc', urc: parseUrc(text) };
  if (upper.startsWith('+CPIN:') && !/^\s*AT\s*\+CPIN/i.test(command)) return { kind: 'urc', urc: parseUrc(text) };
  return { kind: 'intermediate', text };
}
