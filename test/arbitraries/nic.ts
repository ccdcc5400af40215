/**
 * NIC validator fuzz inputs and the invariants they are checked against, shared by the
 * unit property tests (src/nic.test.ts) and the long fuzzer (faults/fuzz/nic.ts): any
 * JavaScript value, tables of arbitrary values under the right keys, valid NICs and
 * mutated valid NICs. Every generated secret carries SECRET_MARK, so that a check can find
 * it in any output.
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { NicError, isNicupError } from '../../src/errors.js';
import { parseNic, redactNic, type Nic } from '../../src/nic.js';

export const SECRET_MARK = 'Zq7';

const printable = (min: number, max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: max });
const marked = (min: number, max: number) => printable(min, max).map((s) => SECRET_MARK + s);
const hexDigits = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 64, maxLength: 64 });
const blob = fc.uint8Array({ minLength: 1, maxLength: 8 });
const octet = fc.integer({ min: 0, max: 255 });

const knownKeys = ['interface', 'wificonfig', 'staticconfig', 'proxyconfig', 'cellconfig', 'ssid', 'key', 'hidden', 'wps', 'ip', 'netmask', 'prefixLength', 'gateway', 'dns', 'type', 'address', 'port', 'username', 'password', 'apn', 'pin', 'device', 'kind', 'passphrase', 'psk', 'blob', 'sealed', '__proto__', 'constructor', 'toString'];

/** Any JavaScript value (maps, sets, bigints, boxed, null-prototype, sparse), keys often NIC keys. */
export const anythingArb = fc.anything({
  key: fc.oneof(fc.constantFrom(...knownKeys), fc.string({ maxLength: 5 })),
  maxDepth: 4,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withUnicodeString: true,
});

const ifaceArb = fc.oneof(
  fc.constantFrom('eth0', 'wl0', 'cell0', 'wlan0', 'enp3s0', 'br-lan', 'ppp0'),
  fc.string({ unit: fc.constantFrom(...'abcxyz019-_.@'), minLength: 1, maxLength: 15 }).filter((s) => s !== '.' && s !== '..'),
);

const wifiArb = fc.record(
  {
    ssid: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).filter((s) => Buffer.byteLength(s) <= 32),
    key: fc.oneof(marked(5, 60), hexDigits.map((h) => ({ hex: h })), blob, fc.constant(null), fc.constant('')),
    hidden: fc.boolean(),
    wps: fc.constant(false),
  },
  { requiredKeys: ['ssid'] },
).map((w) => {
  // Hex keys are wrapped above only so that they are not mistaken for marked secrets.
  const key = (w as { key?: unknown }).key;
  return key !== null && typeof key === 'object' && 'hex' in key ? { ...w, key: (key as { hex: string }).hex } : w;
});

/** A /8–/30 subnet with a host address, a gateway, and one or two DNS servers. */
const staticArb = fc
  .record({ first: fc.integer({ min: 1, max: 223 }).filter((n) => n !== 127), rest: fc.tuple(octet, octet, octet), prefix: fc.integer({ min: 8, max: 30 }), host: fc.nat(), gw: fc.nat(), dns2: fc.boolean(), withGateway: fc.boolean(), form: fc.constantFrom('netmask', 'prefix', 'both') })
  .map(({ first, rest, prefix, host, gw, dns2, withGateway, form }) => {
    const base = ((first << 24) | (rest[0] << 16) | (rest[1] << 8) | rest[2]) >>> 0;
    const mask = (0xffffffff << (32 - prefix)) >>> 0;
    const network = (base & mask) >>> 0;
    const hosts = 2 ** (32 - prefix) - 2;
    const hostA = network + 1 + (host % hosts);
    let hostB = network + 1 + (gw % hosts);
    if (hostB === hostA) hostB = hostA === network + 1 ? network + 2 : network + 1;
    const quad = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    const out: Record<string, unknown> = { ip: quad(hostA) };
    if (form !== 'prefix') out.netmask = quad(mask);
    if (form !== 'netmask') out.prefixLength = prefix;
    if (withGateway) out.gateway = quad(hostB);
    out.dns = dns2 ? [quad(hostB), '9.9.9.9'] : ['1.1.1.1'];
    return out;
  });

const proxyArb = fc
  .record({
    type: fc.constantFrom('HTTP', 'http', 'Http'),
    address: fc.oneof(fc.constantFrom('proxy', 'Proxy.Example.com', '10.0.0.1', 'a-b.c'), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/)),
    port: fc.integer({ min: 0, max: 65535 }),
    credentials: fc.option(fc.record({ username: fc.stringMatching(/^[a-z]{1,32}$/), password: fc.option(fc.oneof(marked(1, 29), blob), { nil: undefined }) }), { nil: undefined }),
  })
  .map(({ credentials, ...p }) => ({ ...p, ...(credentials ?? {}) }));

const cellArb = fc.record(
  {
    apn: fc.oneof(fc.constantFrom('internet', 'web.vodafone.de', 'internet.t-mobile'), fc.stringMatching(/^[A-Za-z0-9-]{1,20}(\.[A-Za-z0-9-]{1,20}){0,3}$/)),
    pin: fc.oneof(fc.stringMatching(/^[0-9]{4,8}$/), blob),
    username: fc.stringMatching(/^[a-z]{1,20}$/),
    password: fc.oneof(marked(1, 60), blob),
    device: fc.constantFrom('/dev/ttyUSB2', '/dev/ttyACM0', '/dev/serial/by-id/usb-x-if02'),
  },
  { requiredKeys: ['apn'] },
);

/** Raw NICs that parseNic accepts: any mix of the four tables. */
export const validNicArb = fc.record(
  { interface: ifaceArb, wificonfig: wifiArb, staticconfig: staticArb, proxyconfig: proxyArb, cellconfig: cellArb },
  { requiredKeys: ['interface'] },
);

const plausible = fc.constantFrom<unknown>('10.0.0.2', '255.255.255.0', ['10.0.0.1'], 'Zq7-Password', 'internet', 'HTTP', 8080, '1234', true, new Uint8Array([1]), { sealed: new Uint8Array([2]) }, { kind: 'open' });
const tableOf = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), fc.oneof(anythingArb, plausible), { maxKeys: keys.length });

/** Tables of arbitrary and plausible values under each table's own keys. */
export const nicTablesArb = fc.record(
  {
    interface: fc.oneof({ arbitrary: ifaceArb, weight: 4 }, { arbitrary: anythingArb, weight: 1 }),
    wificonfig: tableOf(['ssid', 'key', 'hidden', 'wps']),
    staticconfig: tableOf(['ip', 'netmask', 'prefixLength', 'gateway', 'dns']),
    proxyconfig: tableOf(['type', 'address', 'port', 'username', 'password']),
    cellconfig: tableOf(['apn', 'pin', 'username', 'password', 'device']),
  },
  { requiredKeys: [] },
);

type Mutation = { op: 'delete' } | { op: 'set'; value: unknown } | { op: 'typo'; suffix: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ op: 'delete' }),
  anythingArb.map((value): Mutation => ({ op: 'set', value })),
  marked(0, 70).map((value): Mutation => ({ op: 'set', value })),
  fc.constantFrom(null, '', 0, -1, 1e9, true, [], {}, 'Zq7-1.2.3.4', 'Zq7"; reboot #', '\u0000Zq7').map((value): Mutation => ({ op: 'set', value })),
  fc.constantFrom('s', 'X', '_').map((suffix): Mutation => ({ op: 'typo', suffix })),
);

/** Paths to every table entry and array element of a raw NIC (blobs are leaves). */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return [];
  const out: string[][] = [];
  for (const k of Object.keys(value)) {
    out.push([...prefix, k]);
    out.push(...paths((value as Record<string, unknown>)[k], [...prefix, k]));
  }
  return out;
}

function copy(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(copy);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
  return value;
}

function mutate(input: unknown, path: string[], m: Mutation): unknown {
  const out = copy(input) as Record<string, unknown>;
  let parent: Record<string, unknown> = out;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
  const last = path[path.length - 1] ?? 'interface';
  if (m.op === 'delete') delete parent[last];
  else if (m.op === 'set') parent[last] = m.value;
  else {
    parent[last + m.suffix] = parent[last];
    delete parent[last];
  }
  return out;
}

/** Valid NICs with one field deleted, replaced by anything, or misspelt. */
export const mutatedNicArb = validNicArb.chain((input) => fc.tuple(fc.constant(input), fc.constantFrom(...paths(input)), mutationArb)).map(([input, path, m]) => mutate(input, path, m));

/** Every string value that carries the secret mark (to depth 8: deeper than any generated value). */
export function markedStrings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 8) return out;
  if (typeof value === 'string') {
    if (value.includes(SECRET_MARK)) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) markedStrings(v, out, depth + 1);
  } else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    // Keys are left out: an unknown key's name is echoed on purpose (it names the field).
    for (const v of Object.values(value)) markedStrings(v, out, depth + 1);
  }
  return out;
}

/** The secret values of a parsed NIC that the generators marked (WiFi key, passwords, PIN). */
function secretsOf(nic: Nic): string[] {
  const key = nic.wificonfig?.key;
  const values = [
    key?.kind === 'passphrase' ? key.passphrase : key?.kind === 'psk' ? key.psk : undefined,
    nic.proxyconfig?.password,
    nic.cellconfig?.pin,
    nic.cellconfig?.password,
  ];
  // A non-secret field that holds the same text (an interface named like the password) is
  // no leak: the first long run's one "crash" was exactly that.
  const open = [nic.interface, nic.wificonfig?.ssid, nic.proxyconfig?.address, nic.proxyconfig?.username, nic.cellconfig?.apn, nic.cellconfig?.username, nic.cellconfig?.device].filter((v): v is string => typeof v === 'string');
  return values.filter((v): v is string => typeof v === 'string' && v.includes(SECRET_MARK) && !open.some((o) => o.includes(v)));
}

function stringValues(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringValues(v, out);
  else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) for (const v of Object.values(value)) stringValues(v, out);
  return out;
}

/** Every way an error can end up in a log. */
function renderings(err: NicError): string[] {
  return [err.message, String(err), JSON.stringify(err), err.stack ?? '', inspect(err)];
}

/** parseNic gives a Nic whose redacted form holds none of its secrets, or throws a NicError that names a field and echoes no marked string. */
export function parseOrNicError(input: unknown): Nic | NicError {
  const secrets = markedStrings(input);
  try {
    const nic = parseNic(input);
    // Value by value, not the serialized text: 'Zq7"' is not leaked by an interface named
    // 'Zq7' followed by JSON's closing quote (found so by the fuzzer).
    const shown = stringValues(redactNic(nic));
    for (const s of secretsOf(nic)) assert.ok(!shown.some((v) => v.includes(s)), 'a secret in the redacted NIC');
    return nic;
  } catch (err) {
    if (!isNicupError(err, 'NICUP_INVALID_NIC') || !(err instanceof NicError)) throw err;
    assert.equal(typeof err.field, 'string');
    for (const text of renderings(err)) {
      for (const s of secrets) assert.ok(!text.includes(s), `value echoed in ${JSON.stringify(err.message)}`);
    }
    return err;
  }
}

/** A mutated NIC gives a NicError, or a Nic that is stable under a second parse. */
export function checkMutated(input: unknown): void {
  const result = parseOrNicError(input);
  if (result instanceof NicError) return;
  assert.deepStrictEqual(parseNic(result), result, 'what parses is stable under a second parse');
}
