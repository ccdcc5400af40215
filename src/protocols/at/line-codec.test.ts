import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createLineCodec, decodeLines } from './line-codec.js';
import type { LineCodecState, LineEvent } from './line-codec.js';

const enc = (s: string) => new TextEncoder().encode(s);

function feed(chunks: (string | Uint8Array)[], state: LineCodecState = createLineCodec()): { state: LineCodecState; events: LineEvent[] } {
  const events: LineEvent[] = [];
  for (const c of chunks) {
    const r = decodeLines(state, typeof c === 'string' ? enc(c) : c);
    state = r.state;
    events.push(...r.events);
  }
  return { state, events };
}

const lines = (events: LineEvent[]) => events.map((e) => (e.type === 'line' ? e.text : '<prompt>'));

describe('line codec', () => {
  test('V.250 framing: CRLF around responses, echo ended by a bare CR, empty lines dropped', () => {
    const { events, state } = feed(['AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n']);
    assert.deepEqual(lines(events), ['AT+CSQ', '+CSQ: 20,99', 'OK']);
    assert.equal(state.pending.length, 0);
  });

  test('bare LF and LFCR terminate lines too', () => {
    assert.deepEqual(lines(feed(['OK\nERROR\n\rRING\r']).events), ['OK', 'ERROR', 'RING']);
  });

  test('a CRLF split across chunks yields one line and no empty one', () => {
    assert.deepEqual(lines(feed(['\r\nOK\r', '\n\r', '\nRING\r\n']).events), ['OK', 'RING']);
  });

  test('an unfinished line waits for its terminator', () => {
    const first = feed(['+CREG: 0,']);
    assert.deepEqual(first.events, []);
    assert.deepEqual(lines(feed(['1\r\n'], first.state).events), ['+CREG: 0,1']);
  });

  test('the "> " prompt is reported without a terminator, also split across chunks', () => {
    assert.deepEqual(lines(feed(['\r\n> ']).events), ['<prompt>']);
    assert.deepEqual(lines(feed(['\r\n>', ' ']).events), ['<prompt>']);
    // A ">" that is not followed by a space is just text.
    assert.deepEqual(lines(feed(['>x\r\n']).events), ['>x']);
  });

  test('overlong lines are dropped whole and counted; the next line is intact', () => {
    const { events, state } = feed(['x'.repeat(50), 'y'.repeat(50), '\r\nOK\r\n'], createLineCodec({ maxLineBytes: 64 }));
    assert.deepEqual(lines(events), ['OK']);
    assert.equal(state.overlongLines, 1);
    // Exactly the limit is fine.
    const exact = feed(['z'.repeat(64) + '\r\n'], createLineCodec({ maxLineBytes: 64 }));
    assert.deepEqual(lines(exact.events), ['z'.repeat(64)]);
    assert.equal(exact.state.overlongLines, 0);
  });

  test('UTF-8 split inside a character decodes once the line ends; bad bytes become U+FFFD', () => {
    const bytes = enc('+COPS: 0,0,"Télé"\r\n');
    const at = bytes.indexOf(0xc3) + 1;
    assert.deepEqual(lines(feed([bytes.subarray(0, at), bytes.subarray(at)]).events), ['+COPS: 0,0,"Télé"']);
    assert.deepEqual(lines(feed([Uint8Array.of(0x4f, 0xff, 0x4b, 0x0d)]).events), ['O\ufffdK']);
  });

  test('NUL boot noise is ignored', () => {
    assert.deepEqual(lines(feed([Uint8Array.of(0, 0, 0x52, 0x44, 0x59, 0, 0x0d, 0x0a)]).events), ['RDY']);
  });

  test('the state given is never changed', () => {
    const start = feed(['+CSQ']).state;
    const a = decodeLines(start, enc(': 1,2\r\n'));
    const b = decodeLines(start, enc(': 1,2\r\n'));
    assert.deepEqual(a, b);
    assert.equal(new TextDecoder().decode(start.pending), '+CSQ');
  });

  test('property: any lines, any terminators, any chunking → the same lines', () => {
    const lineText = fc
      .string({ unit: fc.constantFrom(...'ATOKERRO+:,"0123456789 abc^>'.split('')), minLength: 1, maxLength: 40 })
      .filter((s) => !s.startsWith('> ') && !s.includes('\0'));
    const terminator = fc.constantFrom('\r\n', '\r', '\n', '\r\r\n', '\n\r');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(lineText, terminator), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (parts, cuts) => {
          const text = parts.map(([l, t]) => l + t).join('');
          const bytes = enc(text);
          const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((x, y) => x - y);
          const chunks: Uint8Array[] = [];
          let last = 0;
          for (const p of points) {
            chunks.push(bytes.subarray(last, p));
            last = p;
          }
          chunks.push(bytes.subarray(last));
          const got = lines(feed(chunks).events);
          const want = parts.map(([l]) => l).filter((l) => l !== '');
          assert.deepEqual(got, want);
        },
      ),
      { numRuns: 500 },
    );
  });
});
