/**
 * The three rtnetlink headers nicup speaks — struct ifinfomsg, ifaddrmsg and rtmsg — and
 * the dozen attributes it reads or writes (include/uapi/linux/rtnetlink.h, if_link.h,
 * if_addr.h). Written by hand: the `netlink` package's generated rt structs cost about
 * 9 MB RSS and 100 ms at start-up for these few fields. Pure functions over buffers;
 * a short or malformed payload decodes to undefined, never throws.
 * Netlink is host-endian (little-endian on every target); addresses are network order.
 */
import { attrString, attrU32, decodeAttrs, encodeAttr, stringAttr, u32Attr } from './netlink-codec.js';

export const IFF_UP = 0x1;
export const IFF_LOWER_UP = 0x10000;

const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
const RTMSG_LEN = 12;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINKINFO = 18;
const IFLA_STATS64 = 23;
const IFLA_INFO_KIND = 1;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;
const IFA_CACHEINFO = 6;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;

// ---------------------------------------------------------------------------------------
// Links (RTM_NEWLINK, RTM_GETLINK)

export interface LinkHeader {
  /** ARPHRD_* */
  type: number;
  index: number;
  /** IFF_* */
  flags: number;
}

export interface DecodedLink extends LinkHeader {
  ifname?: string;
  address?: Buffer;
  mtu?: number;
  /** IFLA_LINKINFO / IFLA_INFO_KIND: "veth", "bridge"… */
  infoKind?: string;
  /** The first four counters of struct rtnl_link_stats64. */
  stats?: { rxPackets: number; txPackets: number; rxBytes: number; txBytes: number };
}

/** ifinfomsg (family AF_UNSPEC) plus IFLA_IFNAME when `ifname` is given. */
export function encodeLinkMessage(m: { index?: number; flags?: number; change?: number; ifname?: string } = {}): Buffer {
  const header = Buffer.alloc(IFINFOMSG_LEN);
  header.writeInt32LE(m.index ?? 0, 4);
  header.writeUInt32LE((m.flags ?? 0) >>> 0, 8);
  header.writeUInt32LE((m.change ?? 0) >>> 0, 12);
  return m.ifname === undefined ? header : Buffer.concat([header, stringAttr(IFLA_IFNAME, m.ifname)]);
}

export function decodeLinkMessage(payload: Buffer): DecodedLink | undefined {
  if (payload.length < IFINFOMSG_LEN) return undefined;
  const link: DecodedLink = {
    type: payload.readUInt16LE(2),
    index: payload.readInt32LE(4),
    flags: payload.readUInt32LE(8),
  };
  const attrs = decodeAttrs(payload.subarray(IFINFOMSG_LEN));
  const ifname = attrString(attrs.get(IFLA_IFNAME));
  if (ifname !== undefined) link.ifname = ifname;
  const address = attrs.get(IFLA_ADDRESS);
  if (address !== undefined) link.address = address;
  const mtu = attrU32(attrs.get(IFLA_MTU));
  if (mtu !== undefined) link.mtu = mtu;
  const linkinfo = attrs.get(IFLA_LINKINFO);
  const infoKind = linkinfo ? attrString(decodeAttrs(linkinfo).get(IFLA_INFO_KIND)) : undefined;
  if (infoKind !== undefined) link.infoKind = infoKind;
  const s = attrs.get(IFLA_STATS64);
  if (s && s.length >= 32) {
    link.stats = {
      rxPackets: Number(s.readBigUInt64LE(0)),
      txPackets: Number(s.readBigUInt64LE(8)),
      rxBytes: Number(s.readBigUInt64LE(16)),
      txBytes: Number(s.readBigUInt64LE(24)),
    };
  }
  return link;
}

// ---------------------------------------------------------------------------------------
// Addresses (RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR)

export interface AddressMessage {
  family: number;
  prefixLength: number;
  scope: number;
  index: number;
  local?: Buffer;
  address?: Buffer;
  broadcast?: Buffer;
  /** struct ifa_cacheinfo: lifetimes in seconds, 0xffffffff = forever. */
  cacheInfo?: { preferred: number; valid: number };
}

export function encodeAddressMessage(m: Partial<AddressMessage> & { family: number }): Buffer {
  const header = Buffer.alloc(IFADDRMSG_LEN);
  header.writeUInt8(m.family, 0);
  header.writeUInt8(m.prefixLength ?? 0, 1);
  header.writeUInt8(m.scope ?? 0, 3);
  header.writeUInt32LE((m.index ?? 0) >>> 0, 4);
  const parts: Buffer[] = [header];
  if (m.local) parts.push(encodeAttr(IFA_LOCAL, m.local));
  if (m.address) parts.push(encodeAttr(IFA_ADDRESS, m.address));
  if (m.broadcast) parts.push(encodeAttr(IFA_BROADCAST, m.broadcast));
  if (m.cacheInfo) {
    const ci = Buffer.alloc(16); // cstamp and tstamp are the kernel's to fill
    ci.writeUInt32LE(m.cacheInfo.preferred >>> 0, 0);
    ci.writeUInt32LE(m.cacheInfo.valid >>> 0, 4);
    parts.push(encodeAttr(IFA_CACHEINFO, ci));
  }
  return Buffer.concat(parts);
}

export function decodeAddressMessage(payload: Buffer): AddressMessage | undefined {
  if (payload.length < IFADDRMSG_LEN) return undefined;
  const m: AddressMessage = {
    family: payload.readUInt8(0),
    prefixLength: payload.readUInt8(1),
    scope: payload.readUInt8(3),
    index: payload.readUInt32LE(4),
  };
  const attrs = decodeAttrs(payload.subarray(IFADDRMSG_LEN));
  const local = attrs.get(IFA_LOCAL);
  if (local) m.local = local;
  const address = attrs.get(IFA_ADDRESS);
  if (address) m.address = address;
  const broadcast = attrs.get(IFA_BROADCAST);
  if (broadcast) m.broadcast = broadcast;
  const ci = attrs.get(IFA_CACHEINFO);
  if (ci && ci.length >= 8) m.cacheInfo = { preferred: ci.readUInt32LE(0), valid: ci.readUInt32LE(4) };
  return m;
}

// ---------------------------------------------------------------------------------------
// Routes (RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE)

export interface RouteMessage {
  family: number;
  dstLength: number;
  /** rtm_table: only 8 bits; RTA_TABLE carries the full id. */
  table: number;
  protocol: number;
  scope: number;
  /** RTN_* */
  type: number;
  dst?: Buffer;
  gateway?: Buffer;
  priority?: number;
  prefsrc?: Buffer;
  oif?: number;
  /** RTA_TABLE */
  tableId?: number;
}

export function encodeRouteMessage(m: Partial<RouteMessage> & { family: number }): Buffer {
  const header = Buffer.alloc(RTMSG_LEN);
  header.writeUInt8(m.family, 0);
  header.writeUInt8(m.dstLength ?? 0, 1);
  header.writeUInt8(m.table ?? 0, 4);
  header.writeUInt8(m.protocol ?? 0, 5);
  header.writeUInt8(m.scope ?? 0, 6);
  header.writeUInt8(m.type ?? 0, 7);
  const parts: Buffer[] = [header];
  if (m.dst) parts.push(encodeAttr(RTA_DST, m.dst));
  if (m.gateway) parts.push(encodeAttr(RTA_GATEWAY, m.gateway));
  if (m.priority !== undefined) parts.push(u32Attr(RTA_PRIORITY, m.priority));
  if (m.prefsrc) parts.push(encodeAttr(RTA_PREFSRC, m.prefsrc));
  if (m.oif !== undefined) parts.push(u32Attr(RTA_OIF, m.oif));
  if (m.tableId !== undefined) parts.push(u32Attr(RTA_TABLE, m.tableId));
  return Buffer.concat(parts);
}

export function decodeRouteMessage(payload: Buffer): RouteMessage | undefined {
  if (payload.length < RTMSG_LEN) return undefined;
  const m: RouteMessage = {
    family: payload.readUInt8(0),
    dstLength: payload.readUInt8(1),
    table: payload.readUInt8(4),
    protocol: payload.readUInt8(5),
    scope: payload.readUInt8(6),
    type: payload.readUInt8(7),
  };
  const attrs = decodeAttrs(payload.subarray(RTMSG_LEN));
  const dst = attrs.get(RTA_DST);
  if (dst) m.dst = dst;
  const gateway = attrs.get(RTA_GATEWAY);
  if (gateway) m.gateway = gateway;
  const priority = attrU32(attrs.get(RTA_PRIORITY));
  if (priority !== undefined) m.priority = priority;
  const prefsrc = attrs.get(RTA_PREFSRC);
  if (prefsrc) m.prefsrc = prefsrc;
  const oif = attrU32(attrs.get(RTA_OIF));
  if (oif !== undefined) m.oif = oif;
  const tableId = attrU32(attrs.get(RTA_TABLE));
  if (tableId !== undefined) m.tableId = tableId;
  return m;
}
