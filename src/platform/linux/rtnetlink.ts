/**
 * rtnetlink operations on links, IPv4 addresses and main-table routes (rtnetlink(7)).
 * Struct layouts come from the `netlink` package; framing, errors and ordering from
 * NetlinkChannel. Failures reject with NicupErrors naming the operation.
 *
 * The package's submodules are imported, not its index: the index also loads the nl80211,
 * genl and WireGuard generated structs (about +11 MB RSS and 170 ms at start-up).
 *
 * Idempotence and EEXIST:
 * - Removing an address or route that is not there resolves (EADDRNOTAVAIL, ESRCH, ENOENT,
 *   and ENODEV when the link itself is gone).
 * - Adding an address is create-or-update (NLM_F_CREATE|NLM_F_REPLACE, like `ip addr
 *   replace`): the same address/prefix again updates its broadcast and lifetimes, which
 *   is what a DHCP renewal needs.
 * - Adding a route uses NLM_F_EXCL. EEXIST resolves only when the existing route is the
 *   same one (destination, prefix, metric, device, gateway, source); a different route
 *   with the same key (destination, prefix, metric) is not silently replaced: it may
 *   belong to another interface or program, so that rejects with a PlatformError.
 */
import { AttrStream } from 'netlink/dist/structs.js';
import * as rt from 'netlink/dist/rt/structs.js';
import type { Ipv4Address, Ipv4Route } from '../contract.js';
import { ArgumentError, PlatformError } from '../../errors.js';
import { EADDRNOTAVAIL, EEXIST, ENODEV, ENOENT, ErrnoFailure, ESRCH } from './errno.js';
import { broadcastOf, ipv4Bytes, ipv4FromBytes, networkOf, requireIpv4, requirePrefixLength } from './ipv4.js';
import { formatMac } from './link-kind.js';
import type { NetlinkChannel } from './netlink-channel.js';
import { attrString, decodeAttrs, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, type NetlinkMessage } from './netlink-codec.js';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTNLGRP_LINK = 1;

const AF_INET = 2;
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const RTPROT_STATIC = 4;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_NOWHERE = 255;
const IFLA_INFO_KIND = 1;
const FOREVER = 0xffffffff;

/** A link as rtnetlink reports it, before kind classification. */
export interface KernelLink {
  index: number;
  name: string;
  arphrd: number;
  infoKind?: string;
  adminUp: boolean;
  carrier: boolean;
  mac?: string;
  mtu: number;
  stats?: LinkStats;
}

export interface LinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
}

function payload(format: (s: AttrStream) => void): Buffer {
  const s = new AttrStream();
  format(s);
  return Buffer.concat(s.bufs);
}

function arphrdOf(type: unknown): number {
  if (typeof type === 'number') return type;
  if (typeof type === 'string') {
    const v = (rt.LinkType as unknown as Record<string, number | undefined>)[type];
    if (typeof v === 'number') return v;
  }
  return -1;
}

/** Parses an RTM_NEWLINK/RTM_DELLINK message; undefined when it is not a usable link. */
export function parseLinkMessage(m: NetlinkMessage): KernelLink | undefined {
  const parsed = rt.parseMessage(m.type, m.payload);
  if (parsed.kind !== 'link') return undefined;
  const { data, attrs } = parsed;
  if (data.index === undefined || attrs.ifname === undefined) return undefined;
  const infoKind = attrs.linkinfo ? attrString(decodeAttrs(attrs.linkinfo).get(IFLA_INFO_KIND)) : undefined;
  const s = attrs.stats64;
  const link: KernelLink = {
    index: data.index,
    name: attrs.ifname,
    arphrd: arphrdOf(data.type),
    adminUp: data.flags?.up === true,
    carrier: data.flags?.lowerUp === true,
    mtu: attrs.mtu ?? 0,
  };
  if (infoKind !== undefined) link.infoKind = infoKind;
  const mac = formatMac(attrs.address);
  if (mac !== undefined) link.mac = mac;
  if (s) {
    link.stats = {
      rxPackets: Number(s.rxPackets ?? 0n),
      txPackets: Number(s.txPackets ?? 0n),
      rxBytes: Number(s.rxBytes ?? 0n),
      txBytes: Number(s.txBytes ?? 0n),
    };
  }
  return link;
}

export class Rtnetlink {
  constructor(readonly channel: NetlinkChannel) {}

  async dumpLinks(): Promise<KernelLink[]> {
    const reply = await this.request('list links', RTM_GETLINK, linkQuery(), { dump: true });
    return reply.map(parseLinkMessage).filter((l): l is KernelLink => l !== undefined);
  }

  async getLink(name: string): Promise<KernelLink | undefined> {
    try {
      const reply = await this.channel.request(`get link ${name}`, RTM_GETLINK, linkQuery({ ifname: name }));
      const first = reply[0];
      return first ? parseLinkMessage(first) : undefined;
    } catch (e) {
      if (e instanceof ErrnoFailure && (e.errno === ENODEV || e.errno === ENOENT)) return undefined;
      throw toNicup(e);
    }
  }

  async setLinkUp(link: KernelLink, up: boolean): Promise<void> {
    const p = payload((s) =>
      rt.formatLinkMessage({ kind: 'link', data: { index: link.index, flags: up ? { up: true } : {}, change: { up: true } }, attrs: {} }, s),
    );
    await this.request(`set ${link.name} ${up ? 'up' : 'down'}`, RTM_NEWLINK, p);
  }

  async dumpAddresses(index?: number): Promise<Ipv4Address[]> {
    const p = payload((s) => rt.formatAddressMessage({ kind: 'address', data: { family: AF_INET }, attrs: {} }, s));
    const reply = await this.request('list addresses', RTM_GETADDR, p, { dump: true });
    const out: Ipv4Address[] = [];
    for (const m of reply) {
      const parsed = rt.parseMessage(m.type, m.payload);
      if (parsed.kind !== 'address' || parsed.data.family !== AF_INET) continue;
      if (index !== undefined && parsed.data.index !== index) continue;
      const address = ipv4FromBytes(parsed.attrs.local ?? parsed.attrs.address);
      if (address === undefined) continue;
      const a: Ipv4Address = { address, prefixLength: parsed.data.prefixlen ?? 32 };
      const broadcast = ipv4FromBytes(parsed.attrs.broadcast);
      if (broadcast !== undefined) a.broadcast = broadcast;
      const ci = parsed.attrs.cacheInfo;
      if (ci?.ifaValid !== undefined && ci.ifaValid !== FOREVER) a.validLifetimeS = ci.ifaValid;
      if (ci?.ifaPrefered !== undefined && ci.ifaPrefered !== FOREVER) a.preferredLifetimeS = ci.ifaPrefered;
      out.push(a);
    }
    return out;
  }

  async addAddress(link: KernelLink, a: Ipv4Address): Promise<void> {
    const address = requireIpv4(a.address, 'address.address');
    const prefixLength = requirePrefixLength(a.prefixLength, 'address.prefixLength');
    const broadcast = a.broadcast !== undefined ? requireIpv4(a.broadcast, 'address.broadcast') : broadcastOf(address, prefixLength);
    const lifetimes = cacheInfoFor(a);
    const p = payload((s) =>
      rt.formatAddressMessage(
        {
          kind: 'address',
          data: { family: AF_INET, prefixlen: prefixLength, index: link.index, scope: RT_SCOPE_UNIVERSE },
          attrs: {
            local: ipv4Bytes(address),
            address: ipv4Bytes(address),
            ...(broadcast !== undefined ? { broadcast: ipv4Bytes(broadcast) } : {}),
            ...(lifetimes ? { cacheInfo: lifetimes } : {}),
          },
        },
        s,
      ),
    );
    // NLM_F_REPLACE updates the lifetimes of an existing address but keeps its broadcast:
    // an address whose broadcast changes is removed and added again.
    const bcast = broadcast === undefined ? undefined : ipv4FromBytes(ipv4Bytes(broadcast));
    const existing = (await this.dumpAddresses(link.index)).find((x) => x.address === a.address && x.prefixLength === prefixLength);
    if (existing && existing.broadcast !== bcast) await this.removeAddress(link, existing);
    await this.request(`add address ${a.address}/${prefixLength} on ${link.name}`, RTM_NEWADDR, p, { flags: NLM_F_CREATE | NLM_F_REPLACE });
  }

  async removeAddress(link: KernelLink, a: Ipv4Address): Promise<void> {
    const address = requireIpv4(a.address, 'address.address');
    const prefixLength = requirePrefixLength(a.prefixLength, 'address.prefixLength');
    const p = payload((s) =>
      rt.formatAddressMessage(
        {
          kind: 'address',
          data: { family: AF_INET, prefixlen: prefixLength, index: link.index },
          attrs: { local: ipv4Bytes(address), address: ipv4Bytes(address) },
        },
        s,
      ),
    );
    try {
      await this.channel.request(`remove address ${a.address}/${prefixLength} from ${link.name}`, RTM_DELADDR, p);
    } catch (e) {
      if (e instanceof ErrnoFailure && [EADDRNOTAVAIL, ENOENT, ESRCH, ENODEV].includes(e.errno)) return;
      throw toNicup(e);
    }
  }

  /** Routes of the main table that leave by `index` (all links when absent). */
  async dumpRoutes(index?: number): Promise<Ipv4Route[]> {
    const p = payload((s) => rt.formatRouteMessage({ kind: 'route', data: { family: AF_INET }, attrs: {} }, s));
    const reply = await this.request('list routes', RTM_GETROUTE, p, { dump: true });
    const out: Ipv4Route[] = [];
    for (const m of reply) {
      const parsed = rt.parseMessage(m.type, m.payload);
      if (parsed.kind !== 'route' || parsed.data.family !== AF_INET) continue;
      const table = parsed.attrs.table ?? parsed.data.table;
      const type = parsed.data.type;
      if (table !== RT_TABLE_MAIN || (type !== 'UNICAST' && type !== RTN_UNICAST)) continue;
      if (index !== undefined && parsed.attrs.oif !== index) continue;
      const r: Ipv4Route = {
        destination: ipv4FromBytes(parsed.attrs.dst) ?? '0.0.0.0',
        prefixLength: parsed.data.dstLen ?? 0,
        metric: parsed.attrs.priority ?? 0,
      };
      const gateway = ipv4FromBytes(parsed.attrs.gateway);
      if (gateway !== undefined) r.gateway = gateway;
      const source = ipv4FromBytes(parsed.attrs.prefsrc);
      if (source !== undefined) r.source = source;
      out.push(r);
    }
    return out;
  }

  async addRoute(link: KernelLink, r: Ipv4Route): Promise<void> {
    const spec = routeSpec(r);
    const p = payload((s) =>
      rt.formatRouteMessage(
        {
          kind: 'route',
          data: {
            family: AF_INET,
            dstLen: spec.prefixLength,
            table: RT_TABLE_MAIN,
            protocol: RTPROT_STATIC,
            scope: spec.gateway !== undefined ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
            type: RTN_UNICAST,
          },
          attrs: routeAttrs(link, spec),
        },
        s,
      ),
    );
    const operation = `add route ${describeRoute(spec)} on ${link.name}`;
    try {
      await this.channel.request(operation, RTM_NEWROUTE, p, { flags: NLM_F_CREATE | NLM_F_EXCL });
    } catch (e) {
      if (!(e instanceof ErrnoFailure && e.errno === EEXIST)) throw toNicup(e);
      const existing = await this.dumpRoutes(link.index);
      if (existing.some((x) => sameRoute(x, spec))) return;
      throw new PlatformError(`${operation}: a different route to ${spec.destination}/${spec.prefixLength} with metric ${spec.metric ?? 0} already exists (EEXIST)`, { cause: e });
    }
  }

  async removeRoute(link: KernelLink, r: Ipv4Route): Promise<void> {
    const spec = routeSpec(r);
    const p = payload((s) =>
      rt.formatRouteMessage(
        {
          kind: 'route',
          // Scope NOWHERE and protocol 0 match any route with these keys (what `ip route del` sends).
          data: { family: AF_INET, dstLen: spec.prefixLength, table: RT_TABLE_MAIN, scope: RT_SCOPE_NOWHERE, type: RTN_UNICAST },
          attrs: routeAttrs(link, spec),
        },
        s,
      ),
    );
    try {
      await this.channel.request(`remove route ${describeRoute(spec)} from ${link.name}`, RTM_DELROUTE, p);
    } catch (e) {
      if (e instanceof ErrnoFailure && [ESRCH, ENOENT, ENODEV].includes(e.errno)) return;
      throw toNicup(e);
    }
  }

  private async request(operation: string, type: number, p: Buffer, options?: Parameters<NetlinkChannel['request']>[3]) {
    try {
      return await this.channel.request(operation, type, p, options);
    } catch (e) {
      throw toNicup(e);
    }
  }
}

export function toNicup(e: unknown): unknown {
  return e instanceof ErrnoFailure ? e.toNicupError() : e;
}

function linkQuery(attrs: { ifname?: string } = {}): Buffer {
  return payload((s) => rt.formatLinkMessage({ kind: 'link', data: {}, attrs }, s));
}

function cacheInfoFor(a: Ipv4Address): { ifaPrefered: number; ifaValid: number; cstamp: number; tstamp: number } | undefined {
  if (a.validLifetimeS === undefined && a.preferredLifetimeS === undefined) return undefined;
  const check = (v: number | undefined, field: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v >= FOREVER)) {
      throw new ArgumentError(`${field}: must be a whole number of seconds from 1 to ${FOREVER - 1}`, { field });
    }
  };
  check(a.validLifetimeS, 'address.validLifetimeS');
  check(a.preferredLifetimeS, 'address.preferredLifetimeS');
  const valid = a.validLifetimeS ?? FOREVER;
  const preferred = a.preferredLifetimeS ?? valid;
  if (preferred > valid) {
    throw new ArgumentError('address.preferredLifetimeS: must not exceed validLifetimeS', { field: 'address.preferredLifetimeS' });
  }
  return { ifaPrefered: preferred, ifaValid: valid, cstamp: 0, tstamp: 0 };
}

interface RouteSpec {
  destination: string;
  prefixLength: number;
  dst: number;
  gateway?: number;
  metric?: number;
  source?: number;
}

function routeSpec(r: Ipv4Route): RouteSpec {
  const prefixLength = requirePrefixLength(r.prefixLength, 'route.prefixLength');
  const dst = networkOf(requireIpv4(r.destination, 'route.destination'), prefixLength);
  const spec: RouteSpec = { destination: r.destination, prefixLength, dst };
  if (r.gateway !== undefined) spec.gateway = requireIpv4(r.gateway, 'route.gateway');
  if (r.source !== undefined) spec.source = requireIpv4(r.source, 'route.source');
  if (r.metric !== undefined) {
    if (!Number.isInteger(r.metric) || r.metric < 0 || r.metric > FOREVER) {
      throw new ArgumentError('route.metric: must be an integer from 0 to 4294967295', { field: 'route.metric' });
    }
    spec.metric = r.metric;
  }
  return spec;
}

function routeAttrs(link: KernelLink, spec: RouteSpec) {
  return {
    ...(spec.prefixLength > 0 ? { dst: ipv4Bytes(spec.dst) } : {}),
    ...(spec.gateway !== undefined ? { gateway: ipv4Bytes(spec.gateway) } : {}),
    ...(spec.metric !== undefined ? { priority: spec.metric } : {}),
    ...(spec.source !== undefined ? { prefsrc: ipv4Bytes(spec.source) } : {}),
    oif: link.index,
    table: RT_TABLE_MAIN,
  };
}

function describeRoute(spec: RouteSpec): string {
  const via = spec.gateway !== undefined ? ` via ${ipv4FromBytes(ipv4Bytes(spec.gateway))}` : '';
  return `${spec.destination}/${spec.prefixLength}${via}`;
}

function sameRoute(x: Ipv4Route, spec: RouteSpec): boolean {
  return (
    x.prefixLength === spec.prefixLength &&
    x.destination === ipv4FromBytes(ipv4Bytes(spec.dst)) &&
    (x.metric ?? 0) === (spec.metric ?? 0) &&
    x.gateway === (spec.gateway !== undefined ? ipv4FromBytes(ipv4Bytes(spec.gateway)) : undefined) &&
    (spec.source === undefined || x.source === ipv4FromBytes(ipv4Bytes(spec.source)))
  );
}
