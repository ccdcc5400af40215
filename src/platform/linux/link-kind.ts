/**
 * What kind of interface a kernel link is, from what rtnetlink and nl80211 say about it
 * (never from its name). Pure, so the rules are unit-tested without the devices.
 */
import type { LinkInfo } from '../contract.js';

/** ARPHRD_* values (include/uapi/linux/if_arp.h) that matter here. */
export const ARPHRD_ETHER = 1;
export const ARPHRD_PPP = 512;
export const ARPHRD_RAWIP = 519;
export const ARPHRD_LOOPBACK = 772;
export const ARPHRD_NONE = 0xfffe;

/**
 * IFLA_INFO_KIND values of virtual links that carry Ethernet frames to a peer the way a
 * NIC does. A link without IFLA_LINKINFO is a physical device (or a driver without
 * rtnl_link_ops); bridges, bonds' masters, dummies and tunnels are 'other'.
 */
const ETHERNET_INFO_KINDS = new Set(['veth', 'macvlan', 'macvtap', 'ipvlan', 'vlan', 'bond', 'team']);

export interface LinkFacts {
  /** ARPHRD_* from ifinfomsg.ifi_type. */
  arphrd: number;
  /** IFLA_LINKINFO / IFLA_INFO_KIND, absent for physical devices. */
  infoKind?: string;
  /** nl80211 knows the link (it is a cfg80211 wireless device). */
  wifi: boolean;
}

export function classifyLink(f: LinkFacts): LinkInfo['kind'] {
  if (f.wifi) return 'wifi';
  // The wwan subsystem's links (MHI, IOSM) and raw-IP QMI/MBIM modems.
  if (f.infoKind === 'wwan' || f.arphrd === ARPHRD_RAWIP) return 'cell';
  if (f.arphrd === ARPHRD_ETHER) {
    if (f.infoKind === undefined || ETHERNET_INFO_KINDS.has(f.infoKind)) return 'ethernet';
    return 'other';
  }
  // Loopback, PPP (a pppd session: the modem is the 'cell' NIC), tunnels, CAN ...
  return 'other';
}

export function formatMac(b: Buffer | undefined): string | undefined {
  if (!b || b.length !== 6) return undefined;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
