/**
 * ARP address conflict detection (RFC 5227, `driver: { arpProbe: true }`) on the simulator:
 * a host on the segment that already holds the offered address makes nicup DECLINE it
 * (the simulated DHCP server sees the DECLINE and never offers that address again) and
 * take another; a conflicting static address is UNHAPPY address-conflict; renewals are
 * not probed; without the option nothing is probed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetState, Reason } from '../src/index.js';
import { simHostMac } from '../src/platform/sim/world.js';
import { assertChangeInvariants, closeAndCheck, recorder, recordingLogger, simNetwork, until, untilState } from './helpers/sim.js';

const ETH_UP = ['STARTING opened', 'ETHERNET_LINK_UP carrier', 'ETHERNET_DHCPING dhcp-started', 'CONNECTED dhcp-bound'];
/** The default world's eth0 segment: 192.168.1.0/24, pool from .100. */
const FIRST = '192.168.1.100';
const SECOND = '192.168.1.101';

describe('ARP probe on the simulator', () => {
  test('a host already holds the offered address: DECLINE, address-conflict, then another address and CONNECTED', async () => {
    const log = recordingLogger();
    const { world, net } = await simNetwork('default', { logger: log, driver: { arpProbe: true } }, (w) => void w.segment('eth0').host(FIRST));
    const server = world.segment('eth0').dhcp!;
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(rec.steps(), [
      'STARTING opened',
      'ETHERNET_LINK_UP carrier',
      'ETHERNET_DHCPING dhcp-started',
      'ETHERNET_DHCPING address-conflict',
      'CONNECTED dhcp-bound',
    ]);
    const conflict = rec.changes[3]!;
    assert.equal(conflict.detail, `${FIRST} is in use`);
    assert.equal(rec.changes[4]!.detail, `${SECOND}/24 from 192.168.1.1`);
    assert.deepEqual(
      world.addresses('eth0').map((a) => a.address),
      [SECOND],
    );
    // The server saw the DECLINE (RFC 2131 §3.1.5) and will not offer the address again.
    assert.ok(server.received.includes('DECLINE'), `server received ${server.received.join(', ')}`);
    assert.ok(server.declined.has(FIRST));
    // Rediscovery waited the RFC's 10 s after the DECLINE.
    assert.ok(rec.changes[4]!.atMs - conflict.atMs >= 10_000, `${rec.changes[4]!.atMs - conflict.atMs} ms between DECLINE and the next lease`);
    // One probe for .100 (answered at once), then three for .101 that nobody answers.
    assert.equal(world.arpProbesSent, 4);
    assert.ok(log.lines.some((l) => l.includes(`arp probe ${FIRST}: in use by ${simHostMac(FIRST)}`)), 'the log names the holder\'s MAC');
    assert.ok(log.lines.some((l) => l.includes(`arp probe ${SECOND}: free (400 ms)`)));
    assertChangeInvariants(rec.changes, { ifname: 'eth0' });
    await closeAndCheck(world, eth);
  });

  test('dhcpDeclineWaitMs shortens the wait after a DECLINE', async () => {
    const { world, net } = await simNetwork('default', { driver: { arpProbe: true, dhcpDeclineWaitMs: 500 } }, (w) => void w.segment('eth0').host(FIRST));
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, eth, NetState.CONNECTED);
    const conflict = rec.changes.find((c) => c.reason === 'address-conflict')!;
    const bound = rec.last()!;
    assert.equal(eth.ipv4?.address, SECOND);
    assert.ok(bound.atMs - conflict.atMs >= 500 && bound.atMs - conflict.atMs < 2000, `${bound.atMs - conflict.atMs} ms between DECLINE and the next lease`);
    await closeAndCheck(world, eth);
  });

  test('the conflicting address is never put on the link', async () => {
    const { world, platform, net } = await simNetwork('default', { driver: { arpProbe: true } }, (w) => void w.segment('eth0').host(FIRST));
    const added: string[] = [];
    const addAddress = platform.addAddress.bind(platform);
    platform.addAddress = (name, a) => {
      added.push(a.address);
      return addAddress(name, a);
    };
    const eth = net.open({ interface: 'eth0' });
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(added, [SECOND]);
    await closeAndCheck(world, eth);
  });

  test('without arpProbe: no probe, and the address in use is taken (the difference)', async () => {
    const { world, net } = await simNetwork('default', {}, (w) => void w.segment('eth0').host(FIRST));
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(rec.steps(), ETH_UP);
    assert.deepEqual(world.addresses('eth0').map((a) => a.address), [FIRST]);
    assert.equal(world.arpProbesSent, 0);
    assert.equal(world.segment('eth0').dhcp!.received.includes('DECLINE'), false);
    await closeAndCheck(world, eth);
  });

  test('a free address: the usual states, CONNECTED after the probe time (arpProbeTimeoutMs)', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, { onState: rec.onState, driver: { arpProbe: true, arpProbeTimeoutMs: 150 } });
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(rec.steps(), ETH_UP);
    const dhcping = rec.changes[2]!;
    const connected = rec.changes[3]!;
    assert.ok(connected.atMs - dhcping.atMs >= 150, `probe time counted: ${connected.atMs - dhcping.atMs} ms`);
    assert.ok(connected.atMs - dhcping.atMs < 150 + 50, `and not much more: ${connected.atMs - dhcping.atMs} ms`);
    assert.equal(world.arpProbesSent, 3);
    await closeAndCheck(world, eth);
  });

  test('renewals are not probed; a carrier loss and return re-probes the remembered address', async () => {
    const { world, net } = await simNetwork('short-lease', { driver: { arpProbe: true } });
    const rec = recorder();
    const eth = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, eth, NetState.CONNECTED);
    assert.equal(world.arpProbesSent, 3);
    const renewalsBefore = world.segment('eth0').dhcp!.received.filter((m) => m === 'REQUEST').length;
    await world.run(60_000);
    assert.ok(world.segment('eth0').dhcp!.received.filter((m) => m === 'REQUEST').length > renewalsBefore + 1, 'the lease was renewed');
    assert.equal(eth.state, NetState.CONNECTED);
    assert.equal(world.arpProbesSent, 3, 'no probe on renewal');
    world.setCable('eth0', false);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_NO_LINK);
    // Meanwhile another host takes the address nicup had: INIT-REBOOT gets it back from the
    // server, the probe finds it taken, and nicup declines it.
    world.segment('eth0').host(FIRST);
    world.setCable('eth0', true);
    await until(world, () => rec.changes.some((c) => c.reason === Reason.ADDRESS_CONFLICT), 'address-conflict after the re-plug');
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(world.addresses('eth0').map((a) => a.address), [SECOND]);
    await closeAndCheck(world, eth);
  });

  test('static address in use: ETHERNET_STOPPED_UNHAPPY address-conflict naming the holder\'s MAC, nothing applied', async () => {
    const { world, net } = await simNetwork('default', { driver: { arpProbe: true } }, (w) => void w.segment('eth0').host('192.168.1.50'));
    const rec = recorder();
    const eth = net.open({ interface: 'eth0', staticconfig: { ip: '192.168.1.50', netmask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1'] } }, rec.onState);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_UNHAPPY);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'ETHERNET_LINK_UP carrier', 'ETHERNET_STOPPED_UNHAPPY address-conflict']);
    assert.equal(rec.changes[2]!.detail, `192.168.1.50 is in use by ${simHostMac('192.168.1.50')}`);
    assert.deepEqual(world.addresses('eth0'), []);
    assert.deepEqual(world.routes('eth0'), []);
    // The other host goes away; a retry probes again and applies.
    world.segment('eth0').hosts.delete('192.168.1.50');
    eth.retry();
    await untilState(world, eth, NetState.CONNECTED);
    assert.equal(rec.last()?.reason, Reason.STATIC_APPLIED);
    assert.deepEqual(world.addresses('eth0').map((a) => a.address), ['192.168.1.50']);
    await closeAndCheck(world, eth);
  });

  test('static address equal to the gateway\'s, or held by another nicup interface on the segment, is a conflict', async () => {
    const { world, net } = await simNetwork('default', { driver: { arpProbe: true } });
    const gwRec = recorder();
    const gw = net.open({ interface: 'eth0', staticconfig: { ip: '192.168.1.1', netmask: '255.255.255.0', dns: ['192.168.1.1'] } }, gwRec.onState);
    await untilState(world, gw, NetState.ETHERNET_STOPPED_UNHAPPY);
    assert.equal(gwRec.last()?.reason, Reason.ADDRESS_CONFLICT);
    assert.equal(gwRec.last()?.detail, `192.168.1.1 is in use by ${simHostMac('192.168.1.1')}`);
    await gw.close();

    world.addEthernet('eth9');
    const other = world.link('eth9');
    other.segment = world.segment('eth0');
    const a = net.open({ interface: 'eth0', staticconfig: { ip: '192.168.1.60', netmask: '255.255.255.0', dns: ['192.168.1.1'] } });
    await untilState(world, a, NetState.CONNECTED);
    const rec = recorder();
    const b = net.open({ interface: 'eth9', staticconfig: { ip: '192.168.1.60', netmask: '255.255.255.0', dns: ['192.168.1.1'] } }, rec.onState);
    await untilState(world, b, NetState.ETHERNET_STOPPED_UNHAPPY);
    assert.equal(rec.last()?.reason, Reason.ADDRESS_CONFLICT);
    assert.equal(rec.last()?.detail, `192.168.1.60 is in use by ${world.link('eth0').info.mac}`);
    await closeAndCheck(world, a, b);
  });

  test('WiFi: the same probe on the access point\'s segment', async () => {
    const { world, net } = await simNetwork('default', { driver: { arpProbe: true } }, (w) => void w.accessPoint('Network')!.segment.host('192.168.2.100'));
    const rec = recorder();
    const wlan = net.open({ interface: 'wlan0', wificonfig: { ssid: 'Network', key: 'Password' } }, rec.onState);
    await untilState(world, wlan, NetState.CONNECTED);
    assert.ok(rec.steps().includes('WIFI_DHCPING address-conflict'), rec.steps().join(' → '));
    assert.deepEqual(world.addresses('wlan0').map((a) => a.address), ['192.168.2.101']);
    await closeAndCheck(world, wlan);
  });
});
