import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { NicError, ArgumentError } from './errors.js';
import {
  parseNic,
  checkApplicable,
  nicEquals,
  redactNic,
  isAttachOnly,
  parseInterfaceAlias,
  type Nic,
  type InterfaceKind,
} from './nic.js';
import { anythingArb, checkMutated, markedStrings, mutatedNicArb, nicTablesArb, parseOrNicError, validNicArb } from '../test/arbitraries/nic.js';

const FUZZ_RUNS = Number(process.env.NICUP_FUZZ_RUNS) || 300;

/** Runs parseNic and returns the NicError it throws; fails when it returns or throws anything else. */
function nicErrorOf(input: unknown): NicError {
  try {
    parseNic(input);
  } catch (err) {
    if (err instanceof NicError) return err;
    throw new assert.AssertionError({ message: `expected a NicError, got ${inspect(err)}` });
  }
  assert.fail('expected parseNic to throw');
}

/** Every way an error can end up in a log. */
function renderings(err: NicError): string[] {
  return [err.message, String(err), JSON.stringify(err), err.stack ?? '', inspect(err)];
}

const bytes = (...b: number[]) => new Uint8Array(b);

// --------------------------------------------------------------------------------------
// good NICs

const goodNics: Array<{ name: string; input: unknown; expected: Nic }> = [
  { name: 'attach only', input: { interface: 'eth0' }, expected: { interface: 'eth0' } },
  { name: 'predictable name', input: { interface: 'enp3s0' }, expected: { interface: 'enp3s0' } },
  { name: '15-byte name', input: { interface: 'abcdefghijklmno' }, expected: { interface: 'abcdefghijklmno' } },
  { name: 'non-ASCII name the kernel accepts', input: { interface: 'lé0' }, expected: { interface: 'lé0' } },
  { name: 'name with dot and hyphen', input: { interface: 'eth0.100' }, expected: { interface: 'eth0.100' } },
  { name: 'null tables are absent', input: { interface: 'wl0', wificonfig: null, staticconfig: undefined }, expected: { interface: 'wl0' } },
  {
    name: 'wifi passphrase',
    input: { interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } },
    expected: { interface: 'wl0', wificonfig: { ssid: 'Network', key: { kind: 'passphrase', passphrase: 'Password' }, hidden: false, wps: false } },
  },
  {
    name: 'wifi passphrase of 63 printable characters incl. spaces',
    input: { interface: 'wl0', wificonfig: { ssid: 'N', key: ' ~'.repeat(31) + '!' } },
    expected: { interface: 'wl0', wificonfig: { ssid: 'N', key: { kind: 'passphrase', passphrase: ' ~'.repeat(31) + '!' }, hidden: false, wps: false } },
  },
  {
    name: 'wifi 64-hex psk is lowercased',
    input: { interface: 'wlan0', wificonfig: { ssid: 'Net', key: 'ABCDEF0123456789'.repeat(4), hidden: true } },
    expected: { interface: 'wlan0', wificonfig: { ssid: 'Net', key: { kind: 'psk', psk: 'abcdef0123456789'.repeat(4) }, hidden: true, wps: false } },
  },
  {
    name: 'wifi open with null key',
    input: { interface: 'wl0', wificonfig: { ssid: 'Cafe', key: null } },
    expected: { interface: 'wl0', wificonfig: { ssid: 'Cafe', key: { kind: 'open' }, hidden: false, wps: false } },
  },
  {
    name: 'wifi open with empty key',
    input: { interface: 'wl0', wificonfig: { ssid: 'Cafe', key: '' } },
    expected: { interface: 'wl0', wificonfig: { ssid: 'Cafe', key: { kind: 'open' }, hidden: false, wps: false } },
  },
  {
    name: 'wifi WPS without key',
    input: { interface: 'wl0', wificonfig: { ssid: 'Home', wps: true } },
    expected: { interface: 'wl0', wificonfig: { ssid: 'Home', key: { kind: 'open' }, hidden: false, wps: true } },
  },
  {
    name: 'wifi sealed key from a Buffer',
    input: { interface: 'wl0', wificonfig: { ssid: 'Net', key: Buffer.from([1, 2, 3]) } },
    expected: { interface: 'wl0', wificonfig: { ssid: 'Net', key: { kind: 'sealed', blob: bytes(1, 2, 3) }, hidden: false, wps: false } },
  },
  {
    name: 'wifi 32-byte UTF-8 SSID',
    input: { interface: 'wl0', wificonfig: { ssid: '€'.repeat(10) + 'ab', key: null } },
    expected: { interface: 'wl0', wificonfig: { ssid: '€'.repeat(10) + 'ab', key: { kind: 'open' }, hidden: false, wps: false } },
  },
  {
    name: 'static with gateway and two DNS',
    input: { interface: 'eth0', staticconfig: { ip: '192.168.1.10', netmask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1', '8.8.8.8'] } },
    expected: { interface: 'eth0', staticconfig: { ip: '192.168.1.10', netmask: '255.255.255.0', prefixLength: 24, gateway: '192.168.1.1', dns: ['192.168.1.1', '8.8.8.8'] } },
  },
  {
    name: 'static without gateway, /30',
    input: { interface: 'eth0', staticconfig: { ip: '10.0.0.1', netmask: '255.255.255.252', dns: ['10.0.0.2'] } },
    expected: { interface: 'eth0', staticconfig: { ip: '10.0.0.1', netmask: '255.255.255.252', prefixLength: 30, dns: ['10.0.0.2'] } },
  },
  {
    name: 'static /31 may use both addresses (RFC 3021)',
    input: { interface: 'eth0', staticconfig: { ip: '10.0.0.0', netmask: '255.255.255.254', gateway: '10.0.0.1', dns: ['10.0.0.1'] } },
    expected: { interface: 'eth0', staticconfig: { ip: '10.0.0.0', netmask: '255.255.255.254', prefixLength: 31, gateway: '10.0.0.1', dns: ['10.0.0.1'] } },
  },
  {
    name: 'static from prefixLength alone',
    input: { interface: 'eth0', staticconfig: { ip: '172.16.5.4', prefixLength: 12, dns: ['1.1.1.1'] } },
    expected: { interface: 'eth0', staticconfig: { ip: '172.16.5.4', netmask: '255.240.0.0', prefixLength: 12, dns: ['1.1.1.1'] } },
  },
  {
    name: 'static /32',
    input: { interface: 'eth0', staticconfig: { ip: '10.1.2.3', netmask: '255.255.255.255', prefixLength: 32, dns: ['10.1.2.4'] } },
    expected: { interface: 'eth0', staticconfig: { ip: '10.1.2.3', netmask: '255.255.255.255', prefixLength: 32, dns: ['10.1.2.4'] } },
  },
  {
    name: 'proxy type is case-insensitive, hostname lowercased',
    input: { interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'Proxy.Example.COM', port: 3128 } },
    expected: { interface: 'eth0', proxyconfig: { type: 'http', address: 'proxy.example.com', port: 3128 } },
  },
  {
    name: 'proxy with user and password, dotted-quad address, port 0',
    input: { interface: 'wl0', proxyconfig: { type: 'Http', address: '10.0.0.8', port: 0, username: 'alice', password: 'p@ss word' } },
    expected: { interface: 'wl0', proxyconfig: { type: 'http', address: '10.0.0.8', port: 0, username: 'alice', password: 'p@ss word' } },
  },
  {
    name: 'proxy with sealed password',
    input: { interface: 'wl0', proxyconfig: { type: 'http', address: 'proxy', port: 65535, username: 'bob', password: bytes(9, 8) } },
    expected: { interface: 'wl0', proxyconfig: { type: 'http', address: 'proxy', port: 65535, username: 'bob', password: { sealed: bytes(9, 8) } } },
  },
  {
    name: 'proxy: empty username and password are absent',
    input: { interface: 'eth0', proxyconfig: { type: 'http', address: 'p', port: 80, username: '', password: '' } },
    expected: { interface: 'eth0', proxyconfig: { type: 'http', address: 'p', port: 80 } },
  },
  {
    name: 'cell minimal',
    input: { interface: 'cell0', cellconfig: { apn: 'internet' } },
    expected: { interface: 'cell0', cellconfig: { apn: 'internet' } },
  },
  {
    name: 'cell full',
    input: { interface: 'cell0', cellconfig: { apn: 'web.vodafone.de', pin: '0000', username: 'vodafone', password: 'vodafone', device: '/dev/ttyUSB2' } },
    expected: { interface: 'cell0', cellconfig: { apn: 'web.vodafone.de', pin: '0000', username: 'vodafone', password: 'vodafone', device: '/dev/ttyUSB2' } },
  },
  {
    name: 'cell sealed pin and password, by-id device',
    input: { interface: 'cell0', cellconfig: { apn: 'internet.t-mobile', pin: bytes(1), password: { sealed: bytes(2) }, device: '/dev/serial/by-id/usb-Quectel-if02' } },
    expected: { interface: 'cell0', cellconfig: { apn: 'internet.t-mobile', pin: { sealed: bytes(1) }, password: { sealed: bytes(2) }, device: '/dev/serial/by-id/usb-Quectel-if02' } },
  },
  {
    name: 'all tables at once (applicability is checked separately)',
    input: {
      cellconfig: { apn: 'x' },
      proxyconfig: { port: 1, address: 'a', type: 'http' },
      staticconfig: { dns: ['9.9.9.9'], netmask: '255.255.0.0', ip: '10.9.0.1' },
      wificonfig: { wps: false, hidden: false, key: 'secretive', ssid: 'S' },
      interface: 'x',
    },
    expected: {
      interface: 'x',
      wificonfig: { ssid: 'S', key: { kind: 'passphrase', passphrase: 'secretive' }, hidden: false, wps: false },
      staticconfig: { ip: '10.9.0.1', netmask: '255.255.0.0', prefixLength: 16, dns: ['9.9.9.9'] },
      proxyconfig: { type: 'http', address: 'a', port: 1 },
      cellconfig: { apn: 'x' },
    },
  },
];

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('parseNic: good NICs', () => {
  for (const { name, input, expected } of goodNics) {
    test(name, () => {
      const before = canonical(input);
      const nic = parseNic(deepFreeze(input));
      assert.deepStrictEqual(nic, expected);
      assert.equal(canonical(input), before, 'input must not change');
      // Its own output parses to itself.
      assert.deepStrictEqual(parseNic(nic), expected);
    });
  }

  test('blobs are copied, not aliased', () => {
    const key = bytes(1, 2, 3);
    const pin = bytes(4, 5);
    const wifi = parseNic({ interface: 'wl0', wificonfig: { ssid: 's', key } });
    const cell = parseNic({ interface: 'cell0', cellconfig: { apn: 'a', pin } });
    key[0] = 99;
    pin[0] = 99;
    assert.deepStrictEqual(wifi.wificonfig?.key, { kind: 'sealed', blob: bytes(1, 2, 3) });
    assert.deepStrictEqual(cell.cellconfig?.pin, { sealed: bytes(4, 5) });
    // Buffers come out as plain Uint8Arrays, so equality does not depend on the input's class.
    const fromBuffer = parseNic({ interface: 'wl0', wificonfig: { ssid: 's', key: Buffer.from([7]) } });
    assert.equal(Object.getPrototypeOf((fromBuffer.wificonfig?.key as { blob: Uint8Array }).blob), Uint8Array.prototype);
  });

  test('each getter is read once', () => {
    let reads = 0;
    const input = {
      get interface() {
        reads++;
        return reads === 1 ? 'eth0' : 'bad/name';
      },
    };
    assert.deepStrictEqual(parseNic(input), { interface: 'eth0' });
    assert.equal(reads, 1);
  });
});

// --------------------------------------------------------------------------------------
// bad NICs

interface BadCase {
  name: string;
  input: unknown;
  field: string;
  rule: string;
  /** A secret in the input that must appear in no rendering of the error. */
  secret?: string;
}

const wifi = (w: Record<string, unknown>) => ({ interface: 'wl0', wificonfig: { ssid: 'Net', ...w } });
const fixed = (s: Record<string, unknown>) => ({
  interface: 'eth0',
  staticconfig: { ip: '192.168.1.10', netmask: '255.255.255.0', dns: ['192.168.1.1'], ...s },
});
const proxy = (p: Record<string, unknown>) => ({ interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'proxy', port: 3128, ...p } });
const cell = (c: Record<string, unknown>) => ({ interface: 'cell0', cellconfig: { apn: 'internet', ...c } });
const throwingGetter = (message: string) => ({
  interface: 'eth0',
  get wificonfig(): unknown {
    throw new Error(message);
  },
});

const withHole: unknown[] = new Array(2);
withHole[1] = '1.1.1.1';

const badNics: BadCase[] = [
  // the NIC itself
  { name: 'null', input: null, field: 'nic', rule: 'must be a table' },
  { name: 'a string', input: 'eth0', field: 'nic', rule: 'must be a table' },
  { name: 'an array', input: [{ interface: 'eth0' }], field: 'nic', rule: 'got an array' },
  { name: 'a Map', input: new Map([['interface', 'eth0']]), field: 'nic', rule: 'not a plain table' },
  { name: 'empty table', input: {}, field: 'interface', rule: 'is required' },
  { name: 'typo of a table key', input: { interface: 'wl0', wifconfig: {} }, field: 'wifconfig', rule: 'did you mean wificonfig?' },
  { name: 'wrong case of a key', input: { Interface: 'eth0' }, field: 'Interface', rule: 'did you mean interface?' },
  { name: 'unknown key lists known keys', input: { interface: 'eth0', color: 'red' }, field: 'color', rule: 'known keys: interface, wificonfig' },
  { name: 'odd key name is quoted', input: { interface: 'eth0', 'a b': 1 }, field: '["a b"]', rule: 'is not a NIC key' },
  { name: 'getter throws', input: throwingGetter('boom'), field: 'nic', rule: 'could not be read' },
  // interface
  { name: 'interface not a string', input: { interface: 0 }, field: 'interface', rule: 'must be a string; got a number' },
  { name: 'interface empty', input: { interface: '' }, field: 'interface', rule: 'Linux interface name' },
  { name: 'interface 16 bytes', input: { interface: 'abcdefghijklmnop' }, field: 'interface', rule: '1–15 bytes' },
  { name: 'interface 16 UTF-8 bytes in 8 chars', input: { interface: 'éééééééé' }, field: 'interface', rule: '1–15 bytes' },
  { name: 'interface with slash', input: { interface: 'eth/0' }, field: 'interface', rule: 'no "/"' },
  { name: 'interface with colon (alias label)', input: { interface: 'eth0:1' }, field: 'interface', rule: '":"' },
  { name: 'interface with space', input: { interface: 'eth 0' }, field: 'interface', rule: 'spaces' },
  { name: 'interface with NUL', input: { interface: 'eth\u00000' }, field: 'interface', rule: 'control characters' },
  { name: 'interface with a byte the kernel calls space (à = C3 A0)', input: { interface: 'wà' }, field: 'interface', rule: 'spaces' },
  { name: 'interface ".."', input: { interface: '..' }, field: 'interface', rule: 'not "." or ".."' },
  // wificonfig
  { name: 'wificonfig not a table', input: { interface: 'wl0', wificonfig: 'Net' }, field: 'wificonfig', rule: 'must be a table' },
  { name: 'ssid missing', input: { interface: 'wl0', wificonfig: { key: 'Password1' } }, field: 'wificonfig.ssid', rule: 'is required', secret: 'Password1' },
  { name: 'ssid typo', input: wifi({ ssdi: 'x' }), field: 'wificonfig.ssdi', rule: 'did you mean ssid?' },
  { name: 'ssid empty', input: wifi({ ssid: '' }), field: 'wificonfig.ssid', rule: '1–32 bytes' },
  { name: 'ssid 33 bytes', input: wifi({ ssid: '€'.repeat(11) }), field: 'wificonfig.ssid', rule: '1–32 bytes once UTF-8 encoded' },
  { name: 'ssid a number', input: wifi({ ssid: 42 }), field: 'wificonfig.ssid', rule: 'must be a string; got a number' },
  { name: 'key of 7 characters', input: wifi({ key: 'Sh0rt!x' }), field: 'wificonfig.key', rule: 'must be 8–63 printable ASCII characters or 64 hex digits', secret: 'Sh0rt!x' },
  { name: 'key of 64 non-hex characters', input: wifi({ key: 'q'.repeat(63) + 'Z' }), field: 'wificonfig.key', rule: '64 hex digits', secret: 'q'.repeat(63) + 'Z' },
  { name: 'key of 65 hex digits', input: wifi({ key: 'f'.repeat(64) + '0' }), field: 'wificonfig.key', rule: '64 hex digits', secret: 'f'.repeat(64) + '0' },
  { name: 'key with non-ASCII', input: wifi({ key: 'pässwörd-Geheim' }), field: 'wificonfig.key', rule: 'printable ASCII', secret: 'pässwörd-Geheim' },
  { name: 'key with a newline', input: wifi({ key: 'line1\nline2-Xq' }), field: 'wificonfig.key', rule: 'printable ASCII', secret: 'line1\nline2-Xq' },
  { name: 'key a number', input: wifi({ key: 12345678 }), field: 'wificonfig.key', rule: 'must be a string, a blob (sealed key) or null; got a number', secret: '12345678' },
  { name: 'key an empty blob', input: wifi({ key: new Uint8Array(0) }), field: 'wificonfig.key', rule: 'empty blob' },
  { name: 'key of an unknown kind', input: wifi({ key: { kind: 'wep' } }), field: 'wificonfig.key.kind', rule: 'must be "open", "passphrase", "psk" or "sealed"' },
  { name: 'tagged passphrase too short', input: wifi({ key: { kind: 'passphrase', passphrase: 'Tiny-Sx' } }), field: 'wificonfig.key.passphrase', rule: '8–63 printable ASCII', secret: 'Tiny-Sx' },
  { name: 'tagged psk not hex', input: wifi({ key: { kind: 'psk', psk: 'Passphrase-Not-Psk' } }), field: 'wificonfig.key.psk', rule: '64 hex digits', secret: 'Passphrase-Not-Psk' },
  { name: 'hidden not a boolean', input: wifi({ hidden: 'yes' }), field: 'wificonfig.hidden', rule: 'must be a boolean; got a string' },
  { name: 'wps with a key', input: wifi({ wps: true, key: 'Password-Wps' }), field: 'wificonfig.wps', rule: 'cannot be combined with a key', secret: 'Password-Wps' },
  // staticconfig
  { name: 'staticconfig an array', input: { interface: 'eth0', staticconfig: [] }, field: 'staticconfig', rule: 'must be a table' },
  { name: 'ip missing', input: { interface: 'eth0', staticconfig: { netmask: '255.0.0.0', dns: ['1.1.1.1'] } }, field: 'staticconfig.ip', rule: 'is required' },
  { name: 'ip octet 256', input: fixed({ ip: '192.168.1.256' }), field: 'staticconfig.ip', rule: 'dotted quad' },
  { name: 'ip leading zero', input: fixed({ ip: '192.168.01.10' }), field: 'staticconfig.ip', rule: 'no leading zeros' },
  { name: 'ip three parts', input: fixed({ ip: '192.168.1' }), field: 'staticconfig.ip', rule: 'dotted quad' },
  { name: 'ip is the network address', input: fixed({ ip: '192.168.1.0' }), field: 'staticconfig.ip', rule: 'network or broadcast' },
  { name: 'ip is the broadcast address', input: fixed({ ip: '192.168.1.255' }), field: 'staticconfig.ip', rule: 'network or broadcast' },
  { name: 'ip 0.0.0.0', input: fixed({ ip: '0.0.0.0', netmask: '255.255.255.255' }), field: 'staticconfig.ip', rule: 'unicast host address' },
  { name: 'ip loopback', input: fixed({ ip: '127.0.0.2', netmask: '255.0.0.0' }), field: 'staticconfig.ip', rule: 'loopback' },
  { name: 'ip multicast', input: fixed({ ip: '224.0.0.5', netmask: '255.255.255.255' }), field: 'staticconfig.ip', rule: 'multicast' },
  { name: 'netmask not contiguous', input: fixed({ netmask: '255.0.255.0' }), field: 'staticconfig.netmask', rule: 'contiguous' },
  { name: 'netmask /0', input: fixed({ netmask: '0.0.0.0' }), field: 'staticconfig.netmask', rule: 'contiguous netmask from 128.0.0.0' },
  { name: 'netmask missing', input: { interface: 'eth0', staticconfig: { ip: '10.0.0.2', dns: ['10.0.0.1'] } }, field: 'staticconfig.netmask', rule: 'is required' },
  { name: 'prefixLength 33', input: fixed({ netmask: undefined, prefixLength: 33 }), field: 'staticconfig.prefixLength', rule: 'integer 1–32' },
  { name: 'prefixLength disagrees', input: fixed({ prefixLength: 16 }), field: 'staticconfig.prefixLength', rule: 'must agree with staticconfig.netmask' },
  { name: 'gateway outside the subnet', input: fixed({ gateway: '192.168.2.1' }), field: 'staticconfig.gateway', rule: 'inside the subnet' },
  { name: 'gateway is the broadcast address', input: fixed({ gateway: '192.168.1.255' }), field: 'staticconfig.gateway', rule: 'network or broadcast' },
  { name: 'gateway equals ip', input: fixed({ gateway: '192.168.1.10' }), field: 'staticconfig.gateway', rule: 'must differ from staticconfig.ip' },
  { name: 'gateway not a string', input: fixed({ gateway: [192, 168, 1, 1] }), field: 'staticconfig.gateway', rule: 'must be a string; got an array' },
  { name: 'dns missing', input: fixed({ dns: undefined }), field: 'staticconfig.dns', rule: 'is required' },
  { name: 'dns a single string', input: fixed({ dns: '8.8.8.8' }), field: 'staticconfig.dns', rule: 'array of one or two dotted quads; got a string' },
  { name: 'dns empty', input: fixed({ dns: [] }), field: 'staticconfig.dns', rule: 'one or two' },
  { name: 'dns three', input: fixed({ dns: ['1.1.1.1', '8.8.8.8', '9.9.9.9'] }), field: 'staticconfig.dns', rule: 'one or two' },
  { name: 'dns huge sparse array', input: fixed({ dns: new Array(2 ** 31) }), field: 'staticconfig.dns', rule: 'one or two' },
  { name: 'dns a hostname', input: fixed({ dns: ['8.8.8.8', 'dns.google'] }), field: 'staticconfig.dns[1]', rule: 'dotted quad' },
  { name: 'dns multicast', input: fixed({ dns: ['224.0.0.251'] }), field: 'staticconfig.dns[0]', rule: 'unicast' },
  { name: 'dns hole in array', input: fixed({ dns: withHole }), field: 'staticconfig.dns[0]', rule: 'must be a string; got undefined' },
  // proxyconfig
  { name: 'proxy type SOCKS', input: proxy({ type: 'SOCKS5' }), field: 'proxyconfig.type', rule: 'must be "HTTP"' },
  { name: 'proxy type missing', input: proxy({ type: undefined }), field: 'proxyconfig.type', rule: 'is required' },
  { name: 'proxy address empty', input: proxy({ address: '' }), field: 'proxyconfig.address', rule: 'hostname' },
  { name: 'proxy address 65 chars', input: proxy({ address: 'a'.repeat(65) }), field: 'proxyconfig.address', rule: 'at most 64 characters' },
  { name: 'proxy address with underscore', input: proxy({ address: 'my_proxy' }), field: 'proxyconfig.address', rule: 'letters, digits, hyphens and dots' },
  { name: 'proxy address a URL', input: proxy({ address: 'http://proxy:3128' }), field: 'proxyconfig.address', rule: 'hostname' },
  { name: 'proxy address bad dotted quad', input: proxy({ address: '10.0.0.300' }), field: 'proxyconfig.address', rule: 'dotted quad' },
  { name: 'proxy port 65536', input: proxy({ port: 65536 }), field: 'proxyconfig.port', rule: 'integer 0–65535' },
  { name: 'proxy port fractional', input: proxy({ port: 80.5 }), field: 'proxyconfig.port', rule: 'integer 0–65535' },
  { name: 'proxy port a string', input: proxy({ port: '8080' }), field: 'proxyconfig.port', rule: 'got a string' },
  { name: 'proxy port missing', input: proxy({ port: null }), field: 'proxyconfig.port', rule: 'is required' },
  { name: 'proxy username 33 chars', input: proxy({ username: 'u'.repeat(33) }), field: 'proxyconfig.username', rule: 'at most 32 characters' },
  { name: 'proxy username with colon', input: proxy({ username: 'a:b' }), field: 'proxyconfig.username', rule: 'without ":"' },
  { name: 'proxy password without username', input: proxy({ password: 'Hunter2-Alone' }), field: 'proxyconfig.password', rule: 'only allowed with proxyconfig.username', secret: 'Hunter2-Alone' },
  { name: 'proxy password 33 chars', input: proxy({ username: 'u', password: 'Pw33-' + 'x'.repeat(28) }), field: 'proxyconfig.password', rule: 'at most 32 characters', secret: 'Pw33-' + 'x'.repeat(28) },
  { name: 'proxy password with CRLF', input: proxy({ username: 'u', password: 'Pw\r\nHost: evil' }), field: 'proxyconfig.password', rule: 'control characters', secret: 'Pw\r\nHost: evil' },
  { name: 'proxy password a number', input: proxy({ username: 'u', password: 31415926 }), field: 'proxyconfig.password', rule: 'must be a string or a blob (sealed); got a number', secret: '31415926' },
  { name: 'proxy sealed password empty', input: proxy({ username: 'u', password: { sealed: new Uint8Array(0) } }), field: 'proxyconfig.password.sealed', rule: 'empty blob' },
  { name: 'proxy sealed password extra key', input: proxy({ username: 'u', password: { sealed: bytes(1), plain: 'Leak-Me-Not' } }), field: 'proxyconfig.password.plain', rule: 'is not a sealed secret key', secret: 'Leak-Me-Not' },
  // cellconfig
  { name: 'apn missing', input: { interface: 'cell0', cellconfig: {} }, field: 'cellconfig.apn', rule: 'is required' },
  { name: 'apn with underscore', input: cell({ apn: 'my_apn' }), field: 'cellconfig.apn', rule: 'letters, digits and hyphens' },
  { name: 'apn empty label', input: cell({ apn: 'a..b' }), field: 'cellconfig.apn', rule: 'separated by dots' },
  { name: 'apn 101 chars', input: cell({ apn: 'a'.repeat(50) + '.' + 'b'.repeat(50) }), field: 'cellconfig.apn', rule: '1–100 characters' },
  { name: 'pin 3 digits', input: cell({ pin: '987' }), field: 'cellconfig.pin', rule: 'must be 4–8 digits', secret: '987' },
  { name: 'pin 9 digits', input: cell({ pin: '987654321' }), field: 'cellconfig.pin', rule: '4–8 digits', secret: '987654321' },
  { name: 'pin with a letter', input: cell({ pin: '98x7' }), field: 'cellconfig.pin', rule: '4–8 digits', secret: '98x7' },
  { name: 'pin a number', input: cell({ pin: 9753 }), field: 'cellconfig.pin', rule: 'lose leading zeros', secret: '9753' },
  { name: 'cell username with newline', input: cell({ username: 'user\nname' }), field: 'cellconfig.username', rule: 'control characters' },
  { name: 'cell password 65 chars', input: cell({ password: 'CellPw-' + 'y'.repeat(58) }), field: 'cellconfig.password', rule: 'at most 64 characters', secret: 'CellPw-' + 'y'.repeat(58) },
  { name: 'cell password with NUL', input: cell({ password: 'Cell\u0000Secret' }), field: 'cellconfig.password', rule: 'control characters', secret: 'Cell\u0000Secret' },
  { name: 'device relative', input: cell({ device: 'ttyUSB2' }), field: 'cellconfig.device', rule: 'absolute path under /dev/' },
  { name: 'device escapes /dev', input: cell({ device: '/dev/../etc/shadow' }), field: 'cellconfig.device', rule: '".."' },
  { name: 'device is /dev/ itself', input: cell({ device: '/dev/' }), field: 'cellconfig.device', rule: 'under /dev/' },
  { name: 'cellconfig typo', input: cell({ pn: '1234' }), field: 'cellconfig.pn', rule: 'did you mean apn or pin?' },
];

describe('parseNic: bad NICs', () => {
  test('the table is large enough', () => {
    assert.ok(badNics.length >= 40, `only ${badNics.length} bad cases`);
  });
  for (const c of badNics) {
    test(`${c.name} -> ${c.field}`, () => {
      const err = nicErrorOf(c.input);
      assert.equal(err.code, 'NICUP_INVALID_NIC');
      assert.equal(err.name, 'NicError');
      assert.equal(err.field, c.field);
      assert.ok(err.message.startsWith(`${c.field}: `), `message should start with the field: ${err.message}`);
      assert.ok(err.message.includes(c.rule), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(c.rule)}`);
      if (c.secret !== undefined) {
        for (const text of renderings(err)) {
          assert.ok(!text.includes(c.secret), `secret leaked into ${JSON.stringify(text.slice(0, 200))}`);
        }
      }
    });
  }

  test('a throwing getter becomes a NicError without the thrown message', () => {
    const err = nicErrorOf(throwingGetter('Getter-Secret-Text'));
    for (const text of renderings(err)) assert.ok(!text.includes('Getter-Secret-Text'));
    assert.equal(err.cause, undefined);
  });

  test('a revoked Proxy becomes a NicError', () => {
    const { proxy: revoked, revoke } = Proxy.revocable({ interface: 'eth0' }, {});
    revoke();
    assert.equal(nicErrorOf(revoked).field, 'nic');
    const inner = Proxy.revocable({ ssid: 'x' }, {});
    inner.revoke();
    assert.equal(nicErrorOf({ interface: 'wl0', wificonfig: inner.proxy }).field, 'wificonfig');
  });
});

// --------------------------------------------------------------------------------------
// applicability, equality, redaction, attach-only, aliases

describe('checkApplicable', () => {
  const wifiNic = parseNic(wifi({ key: 'Password' }));
  const staticNic = parseNic(fixed({}));
  const proxyNic = parseNic(proxy({}));
  const cellNic = parseNic(cell({}));
  const bare = parseNic({ interface: 'x' });
  const cases: Array<[Nic, InterfaceKind, string | undefined, string?]> = [
    [bare, 'ethernet', undefined],
    [bare, 'wifi', undefined],
    [bare, 'cell', undefined],
    [wifiNic, 'wifi', undefined],
    [wifiNic, 'ethernet', 'wificonfig', 'applies to WiFi interfaces only (this one is Ethernet)'],
    [wifiNic, 'cell', 'wificonfig', 'applies to WiFi interfaces only (this one is cellular)'],
    [staticNic, 'ethernet', undefined],
    [staticNic, 'wifi', undefined],
    [staticNic, 'cell', 'staticconfig', 'does not apply to cellular interfaces'],
    [proxyNic, 'ethernet', undefined],
    [proxyNic, 'wifi', undefined],
    [proxyNic, 'cell', 'proxyconfig', 'does not apply to cellular interfaces'],
    [cellNic, 'cell', undefined],
    [cellNic, 'ethernet', 'cellconfig', 'applies to cellular interfaces only'],
    [cellNic, 'wifi', 'cellconfig', 'applies to cellular interfaces only'],
  ];
  for (const [nic, kind, field, rule] of cases) {
    const tables = Object.keys(nic).filter((k) => k !== 'interface').join(',') || 'bare';
    test(`${tables} on ${kind}: ${field === undefined ? 'ok' : `rejects ${field}`}`, () => {
      if (field === undefined) {
        checkApplicable(nic, kind);
        return;
      }
      assert.throws(() => checkApplicable(nic, kind), (err: unknown) => {
        assert.ok(err instanceof NicError);
        assert.equal(err.field, field);
        assert.ok(rule !== undefined && err.message.includes(rule), err.message);
        return true;
      });
    });
  }
  test('an unknown kind is an ArgumentError', () => {
    assert.throws(() => checkApplicable(bare, 'bluetooth' as InterfaceKind), ArgumentError);
  });
});

describe('nicEquals', () => {
  test('ignores key order, compares blobs by content, treats undefined as absent', () => {
    const a: Nic = { interface: 'wl0', wificonfig: { ssid: 's', key: { kind: 'sealed', blob: bytes(1, 2) }, hidden: false, wps: false } };
    const b: Nic = { wificonfig: { wps: false, hidden: false, key: { blob: Buffer.from([1, 2]), kind: 'sealed' }, ssid: 's' }, interface: 'wl0', staticconfig: undefined };
    assert.ok(nicEquals(a, b));
    assert.ok(nicEquals(b, a));
  });
  test('tells different NICs apart', () => {
    const base = parseNic(fixed({ gateway: '192.168.1.1' }));
    const variants = [
      parseNic(fixed({})),
      parseNic(fixed({ gateway: '192.168.1.2' })),
      parseNic(fixed({ gateway: '192.168.1.1', dns: ['192.168.1.1', '1.1.1.1'] })),
      parseNic({ ...fixed({ gateway: '192.168.1.1' }), interface: 'eth1' }),
    ];
    for (const v of variants) assert.equal(nicEquals(base, v), false, JSON.stringify(v));
    const sealedA: Nic = { interface: 'p', proxyconfig: { type: 'http', address: 'a', port: 1, username: 'u', password: { sealed: bytes(1, 2) } } };
    const sealedB: Nic = { interface: 'p', proxyconfig: { type: 'http', address: 'a', port: 1, username: 'u', password: { sealed: bytes(1, 3) } } };
    const plain: Nic = { interface: 'p', proxyconfig: { type: 'http', address: 'a', port: 1, username: 'u', password: '\u0001\u0002' } };
    assert.equal(nicEquals(sealedA, sealedB), false);
    assert.equal(nicEquals(sealedA, plain), false);
    assert.equal(nicEquals(sealedA, { ...sealedA, proxyconfig: { ...sealedA.proxyconfig!, password: { sealed: bytes(1) } } }), false);
  });
});

describe('redactNic', () => {
  test('replaces every secret and keeps the rest', () => {
    const nic = parseNic({
      interface: 'x',
      wificonfig: { ssid: 'Home', key: 'Wifi-Secret-1' },
      staticconfig: { ip: '10.0.0.2', netmask: '255.0.0.0', gateway: '10.0.0.1', dns: ['10.0.0.1'] },
      proxyconfig: { type: 'http', address: 'p', port: 8080, username: 'alice', password: 'Proxy-Secret-2' },
      cellconfig: { apn: 'internet', pin: '2468', username: 'web', password: bytes(5), device: '/dev/ttyACM0' },
    });
    const before = canonical(nic);
    const redacted = redactNic(nic);
    assert.deepStrictEqual(redacted, {
      interface: 'x',
      wificonfig: { ssid: 'Home', key: { kind: 'passphrase', passphrase: '<redacted>' }, hidden: false, wps: false },
      staticconfig: { ip: '10.0.0.2', netmask: '255.0.0.0', prefixLength: 8, gateway: '10.0.0.1', dns: ['10.0.0.1'] },
      proxyconfig: { type: 'http', address: 'p', port: 8080, username: 'alice', password: '<redacted>' },
      cellconfig: { apn: 'internet', pin: '<redacted>', username: 'web', password: '<sealed>', device: '/dev/ttyACM0' },
    });
    assert.equal(canonical(nic), before, 'redactNic must not change its argument');
    assert.notEqual(redacted.staticconfig?.dns, nic.staticconfig?.dns, 'arrays are copied');
  });
  test('psk, sealed and open keys', () => {
    const key = (k: unknown) => redactNic(parseNic(wifi({ key: k }))).wificonfig?.key;
    assert.deepStrictEqual(key('0'.repeat(64)), { kind: 'psk', psk: '<redacted>' });
    assert.deepStrictEqual(key(bytes(1)), { kind: 'sealed', blob: '<sealed>' });
    assert.deepStrictEqual(key(null), { kind: 'open' });
    assert.deepStrictEqual(redactNic(parseNic(cell({ pin: bytes(3) }))).cellconfig, { apn: 'internet', pin: '<sealed>' });
  });
  test('drops fields it does not know', () => {
    const nic = { interface: 'x', extra: 'Stray-Secret' } as unknown as Nic;
    assert.deepStrictEqual(redactNic(nic), { interface: 'x' });
  });
});

describe('isAttachOnly', () => {
  const cases: Array<[unknown, boolean]> = [
    [{ interface: 'wl0' }, true],
    [{ interface: 'wl0', wificonfig: undefined, staticconfig: null }, true],
    [{ interface: 'wl0', wificonfig: { ssid: 'x' } }, false],
    [{ interface: 'eth0', staticconfig: {} }, false],
    [{ interface: 'eth0', typo: 1 }, false],
    [{ interface: 'eth0', wifconfig: undefined }, false],
    [{}, false],
    [{ interface: null }, false],
    [null, false],
    ['wl0', false],
    [[{ interface: 'wl0' }], false],
  ];
  for (const [input, expected] of cases) {
    test(`${inspect(input)} -> ${expected}`, () => assert.equal(isAttachOnly(input), expected));
  }
  test('a throwing getter is not attach-only and does not throw', () => {
    assert.equal(isAttachOnly(throwingGetter('x')), false);
  });
});

describe('parseInterfaceAlias', () => {
  const cases: Array<[string, ReturnType<typeof parseInterfaceAlias>]> = [
    ['wl0', { kind: 'wifi', index: 0 }],
    ['wl12', { kind: 'wifi', index: 12 }],
    ['cell0', { kind: 'cell', index: 0 }],
    ['eth1', { kind: 'ethernet', index: 1 }],
    ['wlan0', undefined],
    ['eth01', undefined],
    ['enp3s0', undefined],
    ['cell', undefined],
  ];
  for (const [name, expected] of cases) {
    test(`${name} -> ${inspect(expected)}`, () => assert.deepStrictEqual(parseInterfaceAlias(name), expected));
  }
});

// --------------------------------------------------------------------------------------
// property-based

/** A stable serialization with sorted keys and blobs as hex: an oracle independent of nicEquals. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return { blob: Buffer.from(v).toString('hex') };
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    if (typeof v === 'bigint') return `${v}n`;
    return v;
  });
}

/** A deep copy with every table's keys in reverse order; blobs copied. */
function reorder(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(reorder);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reorder(v)]));
  }
  return value;
}

// The generators and the parseNic/redaction checks are test/arbitraries/nic.ts, shared
// with the long fuzzer (faults/fuzz/nic.ts).
describe('parseNic: properties', () => {
  test('any value: a Nic or a NicError, nothing else', () => {
    fc.assert(fc.property(anythingArb, (input) => void parseOrNicError(input)), { numRuns: FUZZ_RUNS });
  });

  test('tables of arbitrary values under each table\'s own keys: a Nic or a NicError', () => {
    fc.assert(fc.property(nicTablesArb, (input) => void parseOrNicError(input)), { numRuns: FUZZ_RUNS });
  });

  test('valid NICs parse, are idempotent, ignore key order, and redact every secret', () => {
    fc.assert(
      fc.property(validNicArb, (input) => {
        const before = canonical(input);
        const nic = parseNic(input);
        assert.equal(canonical(input), before, 'input must not change');
        const again = parseNic(nic);
        assert.deepStrictEqual(again, nic);
        assert.ok(nicEquals(again, nic));
        const shuffled = parseNic(reorder(input));
        assert.ok(nicEquals(nic, shuffled) && nicEquals(shuffled, nic));
        assert.ok(nicEquals(nic, reorder(nic) as Nic));
        const redacted = JSON.stringify(redactNic(nic));
        for (const s of markedStrings(input)) assert.ok(!redacted.includes(JSON.stringify(s).slice(1, -1)), 'secret in redacted NIC');
        const key = nic.wificonfig?.key;
        if (key?.kind === 'psk') assert.ok(!redacted.includes(key.psk));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  test('mutated valid NICs: a Nic or a NicError that names a field and echoes no value', () => {
    fc.assert(fc.property(mutatedNicArb, checkMutated), { numRuns: FUZZ_RUNS });
  });

  test('nicEquals is reflexive, symmetric, and agrees with a canonical serialization', () => {
    const nicArb = validNicArb.map((x) => parseNic(x));
    const pair = fc.oneof(fc.tuple(nicArb, nicArb), nicArb.map((n) => [n, parseNic(reorder(n))] as const));
    fc.assert(
      fc.property(pair, ([a, b]) => {
        assert.ok(nicEquals(a, a));
        assert.equal(nicEquals(a, b), nicEquals(b, a));
        assert.equal(nicEquals(a, b), canonical(a) === canonical(b));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
