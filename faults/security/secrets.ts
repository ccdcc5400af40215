/**
 * The distinctive secrets of the security sweep, and how to look for them: as they are,
 * JSON-escaped, as UTF-8 hex and base64 (a byte dump in a log would show them so).
 * Each is full of shell and config metacharacters, so that the runs also prove they
 * travel literally.
 */
import { inspect } from 'node:util';
export const SECRETS = {
  wifiKey: 'Wk9"q$(id)`x`;#\\ {key}',
  proxyPassword: 'Px7"$(prx)`;#\\',
  pin: '86420975',
  pppPassword: "Pp9#$(ppp)\"'`;\\ x",
  /** The VM WiFi network's passphrase (faults/vm/guest-wifi.ts), with VM_WIFI_SSID. */
  vmWifiKey: '\'$(id)"`;#\\ k3y {x} $HOME',
} as const;

/** The VM WiFi network's SSID: metacharacters and UTF-8, 28 bytes. */
export const VM_WIFI_SSID = '"; $(reboot) `x` #\'\\ é😀';

export type SecretName = keyof typeof SECRETS;

const FORM_NAMES = ['plain', 'JSON-escaped', 'util.inspect-escaped', 'hex', 'base64'];

function forms(secret: string): string[] {
  const utf8 = Buffer.from(secret, 'utf8');
  return [secret, JSON.stringify(secret).slice(1, -1), inspect(secret).slice(1, -1), utf8.toString('hex'), utf8.toString('base64').replace(/=+$/, '')];
}

/** "<where>: <secret name> (<form>)" for every secret found in `text`; empty when clean. */
export function findSecrets(where: string, text: string): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (const [i, form] of forms(secret).entries()) {
      const at = text.indexOf(form);
      if (at >= 0) found.push(`${where}: the ${name} (${FORM_NAMES[i]}) near …${text.slice(Math.max(0, at - 40), at).replace(/\s+/g, ' ')}<here>`);
    }
  }
  return found;
}
