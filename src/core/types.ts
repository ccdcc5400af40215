/** Types shared by the core and the public API. */
import type { NetStateName, NetStateValue, ReasonCode } from '../states.js';

/** One state change, as every listener sees it. */
export interface StateChange {
  /** The interface's Linux (or simulated) name. */
  interface: string;
  state: NetStateValue;
  name: NetStateName;
  previous: NetStateValue;
  reason: ReasonCode;
  /** Extra words for people (never a secret), e.g. "server 192.168.77.1". */
  detail?: string;
  /** Monotonic milliseconds from the platform clock. */
  atMs: number;
}

/** The IPv4 configuration of a connected interface (internal form). */
export interface Ipv4Config {
  address: string;
  prefixLength: number;
  netmask: string;
  broadcast: string;
  gateway?: string;
  dns: string[];
  /** Present when the address came from DHCP. */
  dhcpServer?: string;
  leaseTimeS?: number;
  mtu?: number;
  domain?: string;
  /** The kernel link carrying the traffic when it is not the interface's own name (ppp0 for "cell0"). */
  device?: string;
}

/** impOS getiptable() shape. Dotted-quad fields whose value is 0.0.0.0 are left out. */
export interface IpTable {
  ipv4: {
    address?: string;
    broadcast?: string;
    gateway?: string;
    netmask?: string;
    dhcpserver?: string;
    dnsserver: string[];
    proxy?: { address: string; port: number; type: 'http'; user?: string };
  };
}
