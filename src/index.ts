/**
 * nicup — the impOS local-networking API for Node.js on Linux.
 * The modern API: `const net = await createNetwork(); const eth = net.open({ interface: 'eth0' });`
 * The impOS facade lives in 'nicup/imp'.
 */
import { Network, type NetworkOptions } from './core/network.js';
import { createPlatform, type CreatePlatformOptions } from './platform/select.js';
import { defaultLogger } from './core/log.js';
import type { NetInterface } from './core/interface.js';
import type { ProxyDispatcher, ProxyDispatcherOptions } from './proxy.js';
import { PlatformError } from './errors.js';

export { NetState, Reason, SendError, stateName, stateKind, isSettled, isStopped, isNetState } from './states.js';
export type { NetStateName, NetStateValue, ReasonCode, StateKind, SendErrorCode } from './states.js';
export * from './errors.js';
export { parseNic, checkApplicable, nicEquals, redactNic, isAttachOnly } from './nic.js';
export type { Nic, WifiConfig, WifiKey, StaticConfig, ProxyConfig, CellConfig, InterfaceKind } from './nic.js';
export { Network } from './core/network.js';
export type { NetworkOptions, OpenOptions } from './core/network.js';
export { NetInterface } from './core/interface.js';
export type { ConnectedOptions, NetInterfaceEvents } from './core/interface.js';
export { UdpSocket, IMPOS_UDP_RULES, MAX_UDP_PAYLOAD } from './core/udp.js';
export type { UdpMessage, UdpRules, UdpSocketOptions } from './core/udp.js';
export type { StateChange, IpTable, Ipv4Config } from './core/types.js';
export type { DriverOptions, Driver, DriverContext, DriverFactory, DriverSink } from './core/session.js';
export { choosePlatform, createPlatform, canConfigureLinks } from './platform/select.js';
export type { PlatformName, CreatePlatformOptions } from './platform/select.js';
export type * from './platform/contract.js';
export { VirtualClock, realClock } from './core/clock.js';
export type { Clock } from './core/clock.js';
export type { Logger } from './core/log.js';

export interface CreateNetworkOptions extends CreatePlatformOptions, NetworkOptions {}

/** Creates a Network on the chosen platform (see choosePlatform) and loads its links. */
export async function createNetwork(options: CreateNetworkOptions = {}): Promise<Network> {
  const logger = options.logger ?? defaultLogger();
  const platform = await createPlatform({ ...options, logger });
  return Network.create(platform, { ...options, logger });
}
export { createImp, ImpInterface, ImpUdpSocket } from './imp-core.js';

/**
 * An HTTP(S) dispatcher through `iface`'s proxyconfig proxy (proxy.ts). Throws ArgumentError
 * when the interface has no proxyconfig, ClosedError when the handle is closed,
 * SealedKeyError when a sealed password cannot be opened on this device. The interface need
 * not be CONNECTED yet: each connection checks (InterfaceNotUpError).
 */
export async function proxyDispatcher(iface: NetInterface, options: ProxyDispatcherOptions = {}): Promise<ProxyDispatcher> {
  // Loaded on first use: node:http, node:https and node:tls are RSS that programs without a proxy never need.
  let proxy: typeof import('./proxy.js');
  try {
    proxy = await import('./proxy.js');
  } catch (e) {
    throw new PlatformError(`proxyDispatcher: cannot load the proxy module: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return proxy.proxyDispatcher(iface, options);
}

export { seal, unseal, sealNic, installSealing, keyFilePath, DEFAULT_KEY_FILE } from './sealing.js';
export type { SealedField, SealingOptions } from './sealing.js';
export type { ProxyDispatcher, ProxyDispatcherOptions, ProxyRequestOptions, ProxyResponse, ProxyTarget } from './proxy.js';
export type { Imp, ImpNet, ImpStateCallback, ImpReceiveCallback } from './imp-core.js';
