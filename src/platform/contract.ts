/**
 * The Platform contract: the primitives nicup's core needs from a host. Core code
 * (interface lifecycle, DHCP driver, WiFi and cellular drivers, UDP) depends on this file
 * only. `platform/linux` implements it with rtnetlink, sockets bound to devices and real
 * daemons; `platform/sim` implements it with a scriptable simulated world.
 *
 * Rules for implementations:
 * - Methods reject with NicupError (src/errors.ts) and never put secrets in messages.
 * - Event listeners are called asynchronously (never inside the method that caused them).
 * - Everything a platform hands out (watchers, sockets, processes) is released by its
 *   own close()/dispose, and all of it by Platform.dispose().
 */
import type { Clock } from '../core/clock.js';
import type { InterfaceKind } from '../nic.js';

export type { Clock };

export interface Disposable {
  dispose(): void;
}

export interface LinkInfo {
  name: string;
  /** Kernel interface index (ifindex). */
  index: number;
  /** From the kernel (sysfs / rtnetlink), not from the name. 'other' for loopback, bridges, tunnels. */
  kind: InterfaceKind | 'other';
  /** aa:bb:cc:dd:ee:ff, absent for links without one (ppp). */
  mac?: string;
  /** IFF_UP. */
  adminUp: boolean;
  /** IFF_LOWER_UP: the link has carrier. */
  carrier: boolean;
  mtu: number;
  /** For 'cell' links (modems): the AT command port, e.g. /dev/ttyUSB2. */
  device?: string;
}

export type LinkEvent =
  | { type: 'carrier'; carrier: boolean }
  | { type: 'admin'; up: boolean }
  | { type: 'removed' }
  | { type: 'added'; link: LinkInfo };

export interface Ipv4Address {
  address: string;
  prefixLength: number;
  /** Directed broadcast; implementations derive it from the prefix when absent. */
  broadcast?: string;
  /** Lifetimes in seconds (for DHCP leases); absent = forever. */
  validLifetimeS?: number;
  preferredLifetimeS?: number;
}

export interface Ipv4Route {
  /** Network address; "0.0.0.0" with prefixLength 0 is the default route. */
  destination: string;
  prefixLength: number;
  gateway?: string;
  metric?: number;
  /** Preferred source address. */
  source?: string;
}

export interface Datagram {
  data: Buffer;
  fromAddress: string;
  fromPort: number;
  /** Destination address of the datagram as received (unicast, subnet or limited broadcast). */
  toAddress: string;
  toPort: number;
}

/**
 * A UDP socket bound to one interface (SO_BINDTODEVICE on Linux): traffic leaves by that
 * interface whatever the routing table says.
 */
export interface UdpTransport {
  readonly localPort: number;
  send(data: Uint8Array, port: number, address: string): Promise<void>;
  onMessage(listener: (d: Datagram) => void): void;
  onError(listener: (e: Error) => void): void;
  close(): Promise<void>;
}

export interface UdpOptions {
  /** 0 or absent: an ephemeral port. */
  port?: number;
  /** Local address to bind; absent = 0.0.0.0 (still bound to the device). */
  address?: string;
  broadcast?: boolean;
  reuseAddress?: boolean;
}

/** A bidirectional byte stream (a modem's serial port, a pty). */
export interface ByteStream {
  write(data: Uint8Array | string): Promise<void>;
  onData(listener: (data: Buffer) => void): void;
  onClose(listener: (err?: Error) => void): void;
  close(): Promise<void>;
}

/** A connection to a wpa_supplicant control interface (one per interface). */
export interface SupplicantControl {
  /**
   * False when attached to a wpa_supplicant that nicup did not start (the system's):
   * the driver then touches only the network it added, never the others.
   */
  readonly owned?: boolean;
  /** Sends one control command; resolves with its reply text (e.g. "OK\n"). */
  request(command: string, timeoutMs?: number): Promise<string>;
  /** Unsolicited event lines ("<3>CTRL-EVENT-CONNECTED ..."), after ATTACH. */
  onEvent(listener: (line: string) => void): void;
  /** The supplicant went away (process died, socket gone). */
  onClose(listener: (err?: Error) => void): void;
  close(): Promise<void>;
}

export interface SupplicantOptions {
  /** Directory for the private control socket; the platform picks one when absent. */
  controlDir?: string;
  /** The session's debug log (lifecycle lines, the daemon's redacted output). */
  log?: (message: string) => void;
}

export interface SerialOpenOptions {
  /** The session's debug log (e.g. a pppd left on the port by a killed nicup, stopped). */
  log?: (message: string) => void;
}

export interface PppOptions {
  /** The modem's port, already dialled (CONNECT seen) — pppd takes it over. */
  device: string;
  username?: string;
  /** Given to pppd through a 0600 file or a descriptor, never on its command line. */
  password?: string;
  /** Take DNS servers from the peer. */
  usePeerDns: boolean;
}

export interface PppLink {
  /** The ppp interface name once up (ppp0). */
  readonly ifname: Promise<string>;
  /** Addresses learnt by IPCP once the link is up. */
  readonly up: Promise<{ local: string; remote: string; dns: string[] }>;
  onExit(listener: (code: number | null, reason: string) => void): void;
  stop(): Promise<void>;
}

export interface Platform {
  readonly name: 'linux' | 'sim' | (string & {});
  readonly clock: Clock;

  listLinks(): Promise<LinkInfo[]>;
  getLink(name: string): Promise<LinkInfo | undefined>;
  /** Kernel events for one link (carrier, admin, removal, re-creation by name). */
  watchLink(name: string, listener: (e: LinkEvent) => void): Disposable;
  /**
   * Events for every link (so the core can keep its table of links current: a USB adapter
   * plugged in, a link renamed or deleted). Optional: without it the core re-reads listLinks().
   */
  watchLinks?(listener: (name: string, e: LinkEvent) => void): Disposable;
  setLinkUp(name: string, up: boolean): Promise<void>;
  /** IPv4 addresses on the link now. */
  getAddresses(name: string): Promise<Ipv4Address[]>;
  addAddress(name: string, a: Ipv4Address): Promise<void>;
  /** Removing an address that is not there resolves (idempotent). */
  removeAddress(name: string, a: Ipv4Address): Promise<void>;
  addRoute(name: string, r: Ipv4Route): Promise<void>;
  /** Removing a route that is not there resolves (idempotent). */
  removeRoute(name: string, r: Ipv4Route): Promise<void>;

  /**
   * A socket for a DHCP client: UDP port 68 on 0.0.0.0 bound to the device, broadcast
   * allowed, usable before the link has an address.
   */
  openDhcpSocket(name: string): Promise<UdpTransport>;
  /** A UDP socket bound to the device. */
  openUdp(name: string, options: UdpOptions): Promise<UdpTransport>;
  /**
   * The same, synchronously (socket, setsockopt and bind are synchronous system calls):
   * the impOS facade's openudp() must throw at once for a port in use. Optional.
   */
  openUdpSync?(name: string, options: UdpOptions): UdpTransport;

  /** The name of another network manager that manages this link, if any (NetworkManager, systemd-networkd, dhcpcd, dhclient…). */
  detectManager?(name: string): Promise<string | undefined>;

  /**
   * RFC 5227 address conflict detection: ARP-probes `address` on the link (sender IP
   * 0.0.0.0, to the broadcast MAC) for `timeoutMs` — `probes` of them (default 3) — and
   * resolves `inUse` with the answering host's MAC (`by`) as soon as another host claims
   * it. Nothing is put on the link. Optional: without it, addresses are used unprobed.
   * Linux needs CAP_NET_RAW (a PermissionError otherwise).
   */
  probeAddress?(name: string, address: string, options: { timeoutMs: number; probes?: number }): Promise<{ inUse: boolean; by?: string }>;
  /**
   * RFC 5227 §2.3, after a clean probe and once the address is on the link: ARP
   * announcements of `address` (sender IP = target IP = the address, to the broadcast MAC),
   * 2 of them, the first at once and the second 2 s later. Resolves when the last is sent,
   * or — `cancelled` — as soon as `signal` aborts (the address removed, the interface
   * closed) or the platform is disposed; rejects when sending fails (the link gone).
   * Optional: without it, nothing is announced.
   */
  announceAddress?(name: string, address: string, options?: { signal?: AbortSignal }): Promise<{ sent: number; cancelled: boolean }>;

  /** Starts (or attaches to) wpa_supplicant for a WiFi link. */
  openSupplicant?(name: string, options: SupplicantOptions): Promise<SupplicantControl>;
  /** Opens a modem's AT port. */
  openSerial?(device: string, options?: SerialOpenOptions): Promise<ByteStream>;
  /** Starts pppd on a dialled modem port. */
  startPpp?(options: PppOptions): Promise<PppLink>;

  /**
   * Opt-in: hands the link's DNS servers to the system resolver (systemd-resolved or
   * resolvconf). Returns the mechanism used, or undefined when none is present.
   */
  setDns?(name: string, servers: string[], options: { mechanism: 'resolved' | 'resolvconf' | 'auto'; domain?: string }): Promise<string | undefined>;
  /** Undoes setDns. */
  clearDns?(name: string): Promise<void>;

  /** Releases everything the platform holds. */
  dispose(): Promise<void>;
}
