/** What a fuzzer is: named targets, each an input generator and a check that throws on a broken invariant. */
import type fc from 'fast-check';

export interface FuzzTarget<T = unknown> {
  /** "dhcp.decode.random": the fuzzer's name, then the target's. */
  readonly name: string;
  readonly description: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Throws when an invariant breaks. Must return (a hang is a finding too). */
  check(input: T): void;
  /** Share of the fuzzer's case count. */
  readonly weight: number;
}

export interface Fuzzer {
  readonly name: 'dhcp' | 'wpa' | 'at' | 'nic';
  readonly description: string;
  /** Where its crash and hang inputs are kept (a test file beside them replays them). */
  readonly regressionsDir: string;
  readonly targets: readonly FuzzTarget[];
}

/** Erases a target's input type so targets of different inputs fit in one list. */
export function target<T>(t: FuzzTarget<T>): FuzzTarget {
  return t as unknown as FuzzTarget;
}

/** A regression data file. */
export interface RegressionCase {
  target: string;
  kind: 'crash' | 'hang' | 'seed';
  /** The error (crash), or what was running (hang); for seeds, why the input is kept. */
  note: string;
  /** encodeInput() of the input. */
  input: unknown;
  found?: { at: string; seed: number; index?: number; path?: string };
}
