/** Small IPv4 helpers (dotted quads as strings, numbers as unsigned 32-bit); platform/linux/ipv4.ts builds its kernel-boundary checks on them. */

export function parseIpv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function prefixToNetmask(prefixLength: number): string {
  return formatIpv4(prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);
}

/** The prefix length of a contiguous netmask, or undefined when the mask is not contiguous. */
export function netmaskToPrefix(mask: string): number | undefined {
  const n = parseIpv4(mask);
  if (n === undefined) return undefined;
  const inv = ~n >>> 0;
  if ((inv & (inv + 1)) !== 0) return undefined;
  return 32 - Math.log2(inv + 1);
}

export function networkOf(address: string, prefixLength: number): string {
  const a = parseIpv4(address) ?? 0;
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return formatIpv4((a & mask) >>> 0);
}

export function broadcastOf(address: string, prefixLength: number): string {
  const a = parseIpv4(address) ?? 0;
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return formatIpv4(((a & mask) | (~mask >>> 0)) >>> 0);
}

export function inSubnet(address: string, network: string, prefixLength: number): boolean {
  return networkOf(address, prefixLength) === networkOf(network, prefixLength);
}

/** RFC 1918 private ranges: the only destinations impOS's udpsocket.send accepts. */
export function isPrivateIpv4(address: string): boolean {
  const n = parseIpv4(address);
  if (n === undefined) return false;
  return (n >>> 24) === 10 || (n >>> 20) === (172 << 4 | 1) || (n >>> 16) === (192 << 8 | 168);
}
