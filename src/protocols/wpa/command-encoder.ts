/**
 * Builds wpa_supplicant control-interface commands (one datagram each, no newline) and
 * the minimal wpa_supplicant.conf nicup starts the daemon with.
 *
 * How wpa_supplicant reads what we send (hostap 2.x, wpa_supplicant/ctrl_iface.c):
 * - one datagram is one command; nothing splits on newlines, so a CR or LF would become
 *   part of a value. We never send one.
 * - `SET_NETWORK <id> <name> <value>`: the id ends at the first space, the name at the
 *   second; the value is the whole rest of the datagram (spaces included).
 * - ssid: unquoted text is parsed as hex (wpa_config_parse_string), so we always send hex
 *   and no SSID byte can ever be read as syntax.
 * - psk: `"..."` is a passphrase: 8–63 characters between the first quote and the LAST
 *   quote (os_strrchr since 0.5), control characters refused since 2.6 (CVE-2016-4477).
 *   An inner `"` is therefore carried safely; we still allow only 0x20–0x7e (IEEE 802.11i
 *   H.4.1). Unquoted, psk must be exactly 64 hex digits (a raw PMK).
 *
 * Every command is checked once more before it leaves (`finish`): printable ASCII only,
 * so NUL, CR, LF and other control bytes cannot reach the socket.
 */
import { ArgumentError, NicError } from '../../errors.js';
import type { WifiConfig, WifiKey } from '../../nic.js';

/** One control command. `text` goes on the socket; `redacted` is the form for logs. */
export interface ControlCommand {
  /** The exact datagram payload (printable ASCII, no newline). */
  readonly text: string;
  /** Safe to log: equal to `text` unless the command carries a secret. */
  readonly redacted: string;
  /** True when `text` carries a secret (a passphrase or raw PSK). Never log `text` then. */
  readonly secret: boolean;
}

/** key_mgmt values nicup uses. */
export type KeyMgmt = 'WPA-PSK' | 'NONE';

/** A network id as ADD_NETWORK returned it, or every network. */
export type NetworkTarget = number | 'all';

/** Largest datagram wpa_supplicant reads (CTRL_IFACE_MAX_LEN is 4096 in 2.x; 8192 later). */
const MAX_COMMAND_LENGTH = 4000;
const SSID_MAX_BYTES = 32;
const MAC_RE = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;
const HEX64_RE = /^[0-9a-fA-F]{64}$/;
const PASSPHRASE_RE = /^[\x20-\x7e]{8,63}$/;
const LONE_SURROGATE_RE = /\p{Cs}/u;
const SAFE_COMMAND_RE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

const utf8 = new TextEncoder();

function finish(text: string, redacted?: string): ControlCommand {
  // Last line of defence: a command is one line of printable ASCII without edge spaces.
  if (text.length > MAX_COMMAND_LENGTH || !SAFE_COMMAND_RE.test(text)) {
    throw new ArgumentError('command: must be one line of printable ASCII (internal check)', { field: 'command' });
  }
  return redacted === undefined
    ? { text, redacted: text, secret: false }
    : { text, redacted, secret: true };
}

function networkId(id: number): string {
  // ctrl_iface parses ids with atoi(): keep to what a C int holds.
  if (!Number.isSafeInteger(id) || id < 0 || id > 0x7fffffff) {
    throw new ArgumentError('networkId: must be an integer from 0 to 2147483647', { field: 'networkId' });
  }
  return String(id);
}

function target(id: NetworkTarget): string {
  return id === 'all' ? 'all' : networkId(id);
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The SSID's bytes: a string is taken as UTF-8. Throws NicError on `wificonfig.ssid`. */
export function ssidBytes(ssid: string | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (typeof ssid === 'string') {
    if (LONE_SURROGATE_RE.test(ssid)) {
      throw new NicError('wificonfig.ssid', 'must be valid Unicode (no lone surrogate code units)');
    }
    bytes = utf8.encode(ssid);
  } else if (ssid instanceof Uint8Array) {
    bytes = ssid;
  } else {
    throw new NicError('wificonfig.ssid', 'must be a string or a Uint8Array');
  }
  if (bytes.length < 1 || bytes.length > SSID_MAX_BYTES) {
    throw new NicError('wificonfig.ssid', 'must be 1 to 32 bytes once UTF-8 encoded (IEEE 802.11)');
  }
  return bytes;
}

function frequencies(freqsMhz: readonly number[]): string {
  if (!Array.isArray(freqsMhz) || freqsMhz.length < 1 || freqsMhz.length > 64) {
    throw new ArgumentError('frequenciesMhz: must list 1 to 64 frequencies', { field: 'frequenciesMhz' });
  }
  for (const f of freqsMhz) {
    if (!Number.isInteger(f) || f < 1000 || f > 100000) {
      throw new ArgumentError('frequenciesMhz: each must be an integer number of MHz from 1000 to 100000', {
        field: 'frequenciesMhz',
      });
    }
  }
  // wpa_config_parse_int_array: space-separated integers, the rest of the datagram.
  return freqsMhz.join(' ');
}

function simple(name: string): ControlCommand {
  return finish(name);
}

/** Registers this socket for unsolicited events. Reply "OK". */
export const attach = (): ControlCommand => simple('ATTACH');
/** Stops events to this socket. Reply "OK". */
export const detach = (): ControlCommand => simple('DETACH');
/** Reply "PONG". */
export const ping = (): ControlCommand => simple('PING');
/** Reply: key=value lines (see status-decoder.ts). */
export const status = (): ControlCommand => simple('STATUS');
/** Requests a scan. Reply "OK" or "FAIL-BUSY". */
export const scan = (): ControlCommand => simple('SCAN');
/** Reply: the scan table (see status-decoder.ts). */
export const scanResults = (): ControlCommand => simple('SCAN_RESULTS');
/** Reply: the new network's id, e.g. "0". */
export const addNetwork = (): ControlCommand => simple('ADD_NETWORK');
/** Connects again if disconnected (after DISCONNECT). */
export const reconnect = (): ControlCommand => simple('RECONNECT');
/** Disconnects and stays so until RECONNECT/REASSOCIATE/SELECT_NETWORK. */
export const disconnect = (): ControlCommand => simple('DISCONNECT');
/** Forces a new association (also after DISCONNECT). */
export const reassociate = (): ControlCommand => simple('REASSOCIATE');
/** Stops a running WPS operation. */
export const wpsCancel = (): ControlCommand => simple('WPS_CANCEL');

/** Starts WPS push-button, with any AP or with one BSSID ("02:00:00:00:01:00"). */
export function wpsPbc(bssid?: string): ControlCommand {
  if (bssid === undefined) return simple('WPS_PBC');
  if (typeof bssid !== 'string' || !MAC_RE.test(bssid)) {
    throw new ArgumentError('bssid: must be a MAC address like 02:00:00:00:01:00', { field: 'bssid' });
  }
  return finish(`WPS_PBC ${bssid.toLowerCase()}`);
}

/** Selects one network and disables the others; clears its temporary disable. */
export function selectNetwork(id: number): ControlCommand {
  return finish(`SELECT_NETWORK ${networkId(id)}`);
}

export function enableNetwork(id: NetworkTarget): ControlCommand {
  return finish(`ENABLE_NETWORK ${target(id)}`);
}

export function disableNetwork(id: NetworkTarget): ControlCommand {
  return finish(`DISABLE_NETWORK ${target(id)}`);
}

export function removeNetwork(id: NetworkTarget): ControlCommand {
  return finish(`REMOVE_NETWORK ${target(id)}`);
}

/** `SET_NETWORK id ssid <hex>`: always hex, so every byte value is carried literally. */
export function setNetworkSsid(id: number, ssid: string | Uint8Array): ControlCommand {
  return finish(`SET_NETWORK ${networkId(id)} ssid ${toHex(ssidBytes(ssid))}`);
}

/** `SET_NETWORK id psk "<passphrase>"`. Secret: use `redacted` for logs. */
export function setNetworkPassphrase(id: number, passphrase: string): ControlCommand {
  const n = networkId(id);
  if (typeof passphrase !== 'string' || !PASSPHRASE_RE.test(passphrase)) {
    throw new NicError('wificonfig.key', 'a passphrase must be 8 to 63 printable ASCII characters (0x20-0x7e)');
  }
  return finish(`SET_NETWORK ${n} psk "${passphrase}"`, `SET_NETWORK ${n} psk [redacted]`);
}

/** `SET_NETWORK id psk <64 hex>` (a raw PMK). Secret: use `redacted` for logs. */
export function setNetworkRawPsk(id: number, psk: string): ControlCommand {
  const n = networkId(id);
  if (typeof psk !== 'string' || !HEX64_RE.test(psk)) {
    throw new NicError('wificonfig.key', 'a raw PSK must be exactly 64 hexadecimal digits');
  }
  return finish(`SET_NETWORK ${n} psk ${psk.toLowerCase()}`, `SET_NETWORK ${n} psk [redacted]`);
}

export function setNetworkKeyMgmt(id: number, keyMgmt: KeyMgmt): ControlCommand {
  if (keyMgmt !== 'WPA-PSK' && keyMgmt !== 'NONE') {
    throw new ArgumentError('keyMgmt: must be "WPA-PSK" or "NONE"', { field: 'keyMgmt' });
  }
  return finish(`SET_NETWORK ${networkId(id)} key_mgmt ${keyMgmt}`);
}

/** scan_ssid 1 probes for the SSID by name: needed for hidden networks. */
export function setNetworkScanSsid(id: number, on: boolean): ControlCommand {
  return finish(`SET_NETWORK ${networkId(id)} scan_ssid ${on ? 1 : 0}`);
}

/**
 * Network `scan_freq`: scan only these channels when looking for this network. With
 * mac80211_hwsim a full scan takes ~9 s, a pinned one ~0.5 s (lab notes).
 */
export function setNetworkScanFreq(id: number, freqsMhz: readonly number[]): ControlCommand {
  return finish(`SET_NETWORK ${networkId(id)} scan_freq ${frequencies(freqsMhz)}`);
}

/** Network `freq_list`: only BSSes on these channels may be selected. */
export function setNetworkFreqList(id: number, freqsMhz: readonly number[]): ControlCommand {
  return finish(`SET_NETWORK ${networkId(id)} freq_list ${frequencies(freqsMhz)}`);
}

/**
 * Global `freq_list` (SET freq_list ...): limits every scan of this interface. Note that
 * `scan_freq` is a network field, not a global one: `SET scan_freq` fails.
 */
export function setGlobalFreqList(freqsMhz: readonly number[]): ControlCommand {
  return finish(`SET freq_list ${frequencies(freqsMhz)}`);
}

/** Global `country` (ISO 3166-1 alpha-2), which sets the regulatory domain. */
export function setCountry(code: string): ControlCommand {
  if (typeof code !== 'string' || !/^[A-Z]{2}$/.test(code)) {
    throw new ArgumentError('country: must be two upper-case letters (ISO 3166-1 alpha-2)', { field: 'country' });
  }
  return finish(`SET country ${code}`);
}

/**
 * Any other global `SET <name> <value>`. The name is a config field name; the value is
 * printable ASCII (ctrl_iface takes everything after the first space as the value).
 * Not for secrets: the command is logged as is.
 */
export function setGlobal(name: string, value: string): ControlCommand {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_]{0,63}$/.test(name)) {
    throw new ArgumentError('name: must be a wpa_supplicant field name (a-z, 0-9, _)', { field: 'name' });
  }
  if (typeof value !== 'string' || !/^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/.test(value)) {
    throw new ArgumentError('value: must be 1 to 256 printable ASCII characters without edge spaces', {
      field: 'value',
    });
  }
  return finish(`SET ${name} ${value}`);
}

/** Options for networkSetupCommands. */
export interface NetworkSetupOptions {
  /** Pin the network to these channels (scan_freq and freq_list). */
  frequenciesMhz?: readonly number[];
}

/** The key's commands: key_mgmt, then psk when there is one. */
export function setNetworkKey(id: number, key: WifiKey): ControlCommand[] {
  switch (key?.kind) {
    case 'open':
      return [setNetworkKeyMgmt(id, 'NONE')];
    case 'passphrase':
      return [setNetworkKeyMgmt(id, 'WPA-PSK'), setNetworkPassphrase(id, key.passphrase)];
    case 'psk':
      return [setNetworkKeyMgmt(id, 'WPA-PSK'), setNetworkRawPsk(id, key.psk)];
    case 'sealed':
      throw new NicError('wificonfig.key', 'a sealed key must be opened before it is given to wpa_supplicant');
    default:
      throw new NicError('wificonfig.key', 'must be an open, passphrase or psk key');
  }
}

/**
 * Everything after ADD_NETWORK for one network, in order: ssid, key_mgmt, psk, scan_ssid,
 * scan_freq/freq_list. Validation runs for all of them before any is returned, so a bad
 * key never leaves a half-configured network. Enable it afterwards with SELECT_NETWORK.
 */
export function networkSetupCommands(
  id: number,
  wifi: Pick<WifiConfig, 'ssid' | 'key' | 'hidden'>,
  options: NetworkSetupOptions = {},
): ControlCommand[] {
  const commands = [setNetworkSsid(id, wifi.ssid), ...setNetworkKey(id, wifi.key)];
  if (wifi.hidden) commands.push(setNetworkScanSsid(id, true));
  if (options.frequenciesMhz !== undefined) {
    commands.push(setNetworkScanFreq(id, options.frequenciesMhz), setNetworkFreqList(id, options.frequenciesMhz));
  }
  return commands;
}

/** Options for renderSupplicantConf. */
export interface SupplicantConfOptions {
  /** Directory of the control sockets (wpa_supplicant creates DIR/<ifname>). Absolute. */
  controlDir: string;
  /** 1 (default in wpa_supplicant): the supplicant scans and selects; 0 or 2 for drivers that do it. */
  apScan?: 0 | 1 | 2;
  /** Regulatory domain, ISO 3166-1 alpha-2. */
  country?: string;
}

/**
 * A wpa_supplicant.conf with no network blocks: networks are added over the control
 * socket, so keys never land in a file. update_config=0 keeps the daemon from writing
 * them back.
 */
export function renderSupplicantConf(options: SupplicantConfOptions): string {
  const dir = options?.controlDir;
  // sun_path is 108 bytes and the socket is DIR/<ifname up to 15>: keep DIR short. The
  // character set keeps the line free of '#', quotes and spaces, which the parser treats
  // specially (ctrl_interface also accepts "DIR=... GROUP=...").
  if (typeof dir !== 'string' || !/^\/[A-Za-z0-9._/-]{0,89}$/.test(dir) || dir.includes('//')) {
    throw new ArgumentError('controlDir: must be an absolute path of at most 90 characters from A-Z a-z 0-9 . _ - /', {
      field: 'controlDir',
    });
  }
  const lines = ['# Written by nicup. Networks are added over the control socket.', `ctrl_interface=${dir}`, 'update_config=0'];
  if (options.apScan !== undefined) {
    if (options.apScan !== 0 && options.apScan !== 1 && options.apScan !== 2) {
      throw new ArgumentError('apScan: must be 0, 1 or 2', { field: 'apScan' });
    }
    lines.push(`ap_scan=${options.apScan}`);
  }
  if (options.country !== undefined) {
    if (typeof options.country !== 'string' || !/^[A-Z]{2}$/.test(options.country)) {
      throw new ArgumentError('country: must be two upper-case letters (ISO 3166-1 alpha-2)', { field: 'country' });
    }
    lines.push(`country=${options.country}`);
  }
  return lines.join('\n') + '\n';
}
