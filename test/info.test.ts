/**
 * imp.net.info(), setserverinterfaces/getserverinterfaces on the simulator: the rows, the
 * active interface (the preferred CONNECTED one with a gateway) as interfaces come, go and
 * change priority, its ipv4, lasterror after a failure, and the list's validation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetState, Reason, createImp, isNicupError } from '../src/index.js';
import { simNetwork, until } from './helpers/sim.js';

async function impRig(scenario = 'default', options: Parameters<typeof simNetwork>[1] = {}) {
  const rig = await simNetwork(scenario, options);
  return { ...rig, imp: createImp(rig.net) };
}

/** The name info() calls active, or undefined. */
function activeName(info: ReturnType<ReturnType<typeof createImp>['net']['info']>): string | undefined {
  return info.active === undefined ? undefined : info.interface[info.active]?.name;
}

test('rows: type, MAC, name and state of every Ethernet, WiFi and cellular link; nothing active before anything connects', async () => {
  const { imp, net, world } = await impRig();
  const before = imp.net.info();
  assert.deepEqual(before, {
    interface: [
      { type: 'ethernet', macaddress: '02:00:00:00:00:02', name: 'eth0', state: NetState.UNKNOWN },
      { type: 'wifi', macaddress: '02:00:00:00:00:03', name: 'wlan0', state: NetState.UNKNOWN },
      { type: 'cell', macaddress: '02:00:00:00:00:04', name: 'cell0', state: NetState.UNKNOWN },
    ],
  });
  const eth = imp.net.open({ interface: 'eth0' });
  await until(world, () => eth.getstate() === NetState.ETHERNET_DHCPING, 'eth0 DHCPING');
  const during = imp.net.info();
  assert.equal(during.interface[0]?.state, NetState.ETHERNET_DHCPING, 'the row shows the live state');
  assert.equal(during.active, undefined, 'not active before CONNECTED');
  assert.equal(during.ipv4, undefined);
  await until(world, () => eth.getstate() === NetState.CONNECTED, 'eth0 CONNECTED');
  const after = imp.net.info();
  assert.equal(after.interface[0]?.state, NetState.CONNECTED);
  assert.equal(activeName(after), 'eth0');
  assert.deepEqual(after.ipv4, (eth.getiptable() as { ipv4: unknown }).ipv4, 'ipv4 is the active interface\'s IP table');
  eth.close();
  await until(world, () => eth.getstate() === NetState.ETHERNET_STOPPED, 'eth0 STOPPED');
  assert.equal(imp.net.info().active, undefined, 'closed: nothing active');
  await net.close();
});

test('active follows the preferred CONNECTED interface: default order, setserverinterfaces, a pulled cable', async () => {
  const { imp, net, world } = await impRig();
  const eth = imp.net.open({ interface: 'eth0' });
  const wifi = imp.net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } });
  await until(world, () => eth.getstate() === NetState.CONNECTED && wifi.getstate() === NetState.CONNECTED, 'both CONNECTED');
  assert.equal(activeName(imp.net.info()), 'eth0', 'default order: Ethernet before WiFi');
  assert.deepEqual(imp.net.getserverinterfaces(), []);

  imp.net.setserverinterfaces(['wifi']);
  assert.deepEqual(imp.net.getserverinterfaces(), ['wifi']);
  await until(world, () => activeName(imp.net.info()) === 'wlan0', 'wlan0 active after setserverinterfaces(["wifi"])');
  assert.ok(imp.net.info().ipv4?.address?.startsWith('192.168.2.'), 'ipv4 is WiFi\'s');
  // The kernel (here the simulator) agrees: WiFi's default route has the lower metric.
  const metric = (name: string) => world.routes(name).find((r) => r.prefixLength === 0)?.metric ?? Infinity;
  await until(world, () => metric('wlan0') < metric('eth0'), 'WiFi default route below Ethernet\'s');

  // A specific name ranks like a kind; the impOS aliases work too.
  imp.net.setserverinterfaces(['eth0', 'wl0']);
  await until(world, () => activeName(imp.net.info()) === 'eth0', 'eth0 active again');

  // Pull eth0's cable: WiFi carries the traffic; plug it back: Ethernet again.
  world.setCable('eth0', false);
  await until(world, () => eth.getstate() === NetState.ETHERNET_STOPPED_NO_LINK, 'eth0 NO_LINK');
  assert.equal(activeName(imp.net.info()), 'wlan0');
  world.setCable('eth0', true);
  await until(world, () => eth.getstate() === NetState.CONNECTED, 'eth0 back');
  assert.equal(activeName(imp.net.info()), 'eth0');

  // getserverinterfaces gives a copy.
  const list = imp.net.getserverinterfaces();
  list.push('cell');
  assert.deepEqual(imp.net.getserverinterfaces(), ['eth0', 'wl0']);
  eth.close();
  wifi.close();
  await net.close();
});

test('an interface without a gateway carries no default traffic, so it is never active', async () => {
  const { imp, net, world } = await impRig();
  const eth = imp.net.open({ interface: 'eth0', staticconfig: { ip: '192.168.1.60', netmask: '255.255.255.0', dns: ['192.168.1.1'] } });
  await until(world, () => eth.getstate() === NetState.CONNECTED, 'eth0 CONNECTED');
  const info = imp.net.info();
  assert.equal(info.interface[0]?.state, NetState.CONNECTED);
  assert.equal(info.active, undefined);
  assert.equal(info.ipv4, undefined);
  eth.close();
  await net.close();
});

test('lasterror: the last UNHAPPY, with interface, state, reason and detail; it stays after the interface recovers', async () => {
  const { imp, net, world } = await impRig('default', { driver: { dhcpGiveUpMs: 5000 } });
  assert.equal(imp.net.info().lasterror, undefined);
  const wifi = imp.net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: 'WrongPassword' } });
  await until(world, () => wifi.getstate() === NetState.WIFI_STOPPED_UNHAPPY, 'wrong key → UNHAPPY');
  const e = imp.net.info().lasterror;
  assert.equal(e?.interface, 'wlan0');
  assert.equal(e?.state, NetState.WIFI_STOPPED_UNHAPPY);
  assert.equal(e?.reason, Reason.WRONG_KEY);
  assert.ok(!JSON.stringify(e).includes('WrongPassword'), 'no key in lasterror');

  world.segment('eth0').dhcp!.options.silent = true;
  const eth = imp.net.open({ interface: 'eth0' });
  await until(world, () => eth.getstate() === NetState.ETHERNET_STOPPED_UNHAPPY, 'no DHCP → UNHAPPY');
  const last = imp.net.info().lasterror;
  assert.deepEqual({ interface: last?.interface, state: last?.state, reason: last?.reason }, { interface: 'eth0', state: NetState.ETHERNET_STOPPED_UNHAPPY, reason: Reason.DHCP_TIMEOUT });
  assert.match(last?.detail ?? '', /no lease after \d+ ms/);

  world.segment('eth0').dhcp!.options.silent = false;
  await until(world, () => eth.getstate() === NetState.CONNECTED, 'eth0 recovers');
  assert.equal(imp.net.info().lasterror?.interface, 'eth0', 'lasterror is the last error, not the current state');
  assert.equal(activeName(imp.net.info()), 'eth0');
  eth.close();
  wifi.close();
  await net.close();
});

test('setserverinterfaces refuses a bad list naming the field, and keeps the old list', async () => {
  const { imp, net } = await impRig();
  imp.net.setserverinterfaces(['cell']);
  const cases: [unknown, string][] = [
    ['wifi', 'interfaces'],
    [undefined, 'interfaces'],
    [['wifi', 5], 'interfaces[1]'],
    [[''], 'interfaces[0]'],
    [['eth0', 'a-name-too-long-for-linux'], 'interfaces[1]'],
  ];
  for (const [list, field] of cases) {
    assert.throws(
      () => imp.net.setserverinterfaces(list as string[]),
      (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === field && e.message.startsWith(`${field}: must be`),
      `${JSON.stringify(list)} → ${field}`,
    );
  }
  assert.deepEqual(imp.net.getserverinterfaces(), ['cell'], 'a refused list changes nothing');
  await net.close();
});
