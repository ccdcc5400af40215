/**
 * Opening secrets sealed with the per-device key. By default src/sealing.ts opens them
 * with the key file it finds (NICUP_KEY_FILE or /var/lib/nicup/device.key); a program
 * with its own key file calls installSealing({ keyFile }).
 */
import type { WifiKey } from '../nic.js';

export type SealedFieldName = 'wificonfig.key' | 'proxyconfig.password' | 'cellconfig.pin' | 'cellconfig.password';
type Opener = (blob: Uint8Array, field: SealedFieldName) => Promise<string>;
let opener: Opener | undefined;

/** @internal installed by the sealing module. */
export function setSealedOpener(fn: Opener | undefined): void {
  opener = fn;
}

/** Opens a sealed secret of one field. */
export async function openSealedText(blob: Uint8Array, field: SealedFieldName): Promise<string> {
  if (opener) return opener(blob, field);
  const { unseal } = await import('../sealing.js');
  return unseal(blob, field);
}

/** Opens a sealed WiFi key into a passphrase or raw PSK. */
export async function openSealed(key: Extract<WifiKey, { kind: 'sealed' }>): Promise<WifiKey> {
  const plain = await openSealedText(key.blob, 'wificonfig.key');
  return /^[0-9a-fA-F]{64}$/.test(plain) ? { kind: 'psk', psk: plain.toLowerCase() } : { kind: 'passphrase', passphrase: plain };
}
