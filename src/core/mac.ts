/** "aa:bb:cc:dd:ee:ff" → 6 bytes; links without a MAC (ppp) get a random locally administered one. */
export function macToBytes(mac: string | undefined): Uint8Array {
  if (mac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
  // Web Crypto loads when first used; a static node:crypto import would cost every process its RSS for PPP links only.
  const b = globalThis.crypto.getRandomValues(new Uint8Array(6));
  b[0] = (b[0]! & 0xfe) | 0x02;
  return b;
}
