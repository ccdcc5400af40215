/**
 * The impOS facade: `imp.net` exactly as Electric Imp documents it (see docs/imp.md).
 *
 *   import { imp } from 'nicup/imp';
 *   const wifi = imp.net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } }, (state) => {
 *     if (state === imp.net.CONNECTED) { const udp = wifi.openudp(onData, 1234); … }
 *   });
 *
 * `imp` is created on first import with the default platform (NICUP_PLATFORM,
 * NICUP_SIM_SCENARIO) by 'nicup/imp'; `createImp(network)` makes one over a Network of your own.
 * Departures from impOS, each because Node is not Squirrel: data arrives as a Buffer (a
 * blob); interfaces and sockets have close() (impOS releases them when unreferenced —
 * nicup does that too, through a FinalizationRegistry, but explicit is better in Node).
 */
import { NetState, type NetStateValue, type SendErrorCode } from './states.js';
import { IMPOS_UDP_RULES, type UdpSocket, type UdpMessage } from './core/udp.js';
import type { NetInterface } from './core/interface.js';
import type { Network, NetInfo } from './core/network.js';
import { sealNic } from './sealing.js';
import type { IpTable } from './core/types.js';
import { ArgumentError, ClosedError, NotSupportedError } from './errors.js';

export type ImpStateCallback = (state: NetStateValue) => void;
export type ImpReceiveCallback = (fromAddress: string, fromPort: number, toAddress: string, toPort: number, data: Buffer) => void;

/** impOS udpsocket. */
export class ImpUdpSocket {
  #socket: UdpSocket;
  #callback: ImpReceiveCallback | null = null;

  /** @internal */
  constructor(socket: UdpSocket, callback: ImpReceiveCallback | null | undefined) {
    this.#socket = socket;
    socket.on('message', (m: UdpMessage) => this.#callback?.(m.fromAddress, m.fromPort, m.toAddress, m.toPort, m.data));
    socket.on('error', () => {}); // impOS reports send failures by return code only
    this.onreceive(callback ?? null);
  }

  /** Sends a datagram: 0, or a send error code (1 NOT_CONNECTED … 4 WOULDBLOCK). Throws for bad arguments or a closed socket. */
  send(address: string, port: number, data: string | Uint8Array): SendErrorCode {
    return this.#socket.send(address, port, data);
  }

  /** Sets (or with null, clears) the receive callback. */
  onreceive(callback: ImpReceiveCallback | null): void {
    if (this.#socket.closed) throw new ClosedError('udpsocket: socket is closed');
    if (callback !== null && typeof callback !== 'function') throw new TypeError('onreceive: callback must be a function or null');
    this.#callback = callback;
  }

  /** Frees the port; later calls throw; closing twice is harmless. */
  close(): void {
    void this.#socket.close();
  }

  /** nicup: the local port. */
  get localport(): number {
    return this.#socket.localPort;
  }
}

/** impOS interface object. */
export class ImpInterface {
  #iface: NetInterface;

  /** @internal */
  constructor(iface: NetInterface) {
    this.#iface = iface;
  }

  getstate(): NetStateValue {
    return this.#iface.state;
  }

  /** `{ ipv4: { address, broadcast, gateway, netmask, dhcpserver, dnsserver, proxy } }`; `{}` while not connected. */
  getiptable(): IpTable | Record<string, never> {
    return this.#iface.ipTable() ?? {};
  }

  /**
   * Opens a UDP socket on this interface. Throws on a cellular interface (as impOS does),
   * on an interface that is not up, and for a local port in use or outside 1024–65535.
   */
  openudp(callback?: ImpReceiveCallback | null, localPort?: number): ImpUdpSocket {
    if (this.#iface.kind === 'cell') throw new NotSupportedError("openudp: not available on a cellular interface (impOS rule; the modern API's iface.openUdp() allows it)");
    if (localPort !== undefined && (!Number.isInteger(localPort) || localPort < 1024 || localPort > 65535)) {
      throw new ArgumentError('localPort: must be an integer from 1024 to 65535', { field: 'localPort' });
    }
    const socket = this.#iface.openUdpNow({ ...(localPort !== undefined ? { port: localPort } : {}), rules: IMPOS_UDP_RULES });
    return new ImpUdpSocket(socket, callback);
  }

  /** nicup: releases the interface now (impOS releases it when unreferenced). */
  close(): void {
    finalizer.unregister(this.#iface);
    void this.#iface.close();
  }

  /** nicup: the modern interface object underneath. */
  get modern(): NetInterface {
    return this.#iface;
  }
}

const finalizer = new FinalizationRegistry<NetInterface>((iface) => void iface.close());

export interface ImpNet {
  open(nic: unknown, callback?: ImpStateCallback): ImpInterface;
  /** `{ interface: [{type, macaddress, name, state}], active?, ipv4?, lasterror? }`. */
  info(): NetInfo;
  /** Preferred order for default traffic: "ethernet", "wifi", "cell" or names; then Ethernet, WiFi, cellular. */
  setserverinterfaces(list: string[]): void;
  getserverinterfaces(): string[];
  /**
   * The NIC in use (of the interface carrying default traffic, or the one named), with the
   * WiFi key, proxy password and cellular PIN/password sealed with the per-device key.
   * Save this, not the plain NIC: open() accepts it back on this device. `{}` when none.
   */
  getcurrentconfig(ifname?: string): Record<string, unknown>;
  readonly UNKNOWN: -1;
  readonly STARTING: 0;
  readonly CONNECTED: 1;
  readonly WIFI_SCANNING: 100;
  readonly WIFI_JOINING: 101;
  readonly WIFI_WPSING: 102;
  readonly WIFI_LINK_UP: 103;
  readonly WIFI_DHCPING: 104;
  readonly WIFI_STOPPED: 105;
  readonly WIFI_STOPPED_UNHAPPY: 106;
  readonly ETHERNET_LINK_UP: 200;
  readonly ETHERNET_DHCPING: 201;
  readonly ETHERNET_STOPPED: 202;
  readonly ETHERNET_STOPPED_UNHAPPY: 203;
  readonly ETHERNET_STOPPED_NO_LINK: 204;
  readonly CELLULAR_PINGING: 300;
  readonly CELLULAR_WAITING_FOR_SIM: 301;
  readonly CELLULAR_PPP_CONNECTING: 302;
  readonly CELLULAR_REGISTERING: 303;
  readonly CELLULAR_REGISTRATION_DENIED: 304;
  readonly CELLULAR_STOPPED: 305;
  readonly CELLULAR_STOPPED_UNHAPPY: 306;
}

export interface Imp {
  net: ImpNet;
  /** nicup: the Network underneath. */
  readonly network: Network;
}

/** An impOS `imp` over a Network. */
export function createImp(network: Network): Imp {
  const net: ImpNet = {
    ...NetState,
    info: () => network.info(),
    setserverinterfaces(list: string[]): void {
      network.setServerInterfaces(list).catch(() => {});
    },
    getserverinterfaces: () => network.getServerInterfaces(),
    getcurrentconfig: (ifname?: string) => currentConfig(network, ifname),
    open(nic: unknown, callback?: ImpStateCallback): ImpInterface {
      if (callback !== undefined && typeof callback !== 'function') throw new TypeError('open: callback must be a function');
      const iface = network.open(nic, callback ? { onState: (s) => callback(s) } : {});
      const wrapper = new ImpInterface(iface);
      finalizer.register(wrapper, iface, iface);
      return wrapper;
    },
  };
  return { net, network };
}

function currentConfig(network: Network, ifname?: string): Record<string, unknown> {
  let name = ifname;
  if (name === undefined) {
    const info = network.info();
    name = info.active === undefined ? undefined : info.interface[info.active]?.name;
  }
  const nic = name === undefined ? undefined : network.nicInUse(name);
  return nic ? sealNic(nic) : {};
}

