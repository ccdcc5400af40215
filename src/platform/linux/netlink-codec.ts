/**
 * Netlink framing (RFC 3549; include/uapi/linux/netlink.h): message headers, the error
 * payload, and type-length-value attributes. Pure functions over buffers; the rtnetlink
 * struct layouts themselves come from the `netlink` package's formatters.
 * Netlink is host-endian; every machine nicup targets is little-endian.
 */

export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_DUMP = 0x300;

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  port: number;
  payload: Buffer;
}

const align4 = (n: number) => (n + 3) & ~3;

export function encodeMessage(m: NetlinkMessage): Buffer {
  const header = Buffer.alloc(NLMSG_HDRLEN);
  const length = NLMSG_HDRLEN + m.payload.length;
  header.writeUInt32LE(length, 0);
  header.writeUInt16LE(m.type, 4);
  header.writeUInt16LE(m.flags, 6);
  header.writeUInt32LE(m.seq >>> 0, 8);
  header.writeUInt32LE(m.port >>> 0, 12);
  const pad = Buffer.alloc(align4(length) - length);
  return Buffer.concat([header, m.payload, pad]);
}

/** Splits a datagram into messages; stops at the first malformed header. */
export function decodeMessages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const length = buf.readUInt32LE(off);
    if (length < NLMSG_HDRLEN || off + length > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      port: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + length),
    });
    off += align4(length);
  }
  return out;
}

/** The errno of an NLMSG_ERROR payload as a positive number; 0 is an ACK. */
export function decodeErrno(payload: Buffer): number {
  if (payload.length < 4) return 0;
  return Math.abs(payload.readInt32LE(0));
}

export const NLA_HDRLEN = 4;
const NLA_TYPE_MASK = 0x3fff; // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

export function encodeAttr(type: number, value: Buffer): Buffer {
  const length = NLA_HDRLEN + value.length;
  const b = Buffer.alloc(align4(length));
  b.writeUInt16LE(length, 0);
  b.writeUInt16LE(type, 2);
  value.copy(b, NLA_HDRLEN);
  return b;
}

export function u32Attr(type: number, value: number): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32LE(value >>> 0, 0);
  return encodeAttr(type, v);
}

export function stringAttr(type: number, value: string): Buffer {
  return encodeAttr(type, Buffer.from(`${value}\0`, 'utf8'));
}

/** Attributes by type; the last one wins when a type repeats. Malformed tails are ignored. */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const length = buf.readUInt16LE(off);
    if (length < NLA_HDRLEN || off + length > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + length));
    off += align4(length);
  }
  return out;
}

export function attrString(value: Buffer | undefined): string | undefined {
  if (!value) return undefined;
  const nul = value.indexOf(0);
  return value.subarray(0, nul < 0 ? value.length : nul).toString('utf8');
}

export function attrU32(value: Buffer | undefined): number | undefined {
  return value && value.length >= 4 ? value.readUInt32LE(0) : undefined;
}
