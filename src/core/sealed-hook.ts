/**
 * Opening keys sealed with the per-device key. The sealing module (issue: sealed
 * credentials) installs the opener; until then a sealed key is refused with a clear error.
 */
import { SealedKeyError } from '../errors.js';
import type { WifiKey } from '../nic.js';

type Opener = (blob: Uint8Array) => Promise<string>;
let opener: Opener | undefined;

/** @internal installed by the sealing module. */
export function setSealedOpener(fn: Opener | undefined): void {
  opener = fn;
}

/** Opens a sealed WiFi key into a passphrase or raw PSK. */
export async function openSealed(key: Extract<WifiKey, { kind: 'sealed' }>): Promise<WifiKey> {
  if (!opener) throw new SealedKeyError('wificonfig.key: sealed keys need the per-device key, which is not set up on this host');
  const plain = await opener(key.blob);
  return /^[0-9a-fA-F]{64}$/.test(plain) ? { kind: 'psk', psk: plain.toLowerCase() } : { kind: 'passphrase', passphrase: plain };
}
