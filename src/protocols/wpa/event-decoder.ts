/**
 * Decodes wpa_supplicant's unsolicited control-interface lines ("<3>CTRL-EVENT-...") into
 * typed events. Never throws: a line that cannot be read becomes `{ type: 'malformed' }`,
 * an event this decoder does not know becomes `{ type: 'unknown', name }`.
 *
 * Line format (hostap 2.x, wpa_supplicant/ctrl_iface_unix.c): `<level>text`, where level
 * is MSG_EXCESSIVE 0 … MSG_ERROR 5 (src/utils/wpa_debug.h); on the global control socket
 * the line starts with `IFNAME=<ifname> `. Event names and arguments come from
 * src/common/wpa_ctrl.h and the wpa_msg() calls quoted beside each case below.
 *
 * Decoded events never carry secrets: payloads that can hold keys (WPS-CRED-RECEIVED's
 * credential, DPP passwords, P2P group passphrases) are dropped, and `unknown` keeps only
 * the event name. Use `redactEventLine` before logging a raw line.
 */
import { decodePrintfEscaped, ssidBytesToText } from './escaped-text.js';
import { parseInteger, parseMac, wpaStateFromCode, type WpaState } from './status-decoder.js';

/** wpa_debug.h message levels, as they appear in `<N>`. */
export const WpaLevel = {
  EXCESSIVE: 0,
  MSGDUMP: 1,
  DEBUG: 2,
  INFO: 3,
  WARNING: 4,
  ERROR: 5,
} as const;

interface Common {
  /** The `<N>` priority (0–5; 3 = MSG_INFO for nearly every event). */
  level: number;
  /** Set when the line came through the global control socket (`IFNAME=wlan0 <3>...`). */
  ifname?: string;
}

interface SsidField {
  /** The SSID's bytes, printf escapes decoded. */
  ssid: Uint8Array;
  /** The same as text (UTF-8, U+FFFD for undecodable bytes). */
  ssidText: string;
}

export type WpaEvent =
  /** `CTRL-EVENT-CONNECTED - Connection to <bssid> completed [id=0 id_str=]` */
  | (Common & { type: 'connected'; bssid?: string; networkId?: number; idStr?: string })
  /** `CTRL-EVENT-DISCONNECTED bssid=<bssid> reason=3 locally_generated=1` */
  | (Common & { type: 'disconnected'; bssid?: string; reasonCode?: number; locallyGenerated: boolean })
  /** `CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="x" auth_failures=1 duration=10 reason=WRONG_KEY` */
  | (Common &
      Partial<SsidField> & {
        type: 'ssid-temp-disabled';
        networkId: number;
        authFailures?: number;
        durationS?: number;
        /** WRONG_KEY, AUTH_FAILED, CONN_FAILED, EAP_FAILURE, … as sent. */
        reason: string;
      })
  /** `CTRL-EVENT-SSID-REENABLED id=0 ssid="x"` */
  | (Common & Partial<SsidField> & { type: 'ssid-reenabled'; networkId: number })
  /** `CTRL-EVENT-NETWORK-NOT-FOUND - no suitable network found` */
  | (Common & { type: 'network-not-found' })
  /** `CTRL-EVENT-ASSOC-REJECT bssid=<bssid> status_code=17 [timeout[=reason]]` */
  | (Common & { type: 'assoc-reject'; bssid?: string; statusCode?: number; timedOut: boolean })
  /** `CTRL-EVENT-AUTH-REJECT <bssid> auth_type=0 auth_transaction=2 status_code=1` */
  | (Common & {
      type: 'auth-reject';
      bssid?: string;
      authType?: number;
      authTransaction?: number;
      statusCode?: number;
    })
  | (Common & { type: 'scan-started' })
  | (Common & { type: 'scan-results' })
  /** `CTRL-EVENT-SCAN-FAILED ret=-16 retry=1` */
  | (Common & { type: 'scan-failed'; ret?: number })
  /** `CTRL-EVENT-STATE-CHANGE id=0 state=9 BSSID=<bssid> SSID=x` (Android builds only) */
  | (Common &
      Partial<SsidField> & {
        type: 'state-change';
        networkId?: number;
        stateCode: number;
        /** undefined when the number is outside enum wpa_states. */
        state: WpaState | undefined;
        bssid?: string;
      })
  | (Common & { type: 'terminating' })
  /** `Trying to associate with <bssid> (SSID='x' freq=2412 MHz)` */
  | (Common & Partial<SsidField> & { type: 'trying-to-associate'; bssid?: string; freqMhz?: number })
  /** `Associated with <bssid>` */
  | (Common & { type: 'associated'; bssid?: string })
  /** `WPA: Key negotiation completed with <bssid> [PTK=CCMP GTK=CCMP]` */
  | (Common & { type: 'key-negotiation-completed'; bssid?: string; pairwiseCipher?: string; groupCipher?: string })
  /** `WPA: 4-Way Handshake failed - pre-shared key may be incorrect` */
  | (Common & { type: 'handshake-failed' })
  /** `Authentication with <bssid> timed out.` */
  | (Common & { type: 'auth-timeout'; bssid?: string })
  | (Common & { type: 'wps-pbc-active' })
  | (Common & { type: 'wps-pbc-disable' })
  | (Common & { type: 'wps-success' })
  /** `WPS-FAIL msg=8 config_error=18 [reason=2 (...)]` */
  | (Common & { type: 'wps-fail'; msg?: number; configError?: number; reasonCode?: number })
  | (Common & { type: 'wps-timeout' })
  | (Common & { type: 'wps-overlap-detected' })
  /** `WPS-CRED-RECEIVED [hex credential]`: the credential holds the key and is dropped. */
  | (Common & { type: 'wps-cred-received' })
  /** `CTRL-EVENT-BSS-ADDED 34 02:00:00:00:01:00` */
  | (Common & { type: 'bss-added'; bssEntryId: number; bssid: string })
  | (Common & { type: 'bss-removed'; bssEntryId: number; bssid: string })
  /** An event this decoder does not interpret. Only the name is kept. */
  | (Common & { type: 'unknown'; name: string })
  /** A line that is not an event line, or a known event whose arguments do not parse. */
  | { type: 'malformed'; why: string; level?: number; ifname?: string; name?: string };

export type WpaEventType = WpaEvent['type'];

/** Events whose arguments can carry keys, passwords or credentials. */
const SECRET_EVENTS = new Set([
  'WPS-CRED-RECEIVED',
  'WPS-ER-AP-SETTINGS',
  'WPS-NEW-AP-SETTINGS',
  'DPP-CONFOBJ-PASS',
  'DPP-CONFOBJ-PSK',
  'DPP-NET-ACCESS-KEY',
  'P2P-GROUP-STARTED',
]);

const MAX_LINE = 4096;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const IFNAME_RE = /^IFNAME=([^\s<>]{1,32}) /;

interface Envelope {
  level: number;
  ifname?: string;
  body: string;
}

function envelope(line: string): Envelope | string {
  let rest = line;
  let ifname: string | undefined;
  const ifm = IFNAME_RE.exec(rest);
  if (ifm) {
    ifname = ifm[1];
    rest = rest.slice(ifm[0].length);
  }
  const lm = /^<([0-5])>/.exec(rest);
  if (!lm) return 'no <level> prefix';
  const body = rest.slice(lm[0].length);
  if (body.trim() === '') return 'empty event';
  const env: Envelope = { level: Number(lm[1]), body };
  if (ifname !== undefined) env.ifname = ifname;
  return env;
}

interface Args {
  kv: Map<string, string>;
  words: string[];
  /** False when a quoted value was not closed. */
  complete: boolean;
}

/**
 * Splits `a=1 ssid="x y" timeout` into key/values and bare words. A quoted value ends at
 * an unescaped `"` followed by a space or the end: printf_encode escapes `"` as `\"`,
 * and old releases that did not escape still come through when the SSID has no `" `.
 * Quoted values are returned as sent (escapes not decoded).
 */
function parseArgs(text: string): Args {
  const kv = new Map<string, string>();
  const words: string[] = [];
  let complete = true;
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    const start = i;
    while (i < text.length && text[i] !== ' ' && text[i] !== '=' && text[i] !== '"') i++;
    if (text[i] === '=') {
      const key = text.slice(start, i);
      i++;
      if (text[i] === '"') {
        i++;
        const vstart = i;
        let end = -1;
        for (let j = i; j < text.length; j++) {
          if (text[j] === '\\') {
            j++;
            continue;
          }
          if (text[j] === '"' && (j + 1 === text.length || text[j + 1] === ' ')) {
            end = j;
            break;
          }
        }
        if (end < 0) {
          complete = false;
          kv.set(key, text.slice(vstart));
          break;
        }
        kv.set(key, text.slice(vstart, end));
        i = end + 1;
      } else {
        const vstart = i;
        while (i < text.length && text[i] !== ' ') i++;
        kv.set(key, text.slice(vstart, i));
      }
    } else {
      while (i < text.length && text[i] !== ' ') i++;
      words.push(text.slice(start, i));
    }
  }
  return { kv, words, complete };
}

function ssidFields(escaped: string | undefined): Partial<SsidField> {
  if (escaped === undefined) return {};
  const ssid = decodePrintfEscaped(escaped);
  return { ssid, ssidText: ssidBytesToText(ssid) };
}

/** Copies the defined values of `extra` onto `base` (keeps `undefined` out of events). */
function withDefined<T extends object>(base: T, extra: object): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out as T;
}

function decodeMessage(common: Common, body: string): WpaEvent | undefined {
  // wpa_supplicant.c wpa_supplicant_associate(): "Trying to associate with " MACSTR
  // " (SSID='%s' freq=%d MHz)"; the SSID is printf_encode'd but `'` is not escaped, so
  // the greedy match takes the last "' freq=". Android builds: "... with SSID '%s'".
  if (body.startsWith('Trying to associate with ')) {
    const rest = body.slice('Trying to associate with '.length);
    const m = /^(\S+) \(SSID='(.*)' freq=(\d+) MHz\)$/.exec(rest);
    if (m) {
      return withDefined(
        { ...common, type: 'trying-to-associate' as const },
        { bssid: parseMac(m[1]), freqMhz: parseInteger(m[3]), ...ssidFields(m[2]) },
      );
    }
    const a = /^SSID '(.*)'$/.exec(rest);
    if (a) return withDefined({ ...common, type: 'trying-to-associate' as const }, ssidFields(a[1]));
    return withDefined({ ...common, type: 'trying-to-associate' as const }, { bssid: parseMac(rest.split(' ')[0]) });
  }
  // events.c: "Associated with " MACSTR
  if (body.startsWith('Associated with ')) {
    return withDefined({ ...common, type: 'associated' as const }, { bssid: parseMac(body.slice(16).trim()) });
  }
  // rsn_supp/wpa.c: "WPA: Key negotiation completed with " MACSTR " [PTK=%s GTK=%s]"
  if (body.startsWith('WPA: Key negotiation completed with ')) {
    const m = /^(\S+)(?: \[PTK=(\S*) GTK=(\S*)\])?/.exec(body.slice(36));
    return withDefined(
      { ...common, type: 'key-negotiation-completed' as const },
      { bssid: parseMac(m?.[1]), pairwiseCipher: m?.[2] || undefined, groupCipher: m?.[3] || undefined },
    );
  }
  // events.c: "WPA: 4-Way Handshake failed - pre-shared key may be incorrect"
  if (body.startsWith('WPA: 4-Way Handshake failed')) return { ...common, type: 'handshake-failed' };
  // sme.c: "Authentication with " MACSTR " timed out."
  const at = /^Authentication with (\S+) timed out\.?$/.exec(body);
  if (at) return withDefined({ ...common, type: 'auth-timeout' as const }, { bssid: parseMac(at[1]) });
  return undefined;
}

function malformed(why: string, common: Partial<Common>, name?: string): WpaEvent {
  return withDefined({ type: 'malformed' as const, why }, { ...common, name });
}

function decodeNamed(common: Common, name: string, argText: string): WpaEvent {
  switch (name) {
    case 'CTRL-EVENT-CONNECTED': {
      // "- Connection to " MACSTR " completed [id=%d id_str=%s]"; Android and old
      // releases put "(auth)"/"(reauth)" before the brackets.
      const bssid = /Connection to (\S+)/.exec(argText)?.[1];
      const ids = /\[id=(-?\d+) id_str=([^\]]*)\]/.exec(argText);
      return withDefined(
        { ...common, type: 'connected' as const },
        { bssid: parseMac(bssid), networkId: parseInteger(ids?.[1]), idStr: ids ? ids[2] : undefined },
      );
    }
    case 'CTRL-EVENT-DISCONNECTED': {
      // events.c: "bssid=" MACSTR " reason=%d%s" (+ " locally_generated=1"); releases
      // before 1.0 printed "- Disconnect event - remove keys" without arguments.
      const { kv } = parseArgs(argText);
      return withDefined(
        { ...common, type: 'disconnected' as const, locallyGenerated: kv.get('locally_generated') === '1' },
        { bssid: parseMac(kv.get('bssid')), reasonCode: parseInteger(kv.get('reason')) },
      );
    }
    case 'CTRL-EVENT-SSID-TEMP-DISABLED': {
      // wpa_supplicant.c wpas_auth_failed(): "id=%d ssid=\"%s\" auth_failures=%u
      // duration=%d reason=%s"
      const { kv, complete } = parseArgs(argText);
      const networkId = parseInteger(kv.get('id'));
      const reason = kv.get('reason');
      if (!complete || networkId === undefined || reason === undefined || reason === '') {
        return malformed('temp-disabled without id or reason', common, name);
      }
      return withDefined(
        { ...common, type: 'ssid-temp-disabled' as const, networkId, reason },
        {
          authFailures: parseInteger(kv.get('auth_failures')),
          durationS: parseInteger(kv.get('duration')),
          ...ssidFields(kv.get('ssid')),
        },
      );
    }
    case 'CTRL-EVENT-SSID-REENABLED': {
      // wpa_supplicant.c wpas_clear_temp_disabled(): "id=%d ssid=\"%s\""
      const { kv, complete } = parseArgs(argText);
      const networkId = parseInteger(kv.get('id'));
      if (!complete || networkId === undefined) return malformed('reenabled without id', common, name);
      return withDefined({ ...common, type: 'ssid-reenabled' as const, networkId }, ssidFields(kv.get('ssid')));
    }
    case 'CTRL-EVENT-NETWORK-NOT-FOUND':
      return { ...common, type: 'network-not-found' };
    case 'CTRL-EVENT-ASSOC-REJECT': {
      // events.c: "bssid=" MACSTR " status_code=%u%s%s%s" (" timeout", "=<reason>")
      const { kv, words } = parseArgs(argText);
      return withDefined(
        { ...common, type: 'assoc-reject' as const, timedOut: words.includes('timeout') || kv.has('timeout') },
        { bssid: parseMac(kv.get('bssid')), statusCode: parseInteger(kv.get('status_code')) },
      );
    }
    case 'CTRL-EVENT-AUTH-REJECT': {
      // sme.c: MACSTR " auth_type=%u auth_transaction=%u status_code=%u"
      const { kv, words } = parseArgs(argText);
      return withDefined(
        { ...common, type: 'auth-reject' as const },
        {
          bssid: parseMac(words[0]),
          authType: parseInteger(kv.get('auth_type')),
          authTransaction: parseInteger(kv.get('auth_transaction')),
          statusCode: parseInteger(kv.get('status_code')),
        },
      );
    }
    case 'CTRL-EVENT-SCAN-STARTED':
      return { ...common, type: 'scan-started' };
    case 'CTRL-EVENT-SCAN-RESULTS':
      return { ...common, type: 'scan-results' };
    case 'CTRL-EVENT-SCAN-FAILED': {
      const { kv } = parseArgs(argText);
      return withDefined({ ...common, type: 'scan-failed' as const }, { ret: parseInteger(kv.get('ret')) });
    }
    case 'CTRL-EVENT-STATE-CHANGE': {
      // Android: "id=%d state=%d BSSID=" MACSTR " SSID=%s" (SSID unquoted, last).
      const ssidAt = argText.indexOf(' SSID=');
      const head = ssidAt >= 0 ? argText.slice(0, ssidAt) : argText;
      const { kv } = parseArgs(head);
      const stateCode = parseInteger(kv.get('state'));
      if (stateCode === undefined) return malformed('state-change without state', common, name);
      return withDefined(
        { ...common, type: 'state-change' as const, stateCode, state: wpaStateFromCode(stateCode) },
        {
          networkId: parseInteger(kv.get('id')),
          bssid: parseMac(kv.get('BSSID')),
          ...(ssidAt >= 0 ? ssidFields(argText.slice(ssidAt + 6)) : {}),
        },
      );
    }
    case 'CTRL-EVENT-TERMINATING':
      return { ...common, type: 'terminating' };
    case 'CTRL-EVENT-BSS-ADDED':
    case 'CTRL-EVENT-BSS-REMOVED': {
      // bss.c: "%u " MACSTR
      const m = /^(\d{1,10}) (\S+)/.exec(argText);
      const bssEntryId = parseInteger(m?.[1]);
      const bssid = parseMac(m?.[2]);
      if (bssEntryId === undefined || bssid === undefined) return malformed('BSS event without id and bssid', common, name);
      return { ...common, type: name === 'CTRL-EVENT-BSS-ADDED' ? 'bss-added' : 'bss-removed', bssEntryId, bssid };
    }
    case 'WPS-PBC-ACTIVE':
      return { ...common, type: 'wps-pbc-active' };
    case 'WPS-PBC-DISABLE':
      return { ...common, type: 'wps-pbc-disable' };
    case 'WPS-SUCCESS':
      return { ...common, type: 'wps-success' };
    case 'WPS-FAIL': {
      // wps_supplicant.c: "msg=%d config_error=%d reason=%d (%s)" or "msg=%d config_error=%d"
      const { kv } = parseArgs(argText);
      return withDefined(
        { ...common, type: 'wps-fail' as const },
        {
          msg: parseInteger(kv.get('msg')),
          configError: parseInteger(kv.get('config_error')),
          reasonCode: parseInteger(kv.get('reason')),
        },
      );
    }
    case 'WPS-TIMEOUT':
      return { ...common, type: 'wps-timeout' };
    case 'WPS-OVERLAP-DETECTED':
      return { ...common, type: 'wps-overlap-detected' };
    case 'WPS-CRED-RECEIVED':
      return { ...common, type: 'wps-cred-received' };
    default:
      return { ...common, type: 'unknown', name };
  }
}

function decodeUnsafe(line: unknown): WpaEvent {
  if (typeof line !== 'string') return malformed('not a string', {});
  let text = line;
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.length > MAX_LINE) return malformed('line too long', {});
  if (/[\0\n\r]/.test(text)) return malformed('control character inside the line', {});
  const env = envelope(text);
  if (typeof env === 'string') return malformed(env, {});
  const common: Common = env.ifname === undefined ? { level: env.level } : { level: env.level, ifname: env.ifname };
  const message = decodeMessage(common, env.body);
  if (message) return message;
  const space = env.body.indexOf(' ');
  const name = space < 0 ? env.body : env.body.slice(0, space);
  if (!NAME_RE.test(name)) return malformed('bad event name', common);
  return decodeNamed(common, name, space < 0 ? '' : env.body.slice(space + 1));
}

/** Decodes one event line. Never throws. */
export function decodeEventLine(line: unknown): WpaEvent {
  try {
    return decodeUnsafe(line);
  } catch {
    return malformed('decoder error', {});
  }
}

/**
 * A raw line made safe for logs: control characters replaced, length capped, the
 * arguments of events that carry secrets dropped, and `passphrase=`, `psk=`,
 * `password=`, `key=` values masked wherever they appear.
 */
export function redactEventLine(line: string): string {
  let text = String(line).replace(/[^\x20-\x7e]/g, '?');
  if (text.length > 512) text = text.slice(0, 512) + '...';
  const m = /^((?:IFNAME=\S+ )?<\d+>)(\S+)/.exec(text);
  if (m && m[2] !== undefined && SECRET_EVENTS.has(m[2])) {
    return text.length > m[0].length ? `${m[0]} [redacted]` : m[0];
  }
  return text.replace(
    /\b(passphrase|psk|password|sae_password|key|network_key|wpa_passphrase)=("(?:[^"\\]|\\.)*"?|\S+)/gi,
    '$1=[redacted]',
  );
}

/** A short log-safe description of a decoded event. */
export function describeEvent(event: WpaEvent): string {
  switch (event.type) {
    case 'unknown':
      return `unknown event ${event.name}`;
    case 'malformed':
      return `malformed line (${event.why})`;
    default: {
      const parts: string[] = [event.type];
      for (const [k, v] of Object.entries(event)) {
        if (k === 'type' || k === 'level' || k === 'ssid' || v === undefined) continue;
        parts.push(`${k}=${k === 'ssidText' ? JSON.stringify(v) : String(v)}`);
      }
      return parts.join(' ');
    }
  }
}
