/** Dotted quads for the kernel boundary: checked on the way in, 4-byte buffers on the wire. */
import { ArgumentError } from '../../errors.js';
import { formatIpv4, parseIpv4 } from '../../core/ipv4.js';

/** Throws ArgumentError naming `field` unless `s` is a dotted quad. */
export function requireIpv4(s: unknown, field: string): number {
  const n = typeof s === 'string' ? parseIpv4(s) : undefined;
  if (n === undefined) throw new ArgumentError(`${field}: must be a dotted-quad IPv4 address`, { field });
  return n;
}

export function requirePrefixLength(p: unknown, field: string): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 32) {
    throw new ArgumentError(`${field}: must be an integer from 0 to 32`, { field });
  }
  return p;
}

export function ipv4Bytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

export function ipv4FromBytes(b: Buffer | undefined): string | undefined {
  return b && b.length === 4 ? formatIpv4(b.readUInt32BE(0)) : undefined;
}

export function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** The directed broadcast of a subnet; none for /31 (RFC 3021) and /32. */
export function broadcastOf(address: number, prefixLength: number): number | undefined {
  if (prefixLength >= 31) return undefined;
  return ((address & maskOf(prefixLength)) | (~maskOf(prefixLength) >>> 0)) >>> 0;
}

export function networkOf(address: number, prefixLength: number): number {
  return (address & maskOf(prefixLength)) >>> 0;
}
