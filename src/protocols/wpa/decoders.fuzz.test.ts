/**
 * Property tests: random and mutated lines never throw out of the decoders or the station
 * machine, escaped SSIDs survive any bytes, and the machine's link-up/link-down actions
 * always alternate.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NetState } from '../../states.js';
import { decodeEventLine, describeEvent, redactEventLine } from './event-decoder.js';
import { decodePrintfEscaped, encodePrintfEscaped } from './escaped-text.js';
import { createStation, step, type StationInput } from './station-machine.js';
import { decodeScanResults, decodeStatus } from './status-decoder.js';

const AP = '02:00:00:00:01:00';
const CORPUS = [
  `<3>CTRL-EVENT-CONNECTED - Connection to ${AP} completed [id=0 id_str=]`,
  `<3>CTRL-EVENT-DISCONNECTED bssid=${AP} reason=3 locally_generated=1`,
  '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Network" auth_failures=1 duration=10 reason=WRONG_KEY',
  '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Network" auth_failures=2 duration=20 reason=CONN_FAILED',
  '<3>CTRL-EVENT-SSID-REENABLED id=0 ssid="Network"',
  '<3>CTRL-EVENT-NETWORK-NOT-FOUND ',
  `<3>CTRL-EVENT-ASSOC-REJECT bssid=${AP} status_code=17`,
  `<3>CTRL-EVENT-AUTH-REJECT ${AP} auth_type=0 auth_transaction=2 status_code=1`,
  '<3>CTRL-EVENT-SCAN-STARTED ',
  '<3>CTRL-EVENT-SCAN-RESULTS ',
  `<3>CTRL-EVENT-STATE-CHANGE id=0 state=9 BSSID=${AP} SSID=Network`,
  '<3>CTRL-EVENT-TERMINATING ',
  `<3>Trying to associate with ${AP} (SSID='Network' freq=2412 MHz)`,
  `<3>Associated with ${AP}`,
  `<3>WPA: Key negotiation completed with ${AP} [PTK=CCMP GTK=CCMP]`,
  '<3>WPA: 4-Way Handshake failed - pre-shared key may be incorrect',
  '<3>WPS-PBC-ACTIVE ',
  '<3>WPS-SUCCESS ',
  '<3>WPS-FAIL msg=8 config_error=15 reason=2 (WPS-M2D received)',
  '<3>WPS-TIMEOUT Requested operation timed out',
  '<3>WPS-OVERLAP-DETECTED PBC session overlap',
  '<3>WPS-CRED-RECEIVED 100e003f1026',
  `<3>CTRL-EVENT-BSS-ADDED 34 ${AP}`,
  `IFNAME=wlan0 <3>CTRL-EVENT-BSS-REMOVED 34 ${AP}`,
];

/** A corpus line with a few random edits: insert, delete, replace, truncate, duplicate. */
const mutatedLine = fc
  .tuple(
    fc.constantFrom(...CORPUS),
    fc.array(
      fc.tuple(
        fc.constantFrom('insert', 'delete', 'replace', 'truncate', 'duplicate'),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 4 }),
        fc.constantFrom('"', '\\', '=', ' ', '<', '>', '[', ']', '\0', '\n', '\x80', '\uFFFD', '\uD800'),
      ),
      { maxLength: 4 },
    ),
  )
  .map(([line, edits]) => {
    let s = line;
    for (const [op, at, text, special] of edits) {
      const i = s.length === 0 ? 0 : at % s.length;
      const piece = at % 2 === 0 ? text : special;
      if (op === 'insert') s = s.slice(0, i) + piece + s.slice(i);
      else if (op === 'delete') s = s.slice(0, i) + s.slice(i + 1 + (at % 5));
      else if (op === 'replace') s = s.slice(0, i) + piece + s.slice(i + 1);
      else if (op === 'truncate') s = s.slice(0, i);
      else s = s + ' ' + s.slice(i);
    }
    return s;
  });

const anyLine = fc.oneof(
  { arbitrary: mutatedLine, weight: 4 },
  { arbitrary: fc.constantFrom(...CORPUS), weight: 2 },
  { arbitrary: fc.string({ maxLength: 120 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => `<3>${s}`), weight: 1 },
);

const KNOWN_TYPES = new Set([
  'connected', 'disconnected', 'ssid-temp-disabled', 'ssid-reenabled', 'network-not-found', 'assoc-reject',
  'auth-reject', 'scan-started', 'scan-results', 'scan-failed', 'state-change', 'terminating',
  'trying-to-associate', 'associated', 'key-negotiation-completed', 'handshake-failed', 'auth-timeout',
  'wps-pbc-active', 'wps-pbc-disable', 'wps-success', 'wps-fail', 'wps-timeout', 'wps-overlap-detected',
  'wps-cred-received', 'bss-added', 'bss-removed', 'unknown', 'malformed',
]);

describe('decoders never throw', () => {
  test('event lines: random and mutated', () => {
    fc.assert(
      fc.property(anyLine, (line) => {
        const e = decodeEventLine(line);
        assert.ok(KNOWN_TYPES.has(e.type), e.type);
        assert.equal(typeof describeEvent(e), 'string');
        const red = redactEventLine(line);
        assert.match(red, /^[\x20-\x7e]*$/);
        assert.ok(red.length <= 530);
      }),
      { numRuns: 2000 },
    );
  });

  test('STATUS and SCAN_RESULTS replies', () => {
    const reply = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(fc.tuple(fc.constantFrom('wpa_state', 'ssid', 'bssid', 'freq', 'id', 'x'), fc.string({ maxLength: 20 })), { maxLength: 8 })
        .map((kv) => kv.map(([k, v]) => `${k}=${v}`).join('\n')),
      fc.array(fc.array(fc.string({ maxLength: 18 }), { maxLength: 6 }), { maxLength: 5 })
        .map((rows) => ['bssid / frequency / signal level / flags / ssid', ...rows.map((r) => r.join('\t'))].join('\n')),
    );
    fc.assert(
      fc.property(reply, (text) => {
        const s = decodeStatus(text);
        assert.equal(typeof s.ok, 'boolean');
        const r = decodeScanResults(text);
        if (r.ok) for (const row of r.value.results) assert.match(row.bssid, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('escaped SSIDs', () => {
  test('printf_encode then decode gives back any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
        assert.deepEqual(decodePrintfEscaped(encodePrintfEscaped(bytes)), bytes);
      }),
    );
  });

  test('a TEMP-DISABLED line carries any SSID exactly, and the fields after it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat({ max: 1000 }), (bytes, id) => {
        const line = `<3>CTRL-EVENT-SSID-TEMP-DISABLED id=${id} ssid="${encodePrintfEscaped(bytes)}" auth_failures=1 duration=10 reason=WRONG_KEY`;
        const e = decodeEventLine(line);
        assert.ok(e.type === 'ssid-temp-disabled', describeEvent(e));
        assert.equal(e.networkId, id);
        assert.equal(e.reason, 'WRONG_KEY');
        assert.equal(e.durationS, 10);
        assert.deepEqual(e.ssid, bytes);
      }),
    );
  });
});

describe('station machine under random input', () => {
  const input: fc.Arbitrary<StationInput> = fc.oneof(
    { arbitrary: anyLine.map((line): StationInput => ({ type: 'line', line })), weight: 12 },
    { arbitrary: fc.constant<StationInput>({ type: 'retry' }), weight: 1 },
    { arbitrary: fc.constant<StationInput>({ type: 'stop' }), weight: 1 },
    { arbitrary: fc.constant<StationInput>({ type: 'supplicant-gone' }), weight: 1 },
    { arbitrary: fc.nat({ max: 3 }).map((networkId): StationInput => ({ type: 'start', networkId })), weight: 1 },
    { arbitrary: fc.constant<StationInput>({ type: 'start-wps' }), weight: 1 },
    {
      arbitrary: fc
        .constantFrom('COMPLETED', 'SCANNING', 'ASSOCIATING', 'INTERFACE_DISABLED', 'DISCONNECTED', 'BOGUS')
        .map((s): StationInput => {
          const r = decodeStatus(`wpa_state=${s}\nbssid=${AP}\nid=0\n`);
          assert.ok(r.ok);
          return { type: 'status', status: r.value };
        }),
      weight: 2,
    },
  );

  test('never throws; states are WiFi states; link-up and link-down alternate; commands are safe', () => {
    const wifiStates = new Set<number>([100, 101, 102, 103, 105, 106]);
    fc.assert(
      fc.property(fc.array(input, { maxLength: 60 }), fc.integer({ min: 1, max: 3 }), (inputs, wrongKeyLimit) => {
        let state = createStation({ wrongKeyLimit });
        let up = false;
        let now = 0;
        for (const i of inputs) {
          now += 37;
          const r = step(state, i, now);
          state = r.state;
          for (const a of r.actions) {
            if (a.type === 'state') assert.ok(wifiStates.has(a.value), `state ${a.value}`);
            if (a.type === 'link-up') {
              assert.equal(up, false, 'link-up twice');
              up = true;
            }
            if (a.type === 'link-down') {
              assert.equal(up, true, 'link-down while down');
              up = false;
            }
            if (a.type === 'command') {
              assert.match(a.command.text, /^[\x21-\x7e][\x20-\x7e]*$/);
              assert.equal(a.command.secret, false);
            }
          }
          assert.equal(up, state.phase === 'link-up', `link flag matches phase ${state.phase}`);
          if (state.phase === 'link-up') assert.equal(state.netState, NetState.WIFI_LINK_UP);
        }
      }),
      { numRuns: 400 },
    );
  });
});
