/**
 * Shared helpers for the core tests on the simulator: a world + network per test,
 * recorders for state changes and log lines, and the invariants every change obeys.
 */
import assert from 'node:assert/strict';
import { Network, NetState, Reason, stateName } from '../../src/index.js';
import type { Logger, NetInterface, NetStateValue, NetworkOptions, StateChange } from '../../src/index.js';
import { SimPlatform, defaultWorld, type SimWorld } from '../../src/platform/sim/index.js';

export const silent: Logger = { debug: () => {}, error: () => {} };

/** A logger that keeps every line (debug and error), for tests that read the log. */
export interface RecordingLogger extends Logger {
  readonly lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => void lines.push(`debug ${m}`),
    error: (m) => void lines.push(`error ${m}`),
  };
}

export interface Rig {
  world: SimWorld;
  platform: SimPlatform;
  net: Network;
}

/**
 * A fresh default world (eth0 + DHCP, wlan0 near AP "Network" key "Password", modem cell0)
 * in virtual time, changed by a named scenario and then by `tweak`, and a Network over it.
 */
export async function simNetwork(scenario = 'default', options: NetworkOptions = {}, tweak?: (world: SimWorld) => void): Promise<Rig> {
  const world = defaultWorld(scenario);
  tweak?.(world);
  const platform = new SimPlatform(world);
  const net = await Network.create(platform, { logger: silent, ...options });
  return { world, platform, net };
}

/** Collects the changes one handle sees; pass `onState` as open()'s callback. */
export interface Recorder {
  readonly changes: StateChange[];
  onState: (state: NetStateValue, change: StateChange) => void;
  /** "NAME reason" for each change, for exact sequence assertions. */
  steps(): string[];
  /** The changes since the n-th one, as steps. */
  stepsFrom(n: number): string[];
  last(): StateChange | undefined;
}

export function recorder(): Recorder {
  const changes: StateChange[] = [];
  const step = (c: StateChange) => `${c.name} ${c.reason}`;
  return {
    changes,
    onState: (state, change) => {
      assert.equal(state, change.state, 'callback state argument equals change.state');
      changes.push(change);
    },
    steps: () => changes.map(step),
    stepsFrom: (n) => changes.slice(n).map(step),
    last: () => changes[changes.length - 1],
  };
}

/** Runs virtual time until `done()`; fails the test, naming `what`, if it does not happen within `maxMs`. */
export async function until(world: SimWorld, done: () => boolean, what: string, maxMs = 120_000): Promise<void> {
  const ok = await world.runUntil(done, maxMs);
  assert.ok(ok, `within ${maxMs} virtual ms: ${what}`);
}

/** Waits for a handle to reach a state. */
export function untilState(world: SimWorld, iface: NetInterface, state: NetStateValue, maxMs = 120_000): Promise<void> {
  return until(world, () => iface.state === state, `${iface.name} reaches ${stateName(state)} (is ${stateName(iface.state)})`, maxMs);
}

const reasons = new Set<string>(Object.values(Reason));

/**
 * What every change obeys: a reason from the Reason table, the name of its value, a
 * `previous` equal to the state before it, atMs monotonic, and no repeat of (state, reason).
 * `fromStart` (default true): the changes begin at open, so the first leaves UNKNOWN.
 */
export function assertChangeInvariants(changes: readonly StateChange[], options: { ifname?: string; fromStart?: boolean } = {}): void {
  const { ifname, fromStart = true } = options;
  let prev: StateChange | undefined;
  for (const c of changes) {
    assert.ok(reasons.has(c.reason), `reason "${c.reason}" is in the Reason table`);
    assert.equal(c.name, stateName(c.state), 'name matches the state value');
    if (ifname !== undefined) assert.equal(c.interface, ifname);
    assert.equal(typeof c.atMs, 'number');
    assert.ok(Number.isFinite(c.atMs));
    if (prev) {
      assert.ok(c.atMs >= prev.atMs, `atMs monotonic: ${prev.name}@${prev.atMs} then ${c.name}@${c.atMs}`);
      assert.equal(c.previous, prev.state, `${c.name}.previous is the state before it (${prev.name})`);
      assert.ok(!(c.state === prev.state && c.reason === prev.reason), `no repeated change ${c.name} ${c.reason}`);
    } else if (fromStart) {
      assert.equal(c.previous, NetState.UNKNOWN, 'the first change leaves UNKNOWN');
    }
    prev = c;
  }
}

/**
 * Closes the handles and checks that nothing keeps running: within ten virtual minutes the
 * clock has no timer left (a poll or retry that re-arms after close would stay). The wait
 * lets the simulator's own one-shot timers (a supplicant's next scan) fall due harmlessly.
 */
export async function closeAndCheck(world: SimWorld, ...ifaces: NetInterface[]): Promise<void> {
  for (const i of ifaces) await i.close();
  const states = ifaces.map((i) => i.state);
  await world.run(600_000);
  assert.equal(world.virtual?.pending, 0, 'no timer keeps running after close');
  assert.deepEqual(
    ifaces.map((i) => i.state),
    states,
    'no state change after close',
  );
}
