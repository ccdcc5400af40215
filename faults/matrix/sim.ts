/**
 * Fault scenarios on the simulator (virtual time): WiFi AP lost and back, a wrong key
 * then the right one, wpa_supplicant killed, a silent modem, PPP dropped, cable flaps.
 * Recovery times are virtual milliseconds: the simulated daemons' own delays (scan 0.4 s,
 * PPP 0.3 s) plus nicup's back-off, measured exactly. After each, everything is closed
 * and the world must hold nothing of nicup's: no timer armed, no address or route, no
 * supplicant, no ppp link, no socket, no listener.
 */
import assert from 'node:assert/strict';
import { Network, NetState, stateName } from '../../src/index.js';
import type { NetInterface, NetStateValue, StateChange } from '../../src/index.js';
import { SimPlatform, defaultWorld, type SimWorld } from '../../src/platform/sim/index.js';
import { silentLogger } from '../../src/core/log.js';
import type { Scenario, ScenarioOutcome } from '../lib/types.js';

interface Rig {
  world: SimWorld;
  platform: SimPlatform;
  net: Network;
  changes: StateChange[];
}

async function rig(tweak?: (w: SimWorld) => void): Promise<Rig> {
  const world = defaultWorld();
  tweak?.(world);
  const platform = new SimPlatform(world);
  const net = await Network.create(platform, { logger: silentLogger });
  return { world, platform, net, changes: [] };
}

function open(r: Rig, nic: object, options: { reconfigure?: boolean } = {}): NetInterface {
  return r.net.open(nic, { ...options, onState: (_s, c) => void r.changes.push(c) });
}

async function until(r: Rig, what: string, done: () => boolean, maxMs = 600_000): Promise<void> {
  const ok = await r.world.runUntil(done, maxMs);
  assert.ok(ok, `within ${maxMs} virtual ms: ${what}`);
}

/** Waits for a change to `state` after the `from`-th; returns its virtual time. */
async function untilChange(r: Rig, from: number, state: NetStateValue, maxMs?: number): Promise<StateChange> {
  let hit: StateChange | undefined;
  await until(r, `${stateName(state)} (saw ${r.changes.slice(from).map((c) => c.name).join(' → ') || 'nothing'})`, () => (hit = r.changes.slice(from).find((c) => c.state === state)) !== undefined, maxMs);
  return hit!;
}

/** Closes everything, lets ten virtual minutes pass, and lists what the world still holds. */
async function closeAndInspect(r: Rig, ifaces: NetInterface[]): Promise<string[]> {
  for (const i of ifaces) await i.close();
  await r.net.close();
  await r.world.run(600_000);
  const left: string[] = [];
  const pending = r.world.virtual?.pending ?? 0;
  if (pending > 0) left.push(`${pending} timer(s) still armed on the virtual clock`);
  for (const [name, l] of r.world.links) {
    if (l.addresses.length > 0) left.push(`${name}: addresses ${l.addresses.map((a) => a.address).join(', ')}`);
    if (l.routes.length > 0) left.push(`${name}: ${l.routes.length} route(s)`);
    if (name.startsWith('ppp')) left.push(`${name}: the ppp link is still there`);
  }
  if (r.world.supplicants.size > 0) left.push(`${r.world.supplicants.size} simulated wpa_supplicant(s) still running`);
  for (const [name, m] of r.world.modems) if (m.pppUp) left.push(`${name}: PPP still up`);
  const internals = r.platform as unknown as { sockets: Set<unknown>; disposables: Set<unknown> };
  if (internals.sockets.size > 0) left.push(`${internals.sockets.size} simulated socket(s) open`);
  const world = r.world as unknown as { linkListeners: Set<unknown>; apListeners: Set<unknown>; modemListeners: Set<unknown> };
  const listeners = world.linkListeners.size + world.apListeners.size + world.modemListeners.size;
  if (listeners > 0) left.push(`${listeners} listener(s) on the world (links ${world.linkListeners.size}, APs ${world.apListeners.size}, modems ${world.modemListeners.size})`);
  for (const i of ifaces) {
    const n = i.listenerCount('state') + i.listenerCount('connected') + i.listenerCount('close');
    if (n > 0) left.push(`${i.name}: ${n} listener(s) on the closed handle`);
  }
  await r.platform.dispose();
  return left;
}

const WIFI = { interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } };
const CELL = { interface: 'cell0', cellconfig: { apn: 'internet' } };

export const simScenarios: Scenario[] = [
  {
    name: 'sim-ap-flap',
    where: 'sim',
    description: 'the access point goes off the air and comes back (×100 long, ×20 short)',
    async run(ctx): Promise<ScenarioOutcome> {
      const r = await rig();
      const wl = open(r, WIFI);
      await untilChange(r, 0, NetState.CONNECTED);
      const address = wl.ipTable()?.ipv4.address;
      const ap = r.world.accessPoint('Network')!;
      const n = ctx.long ? 100 : 20;
      const recovery: number[] = [];
      for (let i = 0; i < n; i++) {
        const mark = r.changes.length;
        ap.setUp(false);
        await until(r, 'the station leaves CONNECTED and its address goes', () => wl.state !== NetState.CONNECTED && r.world.addresses('wlan0').length === 0);
        const t0 = r.world.clock.now();
        ap.setUp(true);
        const back = await untilChange(r, mark, NetState.CONNECTED);
        recovery.push(back.atMs - t0);
      }
      assert.equal(wl.state, NetState.CONNECTED);
      assert.equal(wl.ipTable()?.ipv4.address, address, 'the same address after every return');
      assert.deepEqual(r.world.addresses('wlan0').map((a) => a.address), [address]);
      assert.equal(r.world.routes('wlan0').filter((x) => x.prefixLength === 0).length, 1);
      assert.equal(r.world.supplicantsStarted, 1, 'one wpa_supplicant all along');
      const finalState = `CONNECTED ${address}, 1 address, 1 default route, 1 supplicant started`;
      return { iterations: n, finalState, recoveryMs: recovery, recoveryUnit: 'virtual ms', leftBehind: await closeAndInspect(r, [wl]) };
    },
  },
  {
    name: 'sim-wrong-then-right-key',
    where: 'sim',
    description: 'open with a wrong key (UNHAPPY wrong-key), reconfigure with the right one (×10 long, ×3 short)',
    async run(ctx): Promise<ScenarioOutcome> {
      const r = await rig();
      const n = ctx.long ? 10 : 3;
      const wrong = { interface: 'wl0', wificonfig: { ssid: 'Network', key: 'WrongPassword' } };
      let wl = open(r, wrong);
      // Each reconfiguring open() is another handle on the one interface: all are closed at the end.
      const handles = [wl];
      const recovery: number[] = [];
      const toUnhappy: number[] = [];
      for (let i = 0; i < n; i++) {
        if (i > 0) handles.push((wl = open(r, wrong, { reconfigure: true })));
        const mark = r.changes.length;
        const t = r.world.clock.now();
        const unhappy = await untilChange(r, mark, NetState.WIFI_STOPPED_UNHAPPY);
        assert.equal(unhappy.reason, 'wrong-key', `UNHAPPY for the wrong key (${unhappy.reason})`);
        toUnhappy.push(unhappy.atMs - t);
        assert.deepEqual(r.world.addresses('wlan0'), [], 'no address with a wrong key');
        const t0 = r.world.clock.now();
        const m2 = r.changes.length;
        handles.push((wl = open(r, WIFI, { reconfigure: true })));
        const c = await untilChange(r, m2, NetState.CONNECTED);
        recovery.push(c.atMs - t0);
        assert.equal(r.world.supplicants.size, 1, 'one supplicant');
      }
      assert.equal(wl.state, NetState.CONNECTED);
      const finalState = `CONNECTED ${wl.ipTable()?.ipv4.address} with the right key`;
      const sorted = [...toUnhappy].sort((a, b) => a - b);
      return { iterations: n, finalState, recoveryMs: recovery, recoveryUnit: 'virtual ms', figures: { 'wrong key → UNHAPPY, median (virtual ms)': sorted[Math.floor(sorted.length / 2)] ?? 0 }, leftBehind: await closeAndInspect(r, handles) };
    },
  },
  {
    name: 'sim-supplicant-killed',
    where: 'sim',
    description: 'wpa_supplicant dies under a CONNECTED interface and is restarted by nicup (×50 long, ×10 short)',
    async run(ctx): Promise<ScenarioOutcome> {
      const r = await rig();
      const wl = open(r, WIFI);
      await untilChange(r, 0, NetState.CONNECTED);
      const address = wl.ipTable()?.ipv4.address;
      const n = ctx.long ? 50 : 10;
      const recovery: number[] = [];
      for (let i = 0; i < n; i++) {
        const mark = r.changes.length;
        const t0 = r.world.clock.now();
        assert.ok(r.world.killSupplicant('wlan0'), 'a supplicant to kill');
        const back = await untilChange(r, mark, NetState.CONNECTED);
        assert.ok(r.changes.slice(mark).some((c) => c.state !== NetState.CONNECTED), 'the death was reported');
        recovery.push(back.atMs - t0);
        assert.equal(r.world.supplicants.size, 1, 'exactly one supplicant after the restart');
      }
      assert.equal(r.world.supplicantsStarted, n + 1, 'one start per death');
      assert.deepEqual(r.world.addresses('wlan0').map((a) => a.address), [address]);
      return { iterations: n, finalState: `CONNECTED ${address}, ${r.world.supplicantsStarted} supplicants started for ${n} deaths`, recoveryMs: recovery, recoveryUnit: 'virtual ms', leftBehind: await closeAndInspect(r, [wl]) };
    },
  },
  {
    name: 'sim-modem-silent',
    where: 'sim',
    description: 'the modem answers nothing (UNHAPPY modem-silent), then starts answering: CONNECTED without a re-open',
    async run(): Promise<ScenarioOutcome> {
      const r = await rig((w) => (w.modem('cell0').options.silent = true));
      const t = r.world.clock.now();
      const cell = open(r, CELL);
      const unhappy = await untilChange(r, 0, NetState.CELLULAR_STOPPED_UNHAPPY);
      assert.equal(unhappy.reason, 'modem-silent');
      // Keep it silent a while: the retries must back off, not hammer the port.
      const before = r.world.modem('cell0').commandCount;
      await r.world.run(120_000);
      const sentInTwoMinutes = r.world.modem('cell0').commandCount - before;
      const mark = r.changes.length;
      const t0 = r.world.clock.now();
      r.world.modem('cell0').options.silent = false;
      const c = await untilChange(r, mark, NetState.CONNECTED);
      assert.equal(r.world.links.has('ppp0'), true);
      return {
        iterations: 1,
        finalState: `CONNECTED ${cell.ipv4?.address} over ppp0`,
        recoveryMs: [c.atMs - t0],
        recoveryUnit: 'virtual ms',
        figures: { 'open → UNHAPPY(modem-silent) (virtual ms)': unhappy.atMs - t, 'AT commands sent to the silent modem in 2 min': sentInTwoMinutes },
        leftBehind: await closeAndInspect(r, [cell]),
      };
    },
  },
  {
    name: 'sim-modem-in-data-mode',
    where: 'sim',
    description: 'the modem is in data mode from a call nobody ended: modem-silent, then the V.250 escape and ATH bring it back (no re-open)',
    async run(): Promise<ScenarioOutcome> {
      const r = await rig((w) => (w.modem('cell0').options.inDataMode = true));
      const t0 = r.world.clock.now();
      const cell = open(r, CELL);
      const unhappy = await untilChange(r, 0, NetState.CELLULAR_STOPPED_UNHAPPY);
      assert.equal(unhappy.reason, 'modem-silent');
      const c = await untilChange(r, r.changes.indexOf(unhappy), NetState.CONNECTED);
      assert.equal(r.world.modem('cell0').options.inDataMode, false);
      assert.equal(r.world.modem('cell0').commands[0], 'ATH');
      return {
        iterations: 1,
        finalState: `CONNECTED ${cell.ipv4?.address} over ppp0; the first command the modem heard was ATH`,
        recoveryMs: [c.atMs - unhappy.atMs],
        recoveryUnit: 'virtual ms',
        figures: { 'open → UNHAPPY(modem-silent) (virtual ms)': unhappy.atMs - t0 },
        leftBehind: await closeAndInspect(r, [cell]),
      };
    },
  },
  {
    name: 'sim-ppp-dropped',
    where: 'sim',
    description: 'the network drops the data call (NO CARRIER, pppd exits) under a CONNECTED modem (×50 long, ×10 short)',
    async run(ctx): Promise<ScenarioOutcome> {
      const r = await rig();
      const cell = open(r, CELL);
      await untilChange(r, 0, NetState.CONNECTED);
      const n = ctx.long ? 50 : 10;
      const recovery: number[] = [];
      for (let i = 0; i < n; i++) {
        const mark = r.changes.length;
        const t0 = r.world.clock.now();
        r.world.modem('cell0').dropCarrier();
        const back = await untilChange(r, mark, NetState.CONNECTED);
        assert.ok(r.changes.slice(mark).some((c) => c.state !== NetState.CONNECTED), 'the drop was reported');
        recovery.push(back.atMs - t0);
        const ppp = [...r.world.links.keys()].filter((k) => k.startsWith('ppp'));
        assert.deepEqual(ppp, ['ppp0'], `one ppp link (${ppp.join(', ')})`);
        assert.equal(r.world.routes('ppp0').filter((x) => x.prefixLength === 0).length, 1, 'one default route on ppp0');
      }
      return { iterations: n, finalState: `CONNECTED ${cell.ipv4?.address} over ppp0, 1 default route`, recoveryMs: recovery, recoveryUnit: 'virtual ms', leftBehind: await closeAndInspect(r, [cell]) };
    },
  },
  {
    name: 'sim-carrier-flap',
    where: 'sim',
    description: 'the Ethernet cable is pulled and plugged back (×1,000 long, ×100 short)',
    async run(ctx): Promise<ScenarioOutcome> {
      const r = await rig();
      const eth = open(r, { interface: 'eth0' });
      await untilChange(r, 0, NetState.CONNECTED);
      const address = eth.ipTable()?.ipv4.address;
      const n = ctx.long ? 1000 : 100;
      const recovery: number[] = [];
      for (let i = 0; i < n; i++) {
        r.world.setCable('eth0', false);
        await until(r, 'NO_LINK with the address gone', () => eth.state === NetState.ETHERNET_STOPPED_NO_LINK && r.world.addresses('eth0').length === 0);
        const mark = r.changes.length;
        const t0 = r.world.clock.now();
        r.world.setCable('eth0', true);
        const back = await untilChange(r, mark, NetState.CONNECTED);
        recovery.push(back.atMs - t0);
      }
      assert.deepEqual(r.world.addresses('eth0').map((a) => a.address), [address]);
      assert.equal(r.world.routes('eth0').filter((x) => x.prefixLength === 0).length, 1);
      return { iterations: n, finalState: `CONNECTED ${address}, 1 address, 1 default route`, recoveryMs: recovery, recoveryUnit: 'virtual ms', leftBehind: await closeAndInspect(r, [eth]) };
    },
  },
];
