/**
 * Sealed credentials end to end on the simulator, as impOS programs use them: open with a
 * plain secret, save imp.net.getcurrentconfig() (secrets sealed with the per-device key),
 * open again from what was saved. And the refusals: a blob sealed with another device's
 * key, a blob changed by one bit, a blob sealed for another field. Every test uses its own
 * key file in a temporary directory (never /var/lib/nicup).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetState, Reason, createImp, type NetStateValue } from '../src/index.js';
import { installSealing, seal, unseal } from '../src/sealing.js';
import { setSealedOpener } from '../src/core/sealed-hook.js';
import { simNetwork, until } from './helpers/sim.js';

const WIFI_KEY = 'Password'; // the simulator's access point "Network"
const PROXY_PASSWORD = 'Pr0xy-Pa55word!';
const PIN = '1234'; // the simulator's "pin-required" SIM
const PPP_PASSWORD = 'Ce11-Pa55word!';

const dirs: string[] = [];
/** A key file path in a fresh directory that does not exist yet (sealing creates both). */
function keyFileIn(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nicup-roundtrip-'));
  dirs.push(dir);
  return join(dir, 'nicup', 'device.key');
}

const savedEnv = process.env.NICUP_KEY_FILE;
afterEach(() => {
  installSealing({});
  setSealedOpener(undefined);
  if (savedEnv === undefined) delete process.env.NICUP_KEY_FILE;
  else process.env.NICUP_KEY_FILE = savedEnv;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every string anywhere in a value (to prove no secret is left in plain text). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value instanceof Uint8Array) return [Buffer.from(value).toString('latin1')];
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function assertNoPlain(config: unknown, ...secrets: string[]): void {
  const all = strings(config).join('\n');
  for (const s of secrets) assert.ok(!all.includes(s), 'getcurrentconfig carries no secret in plain text');
}

/** A world and the impOS facade over it; `settle` runs virtual time until the interface's state is one of `states`. */
async function impRig(scenario = 'default') {
  const rig = await simNetwork(scenario);
  const imp = createImp(rig.net);
  const settle = async (iface: { getstate(): NetStateValue }, ...states: NetStateValue[]) => {
    await until(rig.world, () => states.includes(iface.getstate()), `state one of ${states.join(', ')} (is ${iface.getstate()})`);
    return iface.getstate();
  };
  return { ...rig, imp, settle };
}

describe('sealed credentials: getcurrentconfig → open round trip', () => {
  test('WiFi: a plain key comes back sealed; closing and opening the saved config connects again; the key file is 0600 in a 0700 directory', async () => {
    const keyFile = keyFileIn();
    installSealing({ keyFile });
    const { imp, net, settle } = await impRig();
    const wifi = imp.net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: WIFI_KEY } });
    assert.equal(await settle(wifi, NetState.CONNECTED, NetState.WIFI_STOPPED_UNHAPPY), NetState.CONNECTED);

    const saved = imp.net.getcurrentconfig();
    const w = saved.wificonfig as { ssid: string; key: unknown };
    assert.equal(saved.interface, 'wl0');
    assert.equal(w.ssid, 'Network');
    assert.ok(w.key instanceof Uint8Array, 'the key is a blob');
    assertNoPlain(saved, WIFI_KEY);
    assert.equal(unseal(w.key, 'wificonfig.key', { keyFile }), WIFI_KEY, 'sealed with the installed key file');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'key file 0600');
    assert.equal(statSync(join(keyFile, '..')).mode & 0o777, 0o700, 'its directory 0700');

    wifi.close();
    await settle(wifi, NetState.WIFI_STOPPED);
    const again = imp.net.open(saved);
    assert.equal(await settle(again, NetState.CONNECTED, NetState.WIFI_STOPPED_UNHAPPY), NetState.CONNECTED, 'the sealed key opened and joined');
    assert.ok(imp.net.getcurrentconfig().wificonfig, 'still reported while connected');
    again.close();
    await net.close();
  });

  test('NICUP_KEY_FILE alone (no installSealing) seals and opens with that file', async () => {
    const keyFile = keyFileIn();
    process.env.NICUP_KEY_FILE = keyFile;
    const { imp, net, settle } = await impRig();
    const wifi = imp.net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: WIFI_KEY } });
    await settle(wifi, NetState.CONNECTED);
    const saved = imp.net.getcurrentconfig('wl0');
    assert.equal(unseal((saved.wificonfig as { key: Uint8Array }).key, 'wificonfig.key', { keyFile }), WIFI_KEY);
    wifi.close();
    await settle(wifi, NetState.WIFI_STOPPED);
    const again = imp.net.open(saved);
    assert.equal(await settle(again, NetState.CONNECTED, NetState.WIFI_STOPPED_UNHAPPY), NetState.CONNECTED);
    again.close();
    await net.close();
  });

  test('a key sealed with another device\'s key: WIFI_STOPPED_UNHAPPY (config-failed) with the SealedKeyError message, once; info().lasterror says so', async () => {
    installSealing({ keyFile: keyFileIn() });
    const foreign = seal(WIFI_KEY, 'wificonfig.key', { keyFile: keyFileIn() });
    const { imp, net, world, settle } = await impRig();
    const changes: { state: NetStateValue; reason: string; detail?: string }[] = [];
    const wifi = imp.net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: foreign } });
    wifi.modern.on('state', (c) => changes.push({ state: c.state, reason: c.reason, ...(c.detail ? { detail: c.detail } : {}) }));
    assert.equal(await settle(wifi, NetState.WIFI_STOPPED_UNHAPPY, NetState.CONNECTED), NetState.WIFI_STOPPED_UNHAPPY);
    const unhappy = changes.find((c) => c.state === NetState.WIFI_STOPPED_UNHAPPY);
    assert.equal(unhappy?.reason, Reason.CONFIG_FAILED);
    assert.equal(unhappy?.detail, "wificonfig.key: sealed on another device (its key does not match this device's)");
    assert.deepEqual(imp.net.info().lasterror, { interface: 'wlan0', state: NetState.WIFI_STOPPED_UNHAPPY, reason: Reason.CONFIG_FAILED, detail: unhappy?.detail });
    // Nothing retries a blob that cannot open: an hour later, still the one change.
    const count = changes.length;
    await world.run(3_600_000);
    assert.equal(changes.length, count, 'no retry loop');
    wifi.close();
    await net.close();
  });

  test('a blob changed by one bit, or sealed for another field, is refused', async () => {
    const keyFile = keyFileIn();
    installSealing({ keyFile });
    const tampered = seal(WIFI_KEY, 'wificonfig.key', { keyFile });
    tampered[tampered.length - 20] = tampered[tampered.length - 20]! ^ 0x01;
    const pinAsKey = seal('12345678', 'cellconfig.pin', { keyFile });
    for (const [what, blob] of [['tampered', tampered], ['another field', pinAsKey]] as const) {
      const { imp, net, settle } = await impRig();
      const details: string[] = [];
      const wifi = imp.net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: blob } });
      wifi.modern.on('state', (c) => c.detail && details.push(c.detail));
      assert.equal(await settle(wifi, NetState.WIFI_STOPPED_UNHAPPY, NetState.CONNECTED), NetState.WIFI_STOPPED_UNHAPPY, what);
      assert.deepEqual(details, ['wificonfig.key: sealed blob failed authentication (tampered, corrupted, or sealed for another field)'], what);
      wifi.close();
      await net.close();
    }
  });

  test('the proxy password is sealed likewise; the saved config opens again and the IP table shows the user only', async () => {
    const keyFile = keyFileIn();
    installSealing({ keyFile });
    const { imp, net, settle } = await impRig();
    const nic = { interface: 'eth0', proxyconfig: { type: 'HTTP', address: 'proxy.example', port: 3128, username: 'alice', password: PROXY_PASSWORD } };
    const eth = imp.net.open(nic);
    await settle(eth, NetState.CONNECTED);
    const saved = imp.net.getcurrentconfig();
    const p = saved.proxyconfig as Record<string, unknown>;
    assert.deepEqual({ ...p, password: undefined }, { type: 'HTTP', address: 'proxy.example', port: 3128, username: 'alice', password: undefined });
    assert.ok(p.password instanceof Uint8Array);
    assertNoPlain(saved, PROXY_PASSWORD);
    assert.equal(unseal(p.password, 'proxyconfig.password', { keyFile }), PROXY_PASSWORD);
    eth.close();
    await settle(eth, NetState.ETHERNET_STOPPED);
    const again = imp.net.open(saved);
    await settle(again, NetState.CONNECTED);
    assert.deepEqual((again.getiptable() as { ipv4: { proxy?: unknown } }).ipv4.proxy, { address: 'proxy.example', port: 3128, type: 'http', user: 'alice' });
    again.close();
    await net.close();
  });

  test('the SIM PIN and PPP password are sealed likewise: the saved config unlocks the SIM again; a PIN sealed elsewhere is refused', async () => {
    const keyFile = keyFileIn();
    installSealing({ keyFile });
    const { imp, net, settle } = await impRig('pin-required');
    const cell = imp.net.open({ interface: 'cell0', cellconfig: { apn: 'internet', pin: PIN, username: 'mobile', password: PPP_PASSWORD } });
    assert.equal(await settle(cell, NetState.CONNECTED, NetState.CELLULAR_STOPPED_UNHAPPY), NetState.CONNECTED);
    const saved = imp.net.getcurrentconfig('cell0');
    const c = saved.cellconfig as { apn: string; pin: unknown; username: string; password: unknown };
    assert.ok(c.pin instanceof Uint8Array && c.password instanceof Uint8Array, 'PIN and password are blobs');
    assertNoPlain(saved, PIN, PPP_PASSWORD);
    assert.equal(unseal(c.pin, 'cellconfig.pin', { keyFile }), PIN);
    assert.equal(unseal(c.password, 'cellconfig.password', { keyFile }), PPP_PASSWORD);
    cell.close();
    await settle(cell, NetState.CELLULAR_STOPPED);
    const again = imp.net.open(saved);
    assert.equal(await settle(again, NetState.CONNECTED, NetState.CELLULAR_STOPPED_UNHAPPY), NetState.CONNECTED, 'the sealed PIN unlocked the SIM');
    again.close();
    await settle(again, NetState.CELLULAR_STOPPED);

    const details: string[] = [];
    const foreign = imp.net.open({ interface: 'cell0', cellconfig: { apn: 'internet', pin: seal(PIN, 'cellconfig.pin', { keyFile: keyFileIn() }) } });
    foreign.modern.on('state', (ch) => ch.detail && details.push(ch.detail));
    assert.equal(await settle(foreign, NetState.CELLULAR_STOPPED_UNHAPPY, NetState.CONNECTED), NetState.CELLULAR_STOPPED_UNHAPPY);
    assert.deepEqual(details, ["cellconfig.pin: sealed on another device (its key does not match this device's)"]);
    foreign.close();
    await net.close();
  });
});
