/**
 * Decoders for wpa_supplicant's replies: STATUS, SCAN_RESULTS, ADD_NETWORK and the plain
 * OK/FAIL/PONG answers. Nothing here throws: a reply that cannot be read is reported as
 * `{ ok: false }` and a bad table row is counted and skipped.
 *
 * Formats (hostap 2.x, wpa_supplicant/ctrl_iface.c):
 * - STATUS: `key=value` lines, e.g. `wpa_state=COMPLETED`, `ssid=...` (printf_encode'd),
 *   `bssid=`, `freq=`, `id=`, `key_mgmt=`, `ip_address=`, `address=`.
 * - SCAN_RESULTS: the header `bssid / frequency / signal level / flags / ssid`, then one
 *   row per BSS: `MACSTR \t freq \t level \t [FLAGS][...] \t ssid` (ssid printf_encode'd).
 */
import { decodePrintfEscaped, ssidBytesToText } from './escaped-text.js';

/**
 * wpa_supplicant's states, in the order of `enum wpa_states` (src/common/defs.h), so
 * that the index is the number CTRL-EVENT-STATE-CHANGE reports (`state=9` = COMPLETED).
 */
export const WPA_STATES = [
  'DISCONNECTED',
  'INTERFACE_DISABLED',
  'INACTIVE',
  'SCANNING',
  'AUTHENTICATING',
  'ASSOCIATING',
  'ASSOCIATED',
  '4WAY_HANDSHAKE',
  'GROUP_HANDSHAKE',
  'COMPLETED',
] as const;

export type WpaState = (typeof WPA_STATES)[number];

const stateSet: ReadonlySet<string> = new Set(WPA_STATES);

export function isWpaState(value: unknown): value is WpaState {
  return typeof value === 'string' && stateSet.has(value);
}

/** The state for a CTRL-EVENT-STATE-CHANGE number, or undefined when out of range. */
export function wpaStateFromCode(code: number): WpaState | undefined {
  return Number.isInteger(code) ? WPA_STATES[code] : undefined;
}

/** States in which the supplicant is working on a connection (impOS WIFI_JOINING). */
export function isJoiningState(state: WpaState): boolean {
  return (
    state === 'AUTHENTICATING' ||
    state === 'ASSOCIATING' ||
    state === 'ASSOCIATED' ||
    state === '4WAY_HANDSHAKE' ||
    state === 'GROUP_HANDSHAKE'
  );
}

const MAC_RE = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;

/** A MAC address in lower case, or undefined if `text` is not one. */
export function parseMac(text: string | undefined): string | undefined {
  return text !== undefined && MAC_RE.test(text) ? text.toLowerCase() : undefined;
}

/** A decimal integer (optionally negative) or undefined; no partial parses like "3x". */
export function parseInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A STATUS reply, decoded. Unknown keys stay in `fields`. */
export interface SupplicantStatus {
  /** undefined when the reply has no wpa_state, or one this decoder does not know. */
  wpaState: WpaState | undefined;
  /** wpa_state as sent (also when unknown, e.g. a future state name). */
  wpaStateText: string | undefined;
  bssid?: string;
  freqMhz?: number;
  /** The SSID's bytes (printf escapes decoded). */
  ssid?: Uint8Array;
  /** The SSID as text (UTF-8, U+FFFD for undecodable bytes). */
  ssidText?: string;
  networkId?: number;
  idStr?: string;
  mode?: string;
  keyMgmt?: string;
  pairwiseCipher?: string;
  groupCipher?: string;
  ipAddress?: string;
  /** The interface's own MAC address. */
  address?: string;
  /** Every key=value line as sent (values not unescaped). */
  fields: ReadonlyMap<string, string>;
  /** Lines that were not key=value. */
  malformedLines: number;
}

export type ReplyResult<T> = { ok: true; value: T } | { ok: false; why: string };

function lines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Decodes a STATUS (or STATUS-VERBOSE) reply. */
export function decodeStatus(text: unknown): ReplyResult<SupplicantStatus> {
  if (typeof text !== 'string') return { ok: false, why: 'reply is not text' };
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'FAIL' || trimmed.startsWith('FAIL-') || trimmed === 'UNKNOWN COMMAND') {
    return { ok: false, why: 'supplicant refused STATUS' };
  }
  const fields = new Map<string, string>();
  let malformedLines = 0;
  for (const line of lines(text)) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z0-9_.-]+$/.test(line.slice(0, eq))) {
      malformedLines++;
      continue;
    }
    fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const wpaStateText = fields.get('wpa_state');
  if (wpaStateText === undefined) return { ok: false, why: 'reply has no wpa_state' };
  const status: SupplicantStatus = {
    wpaState: isWpaState(wpaStateText) ? wpaStateText : undefined,
    wpaStateText,
    fields,
    malformedLines,
  };
  const bssid = parseMac(fields.get('bssid'));
  if (bssid !== undefined) status.bssid = bssid;
  const freq = parseInteger(fields.get('freq'));
  if (freq !== undefined) status.freqMhz = freq;
  const ssid = fields.get('ssid');
  if (ssid !== undefined) {
    status.ssid = decodePrintfEscaped(ssid);
    status.ssidText = ssidBytesToText(status.ssid);
  }
  const id = parseInteger(fields.get('id'));
  if (id !== undefined) status.networkId = id;
  const idStr = fields.get('id_str');
  if (idStr !== undefined) status.idStr = idStr;
  const mode = fields.get('mode');
  if (mode !== undefined) status.mode = mode;
  const keyMgmt = fields.get('key_mgmt');
  if (keyMgmt !== undefined) status.keyMgmt = keyMgmt;
  const pairwise = fields.get('pairwise_cipher');
  if (pairwise !== undefined) status.pairwiseCipher = pairwise;
  const group = fields.get('group_cipher');
  if (group !== undefined) status.groupCipher = group;
  const ip = fields.get('ip_address');
  if (ip !== undefined) status.ipAddress = ip;
  const address = parseMac(fields.get('address'));
  if (address !== undefined) status.address = address;
  return { ok: true, value: status };
}

/** One row of SCAN_RESULTS. */
export interface ScanResult {
  bssid: string;
  freqMhz: number;
  /** dBm on most drivers (negative); some report a quality number. */
  signal: number;
  /** The bracketed flags without brackets: "WPA2-PSK-CCMP", "ESS", "WPS". */
  flags: string[];
  ssid: Uint8Array;
  ssidText: string;
}

export interface ScanResults {
  results: ScanResult[];
  malformedLines: number;
}

/** Decodes a SCAN_RESULTS reply. Rows that do not parse are counted and skipped. */
export function decodeScanResults(text: unknown): ReplyResult<ScanResults> {
  if (typeof text !== 'string') return { ok: false, why: 'reply is not text' };
  const all = lines(text);
  const header = all[0]?.trim();
  if (header === undefined || !header.startsWith('bssid / frequency')) {
    return { ok: false, why: 'reply has no SCAN_RESULTS header' };
  }
  const results: ScanResult[] = [];
  let malformedLines = 0;
  for (const line of all.slice(1)) {
    if (line === '') continue;
    // The SSID is the last column and may itself hold a tab only as "\t" (escaped).
    const cols = line.split('\t');
    if (cols.length < 4 || cols.length > 5) {
      malformedLines++;
      continue;
    }
    const [bssidText, freqText, signalText, flagsText, ssidText = ''] = cols;
    const bssid = parseMac(bssidText);
    const freqMhz = parseInteger(freqText);
    const signal = parseInteger(signalText);
    const flagsMatch = flagsText !== undefined && /^(?:\[[^\]]*\])*$/.test(flagsText);
    if (bssid === undefined || freqMhz === undefined || signal === undefined || !flagsMatch) {
      malformedLines++;
      continue;
    }
    const flags = [...(flagsText ?? '').matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
    const ssid = decodePrintfEscaped(ssidText);
    results.push({ bssid, freqMhz, signal, flags, ssid, ssidText: ssidBytesToText(ssid) });
  }
  return { ok: true, value: { results, malformedLines } };
}

/** A short reply to a command that does not return data. */
export type SimpleReply =
  | { kind: 'ok' }
  | { kind: 'pong' }
  /** "FAIL", or "FAIL-BUSY" etc. with `detail` = "BUSY". */
  | { kind: 'fail'; detail?: string }
  | { kind: 'unknown-command' }
  | { kind: 'other' };

export function decodeSimpleReply(text: unknown): SimpleReply {
  if (typeof text !== 'string') return { kind: 'other' };
  const t = text.trim();
  if (t === 'OK') return { kind: 'ok' };
  if (t === 'PONG') return { kind: 'pong' };
  if (t === 'FAIL') return { kind: 'fail' };
  if (t.startsWith('FAIL-') && /^FAIL-[A-Z0-9_-]{1,32}$/.test(t)) return { kind: 'fail', detail: t.slice(5) };
  if (t === 'UNKNOWN COMMAND') return { kind: 'unknown-command' };
  return { kind: 'other' };
}

/** The id ADD_NETWORK returned ("0\n"), or undefined on FAIL or anything else. */
export function decodeNetworkIdReply(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (!/^\d{1,10}$/.test(t)) return undefined;
  const n = Number(t);
  return n <= 0x7fffffff ? n : undefined;
}
