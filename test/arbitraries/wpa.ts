/**
 * wpa_supplicant fuzz inputs and the invariants they are checked against, shared by the
 * unit property test (src/protocols/wpa/decoders.fuzz.test.ts) and the long fuzzer
 * (faults/fuzz/wpa.ts). Inputs are plain data (lines, bytes, STATUS text) so that a
 * failing case can be kept as a regression file; each check throws on a broken invariant.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NetState } from '../../src/states.js';
import { NicError, isNicupError } from '../../src/errors.js';
import { parseNic } from '../../src/nic.js';
import { decodeEventLine, describeEvent, redactEventLine } from '../../src/protocols/wpa/event-decoder.js';
import { decodePrintfEscaped, encodePrintfEscaped } from '../../src/protocols/wpa/escaped-text.js';
import { createStation, step, type StationInput } from '../../src/protocols/wpa/station-machine.js';
import { decodeScanResults, decodeStatus } from '../../src/protocols/wpa/status-decoder.js';
import { networkSetupCommands } from '../../src/protocols/wpa/command-encoder.js';

const AP = '02:00:00:00:01:00';
/** One line of each event the decoder knows, as wpa_supplicant prints them. */
const CORPUS = [
  `<3>CTRL-EVENT-CONNECTED - Connection to ${AP} completed [id=0 id_str=]`,
  `<3>CTRL-EVENT-DISCONNECTED bssid=${AP} reason=3 locally_generated=1`,
  '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Network" auth_failures=1 duration=10 reason=WRONG_KEY',
  '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Net\\"w\\\\ork" auth_failures=2 duration=20 reason=CONN_FAILED',
  '<3>CTRL-EVENT-SSID-REENABLED id=0 ssid="Network"',
  '<3>CTRL-EVENT-NETWORK-NOT-FOUND ',
  `<3>CTRL-EVENT-ASSOC-REJECT bssid=${AP} status_code=17`,
  `<3>CTRL-EVENT-AUTH-REJECT ${AP} auth_type=0 auth_transaction=2 status_code=1`,
  '<3>CTRL-EVENT-SCAN-STARTED ',
  '<3>CTRL-EVENT-SCAN-RESULTS ',
  '<3>CTRL-EVENT-SCAN-FAILED ret=-16 retry=1',
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
        fc.constantFrom('"', '\\', '=', ' ', '<', '>', '[', ']', '\0', '\n', '\x80', '\uFFFD', '\uD800', '\\x', '\\x4', 'ssid="', ' id='),
      ),
      { maxLength: 5 },
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

/** Event lines: mostly mutated corpus lines, some intact, some random text of any kind. */
export const eventLineArb = fc.oneof(
  { arbitrary: mutatedLine, weight: 4 },
  { arbitrary: fc.constantFrom(...CORPUS), weight: 1 },
  { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => `<3>${s}`), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 600 }), weight: 1 },
);

const KNOWN_TYPES = new Set([
  'connected', 'disconnected', 'ssid-temp-disabled', 'ssid-reenabled', 'network-not-found', 'assoc-reject',
  'auth-reject', 'scan-started', 'scan-results', 'scan-failed', 'state-change', 'terminating',
  'trying-to-associate', 'associated', 'key-negotiation-completed', 'handshake-failed', 'auth-timeout',
  'wps-pbc-active', 'wps-pbc-disable', 'wps-success', 'wps-fail', 'wps-timeout', 'wps-overlap-detected',
  'wps-cred-received', 'bss-added', 'bss-removed', 'unknown', 'malformed',
]);

/** Any line decodes to a known event type and redacts to one bounded line of printable ASCII. */
export function checkEventLine(line: string): void {
  const e = decodeEventLine(line);
  assert.ok(KNOWN_TYPES.has(e.type), e.type);
  assert.equal(typeof describeEvent(e), 'string');
  const red = redactEventLine(line);
  assert.match(red, /^[\x20-\x7e]*$/);
  assert.ok(red.length <= 530);
}

/** STATUS and SCAN_RESULTS replies: random text, key=value lines, tab-separated tables. */
export const statusReplyArb = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.array(fc.tuple(fc.constantFrom('wpa_state', 'ssid', 'bssid', 'freq', 'id', 'address', 'x'), fc.string({ maxLength: 20 })), { maxLength: 8 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join('\n')),
  fc.array(fc.array(fc.string({ maxLength: 18 }), { maxLength: 6 }), { maxLength: 5 }).map((rows) => ['bssid / frequency / signal level / flags / ssid', ...rows.map((r) => r.join('\t'))].join('\n')),
);

export function checkStatusReply(text: string): void {
  const s = decodeStatus(text);
  assert.equal(typeof s.ok, 'boolean');
  const r = decodeScanResults(text);
  if (r.ok) for (const row of r.value.results) assert.match(row.bssid, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
}

/** Any SSID bytes (0–32). */
export const ssidBytesArb = fc.uint8Array({ maxLength: 32 });

/** printf_encode then decode gives back any bytes. */
export function checkEscapeRoundTrip(bytes: Uint8Array): void {
  assert.deepEqual(decodePrintfEscaped(encodePrintfEscaped(bytes)), bytes);
}

/** A TEMP-DISABLED line carries any (non-empty) SSID exactly, and the fields after it. */
export function checkTempDisabledLine(bytes: Uint8Array, networkId: number): void {
  const line = `<3>CTRL-EVENT-SSID-TEMP-DISABLED id=${networkId} ssid="${encodePrintfEscaped(bytes)}" auth_failures=1 duration=10 reason=WRONG_KEY`;
  const e = decodeEventLine(line);
  assert.ok(e.type === 'ssid-temp-disabled', describeEvent(e));
  assert.equal(e.networkId, networkId);
  assert.equal(e.reason, 'WRONG_KEY');
  assert.equal(e.durationS, 10);
  assert.deepEqual(e.ssid, bytes);
}

/** Both of the above for one SSID. */
export function checkEscapes(bytes: Uint8Array): void {
  checkEscapeRoundTrip(bytes);
  if (bytes.length > 0) checkTempDisabledLine(bytes, 7);
}

/** Station inputs as data (a STATUS reply as its text, so cases serialize). */
export type StationStep = { line: string } | { status: string } | { input: 'retry' | 'stop' | 'supplicant-gone' | 'start-wps' } | { start: number };

const stationStepArb: fc.Arbitrary<StationStep> = fc.oneof(
  { arbitrary: eventLineArb.map((line) => ({ line })), weight: 12 },
  { arbitrary: fc.constantFrom('retry' as const, 'stop' as const, 'supplicant-gone' as const, 'start-wps' as const).map((input) => ({ input })), weight: 3 },
  { arbitrary: fc.nat({ max: 3 }).map((start) => ({ start })), weight: 1 },
  {
    arbitrary: fc.constantFrom('COMPLETED', 'SCANNING', 'ASSOCIATING', 'INTERFACE_DISABLED', 'DISCONNECTED', '4WAY_HANDSHAKE', 'BOGUS').map((s) => ({ status: `wpa_state=${s}\nbssid=${AP}\nid=0\n` })),
    weight: 2,
  },
);

export interface StationCase {
  steps: StationStep[];
  wrongKeyLimit: number;
}

/** Up to 60 random inputs and a wrong-key limit of 1 to 3. */
export const stationCaseArb: fc.Arbitrary<StationCase> = fc.record({ steps: fc.array(stationStepArb, { maxLength: 60 }), wrongKeyLimit: fc.integer({ min: 1, max: 3 }) });

const WIFI_STATES = new Set<number>([100, 101, 102, 103, 105, 106]);

/** The station never throws, reports WiFi states only, alternates link-up and link-down, and sends safe commands. */
export function runStation({ steps, wrongKeyLimit }: StationCase): void {
  let state = createStation({ wrongKeyLimit });
  let up = false;
  let now = 0;
  for (const s of steps) {
    now += 37;
    let input: StationInput;
    if ('line' in s) input = { type: 'line', line: s.line };
    else if ('start' in s) input = { type: 'start', networkId: s.start };
    else if ('input' in s) input = { type: s.input };
    else {
      const r = decodeStatus(s.status);
      assert.ok(r.ok);
      input = { type: 'status', status: r.value };
    }
    const r = step(state, input, now);
    state = r.state;
    for (const a of r.actions) {
      if (a.type === 'state') assert.ok(WIFI_STATES.has(a.value), `state ${a.value}`);
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
}

/** Characters that mean something to a shell, wpa_supplicant.conf, the control protocol or a log. */
export const METACHARACTERS = ['"', "'", '$', '(', ')', '`', ';', '\\', '#', '\n', '\r', '\t', ' ', '=', '{', '}', '|', '&', '<', '>', '*', '?', '!', '%', '\0', '\x7f', 'é', '€', '😀', '\u202e', '\u0000'];

const metaString = (min: number, max: number) =>
  fc.string({ unit: fc.oneof(fc.constantFrom(...METACHARACTERS), fc.constantFrom(...'aZ09 -_.'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: min, maxLength: max });

export interface EncoderCase {
  ssid: string | Uint8Array;
  key: string | null;
  hidden: boolean;
  frequencies: boolean;
}

/** SSIDs and keys full of metacharacters, raw SSID bytes, open networks and hex PSKs. */
export const encoderCaseArb: fc.Arbitrary<EncoderCase> = fc.record({
  ssid: fc.oneof(metaString(0, 34), fc.uint8Array({ minLength: 0, maxLength: 34 })),
  key: fc.oneof(metaString(0, 66), fc.constant(null), fc.stringMatching(/^[0-9a-fA-F]{64}$/)),
  hidden: fc.boolean(),
  frequencies: fc.boolean(),
});

/** What wpa_supplicant's wpa_config_parse_string reads from a quoted value: first to LAST quote. */
function parseQuoted(value: string): string | undefined {
  if (!value.startsWith('"')) return undefined;
  const end = value.lastIndexOf('"');
  return end > 0 ? value.slice(1, end) : undefined;
}

/**
 * SSIDs and keys through parseNic and the command encoder: either refused with a NicError
 * naming the field (and not echoing the key), or encoded so that wpa_supplicant reads back
 * exactly the SSID's bytes and the key's characters.
 */
export function checkEncoder(c: EncoderCase): void {
  const wifi: Record<string, unknown> = { ssid: c.ssid, key: c.key };
  if (c.hidden) wifi.hidden = true;
  let nic;
  try {
    nic = parseNic({ interface: 'wl0', wificonfig: wifi });
  } catch (err) {
    assert.ok(err instanceof NicError, `parseNic threw ${String(err)}`);
    assert.match(err.field ?? '', /^wificonfig(\.|$)/);
    if (typeof c.key === 'string' && c.key.length >= 4) {
      for (const text of [err.message, String(err), JSON.stringify(err)]) assert.ok(!text.includes(c.key), 'the error echoes the key');
    }
    return;
  }
  const w = nic.wificonfig!;
  let commands;
  try {
    commands = networkSetupCommands(3, w, c.frequencies ? { frequenciesMhz: [2412, 2437] } : {});
  } catch (err) {
    assert.ok(isNicupError(err), `the encoder threw ${String(err)} for a NIC parseNic accepted`);
    assert.fail(`the encoder refused what parseNic accepted (${(err as Error).message})`);
  }
  for (const cmd of commands) {
    assert.match(cmd.text, /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, 'one line of printable ASCII');
    if (typeof c.key === 'string' && c.key.length >= 4) assert.ok(!cmd.redacted.includes(c.key), 'the key in a loggable form');
  }
  const ssidCmd = commands.find((x) => x.text.startsWith('SET_NETWORK 3 ssid '));
  assert.ok(ssidCmd);
  const expected = typeof c.ssid === 'string' ? Buffer.from(c.ssid, 'utf8') : Buffer.from(c.ssid);
  assert.deepEqual(Buffer.from(ssidCmd.text.slice('SET_NETWORK 3 ssid '.length), 'hex'), expected, 'the SSID round-trips byte for byte');
  const pskCmd = commands.find((x) => x.text.startsWith('SET_NETWORK 3 psk '));
  const key = w.key;
  if (key.kind === 'passphrase') {
    assert.ok(pskCmd?.secret);
    assert.equal(parseQuoted(pskCmd.text.slice('SET_NETWORK 3 psk '.length)), c.key, 'the passphrase round-trips literally');
  } else if (key.kind === 'psk') {
    assert.equal(pskCmd?.text, `SET_NETWORK 3 psk ${String(c.key).toLowerCase()}`);
  } else {
    assert.equal(pskCmd, undefined);
    assert.ok(commands.some((x) => x.text === 'SET_NETWORK 3 key_mgmt NONE'));
  }
}
