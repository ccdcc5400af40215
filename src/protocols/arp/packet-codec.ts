/**
 * ARP for IPv4 over Ethernet (RFC 826), as address conflict detection uses it (RFC 5227):
 * the 28-byte ARP body without the Ethernet header, which a SOCK_DGRAM packet socket adds
 * on send and strips on receive. Encoding builds probes, announcements and replies;
 * decoding never throws — bad bytes come back as `{ ok: false, error }`.
 */
import { ArgumentError } from '../../errors.js';

/** hardware type 2 + protocol type 2 + lengths 2 + operation 2 + 2 × (6 + 4). */
export const ARP_PACKET_LENGTH = 28;
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_PTYPE_IPV4 = 0x0800;
/** EtherType of ARP frames (what a packet socket binds to). */
export const ETHERTYPE_ARP = 0x0806;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
const ZERO_MAC = '00:00:00:00:00:00';

export const ArpOperation = { REQUEST: 1, REPLY: 2 } as const;
export type ArpOperationName = 'request' | 'reply';

export interface ArpPacket {
  operation: ArpOperationName;
  /** aa:bb:cc:dd:ee:ff, lower case. */
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export type ArpDecodeResult = { ok: true; packet: ArpPacket } | { ok: false; error: string };

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** The 4 bytes of a dotted quad, or undefined when it is not one. */
export function ipv4Bytes(address: string): Uint8Array | undefined {
  if (typeof address !== 'string') return undefined;
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

/** The 6 bytes of an aa:bb:cc:dd:ee:ff address, or undefined when it is not one. */
export function macBytes(mac: string): Uint8Array | undefined {
  if (typeof mac !== 'string' || !MAC_RE.test(mac)) return undefined;
  return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

function formatIp(b: Uint8Array): string {
  return Array.from(b).join('.');
}

function requireMac(mac: string, field: string): Uint8Array {
  const b = macBytes(mac);
  if (!b) throw new ArgumentError(`${field}: must be a MAC address like 02:00:00:00:00:01`, { field });
  return b;
}

function requireIp(address: string, field: string): Uint8Array {
  const b = ipv4Bytes(address);
  if (!b) throw new ArgumentError(`${field}: must be a dotted-quad IPv4 address`, { field });
  return b;
}

/** Encodes one packet; fields it cannot encode are an ArgumentError naming the field. */
export function encodeArp(p: ArpPacket): Uint8Array {
  if (p.operation !== 'request' && p.operation !== 'reply') {
    throw new ArgumentError('operation: must be "request" or "reply"', { field: 'operation' });
  }
  const out = new Uint8Array(ARP_PACKET_LENGTH);
  const view = new DataView(out.buffer);
  view.setUint16(0, ARP_HTYPE_ETHERNET);
  view.setUint16(2, ARP_PTYPE_IPV4);
  out[4] = 6;
  out[5] = 4;
  view.setUint16(6, p.operation === 'request' ? ArpOperation.REQUEST : ArpOperation.REPLY);
  out.set(requireMac(p.senderMac, 'senderMac'), 8);
  out.set(requireIp(p.senderIp, 'senderIp'), 14);
  out.set(requireMac(p.targetMac, 'targetMac'), 18);
  out.set(requireIp(p.targetIp, 'targetIp'), 24);
  return out;
}

/**
 * RFC 5227 §2.1.1 ARP Probe: a request with sender IP 0.0.0.0 (so that no one's cache
 * learns an address we may not get), target hardware address zero, target IP the address
 * being tested. Sent to the broadcast MAC.
 */
export function encodeProbe(senderMac: string, address: string): Uint8Array {
  return encodeArp({ operation: 'request', senderMac, senderIp: '0.0.0.0', targetMac: ZERO_MAC, targetIp: address });
}

/**
 * RFC 5227 §2.3 ARP Announcement: a request with sender and target IP both the address now
 * claimed, so that other hosts update stale cache entries. Sent to the broadcast MAC.
 */
export function encodeAnnouncement(senderMac: string, address: string): Uint8Array {
  return encodeArp({ operation: 'request', senderMac, senderIp: address, targetMac: ZERO_MAC, targetIp: address });
}

/** The reply a host holding `address` gives to `request` (RFC 826). */
export function encodeReply(request: ArpPacket, ownerMac: string, address: string): Uint8Array {
  return encodeArp({ operation: 'reply', senderMac: ownerMac, senderIp: address, targetMac: request.senderMac, targetIp: request.senderIp });
}

/**
 * Decodes an ARP body (Ethernet/IPv4 only). Bytes after the 28 are ignored: short frames
 * are padded to Ethernet's 60-byte minimum, and a SOCK_DGRAM socket hands the padding over.
 */
export function decodeArp(data: Uint8Array): ArpDecodeResult {
  if (!(data instanceof Uint8Array)) return { ok: false, error: 'input is not a byte array' };
  if (data.length < ARP_PACKET_LENGTH) return { ok: false, error: `packet too short: ${data.length} bytes, need ${ARP_PACKET_LENGTH}` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const htype = view.getUint16(0);
  if (htype !== ARP_HTYPE_ETHERNET) return { ok: false, error: `hardware type ${htype}: expected 1 (Ethernet)` };
  const ptype = view.getUint16(2);
  if (ptype !== ARP_PTYPE_IPV4) return { ok: false, error: `protocol type 0x${ptype.toString(16)}: expected 0x0800 (IPv4)` };
  if (data[4] !== 6 || data[5] !== 4) return { ok: false, error: `address lengths ${data[4]}/${data[5]}: expected 6/4` };
  const op = view.getUint16(6);
  if (op !== ArpOperation.REQUEST && op !== ArpOperation.REPLY) return { ok: false, error: `operation ${op}: expected 1 (request) or 2 (reply)` };
  return {
    ok: true,
    packet: {
      operation: op === ArpOperation.REQUEST ? 'request' : 'reply',
      senderMac: formatMac(data.subarray(8, 14)),
      senderIp: formatIp(data.subarray(14, 18)),
      targetMac: formatMac(data.subarray(18, 24)),
      targetIp: formatIp(data.subarray(24, 28)),
    },
  };
}

/** RFC 5227 §2.1.1: a probe is a request whose sender IP is all zeros. */
export function isProbe(p: ArpPacket): boolean {
  return p.operation === 'request' && p.senderIp === '0.0.0.0';
}

/**
 * RFC 5227 §2.1.1: while probing `address`, a conflict is any ARP packet (request or reply)
 * whose sender IP is the address, or a probe for the address from another host (both
 * testing it at once). Our own packets — a packet socket also sees what we send — are not.
 */
export function isConflict(p: ArpPacket, address: string, ownMac: string): boolean {
  if (p.senderMac === ownMac.toLowerCase()) return false;
  if (p.senderIp === address) return true;
  return isProbe(p) && p.targetIp === address;
}
