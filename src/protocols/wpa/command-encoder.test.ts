import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { isNicupError, NicupError } from '../../errors.js';
import {
  addNetwork,
  attach,
  detach,
  disableNetwork,
  disconnect,
  enableNetwork,
  networkSetupCommands,
  ping,
  reassociate,
  reconnect,
  removeNetwork,
  renderSupplicantConf,
  scan,
  scanResults,
  selectNetwork,
  setCountry,
  setGlobal,
  setGlobalFreqList,
  setNetworkFreqList,
  setNetworkKey,
  setNetworkKeyMgmt,
  setNetworkPassphrase,
  setNetworkRawPsk,
  setNetworkScanFreq,
  setNetworkScanSsid,
  setNetworkSsid,
  status,
  wpsCancel,
  wpsPbc,
  type ControlCommand,
} from './command-encoder.js';

/**
 * A model of how wpa_supplicant 2.x reads `SET_NETWORK` (ctrl_iface.c
 * wpa_supplicant_ctrl_iface_set_network: id up to the first space, name up to the second,
 * value = the rest) and the ssid/psk values (config.c wpa_config_parse_string: unquoted =
 * hex; wpa_config_parse_psk: quoted up to the LAST quote, 8..63, has_ctrl_char refused;
 * else exactly 64 hex). The datagram ends at the first NUL (C string).
 */
function supplicantReads(datagram: string):
  | { command: 'SET_NETWORK'; id: number; name: string; value: string; ssid?: Uint8Array; passphrase?: string; pmk?: string }
  | { command: string; rest: string } {
  const cstr = datagram.split('\0')[0] ?? '';
  if (!cstr.startsWith('SET_NETWORK ')) {
    const sp = cstr.indexOf(' ');
    return { command: sp < 0 ? cstr : cstr.slice(0, sp), rest: sp < 0 ? '' : cstr.slice(sp + 1) };
  }
  const cmd = cstr.slice(12);
  const a = cmd.indexOf(' ');
  const b = cmd.indexOf(' ', a + 1);
  assert.ok(a > 0 && b > a, 'SET_NETWORK needs id, name and value');
  const id = Number.parseInt(cmd.slice(0, a), 10);
  const name = cmd.slice(a + 1, b);
  const value = cmd.slice(b + 1);
  const out: { command: 'SET_NETWORK'; id: number; name: string; value: string; ssid?: Uint8Array; passphrase?: string; pmk?: string } =
    { command: 'SET_NETWORK', id, name, value };
  if (name === 'ssid') {
    assert.ok(!value.startsWith('"') && !value.startsWith('P"'), 'ssid is sent as hex');
    assert.equal(value.length % 2, 0);
    assert.match(value, /^[0-9a-fA-F]*$/);
    out.ssid = Uint8Array.from(value.match(/../g) ?? [], (h) => parseInt(h, 16));
  } else if (name === 'psk') {
    if (value.startsWith('"')) {
      const inner = value.slice(1);
      const last = inner.lastIndexOf('"');
      const len = last >= 0 ? last : inner.length;
      const pass = inner.slice(0, len);
      assert.ok(len >= 8 && len <= 63, 'passphrase length 8..63');
      assert.ok(![...pass].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127), 'no control characters');
      out.passphrase = pass;
    } else {
      assert.match(value, /^[0-9a-fA-F]{64}$/);
      out.pmk = value;
    }
  }
  return out;
}

function assertSingleSafeLine(c: ControlCommand): void {
  assert.match(c.text, /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, 'one line of printable ASCII');
  assert.ok(!c.text.includes('\n') && !c.text.includes('\r') && !c.text.includes('\0'));
}

/** The fixed rule messages: an error message can only be one of these, so never a key. */
const KEY_MESSAGES = new Set([
  'wificonfig.key: a passphrase must be 8 to 63 printable ASCII characters (0x20-0x7e)',
  'wificonfig.key: a raw PSK must be exactly 64 hexadecimal digits',
  'wificonfig.key: a sealed key must be opened before it is given to wpa_supplicant',
  'wificonfig.key: must be an open, passphrase or psk key',
]);

function assertKeyError(fn: () => unknown, key: string, deep = true): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(isNicupError(caught, 'NICUP_INVALID_NIC'), 'a NicError');
  assert.equal(caught.name, 'NicError');
  assert.equal(caught.field, 'wificonfig.key');
  assert.ok(KEY_MESSAGES.has(caught.message), `fixed message, got: ${caught.message}`);
  if (deep && key.length >= 12) {
    assert.ok(!inspect(caught).includes(key), 'the key is not in the inspected error');
    assert.ok(!String(caught.stack).includes(key), 'the key is not in the stack');
  }
}

describe('simple commands', () => {
  test('each is its keyword, not secret', () => {
    const table: [() => ControlCommand, string][] = [
      [attach, 'ATTACH'],
      [detach, 'DETACH'],
      [ping, 'PING'],
      [status, 'STATUS'],
      [scan, 'SCAN'],
      [scanResults, 'SCAN_RESULTS'],
      [addNetwork, 'ADD_NETWORK'],
      [reconnect, 'RECONNECT'],
      [disconnect, 'DISCONNECT'],
      [reassociate, 'REASSOCIATE'],
      [wpsCancel, 'WPS_CANCEL'],
      [() => wpsPbc(), 'WPS_PBC'],
    ];
    for (const [build, text] of table) {
      assert.deepEqual(build(), { text, redacted: text, secret: false });
    }
  });

  test('network targets: ids and "all"', () => {
    assert.equal(selectNetwork(0).text, 'SELECT_NETWORK 0');
    assert.equal(enableNetwork(7).text, 'ENABLE_NETWORK 7');
    assert.equal(disableNetwork('all').text, 'DISABLE_NETWORK all');
    assert.equal(removeNetwork('all').text, 'REMOVE_NETWORK all');
    assert.equal(removeNetwork(2147483647).text, 'REMOVE_NETWORK 2147483647');
  });

  test('bad network ids are ArgumentErrors naming networkId', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2147483648, '0' as unknown as number, '0 psk x' as unknown as number]) {
      assert.throws(
        () => selectNetwork(bad),
        (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'networkId',
      );
      assert.throws(() => setNetworkSsid(bad, 'x'), (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT'));
    }
  });

  test('WPS_PBC with a BSSID, which is validated', () => {
    assert.equal(wpsPbc('02:00:00:00:01:0A').text, 'WPS_PBC 02:00:00:00:01:0a');
    for (const bad of ['any', '02:00:00:00:01', '02:00:00:00:01:00\nSET_NETWORK 0 psk x', '02:00:00:00:01:00 x']) {
      assert.throws(() => wpsPbc(bad), (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'bssid');
    }
  });
});

describe('SET_NETWORK ssid', () => {
  test('always hex, so quotes, backslashes, newlines, NULs and spaces are literal bytes', () => {
    const cases = [
      'Network',
      'my "quoted" net',
      'back\\slash',
      'line\nbreak',
      'cr\rhere',
      'nul\0byte',
      ' leading and trailing ',
      '\nSET_NETWORK 0 psk "evilevil"',
      '"',
      'P"abc"',
      'ünïcødé ☕',
      '日本語のネットワーク',
      '\u{1F600}\u{1F600}',
    ];
    for (const ssid of cases) {
      const c = setNetworkSsid(3, ssid);
      assertSingleSafeLine(c);
      assert.equal(c.secret, false);
      const read = supplicantReads(c.text);
      assert.equal(read.command, 'SET_NETWORK');
      assert.ok('id' in read);
      assert.equal(read.id, 3);
      assert.equal(read.name, 'ssid');
      assert.deepEqual(read.ssid, new TextEncoder().encode(ssid));
    }
    assert.equal(setNetworkSsid(0, 'Network').text, 'SET_NETWORK 0 ssid 4e6574776f726b');
  });

  test('bytes are taken as given', () => {
    const bytes = Uint8Array.from([0x00, 0xff, 0x22, 0x0a, 0x20]);
    assert.equal(setNetworkSsid(1, bytes).text, 'SET_NETWORK 1 ssid 00ff220a20');
  });

  test('1 to 32 bytes once UTF-8 encoded', () => {
    assert.equal(setNetworkSsid(0, 'a'.repeat(32)).text, `SET_NETWORK 0 ssid ${'61'.repeat(32)}`);
    assert.ok(setNetworkSsid(0, '€'.repeat(10) + 'ab')); // 32 bytes
    for (const bad of ['', 'a'.repeat(33), '€'.repeat(11), '\u{1F600}'.repeat(9), new Uint8Array(0), new Uint8Array(33)]) {
      assert.throws(
        () => setNetworkSsid(0, bad),
        (e: unknown) => isNicupError(e, 'NICUP_INVALID_NIC') && e.field === 'wificonfig.ssid' && /1 to 32 bytes/.test(e.message),
      );
    }
  });

  test('lone surrogates are refused (they would be re-encoded as U+FFFD)', () => {
    assert.throws(() => setNetworkSsid(0, 'ab\uD800cd'), (e: unknown) => isNicupError(e) && e.field === 'wificonfig.ssid');
  });

  test('any SSID of 1..32 bytes round-trips through the supplicant model', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (bytes, id) => {
        const c = setNetworkSsid(id, bytes);
        assertSingleSafeLine(c);
        const read = supplicantReads(c.text);
        assert.ok('ssid' in read);
        assert.equal(read.id, id);
        assert.deepEqual(read.ssid, bytes);
      }),
    );
  });
});

describe('SET_NETWORK psk', () => {
  test('a passphrase is quoted; redacted form and secret flag hide it', () => {
    const c = setNetworkPassphrase(0, 'Password');
    assert.equal(c.text, 'SET_NETWORK 0 psk "Password"');
    assert.equal(c.redacted, 'SET_NETWORK 0 psk [redacted]');
    assert.equal(c.secret, true);
  });

  test('quotes, backslashes, spaces and # inside are carried exactly (the parser closes at the last quote)', () => {
    for (const pass of ['pass"word', '"leading', 'trailing"', '" spaced "', 'back\\slash\\', '#not a comment', '  8spaces', 'a" b" c"']) {
      const c = setNetworkPassphrase(4, pass);
      assertSingleSafeLine(c);
      const read = supplicantReads(c.text);
      assert.ok('passphrase' in read);
      assert.equal(read.passphrase, pass);
      assert.ok(!c.redacted.includes(pass));
    }
  });

  test('8 and 63 characters are the bounds', () => {
    assert.ok(setNetworkPassphrase(0, '12345678'));
    assert.ok(setNetworkPassphrase(0, 'x'.repeat(63)));
    assertKeyError(() => setNetworkPassphrase(0, '1234567'), '1234567');
    assertKeyError(() => setNetworkPassphrase(0, 'y'.repeat(64)), 'y'.repeat(64));
  });

  test('control characters, NUL, DEL and non-ASCII are refused without echoing the key', () => {
    const bad = [
      'secret-password\n',
      'secret-password\r',
      'secret\0password',
      'secret\tpassword',
      'secret-password\x7f',
      'sécret-password',
      'secret-password☕',
      'Password"\nSET_NETWORK 0 ssid 41',
      'Password" \nREMOVE_NETWORK all',
    ];
    for (const key of bad) assertKeyError(() => setNetworkPassphrase(0, key), key);
  });

  test('non-strings are refused', () => {
    assertKeyError(() => setNetworkPassphrase(0, 12345678 as unknown as string), '');
    assertKeyError(() => setNetworkPassphrase(0, undefined as unknown as string), '');
  });

  test('a raw PSK is 64 hex digits, unquoted, lower-cased, and secret', () => {
    const hex = 'ABCDEF0123456789'.repeat(4);
    const c = setNetworkRawPsk(2, hex);
    assert.equal(c.text, `SET_NETWORK 2 psk ${hex.toLowerCase()}`);
    assert.equal(c.redacted, 'SET_NETWORK 2 psk [redacted]');
    assert.equal(c.secret, true);
    const read = supplicantReads(c.text);
    assert.ok('pmk' in read);
    for (const key of ['a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), `${'a'.repeat(62)}\n0`, `"${'a'.repeat(62)}"`]) {
      assertKeyError(() => setNetworkRawPsk(0, key), key);
    }
  });

  test('fuzz: any string is either one safe command the supplicant reads back exactly, or a NicError without the key', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 0, maxLength: 80 }),
          // Any UTF-16 code units (lone surrogates included); cheaper than unit 'binary'.
          fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 80 }).map((units) => String.fromCharCode(...units)),
          fc.stringMatching(/^[\x20-\x7e]{8,63}$/),
          fc.constantFrom('12345678\nSET_NETWORK 0 ssid 41', 'abcdefgh"\0', '"""""""""'),
        ),
        (key) => {
          let c: ControlCommand;
          try {
            c = setNetworkPassphrase(1, key);
          } catch (e) {
            assert.ok(e instanceof NicupError);
            // The message is one of the fixed rule texts, so it cannot hold the key.
            assertKeyError(
              () => {
                throw e;
              },
              key,
              false,
            );
            return;
          }
          assertSingleSafeLine(c);
          assert.equal(c.redacted, 'SET_NETWORK 1 psk [redacted]');
          const read = supplicantReads(c.text);
          assert.ok('passphrase' in read);
          assert.equal(read.passphrase, key);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('key, key_mgmt, scan_ssid and frequencies', () => {
  test('setNetworkKey per kind', () => {
    assert.deepEqual(
      setNetworkKey(0, { kind: 'open' }).map((c) => c.text),
      ['SET_NETWORK 0 key_mgmt NONE'],
    );
    assert.deepEqual(
      setNetworkKey(0, { kind: 'passphrase', passphrase: 'Password' }).map((c) => c.redacted),
      ['SET_NETWORK 0 key_mgmt WPA-PSK', 'SET_NETWORK 0 psk [redacted]'],
    );
    assert.deepEqual(
      setNetworkKey(0, { kind: 'psk', psk: '0'.repeat(64) }).map((c) => c.text),
      ['SET_NETWORK 0 key_mgmt WPA-PSK', `SET_NETWORK 0 psk ${'0'.repeat(64)}`],
    );
    assertKeyError(() => setNetworkKey(0, { kind: 'sealed', blob: new Uint8Array(8) }), '');
    assertKeyError(() => setNetworkKey(0, { kind: 'other' } as never), '');
  });

  test('key_mgmt only WPA-PSK or NONE', () => {
    assert.equal(setNetworkKeyMgmt(1, 'NONE').text, 'SET_NETWORK 1 key_mgmt NONE');
    assert.throws(() => setNetworkKeyMgmt(1, 'WPA-PSK NONE' as never), (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT'));
    assert.throws(() => setNetworkKeyMgmt(1, 'NONE\nPING' as never), (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT'));
  });

  test('scan_ssid', () => {
    assert.equal(setNetworkScanSsid(0, true).text, 'SET_NETWORK 0 scan_ssid 1');
    assert.equal(setNetworkScanSsid(0, false).text, 'SET_NETWORK 0 scan_ssid 0');
  });

  test('pinning frequencies: network scan_freq/freq_list, or global freq_list', () => {
    assert.equal(setNetworkScanFreq(0, [2412]).text, 'SET_NETWORK 0 scan_freq 2412');
    assert.equal(setNetworkFreqList(0, [2412, 5180]).text, 'SET_NETWORK 0 freq_list 2412 5180');
    assert.equal(setGlobalFreqList([2412, 2437]).text, 'SET freq_list 2412 2437');
    for (const bad of [[], [2412.5], [0], [-2412], [Number.NaN], ['2412\nPING' as unknown as number], new Array(65).fill(2412)]) {
      assert.throws(
        () => setNetworkScanFreq(0, bad),
        (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'frequenciesMhz',
      );
    }
  });

  test('global SET: name and value are checked', () => {
    assert.equal(setCountry('DE').text, 'SET country DE');
    assert.equal(setGlobal('autoscan', 'periodic:10').text, 'SET autoscan periodic:10');
    assert.throws(() => setCountry('de'), (e: unknown) => isNicupError(e) && e.field === 'country');
    assert.throws(() => setGlobal('Bad Name', 'x'), (e: unknown) => isNicupError(e) && e.field === 'name');
    for (const bad of ['', ' x', 'x ', 'a\nb', 'a\0b', 'é', 'x'.repeat(257)]) {
      assert.throws(() => setGlobal('autoscan', bad), (e: unknown) => isNicupError(e) && e.field === 'value');
    }
  });

  test('networkSetupCommands: ssid, key_mgmt, psk, scan_ssid, frequencies in order', () => {
    const cmds = networkSetupCommands(
      5,
      { ssid: 'Hidden Net', key: { kind: 'passphrase', passphrase: 'Password' }, hidden: true },
      { frequenciesMhz: [2412] },
    );
    assert.deepEqual(
      cmds.map((c) => c.redacted),
      [
        'SET_NETWORK 5 ssid 48696464656e204e6574',
        'SET_NETWORK 5 key_mgmt WPA-PSK',
        'SET_NETWORK 5 psk [redacted]',
        'SET_NETWORK 5 scan_ssid 1',
        'SET_NETWORK 5 scan_freq 2412',
        'SET_NETWORK 5 freq_list 2412',
      ],
    );
    assert.deepEqual(
      cmds.map((c) => c.secret),
      [false, false, true, false, false, false],
    );
    const open = networkSetupCommands(0, { ssid: 'Cafe', key: { kind: 'open' }, hidden: false });
    assert.deepEqual(
      open.map((c) => c.text),
      ['SET_NETWORK 0 ssid 43616665', 'SET_NETWORK 0 key_mgmt NONE'],
    );
  });

  test('networkSetupCommands refuses a bad key as a whole', () => {
    const key = 'short';
    assertKeyError(
      () => networkSetupCommands(0, { ssid: 'Net', key: { kind: 'passphrase', passphrase: key }, hidden: false }),
      key,
    );
  });
});

describe('renderSupplicantConf', () => {
  test('control directory and update_config=0, no network block', () => {
    const conf = renderSupplicantConf({ controlDir: '/run/nicup/wpa' });
    assert.equal(
      conf,
      '# Written by nicup. Networks are added over the control socket.\nctrl_interface=/run/nicup/wpa\nupdate_config=0\n',
    );
    assert.ok(!conf.includes('network='));
  });

  test('ap_scan and country when asked', () => {
    const conf = renderSupplicantConf({ controlDir: '/tmp/x', apScan: 1, country: 'US' });
    assert.deepEqual(conf.trimEnd().split('\n').slice(1), ['ctrl_interface=/tmp/x', 'update_config=0', 'ap_scan=1', 'country=US']);
  });

  test('refuses directories that could change the file', () => {
    for (const bad of ['run/wpa', '/run/wpa\nnetwork={', '/run/my wpa', '/run/#wpa', '/run/"wpa"', '/run//wpa', '', `/${'a'.repeat(95)}`]) {
      assert.throws(
        () => renderSupplicantConf({ controlDir: bad }),
        (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'controlDir',
      );
    }
    assert.throws(() => renderSupplicantConf({ controlDir: '/r', apScan: 3 as never }), (e: unknown) => isNicupError(e) && e.field === 'apScan');
    assert.throws(() => renderSupplicantConf({ controlDir: '/r', country: 'USA' }), (e: unknown) => isNicupError(e) && e.field === 'country');
  });
});
