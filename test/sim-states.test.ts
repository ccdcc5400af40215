/**
 * Every impOS state, reached on the simulator: the Ethernet, WiFi and cellular walks with
 * their exact state sequences and reasons, the faults that lead to the unhappy states, and
 * the recoveries. A registry (per file) records every state seen; the last test checks
 * that all of imp.net's states were reached.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { NetState, stateName } from '../src/index.js';
import type { NetInterface, StateChange } from '../src/index.js';
import { assertChangeInvariants, closeAndCheck, recorder, simNetwork, until, untilState, type Recorder } from './helpers/sim.js';

/** Every state any test in this file saw (as a change, or as the state a change left). */
const seen = new Set<number>();

function track(rec: Recorder, ifname: string): void {
  for (const c of rec.changes) {
    seen.add(c.state);
    seen.add(c.previous);
  }
  assertChangeInvariants(rec.changes, { ifname });
}

const ETH_UP = ['STARTING opened', 'ETHERNET_LINK_UP carrier', 'ETHERNET_DHCPING dhcp-started', 'CONNECTED dhcp-bound'];
const WIFI_UP = ['STARTING opened', 'WIFI_SCANNING wifi-scanning', 'WIFI_JOINING wifi-associating', 'WIFI_LINK_UP wifi-associated', 'WIFI_DHCPING dhcp-started', 'CONNECTED dhcp-bound'];
const WIFI_REJOIN = ['WIFI_JOINING wifi-associating', 'WIFI_LINK_UP wifi-associated', 'WIFI_DHCPING dhcp-started', 'CONNECTED dhcp-bound'];
const CELL_UP = ['STARTING opened', 'CELLULAR_PINGING modem-probing', 'CELLULAR_REGISTERING registering', 'CELLULAR_PPP_CONNECTING ppp-dialing', 'CONNECTED ppp-up'];
const CELL_REDIAL = ['CELLULAR_PINGING retry', 'CELLULAR_REGISTERING registering', 'CELLULAR_PPP_CONNECTING ppp-dialing', 'CONNECTED ppp-up'];

function addressesOf(world: { addresses(n: string): { address: string; prefixLength: number }[] }, name: string): string[] {
  return world.addresses(name).map((a) => `${a.address}/${a.prefixLength}`);
}

function firstOf(rec: Recorder, state: number): StateChange {
  const c = rec.changes.find((x) => x.state === state);
  assert.ok(c, `saw ${stateName(state)}`);
  return c;
}

describe('Ethernet', () => {
  test('default: STARTING → LINK_UP → DHCPING → CONNECTED; close → STOPPED, all undone', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    assert.equal(eth.state, NetState.STARTING, 'open() reports STARTING at once');
    await untilState(world, eth, NetState.CONNECTED);
    await world.run(1000);
    assert.deepEqual(rec.steps(), ETH_UP);
    assert.deepEqual(addressesOf(world, 'eth0'), ['192.168.1.100/24']);
    assert.ok(world.routes('eth0').some((r) => r.prefixLength === 0 && r.gateway === '192.168.1.1'), 'default route via the DHCP router');
    assert.equal(world.link('eth0').info.adminUp, true);
    await closeAndCheck(world, eth);
    assert.deepEqual(rec.stepsFrom(4), ['ETHERNET_STOPPED closed-by-user']);
    assert.deepEqual(world.addresses('eth0'), []);
    assert.deepEqual(world.routes('eth0'), []);
    assert.equal(world.link('eth0').info.adminUp, false, 'admin-down again, as it was before open');
    track(rec, 'eth0');
  });

  test('no cable: STOPPED_NO_LINK until plugged; a pulled cable removes the address; plugged back → CONNECTED', async () => {
    const { world, net } = await simNetwork('no-cable');
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await world.run(10_000);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'ETHERNET_STOPPED_NO_LINK no-carrier']);
    assert.equal(eth.state, NetState.ETHERNET_STOPPED_NO_LINK);
    assert.deepEqual(world.addresses('eth0'), []);

    world.setCable('eth0', true);
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(rec.stepsFrom(2), ['ETHERNET_LINK_UP carrier', 'ETHERNET_DHCPING dhcp-started', 'CONNECTED dhcp-bound']);
    assert.deepEqual(addressesOf(world, 'eth0'), ['192.168.1.100/24']);

    const n = rec.changes.length;
    world.setCable('eth0', false);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_NO_LINK);
    await world.run(1000);
    assert.deepEqual(rec.stepsFrom(n), ['ETHERNET_STOPPED_NO_LINK no-carrier']);
    assert.deepEqual(world.addresses('eth0'), [], 'address removed on carrier loss');
    assert.deepEqual(world.routes('eth0'), [], 'routes removed on carrier loss');
    assert.equal(eth.ipTable(), undefined);

    world.setCable('eth0', true);
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(rec.stepsFrom(n + 1), ['ETHERNET_LINK_UP carrier', 'ETHERNET_DHCPING dhcp-started', 'CONNECTED dhcp-bound']);
    assert.deepEqual(addressesOf(world, 'eth0'), ['192.168.1.100/24'], 'the same address again');
    await closeAndCheck(world, eth);
    track(rec, 'eth0');
  });

  test('no DHCP server: UNHAPPY dhcp-timeout after dhcpGiveUpMs, then CONNECTED once a server answers', async () => {
    const { world, net } = await simNetwork('no-dhcp', { driver: { dhcpGiveUpMs: 3000 } });
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_UNHAPPY, 10_000);
    await world.run(5000);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'ETHERNET_LINK_UP carrier', 'ETHERNET_DHCPING dhcp-started', 'ETHERNET_STOPPED_UNHAPPY dhcp-timeout']);
    const unhappy = firstOf(rec, NetState.ETHERNET_STOPPED_UNHAPPY);
    const dhcping = firstOf(rec, NetState.ETHERNET_DHCPING);
    assert.ok(unhappy.atMs - dhcping.atMs >= 3000 && unhappy.atMs - dhcping.atMs < 4000, `gave up after ~3000 ms (took ${unhappy.atMs - dhcping.atMs})`);
    assert.deepEqual(world.addresses('eth0'), []);
    const server = world.segment('eth0').dhcp!;
    assert.ok(server.received.filter((m) => m === 'DISCOVER').length >= 2, 'the client kept asking');

    server.options.silent = false;
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(rec.stepsFrom(4), ['CONNECTED dhcp-bound']);
    assert.deepEqual(addressesOf(world, 'eth0'), ['192.168.1.100/24']);
    await closeAndCheck(world, eth);
    track(rec, 'eth0');
  });

  test('DHCP NAK: DHCPING dhcp-nak, no address, no request storm; CONNECTED once the server stops refusing', async () => {
    const { world, net } = await simNetwork('dhcp-nak');
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await world.run(20_000);
    assert.deepEqual(rec.steps().slice(0, 4), ['STARTING opened', 'ETHERNET_LINK_UP carrier', 'ETHERNET_DHCPING dhcp-started', 'ETHERNET_DHCPING dhcp-nak']);
    assert.ok(!rec.changes.some((c) => c.state === NetState.CONNECTED));
    const nak = rec.changes.find((c) => c.reason === 'dhcp-nak');
    assert.equal(nak?.detail, 'server said: address not available', 'the server message travels in detail');
    assert.deepEqual(world.addresses('eth0'), []);
    const server = world.segment('eth0').dhcp!;
    assert.ok(server.received.includes('REQUEST'));
    assert.ok(server.received.length < 40, `restarts after a NAK back off (${server.received.length} messages in 20 s)`);

    server.options.nakAll = false;
    await untilState(world, eth, NetState.CONNECTED);
    assert.equal(rec.last()?.reason, 'dhcp-bound');
    assert.deepEqual(addressesOf(world, 'eth0'), ['192.168.1.100/24']);
    await closeAndCheck(world, eth);
    track(rec, 'eth0');
  });

  test('lease expiry: server goes silent, the 20 s lease runs out → DHCPING dhcp-lease-expired, address removed', async () => {
    const { world, net } = await simNetwork('short-lease');
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, eth, NetState.CONNECTED);
    const bound = rec.last()!;
    assert.equal(eth.ipv4?.leaseTimeS, 20);
    const server = world.segment('eth0').dhcp!;
    server.options.silent = true;
    await until(world, () => eth.reason === 'dhcp-lease-expired', 'lease expires', 60_000);
    await world.run(100);
    assert.deepEqual(rec.stepsFrom(ETH_UP.length), ['ETHERNET_DHCPING dhcp-lease-expired']);
    const expired = rec.last()!;
    // RFC 2131 §4.4.1: the lease runs from when the request was sent, just before the ACK.
    const leaseMs = expired.atMs - bound.atMs;
    assert.ok(leaseMs > 19_000 && leaseMs <= 20_000, `expires at the end of the 20 s lease (after ${leaseMs} ms)`);
    assert.deepEqual(server.received.slice(0, 4), ['DISCOVER', 'REQUEST', 'REQUEST', 'DISCOVER'], 'bound, renewed at T1, rebound at T2, then asks afresh');
    assert.deepEqual(world.addresses('eth0'), [], 'addresses removed on expiry');
    assert.ok(!world.routes('eth0').some((r) => r.prefixLength === 0), 'default route removed on expiry');
    assert.equal(eth.ipTable(), undefined);

    server.options.silent = false;
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(addressesOf(world, 'eth0'), ['192.168.1.100/24']);
    await closeAndCheck(world, eth);
    track(rec, 'eth0');
  });
});

describe('WiFi', () => {
  const nic = (key: string | null = 'Password', extra: object = {}) => ({ interface: 'wl0', wificonfig: { ssid: 'Network', key, ...extra } });

  async function walkToConnected(scenario: string, input: object): Promise<{ rec: Recorder; iface: NetInterface; world: Awaited<ReturnType<typeof simNetwork>>['world'] }> {
    const { world, net } = await simNetwork(scenario);
    const rec = recorder();
    const iface = net.open(input, rec.onState);
    await untilState(world, iface, NetState.CONNECTED, 30_000);
    await world.run(1000);
    return { rec, iface, world };
  }

  test('default: SCANNING → JOINING → LINK_UP → DHCPING → CONNECTED; close → STOPPED', async () => {
    const { rec, iface, world } = await walkToConnected('default', nic());
    assert.equal(iface.name, 'wlan0');
    assert.deepEqual(rec.steps(), WIFI_UP);
    assert.deepEqual(addressesOf(world, 'wlan0'), ['192.168.2.100/24']);
    await closeAndCheck(world, iface);
    assert.deepEqual(rec.stepsFrom(WIFI_UP.length), ['WIFI_STOPPED closed-by-user']);
    assert.deepEqual(world.addresses('wlan0'), []);
    assert.equal(world.link('wlan0').info.adminUp, false);
    assert.equal(world.supplicants.size, 0, 'control connection closed');
    track(rec, 'wlan0');
  });

  test('WPS push-button: WPSING → JOINING → LINK_UP → DHCPING → CONNECTED', async () => {
    const { rec, iface, world } = await walkToConnected('wps-ap', { interface: 'wl0', wificonfig: { ssid: 'Network', wps: true } });
    assert.deepEqual(rec.steps(), ['STARTING opened', 'WIFI_WPSING wps-started', ...WIFI_REJOIN]);
    await closeAndCheck(world, iface);
    track(rec, 'wlan0');
  });

  test('wrong key: UNHAPPY wrong-key after the first failed handshake, and it stays there', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const iface = net.open(nic('NotThePassword'), rec.onState);
    await untilState(world, iface, NetState.WIFI_STOPPED_UNHAPPY, 60_000);
    await world.run(120_000);
    assert.deepEqual(rec.steps(), [
      'STARTING opened',
      'WIFI_SCANNING wifi-scanning',
      'WIFI_JOINING wifi-associating',
      'WIFI_SCANNING wifi-disconnected',
      'WIFI_STOPPED_UNHAPPY wrong-key',
    ]);
    assert.equal(iface.reason, 'wrong-key');
    assert.deepEqual(world.addresses('wlan0'), []);
    await closeAndCheck(world, iface);
    track(rec, 'wlan0');
  });

  test('wifiWrongKeyLimit: 2 lets the supplicant try twice before wrong-key', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const iface = net.open(nic('NotThePassword'), { onState: rec.onState, driver: { wifiWrongKeyLimit: 2 } });
    await untilState(world, iface, NetState.WIFI_STOPPED_UNHAPPY, 60_000);
    assert.deepEqual(rec.steps().filter((s) => s.startsWith('WIFI_JOINING')).length, 2);
    assert.equal(iface.reason, 'wrong-key');
    await closeAndCheck(world, iface);
  });

  test('supplicant killed: UNHAPPY supplicant-died, then a new supplicant and CONNECTED again', async () => {
    const { rec, iface, world } = await walkToConnected('default', nic());
    assert.equal(world.supplicantsStarted, 1);
    assert.equal(world.killSupplicant('wlan0'), true);
    await untilState(world, iface, NetState.WIFI_STOPPED_UNHAPPY, 1000);
    await untilState(world, iface, NetState.CONNECTED, 30_000);
    assert.deepEqual(rec.stepsFrom(WIFI_UP.length), ['WIFI_STOPPED_UNHAPPY supplicant-died', 'WIFI_SCANNING wifi-scanning', ...WIFI_REJOIN]);
    assert.equal(world.supplicantsStarted, 2, 'restarted once');
    assert.deepEqual(addressesOf(world, 'wlan0'), ['192.168.2.100/24']);
    await closeAndCheck(world, iface);
    track(rec, 'wlan0');
  });

  test('AP off the air: SCANNING ap-lost, address removed; AP back → CONNECTED', async () => {
    const { rec, iface, world } = await walkToConnected('default', nic());
    const ap = world.accessPoint('Network')!;
    ap.setUp(false);
    await untilState(world, iface, NetState.WIFI_SCANNING, 1000);
    await world.run(8000);
    assert.deepEqual(rec.stepsFrom(WIFI_UP.length), ['WIFI_SCANNING ap-lost']);
    assert.deepEqual(world.addresses('wlan0'), []);
    ap.setUp(true);
    await untilState(world, iface, NetState.CONNECTED, 30_000);
    assert.deepEqual(rec.stepsFrom(WIFI_UP.length + 1), WIFI_REJOIN);
    assert.deepEqual(addressesOf(world, 'wlan0'), ['192.168.2.100/24']);
    await closeAndCheck(world, iface);
    track(rec, 'wlan0');
  });

  test('hidden AP: found with hidden: true', async () => {
    const { rec, iface, world } = await walkToConnected('hidden-ap', nic('Password', { hidden: true }));
    assert.deepEqual(rec.steps(), WIFI_UP);
    await closeAndCheck(world, iface);
    track(rec, 'wlan0');
  });

  test('hidden AP without hidden: true is not found (UNHAPPY network-not-found)', async () => {
    const { world, net } = await simNetwork('hidden-ap');
    const rec = recorder();
    const iface = net.open(nic(), rec.onState);
    await untilState(world, iface, NetState.WIFI_STOPPED_UNHAPPY, 60_000);
    assert.equal(iface.reason, 'network-not-found');
    assert.ok(!rec.changes.some((c) => c.state === NetState.WIFI_JOINING));
    await closeAndCheck(world, iface);
    track(rec, 'wlan0');
  });

  test('open AP: key "" joins', async () => {
    const { rec, iface, world } = await walkToConnected('open-ap', nic(''));
    assert.deepEqual(rec.steps(), WIFI_UP);
    await closeAndCheck(world, iface);
    track(rec, 'wlan0');
  });

  test('raw 64-hex PSK (PBKDF2 of the passphrase) joins', async () => {
    const psk = pbkdf2Sync('Password', 'Network', 4096, 32, 'sha1').toString('hex');
    const { rec, iface, world } = await walkToConnected('default', nic(psk.toUpperCase()));
    assert.deepEqual(rec.steps(), WIFI_UP);
    await closeAndCheck(world, iface);
    track(rec, 'wlan0');
  });
});

describe('Cellular', () => {
  test('default: PINGING → REGISTERING → PPP_CONNECTING → CONNECTED; close → STOPPED, ppp gone', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const cell = net.open({ interface: 'cell0', cellconfig: { apn: 'internet' } }, rec.onState);
    await untilState(world, cell, NetState.CONNECTED, 30_000);
    await world.run(5000);
    assert.deepEqual(rec.steps(), CELL_UP);
    assert.equal(cell.ipTable()?.ipv4.address, '10.64.64.2');
    assert.ok(world.routes('ppp0').some((r) => r.prefixLength === 0), 'default route on ppp0');
    assert.ok(world.modem('cell0').commands.includes('AT+CGDCONT=1,"IP","internet"'), 'the APN was set');
    await closeAndCheck(world, cell);
    assert.deepEqual(rec.stepsFrom(CELL_UP.length), ['CELLULAR_STOPPED closed-by-user']);
    assert.equal(world.links.has('ppp0'), false, 'pppd stopped');
    assert.equal(world.modem('cell0').pppUp, false);
    track(rec, 'cell0');
  });

  test('a modem left in data mode: modem-silent, then the V.250 escape (+++ between guard times) and ATH → CONNECTED', async () => {
    const { world, net } = await simNetwork('default', {}, (w) => (w.modem('cell0').options.inDataMode = true));
    const rec = recorder();
    const cell = net.open({ interface: 'cell0', cellconfig: { apn: 'internet' } }, rec.onState);
    await untilState(world, cell, NetState.CONNECTED, 120_000);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'CELLULAR_PINGING modem-probing', 'CELLULAR_STOPPED_UNHAPPY modem-silent', ...CELL_REDIAL]);
    const modem = world.modem('cell0');
    assert.equal(modem.options.inDataMode, false, 'the escape took the modem out of data mode');
    assert.equal(modem.commands[0], 'ATH', 'the first line the modem heard in command mode ends the call');
    await closeAndCheck(world, cell);
    track(rec, 'cell0');
  });

  test('the escape needs its guard times: with a guard shorter than the modem\'s, the modem stays in data mode', async () => {
    const { world, net } = await simNetwork('default', { driver: { modemTiming: { escapeGuardMs: 500 } } }, (w) => (w.modem('cell0').options.inDataMode = true));
    const rec = recorder();
    const cell = net.open({ interface: 'cell0', cellconfig: { apn: 'internet' } }, rec.onState);
    await world.run(120_000);
    assert.ok(!rec.changes.some((c) => c.state === NetState.CONNECTED));
    assert.ok(rec.changes.filter((c) => c.reason === 'modem-silent').length >= 3, 'silent, again and again');
    assert.equal(world.modem('cell0').options.inDataMode, true);
    assert.equal(world.modem('cell0').commandCount, 0, 'not one command line reached the modem');
    await closeAndCheck(world, cell);
    track(rec, 'cell0');
  });

  test('SIM missing: WAITING_FOR_SIM sim-missing; a SIM inserted → CONNECTED', async () => {
    const { world, net } = await simNetwork('sim-missing');
    const rec = recorder();
    const cell = net.open({ interface: 'cell0' }, rec.onState);
    await world.run(20_000);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'CELLULAR_PINGING modem-probing', 'CELLULAR_WAITING_FOR_SIM sim-missing']);
    world.modem('cell0').options.sim = 'ready';
    await untilState(world, cell, NetState.CONNECTED, 120_000);
    assert.deepEqual(rec.stepsFrom(3), CELL_UP.slice(2));
    await closeAndCheck(world, cell);
    track(rec, 'cell0');
  });

  test('PIN required: WAITING_FOR_SIM sim-pin-required, the PIN sent once, then CONNECTED', async () => {
    const { world, net } = await simNetwork('pin-required');
    const rec = recorder();
    const cell = net.open({ interface: 'cell0', cellconfig: { apn: 'internet', pin: '1234' } }, rec.onState);
    await untilState(world, cell, NetState.CONNECTED, 30_000);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'CELLULAR_PINGING modem-probing', 'CELLULAR_WAITING_FOR_SIM sim-pin-required', ...CELL_UP.slice(2)]);
    assert.equal(world.modem('cell0').commands.filter((c) => c.startsWith('AT+CPIN=')).length, 1);
    await closeAndCheck(world, cell);
    track(rec, 'cell0');
  });

  test('wrong PIN: UNHAPPY sim-pin-wrong, the PIN is sent only once and never retried', async () => {
    const { world, net } = await simNetwork('pin-required');
    const rec = recorder();
    const cell = net.open({ interface: 'cell0', cellconfig: { apn: 'internet', pin: '9999' } }, rec.onState);
    await untilState(world, cell, NetState.CELLULAR_STOPPED_UNHAPPY, 30_000);
    await world.run(600_000);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'CELLULAR_PINGING modem-probing', 'CELLULAR_WAITING_FOR_SIM sim-pin-required', 'CELLULAR_STOPPED_UNHAPPY sim-pin-wrong']);
    const modem = world.modem('cell0');
    assert.equal(modem.commands.filter((c) => c.startsWith('AT+CPIN=')).length, 1, 'one PIN try, not three');
    assert.equal(modem.pinAttempts, 1);
    await closeAndCheck(world, cell);
    track(rec, 'cell0');
  });

  test('registration denied: REGISTRATION_DENIED; the network relents → CONNECTED', async () => {
    const { world, net } = await simNetwork('registration-denied');
    const rec = recorder();
    const cell = net.open({ interface: 'cell0' }, rec.onState);
    await world.run(60_000);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'CELLULAR_PINGING modem-probing', 'CELLULAR_REGISTERING registering', 'CELLULAR_REGISTRATION_DENIED registration-denied']);
    world.modem('cell0').options.registration = 'home';
    await untilState(world, cell, NetState.CONNECTED, 120_000);
    assert.deepEqual(rec.stepsFrom(4), ['CELLULAR_PPP_CONNECTING ppp-dialing', 'CONNECTED ppp-up']);
    await closeAndCheck(world, cell);
    track(rec, 'cell0');
  });

  test('silent modem: UNHAPPY modem-silent, retried with back-off; the modem wakes → CONNECTED', async () => {
    const { world, net } = await simNetwork('modem-silent');
    const rec = recorder();
    const cell = net.open({ interface: 'cell0' }, rec.onState);
    await untilState(world, cell, NetState.CELLULAR_STOPPED_UNHAPPY, 60_000);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'CELLULAR_PINGING modem-probing', 'CELLULAR_STOPPED_UNHAPPY modem-silent']);
    await until(world, () => rec.changes.filter((c) => c.reason === 'modem-silent').length === 3, 'two more silent rounds', 120_000);
    const unhappyAt = rec.changes.filter((c) => c.reason === 'modem-silent').map((c) => c.atMs);
    const retryAt = rec.changes.filter((c) => c.reason === 'retry').map((c) => c.atMs);
    const gaps = retryAt.map((t, i) => t - unhappyAt[i]!);
    assert.ok(gaps[1]! > gaps[0]!, `back-off grows (${gaps.join(', ')} ms)`);
    world.modem('cell0').options.silent = false;
    await untilState(world, cell, NetState.CONNECTED, 120_000);
    assert.deepEqual(rec.steps().slice(-4), CELL_REDIAL);
    await closeAndCheck(world, cell);
    track(rec, 'cell0');
  });

  test('PPP dropped: UNHAPPY ppp-dropped, then dialled again → CONNECTED', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const cell = net.open({ interface: 'cell0' }, rec.onState);
    await untilState(world, cell, NetState.CONNECTED, 30_000);
    world.modem('cell0').dropCarrier();
    await untilState(world, cell, NetState.CELLULAR_STOPPED_UNHAPPY, 1000);
    assert.equal(cell.reason, 'ppp-dropped');
    assert.equal(cell.ipTable(), undefined);
    await untilState(world, cell, NetState.CONNECTED, 60_000);
    assert.deepEqual(rec.stepsFrom(CELL_UP.length), ['CELLULAR_STOPPED_UNHAPPY ppp-dropped', ...CELL_REDIAL]);
    assert.equal(cell.ipTable()?.ipv4.address, '10.64.64.2');
    await closeAndCheck(world, cell);
    track(rec, 'cell0');
  });
});

test('every impOS state was reached by a test in this file', () => {
  const all = Object.values(NetState) as number[];
  assert.equal(all.length, 22, 'imp.net has 22 state constants (API.md Part 1)');
  const missing = all.filter((s) => !seen.has(s)).map((s) => stateName(s));
  assert.deepEqual(missing, [], `states never reached: ${missing.join(', ')}`);
});
