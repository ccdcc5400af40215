/**
 * BOOTP/DHCPv4 message codec (RFC 951, RFC 2131 §2, RFC 2132 options) and the builders
 * for the messages a client sends (RFC 2131 §4.4.1 table 5, §4.3.2).
 *
 * `decodeMessage` never throws: every byte string yields a message or an error text.
 * `encodeMessage` throws ArgumentError for a message we built wrong (a programming error),
 * never for anything that came off the wire.
 */
import { ArgumentError } from '../../errors.js';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** ARP hardware type for Ethernet (RFC 1700); hlen 6. */
export const HTYPE_ETHERNET = 1;
/** RFC 2131 §2, figure 2: the leftmost bit of `flags`. */
export const BROADCAST_FLAG = 0x8000;
/** RFC 2131 §3: 99.130.83.99 right after the fixed header. */
export const MAGIC_COOKIE = 0x63825363;
/** op..file (RFC 2131 §2, figure 1). */
export const FIXED_HEADER_LENGTH = 236;
/** RFC 1542 §2.1: relays may drop BOOTP messages shorter than 300 bytes, so we pad to it. */
export const MIN_BOOTP_LENGTH = 300;
/** RFC 2131 §3.3: lease time 0xffffffff means "infinity". */
export const INFINITE_LEASE_S = 0xffffffff;

const SNAME_OFFSET = 44;
const SNAME_LENGTH = 64;
const FILE_OFFSET = 108;
const FILE_LENGTH = 128;
const CHADDR_LENGTH = 16;

/** RFC 2132 §9.6 message types, plus RFC 2131 §3.4 INFORM. */
export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageTypeName = keyof typeof MessageType;

export function messageTypeName(type: number | undefined): MessageTypeName | undefined {
  for (const [name, value] of Object.entries(MessageType)) if (value === type) return name as MessageTypeName;
  return undefined;
}

/** The option codes this codec understands (RFC 2132, RFC 4039). Others are kept raw. */
export const OptionCode = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  MTU: 26,
  BROADCAST: 28,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  T1: 58,
  T2: 59,
  CLIENT_ID: 61,
  RAPID_COMMIT: 80,
  END: 255,
} as const;

export interface RawOption {
  code: number;
  data: Uint8Array;
}

/** Decoded options. Addresses are dotted quads; times are seconds. */
export interface DhcpOptions {
  messageType?: number;
  subnetMask?: string;
  routers?: string[];
  dns?: string[];
  hostname?: string;
  domainName?: string;
  mtu?: number;
  broadcast?: string;
  requestedIp?: string;
  leaseTimeS?: number;
  serverId?: string;
  parameterRequestList?: number[];
  /** Option 56: a server's explanation in a NAK, a client's in a DECLINE. */
  message?: string;
  maxMessageSize?: number;
  t1S?: number;
  t2S?: number;
  clientId?: Uint8Array;
  /** Option 80 (RFC 4039), which has no data. */
  rapidCommit?: boolean;
  /** Every other option, in order of first appearance, data as received. */
  unknown: RawOption[];
}

export interface DhcpMessage {
  op: number;
  htype: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The first hlen bytes of chaddr; hlen is its length (at most 16). */
  chaddr: Uint8Array;
  /** Up to the first NUL; empty when the field carried options (option 52). */
  sname: string;
  file: string;
  options: DhcpOptions;
}

export type DecodeResult = { ok: true; message: DhcpMessage } | { ok: false; error: string };

// ---------------------------------------------------------------------------------------
// Addresses

/** "a.b.c.d" → 32-bit unsigned, or undefined when it is not a strict dotted quad. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Prefix length of a contiguous netmask, or undefined for a non-contiguous one. */
export function netmaskToPrefixLength(netmask: string): number | undefined {
  const value = parseIpv4(netmask);
  if (value === undefined) return undefined;
  const inverted = ~value >>> 0;
  // Contiguous iff the host part is 2^k - 1.
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  return 32 - Math.log2(inverted + 1);
}

export function prefixLengthToNetmask(prefixLength: number): string {
  return formatIpv4(prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);
}

function readIpv4(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] ?? 0) << 24) | ((bytes[offset + 1] ?? 0) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0)) >>> 0;
}

function readUint16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

function readCString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return utf8.decode(nul === -1 ? bytes : bytes.subarray(0, nul));
}

// ---------------------------------------------------------------------------------------
// Decoding

interface OptionArea {
  bytes: Uint8Array;
  name: string;
}

/**
 * Splits option areas into code → concatenated data. A code seen twice is concatenated
 * (RFC 3396 §5: long options are split into instances of the same code), including across
 * the options, file and sname areas, in that order (RFC 2131 §4.1).
 */
function collectOptions(areas: OptionArea[], into: Map<number, Uint8Array[]>): string | undefined {
  for (const area of areas) {
    const bytes = area.bytes;
    let i = 0;
    while (i < bytes.length) {
      const code = bytes[i] ?? 0;
      if (code === OptionCode.PAD) {
        i += 1;
        continue;
      }
      if (code === OptionCode.END) break;
      if (i + 1 >= bytes.length) return `${area.name}: option ${code} has no length byte`;
      const length = bytes[i + 1] ?? 0;
      if (i + 2 + length > bytes.length) return `${area.name}: option ${code} length ${length} runs past the end`;
      const parts = into.get(code);
      const data = bytes.subarray(i + 2, i + 2 + length);
      if (parts) parts.push(data);
      else into.set(code, [data]);
      i += 2 + length;
    }
    // RFC 2131 §4.1 wants an END option; missing ones are common enough to tolerate.
  }
  return undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function addressList(data: Uint8Array, code: number, name: string): string[] | string {
  if (data.length === 0 || data.length % 4 !== 0) return `option ${code} (${name}): length ${data.length}, expected a multiple of 4`;
  const list: string[] = [];
  for (let i = 0; i < data.length; i += 4) list.push(readIpv4(data, i));
  return list;
}

/** Fills `options` from code → data; returns an error text for a malformed known option. */
function interpretOptions(collected: Map<number, Uint8Array[]>, options: DhcpOptions): string | undefined {
  for (const [code, parts] of collected) {
    const data = concat(parts);
    const fail = (name: string, expected: string) => `option ${code} (${name}): length ${data.length}, expected ${expected}`;
    switch (code) {
      case OptionCode.MESSAGE_TYPE:
        if (data.length !== 1) return fail('message type', '1');
        options.messageType = data[0];
        break;
      case OptionCode.SUBNET_MASK:
        if (data.length !== 4) return fail('subnet mask', '4');
        options.subnetMask = readIpv4(data, 0);
        break;
      case OptionCode.BROADCAST:
        if (data.length !== 4) return fail('broadcast address', '4');
        options.broadcast = readIpv4(data, 0);
        break;
      case OptionCode.REQUESTED_IP:
        if (data.length !== 4) return fail('requested IP', '4');
        options.requestedIp = readIpv4(data, 0);
        break;
      case OptionCode.SERVER_ID:
        if (data.length !== 4) return fail('server identifier', '4');
        options.serverId = readIpv4(data, 0);
        break;
      case OptionCode.ROUTER:
      case OptionCode.DNS: {
        const list = addressList(data, code, code === OptionCode.ROUTER ? 'router' : 'DNS server');
        if (typeof list === 'string') return list;
        if (code === OptionCode.ROUTER) options.routers = list;
        else options.dns = list;
        break;
      }
      case OptionCode.LEASE_TIME:
      case OptionCode.T1:
      case OptionCode.T2: {
        const name = code === OptionCode.LEASE_TIME ? 'lease time' : code === OptionCode.T1 ? 'T1' : 'T2';
        if (data.length !== 4) return fail(name, '4');
        const value = readUint32(data, 0);
        if (code === OptionCode.LEASE_TIME) options.leaseTimeS = value;
        else if (code === OptionCode.T1) options.t1S = value;
        else options.t2S = value;
        break;
      }
      case OptionCode.MTU:
        if (data.length !== 2) return fail('MTU', '2');
        options.mtu = readUint16(data, 0);
        break;
      case OptionCode.MAX_MESSAGE_SIZE:
        if (data.length !== 2) return fail('maximum message size', '2');
        options.maxMessageSize = readUint16(data, 0);
        break;
      case OptionCode.HOSTNAME:
        options.hostname = trimNul(utf8.decode(data));
        break;
      case OptionCode.DOMAIN_NAME:
        options.domainName = trimNul(utf8.decode(data));
        break;
      case OptionCode.MESSAGE:
        options.message = trimNul(utf8.decode(data));
        break;
      case OptionCode.PARAMETER_REQUEST_LIST:
        options.parameterRequestList = Array.from(data);
        break;
      case OptionCode.CLIENT_ID:
        options.clientId = Uint8Array.from(data);
        break;
      case OptionCode.RAPID_COMMIT:
        if (data.length !== 0) return fail('rapid commit', '0');
        options.rapidCommit = true;
        break;
      case OptionCode.OVERLOAD:
        break; // already acted on by decodeMessage
      default:
        options.unknown.push({ code, data: Uint8Array.from(data) });
    }
  }
  return undefined;
}

/** Some servers NUL-terminate string options although RFC 2132 §2 says not to. */
function trimNul(text: string): string {
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

/** Decodes one BOOTP/DHCP message. Never throws. */
export function decodeMessage(buf: Uint8Array): DecodeResult {
  try {
    return decodeUnchecked(buf);
  } catch (e) {
    // Nothing above is meant to throw; this keeps the promise if something does.
    return { ok: false, error: `decoder failure: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function decodeUnchecked(buf: Uint8Array): DecodeResult {
  if (!(buf instanceof Uint8Array)) return { ok: false, error: 'input is not a byte array' };
  if (buf.length < FIXED_HEADER_LENGTH + 4) return { ok: false, error: `message too short: ${buf.length} bytes, need at least ${FIXED_HEADER_LENGTH + 4}` };
  const op = buf[0] ?? 0;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) return { ok: false, error: `op ${op}: expected 1 (BOOTREQUEST) or 2 (BOOTREPLY)` };
  const htype = buf[1] ?? 0;
  const hlen = buf[2] ?? 0;
  if (hlen > CHADDR_LENGTH) return { ok: false, error: `hlen ${hlen}: more than 16` };
  if (htype === HTYPE_ETHERNET && hlen !== 6) return { ok: false, error: `hlen ${hlen}: Ethernet (htype 1) needs 6` };
  const cookie = readUint32(buf, FIXED_HEADER_LENGTH);
  if (cookie !== MAGIC_COOKIE) return { ok: false, error: `magic cookie 0x${cookie.toString(16)}: expected 0x63825363` };

  const collected = new Map<number, Uint8Array[]>();
  const mainArea = buf.subarray(FIXED_HEADER_LENGTH + 4);
  const mainError = collectOptions([{ bytes: mainArea, name: 'options' }], collected);
  if (mainError) return { ok: false, error: mainError };

  // RFC 2132 §9.3: option 52 says file (1), sname (2) or both (3) carry more options.
  let fileHoldsOptions = false;
  let snameHoldsOptions = false;
  const overload = collected.get(OptionCode.OVERLOAD);
  if (overload) {
    const data = concat(overload);
    if (data.length !== 1) return { ok: false, error: `option 52 (overload): length ${data.length}, expected 1` };
    const value = data[0] ?? 0;
    if (value < 1 || value > 3) return { ok: false, error: `option 52 (overload): value ${value}, expected 1, 2 or 3` };
    fileHoldsOptions = (value & 1) !== 0;
    snameHoldsOptions = (value & 2) !== 0;
    const extra: OptionArea[] = [];
    if (fileHoldsOptions) extra.push({ bytes: buf.subarray(FILE_OFFSET, FILE_OFFSET + FILE_LENGTH), name: 'file' });
    if (snameHoldsOptions) extra.push({ bytes: buf.subarray(SNAME_OFFSET, SNAME_OFFSET + SNAME_LENGTH), name: 'sname' });
    const extraCollected = new Map<number, Uint8Array[]>();
    const extraError = collectOptions(extra, extraCollected);
    if (extraError) return { ok: false, error: extraError };
    // An overload option inside the overloaded fields would be a loop: ignore it.
    extraCollected.delete(OptionCode.OVERLOAD);
    for (const [code, parts] of extraCollected) {
      const known = collected.get(code);
      if (known) known.push(...parts);
      else collected.set(code, parts);
    }
  }

  const options: DhcpOptions = { unknown: [] };
  const optionError = interpretOptions(collected, options);
  if (optionError) return { ok: false, error: optionError };

  const message: DhcpMessage = {
    op,
    htype,
    hops: buf[3] ?? 0,
    xid: readUint32(buf, 4),
    secs: readUint16(buf, 8),
    flags: readUint16(buf, 10),
    ciaddr: readIpv4(buf, 12),
    yiaddr: readIpv4(buf, 16),
    siaddr: readIpv4(buf, 20),
    giaddr: readIpv4(buf, 24),
    chaddr: Uint8Array.from(buf.subarray(28, 28 + hlen)),
    sname: snameHoldsOptions ? '' : readCString(buf.subarray(SNAME_OFFSET, SNAME_OFFSET + SNAME_LENGTH)),
    file: fileHoldsOptions ? '' : readCString(buf.subarray(FILE_OFFSET, FILE_OFFSET + FILE_LENGTH)),
    options,
  };
  return { ok: true, message };
}

// ---------------------------------------------------------------------------------------
// Encoding

function bad(field: string, rule: string): never {
  throw new ArgumentError(`${field}: ${rule}`, { field });
}

function writeIpv4(out: Uint8Array, offset: number, text: string, field: string): void {
  const value = parseIpv4(text);
  if (value === undefined) bad(field, 'must be a dotted quad');
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 255;
  out[offset + 2] = (value >>> 8) & 255;
  out[offset + 3] = value & 255;
}

function checkInteger(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) bad(field, `must be an integer from 0 to ${max}`);
}

function addressBytes(addresses: string[], field: string): Uint8Array {
  const out = new Uint8Array(addresses.length * 4);
  addresses.forEach((a, i) => writeIpv4(out, i * 4, a, `${field}[${i}]`));
  return out;
}

function uint32Bytes(value: number, field: string): Uint8Array {
  checkInteger(value, 0xffffffff, field);
  return Uint8Array.of(value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
}

function uint16Bytes(value: number, field: string): Uint8Array {
  checkInteger(value, 0xffff, field);
  return Uint8Array.of(value >>> 8, value & 255);
}

/** String options are not NUL-terminated (RFC 2132 §2), and a NUL would not survive decoding. */
function textBytes(text: string, field: string): Uint8Array {
  if (text.includes('\0')) bad(field, 'must not contain NUL');
  return utf8Encoder.encode(text);
}

/** Options in the order we write them: message type first (some servers expect it), then by code. */
function optionList(options: DhcpOptions): RawOption[] {
  const list: RawOption[] = [];
  const o = options;
  if (o.messageType !== undefined) {
    checkInteger(o.messageType, 255, 'options.messageType');
    list.push({ code: OptionCode.MESSAGE_TYPE, data: Uint8Array.of(o.messageType) });
  }
  if (o.subnetMask !== undefined) list.push({ code: OptionCode.SUBNET_MASK, data: addressBytes([o.subnetMask], 'options.subnetMask') });
  if (o.routers !== undefined) {
    if (o.routers.length === 0) bad('options.routers', 'must not be empty (RFC 2132 §3.5: minimum length 4)');
    list.push({ code: OptionCode.ROUTER, data: addressBytes(o.routers, 'options.routers') });
  }
  if (o.dns !== undefined) {
    if (o.dns.length === 0) bad('options.dns', 'must not be empty (RFC 2132 §3.8: minimum length 4)');
    list.push({ code: OptionCode.DNS, data: addressBytes(o.dns, 'options.dns') });
  }
  if (o.hostname !== undefined) list.push({ code: OptionCode.HOSTNAME, data: textBytes(o.hostname, 'options.hostname') });
  if (o.domainName !== undefined) list.push({ code: OptionCode.DOMAIN_NAME, data: textBytes(o.domainName, 'options.domainName') });
  if (o.mtu !== undefined) list.push({ code: OptionCode.MTU, data: uint16Bytes(o.mtu, 'options.mtu') });
  if (o.broadcast !== undefined) list.push({ code: OptionCode.BROADCAST, data: addressBytes([o.broadcast], 'options.broadcast') });
  if (o.requestedIp !== undefined) list.push({ code: OptionCode.REQUESTED_IP, data: addressBytes([o.requestedIp], 'options.requestedIp') });
  if (o.leaseTimeS !== undefined) list.push({ code: OptionCode.LEASE_TIME, data: uint32Bytes(o.leaseTimeS, 'options.leaseTimeS') });
  if (o.serverId !== undefined) list.push({ code: OptionCode.SERVER_ID, data: addressBytes([o.serverId], 'options.serverId') });
  if (o.parameterRequestList !== undefined) {
    o.parameterRequestList.forEach((c, i) => checkInteger(c, 255, `options.parameterRequestList[${i}]`));
    list.push({ code: OptionCode.PARAMETER_REQUEST_LIST, data: Uint8Array.from(o.parameterRequestList) });
  }
  if (o.message !== undefined) list.push({ code: OptionCode.MESSAGE, data: textBytes(o.message, 'options.message') });
  if (o.maxMessageSize !== undefined) list.push({ code: OptionCode.MAX_MESSAGE_SIZE, data: uint16Bytes(o.maxMessageSize, 'options.maxMessageSize') });
  if (o.t1S !== undefined) list.push({ code: OptionCode.T1, data: uint32Bytes(o.t1S, 'options.t1S') });
  if (o.t2S !== undefined) list.push({ code: OptionCode.T2, data: uint32Bytes(o.t2S, 'options.t2S') });
  if (o.clientId !== undefined) list.push({ code: OptionCode.CLIENT_ID, data: o.clientId });
  if (o.rapidCommit) list.push({ code: OptionCode.RAPID_COMMIT, data: new Uint8Array(0) });
  const known = new Set<number>(Object.values(OptionCode));
  o.unknown.forEach((raw, i) => {
    checkInteger(raw.code, 255, `options.unknown[${i}].code`);
    if (known.has(raw.code)) bad(`options.unknown[${i}].code`, 'must not be a code this codec decodes itself, nor pad or end');
    list.push(raw);
  });
  return list;
}

/**
 * Encodes a message. Options longer than 255 bytes are split into several instances of
 * the same code (RFC 3396). The result is padded to 300 bytes (RFC 1542 §2.1).
 * Throws ArgumentError for fields that cannot be encoded.
 */
export function encodeMessage(message: DhcpMessage): Uint8Array {
  const m = message;
  checkInteger(m.op, 255, 'op');
  checkInteger(m.htype, 255, 'htype');
  checkInteger(m.hops, 255, 'hops');
  checkInteger(m.xid, 0xffffffff, 'xid');
  checkInteger(m.secs, 0xffff, 'secs');
  checkInteger(m.flags, 0xffff, 'flags');
  if (m.chaddr.length > CHADDR_LENGTH) bad('chaddr', 'must be at most 16 bytes');
  const sname = utf8Encoder.encode(m.sname);
  const file = utf8Encoder.encode(m.file);
  // One byte is kept for the terminating NUL.
  if (sname.length >= SNAME_LENGTH || sname.includes(0)) bad('sname', 'must be at most 63 bytes of UTF-8 without NUL');
  if (file.length >= FILE_LENGTH || file.includes(0)) bad('file', 'must be at most 127 bytes of UTF-8 without NUL');

  const options = optionList(m.options);
  let optionsLength = 1; // END
  for (const o of options) optionsLength += Math.max(1, Math.ceil(o.data.length / 255)) * 2 + o.data.length;
  const length = Math.max(MIN_BOOTP_LENGTH, FIXED_HEADER_LENGTH + 4 + optionsLength);
  const out = new Uint8Array(length);
  out[0] = m.op;
  out[1] = m.htype;
  out[2] = m.chaddr.length;
  out[3] = m.hops;
  out.set(uint32Bytes(m.xid, 'xid'), 4);
  out.set(uint16Bytes(m.secs, 'secs'), 8);
  out.set(uint16Bytes(m.flags, 'flags'), 10);
  writeIpv4(out, 12, m.ciaddr, 'ciaddr');
  writeIpv4(out, 16, m.yiaddr, 'yiaddr');
  writeIpv4(out, 20, m.siaddr, 'siaddr');
  writeIpv4(out, 24, m.giaddr, 'giaddr');
  out.set(m.chaddr, 28);
  out.set(sname, SNAME_OFFSET);
  out.set(file, FILE_OFFSET);
  out.set(uint32Bytes(MAGIC_COOKIE, 'cookie'), FIXED_HEADER_LENGTH);
  let at = FIXED_HEADER_LENGTH + 4;
  for (const o of options) {
    let offset = 0;
    do {
      const chunk = o.data.subarray(offset, offset + 255);
      out[at] = o.code;
      out[at + 1] = chunk.length;
      out.set(chunk, at + 2);
      at += 2 + chunk.length;
      offset += 255;
    } while (offset < o.data.length);
  }
  out[at] = OptionCode.END;
  return out;
}

// ---------------------------------------------------------------------------------------
// Client messages (RFC 2131 §4.4.1 table 5; REQUEST forms §4.3.2)

/** What identifies the client in every message it sends. */
export interface ClientIdentity {
  /** Ethernet address, 6 bytes: chaddr. */
  mac: Uint8Array;
  /** Option 61 (RFC 2132 §9.14). */
  clientId: Uint8Array;
  /** Option 12. */
  hostname?: string;
  /** Option 55. RFC 2131 §4.4.1: a list sent in DISCOVER must be repeated in REQUEST. */
  parameterRequestList?: number[];
  /** Option 57 (at least 576, RFC 2132 §9.10). */
  maxMessageSize?: number;
}

export type RequestKind = 'selecting' | 'init-reboot' | 'renewing' | 'rebinding';

export interface DiscoverFields {
  xid: number;
  secs: number;
  /** Option 50: the address we would like (e.g. from a remembered lease). */
  requestedIp?: string;
  /** Option 80 (RFC 4039 §4). */
  rapidCommit?: boolean;
}

export type RequestFields =
  /** After an OFFER: server id and requested IP must be set, ciaddr zero; broadcast. */
  | { kind: 'selecting'; xid: number; secs: number; requestedIp: string; serverId: string }
  /** Verifying a remembered address: requested IP set, no server id, ciaddr zero; broadcast. */
  | { kind: 'init-reboot'; xid: number; secs: number; requestedIp: string }
  /** Extending a lease: ciaddr set, no server id, no requested IP; unicast (renewing) or broadcast (rebinding). */
  | { kind: 'renewing' | 'rebinding'; xid: number; secs: number; ciaddr: string };

export interface DeclineFields {
  xid: number;
  /** The address found in use (option 50, MUST). */
  requestedIp: string;
  serverId: string;
  message?: string;
}

export interface ReleaseFields {
  xid: number;
  ciaddr: string;
  serverId: string;
}

function clientMessage(id: ClientIdentity, fields: Partial<DhcpMessage> & { xid: number; options: DhcpOptions }): DhcpMessage {
  return {
    op: BOOTREQUEST,
    htype: HTYPE_ETHERNET,
    hops: 0,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: id.mac,
    sname: '',
    file: '',
    ...fields,
  };
}

/** Options DISCOVER and REQUEST share (table 5: client id, hostname, parameter list, max size all MAY). */
function requestOptions(id: ClientIdentity, messageType: number): DhcpOptions {
  const options: DhcpOptions = { messageType, clientId: id.clientId, unknown: [] };
  if (id.hostname !== undefined) options.hostname = id.hostname;
  if (id.parameterRequestList !== undefined) options.parameterRequestList = id.parameterRequestList;
  if (id.maxMessageSize !== undefined) options.maxMessageSize = id.maxMessageSize;
  return options;
}

/**
 * DHCPDISCOVER. BROADCAST flag set: the client has no address yet, and Linux drops a
 * unicast reply to an address the interface does not have (RFC 2131 §4.1; lab notes).
 */
export function buildDiscover(id: ClientIdentity, f: DiscoverFields): DhcpMessage {
  const options = requestOptions(id, MessageType.DISCOVER);
  if (f.requestedIp !== undefined) options.requestedIp = f.requestedIp;
  if (f.rapidCommit) options.rapidCommit = true;
  return clientMessage(id, { xid: f.xid, secs: f.secs, flags: BROADCAST_FLAG, options });
}

/** DHCPREQUEST in one of the four forms of RFC 2131 §4.3.2. */
export function buildRequest(id: ClientIdentity, f: RequestFields): DhcpMessage {
  const options = requestOptions(id, MessageType.REQUEST);
  switch (f.kind) {
    case 'selecting':
      options.requestedIp = f.requestedIp;
      options.serverId = f.serverId;
      return clientMessage(id, { xid: f.xid, secs: f.secs, flags: BROADCAST_FLAG, options });
    case 'init-reboot':
      options.requestedIp = f.requestedIp;
      return clientMessage(id, { xid: f.xid, secs: f.secs, flags: BROADCAST_FLAG, options });
    case 'renewing':
    case 'rebinding':
      // The client owns ciaddr and can take a unicast reply: no BROADCAST flag.
      return clientMessage(id, { xid: f.xid, secs: f.secs, ciaddr: f.ciaddr, options });
  }
}

/** DHCPDECLINE (RFC 2131 §4.4.1): requested IP and server id MUST, ciaddr 0, secs 0, flags 0. */
export function buildDecline(id: ClientIdentity, f: DeclineFields): DhcpMessage {
  const options: DhcpOptions = {
    messageType: MessageType.DECLINE,
    clientId: id.clientId,
    requestedIp: f.requestedIp,
    serverId: f.serverId,
    unknown: [],
  };
  if (f.message !== undefined) options.message = f.message;
  return clientMessage(id, { xid: f.xid, options });
}

/** DHCPRELEASE (RFC 2131 §4.4.1): ciaddr set, server id MUST, no requested IP; unicast to the server. */
export function buildRelease(id: ClientIdentity, f: ReleaseFields): DhcpMessage {
  const options: DhcpOptions = { messageType: MessageType.RELEASE, clientId: id.clientId, serverId: f.serverId, unknown: [] };
  return clientMessage(id, { xid: f.xid, ciaddr: f.ciaddr, options });
}
