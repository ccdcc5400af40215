/**
 * rtnetlink operations on links, IPv4 addresses and main-table routes (rtnetlink(7)).
 * Struct layouts come from rtnetlink-codec.ts; framing, errors and ordering from
 * NetlinkChannel. Failures reject with NicupErrors naming the operation.
 *
 * Idempotence and EEXIST:
 * - Removing an address or route that is not there resolves (EADDRNOTAVAIL, ESRCH, ENOENT,
 *   and ENODEV when the link itself is gone).
 * - Adding an address is create-or-update (NLM_F_EXCL first; on EEXIST NLM_F_REPLACE,
 *   like `ip addr replace`): the same address/prefix again updates its broadcast and
 *   lifetimes, which is what a DHCP renewal needs.
 * - Adding a route uses NLM_F_EXCL. EEXIST resolves only when the existing route is the
 *   same one (destination, prefix, metric, device, gateway, source); a different route
 *   with the same key (destination, prefix, metric) is not silently replaced: it may
 *   belong to another interface or program, so that rejects with a PlatformError.
 */
import type { Ipv4Address, Ipv4Route } from '../contract.js';
import { ArgumentError, PlatformError } from '../../errors.js';
import { EADDRNOTAVAIL, EEXIST, ENODEV, ENOENT, ErrnoFailure, ESRCH } from './errno.js';
import { broadcastOf, ipv4Bytes, ipv4FromBytes, networkOf, requireIpv4, requirePrefixLength } from './ipv4.js';
import { formatMac } from './link-kind.js';
import type { NetlinkChannel } from './netlink-channel.js';
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, type NetlinkMessage } from './netlink-codec.js';
import {
  decodeAddressMessage,
  decodeLinkMessage,
  decodeRouteMessage,
  encodeAddressMessage,
  encodeLinkMessage,
  encodeRouteMessage,
  IFF_LOWER_UP,
  IFF_UP,
} from './rtnetlink-codec.js';

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

/** Parses an RTM_NEWLINK/RTM_DELLINK message; undefined when it is not a usable link. */
export function parseLinkMessage(m: NetlinkMessage): KernelLink | undefined {
  if (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK) return undefined;
  const l = decodeLinkMessage(m.payload);
  if (!l || l.ifname === undefined) return undefined;
  const link: KernelLink = {
    index: l.index,
    name: l.ifname,
    arphrd: l.type,
    adminUp: (l.flags & IFF_UP) !== 0,
    carrier: (l.flags & IFF_LOWER_UP) !== 0,
    mtu: l.mtu ?? 0,
  };
  if (l.infoKind !== undefined) link.infoKind = l.infoKind;
  const mac = formatMac(l.address);
  if (mac !== undefined) link.mac = mac;
  if (l.stats) link.stats = l.stats;
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
    const p = encodeLinkMessage({ index: link.index, flags: up ? IFF_UP : 0, change: IFF_UP });
    await this.request(`set ${link.name} ${up ? 'up' : 'down'}`, RTM_NEWLINK, p);
  }

  async dumpAddresses(index?: number): Promise<Ipv4Address[]> {
    const p = encodeAddressMessage({ family: AF_INET });
    const reply = await this.request('list addresses', RTM_GETADDR, p, { dump: true });
    const out: Ipv4Address[] = [];
    for (const m of reply) {
      const parsed = m.type === RTM_NEWADDR ? decodeAddressMessage(m.payload) : undefined;
      if (!parsed || parsed.family !== AF_INET) continue;
      if (index !== undefined && parsed.index !== index) continue;
      const address = ipv4FromBytes(parsed.local ?? parsed.address);
      if (address === undefined) continue;
      const a: Ipv4Address = { address, prefixLength: parsed.prefixLength };
      const broadcast = ipv4FromBytes(parsed.broadcast);
      if (broadcast !== undefined) a.broadcast = broadcast;
      const ci = parsed.cacheInfo;
      if (ci && ci.valid !== FOREVER) a.validLifetimeS = ci.valid;
      if (ci && ci.preferred !== FOREVER) a.preferredLifetimeS = ci.preferred;
      out.push(a);
    }
    return out;
  }

  async addAddress(link: KernelLink, a: Ipv4Address): Promise<void> {
    const address = requireIpv4(a.address, 'address.address');
    const prefixLength = requirePrefixLength(a.prefixLength, 'address.prefixLength');
    const broadcast = a.broadcast !== undefined ? requireIpv4(a.broadcast, 'address.broadcast') : broadcastOf(address, prefixLength);
    const lifetimes = cacheInfoFor(a);
    const p = encodeAddressMessage({
      family: AF_INET,
      prefixLength,
      index: link.index,
      scope: RT_SCOPE_UNIVERSE,
      local: ipv4Bytes(address),
      address: ipv4Bytes(address),
      ...(broadcast !== undefined ? { broadcast: ipv4Bytes(broadcast) } : {}),
      ...(lifetimes ? { cacheInfo: lifetimes } : {}),
    });
    const operation = `add address ${a.address}/${prefixLength} on ${link.name}`;
    // A new address (every bring-up): one request. The address dump below is the whole
    // namespace's and waits behind other dumps — seconds with hundreds of links.
    try {
      await this.channel.request(operation, RTM_NEWADDR, p, { flags: NLM_F_CREATE | NLM_F_EXCL });
      return;
    } catch (e) {
      if (!(e instanceof ErrnoFailure && e.errno === EEXIST)) throw toNicup(e);
    }
    // NLM_F_REPLACE updates the lifetimes of an existing address but keeps its broadcast:
    // an address whose broadcast changes is removed and added again.
    const bcast = broadcast === undefined ? undefined : ipv4FromBytes(ipv4Bytes(broadcast));
    const existing = (await this.dumpAddresses(link.index)).find((x) => x.address === a.address && x.prefixLength === prefixLength);
    if (existing && existing.broadcast !== bcast) await this.removeAddress(link, existing);
    await this.request(operation, RTM_NEWADDR, p, { flags: NLM_F_CREATE | NLM_F_REPLACE });
  }

  async removeAddress(link: KernelLink, a: Ipv4Address): Promise<void> {
    const address = requireIpv4(a.address, 'address.address');
    const prefixLength = requirePrefixLength(a.prefixLength, 'address.prefixLength');
    const p = encodeAddressMessage({ family: AF_INET, prefixLength, index: link.index, local: ipv4Bytes(address), address: ipv4Bytes(address) });
    try {
      await this.channel.request(`remove address ${a.address}/${prefixLength} from ${link.name}`, RTM_DELADDR, p);
    } catch (e) {
      if (e instanceof ErrnoFailure && [EADDRNOTAVAIL, ENOENT, ESRCH, ENODEV].includes(e.errno)) return;
      throw toNicup(e);
    }
  }

  /** Routes of the main table that leave by `index` (all links when absent). */
  async dumpRoutes(index?: number): Promise<Ipv4Route[]> {
    const p = encodeRouteMessage({ family: AF_INET });
    const reply = await this.request('list routes', RTM_GETROUTE, p, { dump: true });
    const out: Ipv4Route[] = [];
    for (const m of reply) {
      const parsed = m.type === RTM_NEWROUTE ? decodeRouteMessage(m.payload) : undefined;
      if (!parsed || parsed.family !== AF_INET) continue;
      const table = parsed.tableId ?? parsed.table;
      if (table !== RT_TABLE_MAIN || parsed.type !== RTN_UNICAST) continue;
      if (index !== undefined && parsed.oif !== index) continue;
      const r: Ipv4Route = {
        destination: ipv4FromBytes(parsed.dst) ?? '0.0.0.0',
        prefixLength: parsed.dstLength,
        metric: parsed.priority ?? 0,
      };
      const gateway = ipv4FromBytes(parsed.gateway);
      if (gateway !== undefined) r.gateway = gateway;
      const source = ipv4FromBytes(parsed.prefsrc);
      if (source !== undefined) r.source = source;
      out.push(r);
    }
    return out;
  }

  async addRoute(link: KernelLink, r: Ipv4Route): Promise<void> {
    const spec = routeSpec(r);
    const p = encodeRouteMessage({
      family: AF_INET,
      dstLength: spec.prefixLength,
      table: RT_TABLE_MAIN,
      protocol: RTPROT_STATIC,
      scope: spec.gateway !== undefined ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
      type: RTN_UNICAST,
      ...routeAttrs(link, spec),
    });
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
    const p = encodeRouteMessage({
      // Scope NOWHERE and protocol 0 match any route with these keys (what `ip route del` sends).
      family: AF_INET,
      dstLength: spec.prefixLength,
      table: RT_TABLE_MAIN,
      scope: RT_SCOPE_NOWHERE,
      type: RTN_UNICAST,
      ...routeAttrs(link, spec),
    });
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
  return encodeLinkMessage(attrs);
}

function cacheInfoFor(a: Ipv4Address): { preferred: number; valid: number } | undefined {
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
  return { preferred, valid };
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
    tableId: RT_TABLE_MAIN,
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
