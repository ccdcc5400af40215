/**
 * The impOS state constants (imp.net.*), their kinds, and the reasons that travel with
 * every state change. Values are impOS's own; code should compare with the names.
 */

export const NetState = {
  UNKNOWN: -1,
  STARTING: 0,
  CONNECTED: 1,
  WIFI_SCANNING: 100,
  WIFI_JOINING: 101,
  WIFI_WPSING: 102,
  WIFI_LINK_UP: 103,
  WIFI_DHCPING: 104,
  WIFI_STOPPED: 105,
  WIFI_STOPPED_UNHAPPY: 106,
  ETHERNET_LINK_UP: 200,
  ETHERNET_DHCPING: 201,
  ETHERNET_STOPPED: 202,
  ETHERNET_STOPPED_UNHAPPY: 203,
  ETHERNET_STOPPED_NO_LINK: 204,
  CELLULAR_PINGING: 300,
  CELLULAR_WAITING_FOR_SIM: 301,
  CELLULAR_PPP_CONNECTING: 302,
  CELLULAR_REGISTERING: 303,
  CELLULAR_REGISTRATION_DENIED: 304,
  CELLULAR_STOPPED: 305,
  CELLULAR_STOPPED_UNHAPPY: 306,
} as const;

export type NetStateName = keyof typeof NetState;
export type NetStateValue = (typeof NetState)[NetStateName];

/** The kind of interface a state belongs to. */
export type StateKind = 'common' | 'wifi' | 'ethernet' | 'cellular';

/** The send error codes of udpsocket.send (impOS server codes). */
export const SendError = {
  OK: 0,
  NOT_CONNECTED: 1,
  TIMEOUT: 2,
  DISCONNECTED: 3,
  WOULDBLOCK: 4,
} as const;
export type SendErrorCode = (typeof SendError)[keyof typeof SendError];

const names = new Map<number, NetStateName>(
  (Object.entries(NetState) as [NetStateName, NetStateValue][]).map(([k, v]) => [v, k]),
);

/** The impOS name of a state value, e.g. 204 → "ETHERNET_STOPPED_NO_LINK". */
export function stateName(value: number): NetStateName | undefined {
  return names.get(value);
}

export function isNetState(value: unknown): value is NetStateValue {
  return typeof value === 'number' && names.has(value);
}

export function stateKind(value: NetStateValue): StateKind {
  if (value >= 300) return 'cellular';
  if (value >= 200) return 'ethernet';
  if (value >= 100) return 'wifi';
  return 'common';
}

/**
 * Settled states: nothing more will happen without an outside change (cable, AP, user).
 * impOS sample code treats CONNECTED, 105–106, 202–204 and 304–306 as settled.
 */
export function isSettled(value: NetStateValue): boolean {
  return (
    value === NetState.CONNECTED ||
    value === NetState.WIFI_STOPPED ||
    value === NetState.WIFI_STOPPED_UNHAPPY ||
    value === NetState.ETHERNET_STOPPED ||
    value === NetState.ETHERNET_STOPPED_UNHAPPY ||
    value === NetState.ETHERNET_STOPPED_NO_LINK ||
    value === NetState.CELLULAR_REGISTRATION_DENIED ||
    value === NetState.CELLULAR_STOPPED ||
    value === NetState.CELLULAR_STOPPED_UNHAPPY
  );
}

/** States in which the interface is down for good until re-opened. */
export function isStopped(value: NetStateValue): boolean {
  return value === NetState.WIFI_STOPPED || value === NetState.ETHERNET_STOPPED || value === NetState.CELLULAR_STOPPED;
}

/**
 * Why a state changed. One table for every platform and kind; stable strings that
 * programs may switch on.
 */
export const Reason = {
  OPENED: 'opened',
  CLOSED_BY_USER: 'closed-by-user',
  RECONFIGURED: 'reconfigured',
  NO_CARRIER: 'no-carrier',
  CARRIER: 'carrier',
  INTERFACE_GONE: 'interface-gone',
  DHCP_STARTED: 'dhcp-started',
  DHCP_BOUND: 'dhcp-bound',
  DHCP_RENEWED: 'dhcp-renewed',
  DHCP_TIMEOUT: 'dhcp-timeout',
  DHCP_NAK: 'dhcp-nak',
  DHCP_LEASE_EXPIRED: 'dhcp-lease-expired',
  ADDRESS_CONFLICT: 'address-conflict',
  STATIC_APPLIED: 'static-applied',
  CONFIG_FAILED: 'config-failed',
  WIFI_SCANNING: 'wifi-scanning',
  WIFI_ASSOCIATING: 'wifi-associating',
  WIFI_ASSOCIATED: 'wifi-associated',
  WIFI_DISCONNECTED: 'wifi-disconnected',
  WRONG_KEY: 'wrong-key',
  AUTH_FAILED: 'auth-failed',
  ASSOC_REJECTED: 'assoc-rejected',
  NETWORK_NOT_FOUND: 'network-not-found',
  AP_LOST: 'ap-lost',
  SUPPLICANT_UNREACHABLE: 'supplicant-unreachable',
  SUPPLICANT_DIED: 'supplicant-died',
  WPS_STARTED: 'wps-started',
  WPS_FAILED: 'wps-failed',
  WPS_TIMEOUT: 'wps-timeout',
  DRIVER_FAILED: 'driver-failed',
  MODEM_PROBING: 'modem-probing',
  MODEM_SILENT: 'modem-silent',
  MODEM_ERROR: 'modem-error',
  SIM_MISSING: 'sim-missing',
  SIM_PIN_REQUIRED: 'sim-pin-required',
  SIM_PIN_WRONG: 'sim-pin-wrong',
  SIM_PUK_REQUIRED: 'sim-puk-required',
  REGISTERING: 'registering',
  REGISTRATION_DENIED: 'registration-denied',
  REGISTRATION_TIMEOUT: 'registration-timeout',
  PPP_DIALING: 'ppp-dialing',
  PPP_UP: 'ppp-up',
  PPP_FAILED: 'ppp-failed',
  NO_CARRIER_MODEM: 'modem-no-carrier',
  PPP_DROPPED: 'ppp-dropped',
  MANAGED_ELSEWHERE: 'managed-elsewhere',
  RETRY: 'retry',
} as const;
export type ReasonCode = (typeof Reason)[keyof typeof Reason];
