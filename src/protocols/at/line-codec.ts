/**
 * Splits a modem's byte stream into lines. ITU-T V.250 §5.7.1 frames verbose responses
 * as <CR><LF>text<CR><LF>, and the echo of a command ends with the command's own <CR>.
 * Here any CR or LF ends a line and empty lines vanish, so a CRLF split across chunks,
 * a bare CR and a bare LF all come out the same. The SMS text-mode prompt "> "
 * (TS 27.005 §3.5.1) has no terminator and is reported as its own event.
 *
 * Pure: decodeLines returns a new state and never changes the one it was given.
 */

export const DEFAULT_MAX_LINE_BYTES = 2048;

export interface LineCodecOptions {
  /** Longer lines are dropped whole and counted in `overlongLines`. Default 2048. */
  maxLineBytes?: number;
}

export interface LineCodecState {
  /** Bytes of the line not yet ended. */
  readonly pending: Uint8Array;
  /** The current line overflowed: its bytes are dropped until its end. */
  readonly discarding: boolean;
  readonly maxLineBytes: number;
  /** Lines dropped for being longer than maxLineBytes. */
  readonly overlongLines: number;
}

export type LineEvent = { type: 'line'; text: string } | { type: 'prompt' };

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const PROMPT_0 = 0x3e; // '>'
const PROMPT_1 = 0x20; // ' '

// Non-fatal: a bad UTF-8 sequence becomes U+FFFD instead of throwing.
const utf8 = new TextDecoder('utf-8', { fatal: false });

export function createLineCodec(options: LineCodecOptions = {}): LineCodecState {
  const max = options.maxLineBytes;
  return {
    pending: new Uint8Array(0),
    discarding: false,
    maxLineBytes: max !== undefined && Number.isInteger(max) && max > 0 ? max : DEFAULT_MAX_LINE_BYTES,
    overlongLines: 0,
  };
}

export function decodeLines(state: LineCodecState, bytes: Uint8Array): { state: LineCodecState; events: LineEvent[] } {
  const events: LineEvent[] = [];
  const max = state.maxLineBytes;
  // The line being built; only the unfinished tail is copied into the next state.
  let line = new Uint8Array(Math.min(max, state.pending.length + bytes.length));
  line.set(state.pending.subarray(0, line.length));
  let length = Math.min(state.pending.length, line.length);
  let discarding = state.discarding;
  let overlong = state.overlongLines;

  for (const b of bytes) {
    if (b === CR || b === LF) {
      if (discarding) discarding = false;
      else if (length > 0) events.push({ type: 'line', text: utf8.decode(line.subarray(0, length)) });
      length = 0;
      continue;
    }
    // NULs show up as boot noise on some modems' ports and never belong to a response.
    if (discarding || b === NUL) continue;
    if (length >= max) {
      discarding = true;
      overlong++;
      length = 0;
      continue;
    }
    if (length >= line.length) {
      const grown = new Uint8Array(Math.min(max, Math.max(16, line.length * 2)));
      grown.set(line.subarray(0, length));
      line = grown;
    }
    line[length++] = b;
    if (length === 2 && line[0] === PROMPT_0 && line[1] === PROMPT_1) {
      events.push({ type: 'prompt' });
      length = 0;
    }
  }

  return {
    state: { pending: line.slice(0, length), discarding, maxLineBytes: max, overlongLines: overlong },
    events,
  };
}
