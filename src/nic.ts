/**
 * NIC (Network Interface Configuration): parse, validate, normalize, compare.
 *
 * Validation is hand-written, not zod: the rules are mostly cross-field (gateway inside the
 * subnet, password only with a username, wps without a key), the output is a normalized
 * shape rather than the input (tagged WiFi keys, prefix length, copied blobs), messages must
 * never carry a value, and input is read once through a guard so that a throwing getter or
 * Proxy becomes a NicError. Mapping zod issues back to our per-field messages would be as
 * much code as the checks themselves.
 *
 * Input rules beyond the impOS table (see docs):
 * - `undefined` and `null` for an optional key mean "absent"; unknown keys are always errors.
 * - parseNic also accepts its own output (tagged WiFi key, `{ sealed }` secrets,
 *   `staticconfig.prefixLength`), so parseNic(parseNic(x)) deep-equals parseNic(x).
 * - `staticconfig` takes `netmask`, `prefixLength`, or both when they agree.
 * - `wificonfig.wps: true` needs an open key (null, "" or absent): WPS push-button obtains
 *   the key from the access point, so a key beside it would be ambiguous.
 * - As in impOS, `staticconfig.dns` (one or two) and `proxyconfig.type` are required.
 * - An empty username or password means none. Proxy hostnames are lowercased.
 * - Dotted quads are strict: no leading zeros, which inet_aton() would read as octal.
 */
import { Buffer } from 'node:buffer';
import { ArgumentError, NicError } from './errors.js';

/** The kind of an interface as the kernel (or the simulator) reports it. */
export type InterfaceKind = 'ethernet' | 'wifi' | 'cell';

/** A WiFi key after validation. Secrets live only in `passphrase`, `psk` and `blob`. */
export type WifiKey =
  | { kind: 'open' }
  /** 8–63 printable ASCII characters (IEEE 802.11i passphrase). */
  | { kind: 'passphrase'; passphrase: string }
  /** A raw 256-bit PSK as 64 lowercase hex digits. */
  | { kind: 'psk'; psk: string }
  /** A key sealed with the per-device key (opened by the sealing module). */
  | { kind: 'sealed'; blob: Uint8Array };

export interface WifiConfig {
  /** 1–32 bytes once UTF-8 encoded. */
  ssid: string;
  key: WifiKey;
  /** Scan for the SSID by name (hidden networks). Default false. nicup extension. */
  hidden: boolean;
  /** Use WPS push-button instead of a key (state WIFI_WPSING). nicup extension. */
  wps: boolean;
}

export interface StaticConfig {
  ip: string;
  netmask: string;
  /** Prefix length derived from netmask. */
  prefixLength: number;
  gateway?: string;
  /** One or two dotted quads. */
  dns: string[];
}

export interface ProxyConfig {
  type: 'http';
  address: string;
  port: number;
  username?: string;
  /** Plain, or sealed with the per-device key. */
  password?: string | { sealed: Uint8Array };
}

export interface CellConfig {
  apn: string;
  /** 4–8 digits, or sealed. */
  pin?: string | { sealed: Uint8Array };
  username?: string;
  password?: string | { sealed: Uint8Array };
  /** The modem's AT port, e.g. /dev/ttyUSB2. */
  device?: string;
}

/** A NIC after parseNic: every field validated and normalized. */
export interface Nic {
  interface: string;
  wificonfig?: WifiConfig;
  staticconfig?: StaticConfig;
  proxyconfig?: ProxyConfig;
  cellconfig?: CellConfig;
}

/** What redactNic puts where a plain secret was. */
export const REDACTED = '<redacted>';
/** What redactNic puts where a sealed blob was. */
export const SEALED = '<sealed>';

export type RedactedSecret = typeof REDACTED | typeof SEALED;

export type RedactedWifiKey =
  | { kind: 'open' }
  | { kind: 'passphrase'; passphrase: typeof REDACTED }
  | { kind: 'psk'; psk: typeof REDACTED }
  | { kind: 'sealed'; blob: typeof SEALED };

/** A NIC with every secret replaced: JSON-safe, for logs, events and the CLI. */
export interface RedactedNic {
  interface: string;
  wificonfig?: Omit<WifiConfig, 'key'> & { key: RedactedWifiKey };
  staticconfig?: StaticConfig;
  proxyconfig?: Omit<ProxyConfig, 'password'> & { password?: RedactedSecret };
  cellconfig?: Omit<CellConfig, 'pin' | 'password'> & { pin?: RedactedSecret; password?: RedactedSecret };
}

const NIC_KEYS = ['interface', 'wificonfig', 'staticconfig', 'proxyconfig', 'cellconfig'] as const;
const WIFI_KEYS = ['ssid', 'key', 'hidden', 'wps'] as const;
const STATIC_KEYS = ['ip', 'netmask', 'prefixLength', 'gateway', 'dns'] as const;
const PROXY_KEYS = ['type', 'address', 'port', 'username', 'password'] as const;
const CELL_KEYS = ['apn', 'pin', 'username', 'password', 'device'] as const;

/**
 * Validates and normalizes a NIC. Throws NicError (field = dotted path, message = rule;
 * never the value). The input is read once and never mutated; blobs are copied.
 */
export function parseNic(input: unknown): Nic {
  const table = readTable(input, 'nic', 'such as { interface: "eth0" }');
  rejectUnknownKeys(table, NIC_KEYS, '', 'NIC');
  const nic: Nic = { interface: parseInterfaceName(table.get('interface')) };
  const wifi = present(table, 'wificonfig');
  if (wifi !== undefined) nic.wificonfig = parseWifiConfig(wifi);
  const fixed = present(table, 'staticconfig');
  if (fixed !== undefined) nic.staticconfig = parseStaticConfig(fixed);
  const proxy = present(table, 'proxyconfig');
  if (proxy !== undefined) nic.proxyconfig = parseProxyConfig(proxy);
  const cell = present(table, 'cellconfig');
  if (cell !== undefined) nic.cellconfig = parseCellConfig(cell);
  return nic;
}

/**
 * Throws NicError when a table does not apply to the interface's kind (impOS: proxyconfig
 * and staticconfig not on cellular; wificonfig WiFi only). cellconfig is nicup's, cellular only.
 */
export function checkApplicable(nic: Nic, kind: InterfaceKind): void {
  if (kind !== 'ethernet' && kind !== 'wifi' && kind !== 'cell') {
    throw new ArgumentError('kind: must be "ethernet", "wifi" or "cell"', { field: 'kind' });
  }
  if (nic.wificonfig !== undefined && kind !== 'wifi') {
    throw new NicError('wificonfig', `applies to WiFi interfaces only (this one is ${kindName[kind]})`);
  }
  if (nic.staticconfig !== undefined && kind === 'cell') {
    throw new NicError('staticconfig', 'does not apply to cellular interfaces (PPP assigns the address)');
  }
  if (nic.proxyconfig !== undefined && kind === 'cell') {
    throw new NicError('proxyconfig', 'does not apply to cellular interfaces');
  }
  if (nic.cellconfig !== undefined && kind !== 'cell') {
    throw new NicError('cellconfig', `applies to cellular interfaces only (this one is ${kindName[kind]})`);
  }
}

const kindName: Record<InterfaceKind, string> = { ethernet: 'Ethernet', wifi: 'WiFi', cell: 'cellular' };

/**
 * Deep equality of normalized NICs: key order ignored, blobs compared by content, a key
 * whose value is undefined counts as absent. A sealed secret never equals a plain one
 * (and two seals of one secret may differ): unseal before comparing if that matters.
 */
export function nicEquals(a: Nic, b: Nic): boolean {
  return deepEqual(a, b);
}

/** A copy of a NIC that is safe for logs, events and the CLI: secrets become "<redacted>" / "<sealed>". */
export function redactNic(nic: Nic): RedactedNic {
  // Built from known fields only, so a stray extra field cannot carry a secret through.
  const out: RedactedNic = { interface: nic.interface };
  const w = nic.wificonfig;
  if (w !== undefined) out.wificonfig = { ssid: w.ssid, key: redactWifiKey(w.key), hidden: w.hidden, wps: w.wps };
  const s = nic.staticconfig;
  if (s !== undefined) {
    out.staticconfig = { ip: s.ip, netmask: s.netmask, prefixLength: s.prefixLength, dns: [...s.dns] };
    if (s.gateway !== undefined) out.staticconfig.gateway = s.gateway;
  }
  const p = nic.proxyconfig;
  if (p !== undefined) {
    out.proxyconfig = { type: p.type, address: p.address, port: p.port };
    if (p.username !== undefined) out.proxyconfig.username = p.username;
    if (p.password !== undefined) out.proxyconfig.password = redactSecret(p.password);
  }
  const c = nic.cellconfig;
  if (c !== undefined) {
    out.cellconfig = { apn: c.apn };
    if (c.pin !== undefined) out.cellconfig.pin = redactSecret(c.pin);
    if (c.username !== undefined) out.cellconfig.username = c.username;
    if (c.password !== undefined) out.cellconfig.password = redactSecret(c.password);
    if (c.device !== undefined) out.cellconfig.device = c.device;
  }
  return out;
}

function redactWifiKey(key: WifiKey): RedactedWifiKey {
  switch (key.kind) {
    case 'open':
      return { kind: 'open' };
    case 'psk':
      return { kind: 'psk', psk: REDACTED };
    case 'sealed':
      return { kind: 'sealed', blob: SEALED };
    default:
      return { kind: 'passphrase', passphrase: REDACTED };
  }
}

function redactSecret(secret: string | { sealed: Uint8Array }): RedactedSecret {
  return typeof secret === 'string' ? REDACTED : SEALED;
}

/**
 * True when a raw NIC names an interface and nothing else: the impOS form for attaching to
 * an interface that is already open. Known keys whose value is undefined or null count as
 * absent; an unknown key makes it false. Does not validate the interface name (parseNic does).
 */
export function isAttachOnly(input: unknown): boolean {
  let table: Map<string, unknown>;
  try {
    table = readTable(input, 'nic', '');
  } catch {
    return false;
  }
  if (present(table, 'interface') === undefined) return false;
  for (const [key, value] of table) {
    if (!(NIC_KEYS as readonly string[]).includes(key)) return false;
    if (key !== 'interface' && value !== undefined && value !== null) return false;
  }
  return true;
}

/**
 * impOS interface aliases: "wlN" = the N-th wireless interface, "cellN" = the N-th modem,
 * "ethN" = that name if it exists, else the N-th wired one. Undefined for other names.
 */
export function parseInterfaceAlias(name: string): { kind: InterfaceKind; index: number } | undefined {
  const m = /^(wl|cell|eth)(0|[1-9][0-9]{0,3})$/.exec(name);
  if (m === null) return undefined;
  const kind: InterfaceKind = m[1] === 'wl' ? 'wifi' : m[1] === 'cell' ? 'cell' : 'ethernet';
  return { kind, index: Number(m[2]) };
}

// ---------------------------------------------------------------------------------------
// interface

/** Linux dev_valid_name(): 1–15 bytes (IFNAMSIZ 16 with NUL), not "." or "..", no '/', ':' or isspace(). */
function parseInterfaceName(value: unknown): string {
  const field = 'interface';
  const rule = 'must be a Linux interface name (1–15 bytes; no "/", ":", spaces or control characters; not "." or "..") or an impOS alias such as "wl0", "eth0", "cell0"';
  if (value === undefined || value === null) throw new NicError(field, 'is required (e.g. "eth0", "wl0", "cell0")');
  const name = expectString(value, field);
  if (name === '' || name === '.' || name === '..' || hasControl(name) || hasLoneSurrogate(name)) throw new NicError(field, rule);
  const bytes = Buffer.from(name, 'utf8');
  // Kernel isspace() also matches 0xA0 (Latin-1 NBSP), which occurs inside UTF-8 sequences ("à" is C3 A0).
  const refused = (b: number) => b === 0x20 || b === 0xa0 || b === 0x2f || b === 0x3a;
  if (bytes.length > 15 || bytes.some(refused)) throw new NicError(field, rule);
  return name;
}

// ---------------------------------------------------------------------------------------
// wificonfig

const KEY_RULE = 'must be 8–63 printable ASCII characters or 64 hex digits (a blob for a sealed key; null or "" for an open network)';

function parseWifiConfig(value: unknown): WifiConfig {
  const t = readTable(value, 'wificonfig', 'with an ssid');
  rejectUnknownKeys(t, WIFI_KEYS, 'wificonfig', 'wificonfig');
  const ssidValue = present(t, 'ssid');
  if (ssidValue === undefined) throw new NicError('wificonfig.ssid', 'is required (the network name, 1–32 bytes)');
  const ssid = expectString(ssidValue, 'wificonfig.ssid');
  const ssidBytes = Buffer.byteLength(ssid, 'utf8');
  if (hasLoneSurrogate(ssid) || ssidBytes < 1 || ssidBytes > 32) {
    throw new NicError('wificonfig.ssid', 'must be 1–32 bytes once UTF-8 encoded (IEEE 802.11 SSID)');
  }
  const key = parseWifiKey(present(t, 'key'));
  const hidden = optionalBoolean(present(t, 'hidden'), 'wificonfig.hidden');
  const wps = optionalBoolean(present(t, 'wps'), 'wificonfig.wps');
  if (wps && key.kind !== 'open') {
    throw new NicError('wificonfig.wps', 'cannot be combined with a key: WPS push-button obtains the key from the access point (pass key null, "" or leave it out)');
  }
  return { ssid, key, hidden, wps };
}

function parseWifiKey(value: unknown): WifiKey {
  const field = 'wificonfig.key';
  if (value === undefined || value === '') return { kind: 'open' };
  if (typeof value === 'string') return parsePlainWifiKey(value, field);
  const blob = readBlob(value, field);
  if (blob !== undefined) return { kind: 'sealed', blob };
  if (classify(value) !== 'table') {
    throw new NicError(field, `must be a string, a blob (sealed key) or null; got ${describe(value)}`);
  }
  // parseNic's own output: { kind, ... }.
  const t = readTable(value, field, '');
  const kind = present(t, 'kind');
  switch (kind) {
    case 'open':
      rejectUnknownKeys(t, ['kind'], field, 'open key');
      return { kind: 'open' };
    case 'passphrase': {
      rejectUnknownKeys(t, ['kind', 'passphrase'], field, 'passphrase key');
      const passphrase = expectString(present(t, 'passphrase'), `${field}.passphrase`);
      if (!isPassphrase(passphrase)) throw new NicError(`${field}.passphrase`, 'must be 8–63 printable ASCII characters');
      return { kind: 'passphrase', passphrase };
    }
    case 'psk': {
      rejectUnknownKeys(t, ['kind', 'psk'], field, 'psk key');
      const psk = expectString(present(t, 'psk'), `${field}.psk`);
      if (!isHexPsk(psk)) throw new NicError(`${field}.psk`, 'must be 64 hex digits');
      return { kind: 'psk', psk: psk.toLowerCase() };
    }
    case 'sealed': {
      rejectUnknownKeys(t, ['kind', 'blob'], field, 'sealed key');
      const sealed = readBlob(present(t, 'blob'), `${field}.blob`);
      if (sealed === undefined) throw new NicError(`${field}.blob`, 'must be a blob (Uint8Array)');
      return { kind: 'sealed', blob: sealed };
    }
    default:
      throw new NicError(`${field}.kind`, 'must be "open", "passphrase", "psk" or "sealed"');
  }
}

function parsePlainWifiKey(key: string, field: string): WifiKey {
  if (isHexPsk(key)) return { kind: 'psk', psk: key.toLowerCase() };
  if (isPassphrase(key)) return { kind: 'passphrase', passphrase: key };
  throw new NicError(field, KEY_RULE);
}

/** IEEE 802.11i Annex M.4: a passphrase is 8–63 characters in ASCII 32–126. */
function isPassphrase(s: string): boolean {
  return /^[\x20-\x7e]{8,63}$/.test(s);
}

function isHexPsk(s: string): boolean {
  return /^[0-9a-fA-F]{64}$/.test(s);
}

// ---------------------------------------------------------------------------------------
// staticconfig

const QUAD_RULE = 'must be a dotted quad (four decimal numbers 0–255, no leading zeros)';

function parseStaticConfig(value: unknown): StaticConfig {
  const t = readTable(value, 'staticconfig', 'with ip, netmask, gateway and dns');
  rejectUnknownKeys(t, STATIC_KEYS, 'staticconfig', 'staticconfig');

  const ipValue = present(t, 'ip');
  if (ipValue === undefined) throw new NicError('staticconfig.ip', 'is required (a dotted quad)');
  const ip = parseQuad(ipValue, 'staticconfig.ip');

  const { mask, prefixLength } = parseMask(present(t, 'netmask'), present(t, 'prefixLength'));
  const network = (ip & mask) >>> 0;
  const broadcast = (network | ~mask) >>> 0;
  checkHostAddress(ip, 'staticconfig.ip');
  // RFC 3021: /31 has no network or broadcast address; /32 is a single host.
  if (prefixLength <= 30 && (ip === network || ip === broadcast)) {
    throw new NicError('staticconfig.ip', 'must not be the network or broadcast address of its subnet');
  }

  let gateway: string | undefined;
  const gwValue = present(t, 'gateway');
  if (gwValue !== undefined) {
    const gw = parseQuad(gwValue, 'staticconfig.gateway');
    checkHostAddress(gw, 'staticconfig.gateway');
    if (((gw & mask) >>> 0) !== network) {
      throw new NicError('staticconfig.gateway', 'must be inside the subnet given by staticconfig.ip and staticconfig.netmask');
    }
    if (prefixLength <= 30 && (gw === network || gw === broadcast)) {
      throw new NicError('staticconfig.gateway', 'must not be the network or broadcast address of the subnet');
    }
    if (gw === ip) throw new NicError('staticconfig.gateway', 'must differ from staticconfig.ip');
    gateway = formatQuad(gw);
  }

  const dnsValue = present(t, 'dns');
  const dnsRule = 'must be an array of one or two dotted quads';
  if (dnsValue === undefined) throw new NicError('staticconfig.dns', `is required: ${dnsRule}`);
  if (classify(dnsValue) !== 'array') throw new NicError('staticconfig.dns', `${dnsRule}; got ${describe(dnsValue)}`);
  const servers = readArray(dnsValue, 'staticconfig.dns', 2);
  if (servers === undefined || servers.length < 1) throw new NicError('staticconfig.dns', dnsRule);
  const dns = servers.map((server, i) => {
    const field = `staticconfig.dns[${i}]`;
    const addr = parseQuad(server, field);
    const first = addr >>> 24;
    if (addr === 0 || first >= 224) {
      throw new NicError(field, 'must be a unicast address (not 0.0.0.0, multicast, reserved or broadcast)');
    }
    return formatQuad(addr);
  });
  const ipText = formatQuad(ip);
  const netmask = formatQuad(mask);
  return gateway === undefined ? { ip: ipText, netmask, prefixLength, dns } : { ip: ipText, netmask, prefixLength, gateway, dns };
}

function parseMask(netmaskValue: unknown, prefixValue: unknown): { mask: number; prefixLength: number } {
  let fromNetmask: number | undefined;
  if (netmaskValue !== undefined) {
    const mask = parseQuad(netmaskValue, 'staticconfig.netmask');
    const prefix = Math.clz32(~mask);
    if (prefix < 1 || maskOf(prefix) !== mask) {
      throw new NicError('staticconfig.netmask', 'must be a contiguous netmask from 128.0.0.0 (/1) to 255.255.255.255 (/32)');
    }
    fromNetmask = prefix;
  }
  if (prefixValue !== undefined) {
    if (typeof prefixValue !== 'number' || !Number.isInteger(prefixValue) || prefixValue < 1 || prefixValue > 32) {
      throw new NicError('staticconfig.prefixLength', `must be an integer 1–32${typeof prefixValue === 'number' ? '' : `; got ${describe(prefixValue)}`}`);
    }
    if (fromNetmask !== undefined && fromNetmask !== prefixValue) {
      throw new NicError('staticconfig.prefixLength', 'must agree with staticconfig.netmask');
    }
    return { mask: maskOf(prefixValue), prefixLength: prefixValue };
  }
  if (fromNetmask === undefined) throw new NicError('staticconfig.netmask', 'is required (a dotted quad such as 255.255.255.0)');
  return { mask: maskOf(fromNetmask), prefixLength: fromNetmask };
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** An address a host may hold: RFC 1122 §3.2.1.3 rules out 0/8 and 127/8; 224/4 is multicast, 240/4 reserved. */
function checkHostAddress(addr: number, field: string): void {
  const first = addr >>> 24;
  if (first === 0 || first === 127 || first >= 224) {
    throw new NicError(field, 'must be a unicast host address (not 0.0.0.0/8, loopback 127/8, multicast 224/4 or reserved 240/4)');
  }
}

function parseQuad(value: unknown, field: string): number {
  const s = expectString(value, field);
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) throw new NicError(field, QUAD_RULE);
  let addr = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] ?? '';
    // Leading zeros read as octal to inet_aton(): refuse rather than guess.
    if (part.length > 1 && part.startsWith('0')) throw new NicError(field, QUAD_RULE);
    const n = Number(part);
    if (n > 255) throw new NicError(field, QUAD_RULE);
    addr = addr * 256 + n;
  }
  return addr;
}

function formatQuad(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255].join('.');
}

// ---------------------------------------------------------------------------------------
// proxyconfig (imp.setproxy)

function parseProxyConfig(value: unknown): ProxyConfig {
  const t = readTable(value, 'proxyconfig', 'with type, address and port');
  rejectUnknownKeys(t, PROXY_KEYS, 'proxyconfig', 'proxyconfig');

  const typeValue = present(t, 'type');
  if (typeValue === undefined) throw new NicError('proxyconfig.type', 'is required ("HTTP")');
  if (expectString(typeValue, 'proxyconfig.type').toLowerCase() !== 'http') {
    throw new NicError('proxyconfig.type', 'must be "HTTP" (the only proxy type impOS supports)');
  }

  const addressValue = present(t, 'address');
  if (addressValue === undefined) throw new NicError('proxyconfig.address', 'is required (a hostname or dotted quad)');
  const address = parseProxyAddress(expectString(addressValue, 'proxyconfig.address'));

  const portValue = present(t, 'port');
  if (portValue === undefined) throw new NicError('proxyconfig.port', 'is required (an integer 0–65535)');
  if (typeof portValue !== 'number') throw new NicError('proxyconfig.port', `must be an integer 0–65535; got ${describe(portValue)}`);
  if (!Number.isInteger(portValue) || portValue < 0 || portValue > 65535) {
    throw new NicError('proxyconfig.port', 'must be an integer 0–65535');
  }
  const out: ProxyConfig = { type: 'http', address, port: portValue === 0 ? 0 : portValue };

  const usernameValue = present(t, 'username');
  if (usernameValue !== undefined) {
    const username = expectString(usernameValue, 'proxyconfig.username');
    // RFC 7617 §2: the user-id of Basic auth cannot contain a colon.
    if (codePoints(username) > 32 || hasControl(username) || hasLoneSurrogate(username) || username.includes(':')) {
      throw new NicError('proxyconfig.username', 'must be at most 32 characters, without ":" or control characters');
    }
    if (username !== '') out.username = username;
  }
  const password = parseSecret(present(t, 'password'), 'proxyconfig.password', 32, 'at most 32 characters without control characters');
  if (password !== undefined && password !== '') {
    if (out.username === undefined) throw new NicError('proxyconfig.password', 'is only allowed with proxyconfig.username');
    out.password = password;
  }
  return out;
}

function parseProxyAddress(s: string): string {
  const field = 'proxyconfig.address';
  const rule = 'must be a hostname (letters, digits, hyphens and dots) or a dotted quad, at most 64 characters';
  if (s.length < 1 || s.length > 64) throw new NicError(field, rule);
  // RFC 1123 §2.1: a name that looks like a dotted quad must be one.
  if (/^[0-9.]+$/.test(s)) return formatQuad(parseQuad(s, field));
  const name = s.toLowerCase();
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  for (const label of labels) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) throw new NicError(field, rule);
  }
  return name;
}

// ---------------------------------------------------------------------------------------
// cellconfig (nicup: what impOS kept inside the device)

function parseCellConfig(value: unknown): CellConfig {
  const t = readTable(value, 'cellconfig', 'with an apn');
  rejectUnknownKeys(t, CELL_KEYS, 'cellconfig', 'cellconfig');

  const apnValue = present(t, 'apn');
  if (apnValue === undefined) throw new NicError('cellconfig.apn', 'is required (the access point name, e.g. "internet")');
  const apn = expectString(apnValue, 'cellconfig.apn');
  // 3GPP TS 23.003 §9.1: labels of A–Z, a–z, 0–9 and "-", separated by dots, at most 100 octets.
  if (apn.length > 100 || !/^[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*$/.test(apn)) {
    throw new NicError('cellconfig.apn', 'must be an APN (TS 23.003): labels of letters, digits and hyphens separated by dots, 1–100 characters');
  }
  const out: CellConfig = { apn };

  const pinValue = present(t, 'pin');
  if (pinValue !== undefined) {
    if (typeof pinValue === 'string') {
      if (!/^[0-9]{4,8}$/.test(pinValue)) throw new NicError('cellconfig.pin', 'must be 4–8 digits');
      out.pin = pinValue;
    } else {
      const sealed = readSealed(pinValue, 'cellconfig.pin');
      if (sealed === undefined) {
        const hint = typeof pinValue === 'number' ? ' (a number would lose leading zeros)' : '';
        throw new NicError('cellconfig.pin', `must be a string of 4–8 digits or a blob (sealed)${hint}; got ${describe(pinValue)}`);
      }
      out.pin = sealed;
    }
  }

  const usernameValue = present(t, 'username');
  if (usernameValue !== undefined) {
    const username = expectString(usernameValue, 'cellconfig.username');
    if (codePoints(username) > 64 || hasControl(username) || hasLoneSurrogate(username)) {
      throw new NicError('cellconfig.username', 'must be at most 64 characters without control characters');
    }
    if (username !== '') out.username = username;
  }
  const password = parseSecret(present(t, 'password'), 'cellconfig.password', 64, 'at most 64 characters without control characters');
  if (password !== undefined && password !== '') out.password = password;

  const deviceValue = present(t, 'device');
  if (deviceValue !== undefined) {
    const device = expectString(deviceValue, 'cellconfig.device');
    const rest = device.startsWith('/dev/') ? device.slice(5).split('/') : [];
    const ok =
      rest.length > 0 &&
      rest.every((seg) => seg !== '' && seg !== '.' && seg !== '..') &&
      !hasControl(device) &&
      !hasLoneSurrogate(device) &&
      Buffer.byteLength(device, 'utf8') < 4096;
    if (!ok) throw new NicError('cellconfig.device', 'must be an absolute path under /dev/ (e.g. /dev/ttyUSB2), without "." or ".." segments');
    out.device = device;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// shared readers

/** A plain password (length limit, no control characters) or a sealed blob. Never echoes the value. */
function parseSecret(value: unknown, field: string, maxChars: number, rule: string): string | { sealed: Uint8Array } | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    if (codePoints(value) > maxChars || hasControl(value) || hasLoneSurrogate(value)) {
      throw new NicError(field, `must be ${rule}, or a blob (sealed)`);
    }
    return value;
  }
  const sealed = readSealed(value, field);
  if (sealed === undefined) throw new NicError(field, `must be a string or a blob (sealed); got ${describe(value)}`);
  return sealed;
}

/** A raw blob, or parseNic's own `{ sealed: blob }`. Undefined when the value is neither. */
function readSealed(value: unknown, field: string): { sealed: Uint8Array } | undefined {
  const blob = readBlob(value, field);
  if (blob !== undefined) return { sealed: blob };
  if (classify(value) !== 'table') return undefined;
  const t = readTable(value, field, '');
  rejectUnknownKeys(t, ['sealed'], field, 'sealed secret');
  const inner = readBlob(present(t, 'sealed'), `${field}.sealed`);
  if (inner === undefined) throw new NicError(`${field}.sealed`, 'must be a blob (Uint8Array)');
  return { sealed: inner };
}

const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)?.get;

/** A Uint8Array (Buffer included) by its internal slot, not its prototype; copied. */
function readBlob(value: unknown, field: string): Uint8Array | undefined {
  if (typeof value !== 'object' || value === null || !ArrayBuffer.isView(value)) return undefined;
  if (typedArrayTag?.call(value) !== 'Uint8Array') return undefined;
  let copy: Uint8Array;
  try {
    copy = new Uint8Array(value as Uint8Array);
  } catch {
    throw new NicError(field, 'could not be read (detached buffer)');
  }
  if (copy.length === 0) throw new NicError(field, 'must not be an empty blob');
  return copy;
}

type Shape = 'undefined' | 'null' | 'string' | 'number' | 'boolean' | 'bigint' | 'symbol' | 'function' | 'blob' | 'array' | 'table' | 'object';

/** What a value is, without letting a Proxy or odd prototype throw. */
function classify(value: unknown): Shape {
  if (value === null) return 'null';
  const t = typeof value;
  if (t !== 'object') return t as Shape;
  if (ArrayBuffer.isView(value) && typedArrayTag?.call(value) === 'Uint8Array') return 'blob';
  try {
    if (Array.isArray(value)) return 'array';
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null ? 'table' : 'object';
  } catch {
    return 'object';
  }
}

const shapeWords: Record<Shape, string> = {
  undefined: 'undefined',
  null: 'null',
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  bigint: 'a bigint',
  symbol: 'a symbol',
  function: 'a function',
  blob: 'a blob',
  array: 'an array',
  table: 'a table',
  object: 'an object that is not a plain table',
};

function describe(value: unknown): string {
  return shapeWords[classify(value)];
}

/** Own enumerable string keys and their values, each read once; a throwing getter or Proxy becomes a NicError. */
function readTable(value: unknown, field: string, example: string): Map<string, unknown> {
  if (classify(value) !== 'table') {
    throw new NicError(field, `must be a table (a plain object)${example ? ` ${example}` : ''}; got ${describe(value)}`);
  }
  try {
    const out = new Map<string, unknown>();
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) out.set(key, obj[key]);
    return out;
  } catch {
    throw new NicError(field, 'could not be read (a property getter or Proxy threw)');
  }
}

/** The elements of an array, read once; undefined when it has more than `max` (checked before copying). */
function readArray(value: unknown, field: string, max: number): unknown[] | undefined {
  try {
    const array = value as unknown[];
    if (array.length > max) return undefined;
    return Array.from(array);
  } catch {
    throw new NicError(field, 'could not be read (a property getter or Proxy threw)');
  }
}

/** The value of a key, with undefined and null meaning absent. */
function present(table: Map<string, unknown>, key: string): unknown {
  const v = table.get(key);
  return v === null ? undefined : v;
}

function rejectUnknownKeys(table: Map<string, unknown>, known: readonly string[], path: string, what: string): void {
  for (const key of table.keys()) {
    if (known.includes(key)) continue;
    const suggestion = suggest(key, known);
    const hint = suggestion === undefined ? `known keys: ${known.join(', ')}` : `did you mean ${suggestion}?`;
    throw new NicError(joinPath(path, key), `is not a ${what} key (${hint})`);
  }
}

function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$]{0,63}$/.test(key)) return path === '' ? key : `${path}.${key}`;
  const shown = JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
  return `${path}[${shown}]`;
}

/** The known keys a typo most likely meant: same letters in another case, or the nearest within two edits. */
function suggest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string[] = [];
  let bestDistance = 3;
  for (const k of known) {
    const d = k.toLowerCase() === lower ? 0 : editDistance(lower, k.toLowerCase(), bestDistance + 1);
    if (d < bestDistance) {
      best = [k];
      bestDistance = d;
    } else if (d === bestDistance && best.length > 0) {
      best.push(k);
    }
  }
  return best.length === 0 ? undefined : best.join(' or ');
}

/** Levenshtein distance, capped at `limit` (cheap for long garbage keys). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? limit) + 1, (cur[j - 1] ?? limit) + 1, (prev[j - 1] ?? limit) + cost));
    }
    prev = cur;
  }
  return Math.min(prev[b.length] ?? limit, limit);
}

function expectString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new NicError(field, `must be a string; got ${describe(value)}`);
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new NicError(field, `must be a boolean; got ${describe(value)}`);
  return value;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** C0, DEL and C1 control characters. */
function hasControl(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/.test(s);
}

function hasLoneSurrogate(s: string): boolean {
  return /\p{Cs}/u.test(s);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const sa = classify(a);
  const sb = classify(b);
  if (sa !== sb) return false;
  if (sa === 'blob') {
    const x = a as Uint8Array;
    const y = b as Uint8Array;
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (sa === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    return x.length === y.length && x.every((v, i) => deepEqual(v, y[i]));
  }
  if (sa === 'table' || sa === 'object') {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const kx = Object.keys(x).filter((k) => x[k] !== undefined);
    const ky = Object.keys(y).filter((k) => y[k] !== undefined);
    return kx.length === ky.length && kx.every((k) => Object.prototype.hasOwnProperty.call(y, k) && deepEqual(x[k], y[k]));
  }
  return false;
}
