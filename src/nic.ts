/**
 * NIC (Network Interface Configuration): parse, validate, normalize, compare.
 * TYPES ARE THE CONTRACT; implementation in progress.
 */
import { NicError } from './errors.js';

/** The kind of an interface as the kernel (or the simulator) reports it. */
export type InterfaceKind = 'ethernet' | 'wifi' | 'cell';

/** A WiFi key after validation. Secrets live only in `passphrase`, `psk` and `blob`. */
export type WifiKey =
  | { kind: 'open' }
  /** 8–63 printable ASCII characters (IEEE 802.11i passphrase). */
  | { kind: 'passphrase'; passphrase: string }
  /** A raw 256-bit PSK as 64 lowercase hex digits. */
  | { kind: 'psk'; psk: string }
  /** A key sealed with the per-device key (opened by the sealing module). */
  | { kind: 'sealed'; blob: Uint8Array };

export interface WifiConfig {
  /** 1–32 bytes once UTF-8 encoded. */
  ssid: string;
  key: WifiKey;
  /** Scan for the SSID by name (hidden networks). Default false. nicup extension. */
  hidden: boolean;
  /** Use WPS push-button instead of a key (state WIFI_WPSING). nicup extension. */
  wps: boolean;
}

export interface StaticConfig {
  ip: string;
  netmask: string;
  /** Prefix length derived from netmask. */
  prefixLength: number;
  gateway?: string;
  /** One or two dotted quads. */
  dns: string[];
}

export interface ProxyConfig {
  type: 'http';
  address: string;
  port: number;
  username?: string;
  /** Plain, or sealed with the per-device key. */
  password?: string | { sealed: Uint8Array };
}

export interface CellConfig {
  apn: string;
  /** 4–8 digits, or sealed. */
  pin?: string | { sealed: Uint8Array };
  username?: string;
  password?: string | { sealed: Uint8Array };
  /** The modem's AT port, e.g. /dev/ttyUSB2. */
  device?: string;
}

/** A NIC after parseNic: every field validated and normalized. */
export interface Nic {
  interface: string;
  wificonfig?: WifiConfig;
  staticconfig?: StaticConfig;
  proxyconfig?: ProxyConfig;
  cellconfig?: CellConfig;
}

export function parseNic(_input: unknown): Nic {
  throw new NicError('nic', 'not implemented');
}
