/** The four fuzzers, by name. */
import { atFuzzer } from './at.js';
import { dhcpFuzzer } from './dhcp.js';
import { nicFuzzer } from './nic.js';
import { wpaFuzzer } from './wpa.js';
import type { Fuzzer, FuzzTarget } from './types.js';

export const fuzzers: readonly Fuzzer[] = [dhcpFuzzer, wpaFuzzer, atFuzzer, nicFuzzer];

export function fuzzerNamed(name: string): Fuzzer {
  const f = fuzzers.find((x) => x.name === name);
  if (!f) throw new Error(`no fuzzer named ${name} (known: ${fuzzers.map((x) => x.name).join(', ')})`);
  return f;
}

export function targetNamed(name: string): { fuzzer: Fuzzer; target: FuzzTarget } {
  for (const fuzzer of fuzzers) {
    const target = fuzzer.targets.find((t) => t.name === name);
    if (target) return { fuzzer, target };
  }
  throw new Error(`no fuzz target named ${name}`);
}
