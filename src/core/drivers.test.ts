/**
 * The WiFi and cellular drivers load on demand (drivers.ts). Each test uses its own
 * DriverModule, or a kind no earlier test in this file loaded (tests run in order): a
 * loaded module stays loaded for the process.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DriverModule, defaultDrivers, loadDrivers } from './drivers.js';
import type { Driver, DriverContext, DriverFactory } from './session.js';
import { Network } from './network.js';
import { NetState, Reason, type NetStateValue, type ReasonCode } from '../states.js';
import { parseNic } from '../nic.js';
import { realClock } from './clock.js';
import { silentLogger } from './log.js';
import type { Platform } from '../platform/contract.js';
import { SimPlatform, SimWorld } from '../platform/sim/index.js';

interface Reported {
  state: NetStateValue;
  reason: ReasonCode;
  detail: string | undefined;
}

/** A context on a platform with nothing but a name and a clock: the real drivers fail at once, saying why. */
function context(kind: 'wifi' | 'cell', reported: Reported[]): DriverContext {
  const platform = { name: 'bare', clock: realClock() } as unknown as Platform;
  const nic = kind === 'wifi' ? parseNic({ interface: 'wlan0', wificonfig: { ssid: 'Net', key: 'Password' } }) : parseNic({ interface: 'cell0', cellconfig: { apn: 'internet' } });
  return {
    platform,
    link: { name: nic.interface, index: 3, kind, adminUp: false, carrier: false, mtu: 1500 },
    nic,
    options: {},
    sink: { state: (state, reason, detail) => void reported.push({ state, reason, detail }), ipv4: () => {}, log: () => {} },
  };
}

/** A module whose import the test finishes: with a factory, or with an error. */
function pendingModule() {
  let finish!: (factory: DriverFactory) => void;
  let fail!: (err: Error) => void;
  let imports = 0;
  const module = new DriverModule('test', NetState.ETHERNET_STOPPED_UNHAPPY, () => {
    imports++;
    return new Promise<DriverFactory>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  });
  return { module, finish: (f: DriverFactory) => finish(f), fail: (e: Error) => fail(e), imports: () => imports };
}

/** A driver that records what is asked of it. */
function recordingFactory(calls: string[]): DriverFactory {
  return (ctx) => {
    calls.push(`made ${ctx.link.name}`);
    const driver: Driver = {
      start: () => void calls.push('start'),
      stop: async () => void calls.push('stop'),
      retry: () => void calls.push('retry'),
      setRouteMetric: async (m) => void calls.push(`metric ${m}`),
    };
    return driver;
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('drivers loaded on demand', () => {
  test('before its module is in, a driver is made and started once the import finishes; calls reach it after', async () => {
    const p = pendingModule();
    const calls: string[] = [];
    const driver = p.module.create(context('wifi', []));
    driver.start();
    driver.retry?.();
    await tick();
    assert.deepEqual(calls, [], 'nothing is made before the module is in');
    p.finish(recordingFactory(calls));
    await tick();
    assert.deepEqual(calls, ['made wlan0', 'start']);
    driver.retry?.();
    await driver.setRouteMetric?.(300);
    await driver.stop();
    assert.deepEqual(calls, ['made wlan0', 'start', 'retry', 'metric 300', 'stop']);
    assert.equal(p.imports(), 1);
  });

  test('once the module is in, create() makes the real driver at once', async () => {
    const p = pendingModule();
    const calls: string[] = [];
    const loading = p.module.load();
    p.finish(recordingFactory(calls));
    await loading;
    p.module.create(context('wifi', [])).start();
    assert.deepEqual(calls, ['made wlan0', 'start'], 'made and started synchronously');
    assert.equal(p.imports(), 1);
  });

  test('stopped before the import finishes: the driver is never made and nothing is reported', async () => {
    const p = pendingModule();
    const calls: string[] = [];
    const reported: Reported[] = [];
    const driver = p.module.create(context('wifi', reported));
    driver.start();
    const stopping = driver.stop();
    p.finish(recordingFactory(calls));
    await stopping;
    await tick();
    assert.deepEqual(calls, []);
    assert.deepEqual(reported, []);
  });

  test('a module that fails to load is the kind failure state naming the driver; the next open tries again', async () => {
    const p = pendingModule();
    const reported: Reported[] = [];
    p.module.create(context('wifi', reported)).start();
    p.fail(new Error('Cannot find module wifi-driver.js'));
    await tick();
    assert.deepEqual(reported, [{ state: NetState.ETHERNET_STOPPED_UNHAPPY, reason: Reason.CONFIG_FAILED, detail: 'cannot load the test driver: Cannot find module wifi-driver.js' }]);
    const calls: string[] = [];
    p.module.create(context('wifi', [])).start();
    assert.equal(p.imports(), 2, 'a failed import is not kept');
    p.finish(recordingFactory(calls));
    await tick();
    assert.deepEqual(calls, ['made wlan0', 'start']);
  });

  test('a factory that throws is the kind failure state too, not an exception', async () => {
    const p = pendingModule();
    const reported: Reported[] = [];
    p.module.create(context('wifi', reported)).start();
    p.finish(() => {
      throw new Error('bad options');
    });
    await tick();
    assert.deepEqual(reported, [{ state: NetState.ETHERNET_STOPPED_UNHAPPY, reason: Reason.CONFIG_FAILED, detail: 'the test driver failed to start: bad options' }]);
  });
});

describe('a WiFi link that appears after Network.create', () => {
  test('is opened through its driver loaded on demand, to CONNECTED in virtual time', async () => {
    const world = new SimWorld();
    world.addEthernet('eth0');
    const platform = new SimPlatform(world);
    const net = await Network.create(platform, { logger: silentLogger });
    try {
      world.addWifi('wlan9');
      world.addAccessPoint({ ssid: 'Late', key: 'Password' });
      await world.runUntil(() => net.resolve('wlan9') !== undefined, 1_000);
      const states: NetStateValue[] = [];
      const iface = net.open({ interface: 'wlan9', wificonfig: { ssid: 'Late', key: 'Password' } }, (s) => void states.push(s));
      assert.ok(await world.runUntil(() => iface.state === NetState.CONNECTED), `CONNECTED (states: ${states.join(', ')})`);
      assert.equal(states[0], NetState.STARTING);
      assert.ok(states.includes(NetState.WIFI_DHCPING));
    } finally {
      await net.close();
      await platform.dispose();
    }
  });
});

describe('loadDrivers', () => {
  test('loads the default drivers of the kinds given, so open() then starts them at once', async () => {
    await loadDrivers(['ethernet', 'other', 'cell']);
    const reported: Reported[] = [];
    defaultDrivers.cell!(context('cell', reported)).start();
    assert.deepEqual(
      reported.map((r) => [r.state, r.reason]),
      [[NetState.CELLULAR_STOPPED_UNHAPPY, Reason.MODEM_ERROR]],
      'the real cellular driver, synchronously: no serial ports on this platform',
    );
  });
});
