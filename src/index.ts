/**
 * nicup — the impOS local-networking API for Node.js on Linux.
 * The modern API: `const net = await createNetwork(); const eth = net.open({ interface: 'eth0' });`
 * The impOS facade lives in 'nicup/imp'.
 */
import { Network, type NetworkOptions } from './core/network.js';
import { createPlatform, type CreatePlatformOptions } from './platform/select.js';
import { defaultLogger } from './core/log.js';

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
export { proxyDispatcher } from './proxy.js';
export { seal, unseal, sealNic, installSealing, keyFilePath, DEFAULT_KEY_FILE } from './sealing.js';
export type { SealedField, SealingOptions } from './sealing.js';
export type { ProxyDispatcher, ProxyDispatcherOptions, ProxyRequestOptions, ProxyResponse, ProxyTarget } from './proxy.js';
export type { Imp, ImpNet, ImpStateCallback, ImpReceiveCallback } from './imp-core.js';
