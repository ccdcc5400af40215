/**
 * The open/re-open rules of Network.open on the simulator: identical NICs share the live
 * session, `{interface}` attaches, a different NIC is refused unless `reconfigure`, handles
 * are counted and the last close undoes everything; names, aliases and NIC errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { InterfaceBusyError, InterfaceNotFoundError, NetState, NicError, Network, isNicupError } from '../src/index.js';
import { SimPlatform, SimWorld } from '../src/platform/sim/index.js';
import { closeAndCheck, recorder, silent, simNetwork, untilState } from './helpers/sim.js';

const STATIC = { ip: '192.168.1.50', netmask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1'] };
const STATIC_REORDERED = { dns: ['192.168.1.1'], gateway: '192.168.1.1', netmask: '255.255.255.0', ip: '192.168.1.50' };
const PROXY = { type: 'HTTP', address: 'proxy.example', port: 3128, username: 'user', password: 'proxy-pass' };
const PROXY_REORDERED = { password: 'proxy-pass', username: 'user', port: 3128, address: 'proxy.example', type: 'HTTP' };

describe('re-open', () => {
  test('an identical NIC (key order differs) returns a handle on the live session: same state, no second bring-up', async () => {
    const { world, net } = await simNetwork();
    const first = recorder();
    const a = net.open({ interface: 'eth0', staticconfig: STATIC, proxyconfig: PROXY }, first.onState);
    await untilState(world, a, NetState.CONNECTED);
    assert.deepEqual(first.steps(), ['STARTING opened', 'ETHERNET_LINK_UP carrier', 'CONNECTED static-applied']);
    const addresses = world.addresses('eth0');

    const second = recorder();
    const b = net.open({ proxyconfig: PROXY_REORDERED, staticconfig: STATIC_REORDERED, interface: 'eth0' }, second.onState);
    assert.notEqual(b, a, 'a new handle');
    assert.equal(b.state, NetState.CONNECTED, 'the live state at once');
    assert.deepEqual(b.ipTable(), a.ipTable());
    await world.run(5000);
    assert.deepEqual(second.changes, [], 'no new bring-up seen by the new handle');
    assert.equal(first.changes.length, 3, 'no new bring-up seen by the first handle');
    assert.deepEqual(world.addresses('eth0'), addresses);
    assert.equal(net.session('eth0')?.handles, 2);
    await closeAndCheck(world, a, b);
  });

  test('an identical WiFi NIC by alias or by name: one supplicant, one join', async () => {
    const { world, net } = await simNetwork();
    const a = net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } });
    await untilState(world, a, NetState.CONNECTED);
    const b = net.open({ interface: 'wlan0', wificonfig: { key: 'Password', ssid: 'Network' } });
    assert.equal(b.state, NetState.CONNECTED);
    await world.run(5000);
    assert.equal(world.supplicantsStarted, 1);
    assert.equal(net.session('wlan0')?.handles, 2);
    await closeAndCheck(world, a, b);
  });

  test('{ interface } alone attaches to the live interface, whatever its NIC', async () => {
    const { world, net } = await simNetwork();
    const a = net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } });
    await untilState(world, a, NetState.CONNECTED);
    const rec = recorder();
    const b = net.open({ interface: 'wl0' }, rec.onState);
    const c = net.open({ interface: 'wlan0', staticconfig: null, proxyconfig: undefined });
    assert.equal(b.state, NetState.CONNECTED);
    assert.equal(c.state, NetState.CONNECTED);
    assert.deepEqual(b.nic, a.nic, 'the live NIC (redacted), not the attach NIC');
    await world.run(5000);
    assert.deepEqual(rec.changes, []);
    assert.equal(world.supplicantsStarted, 1);
    // The attached handle follows the interface from now on.
    world.accessPoint('Network')!.setUp(false);
    await untilState(world, b, NetState.WIFI_SCANNING, 1000);
    assert.deepEqual(rec.steps(), ['WIFI_SCANNING ap-lost']);
    await closeAndCheck(world, a, b, c);
  });

  test('a different NIC is refused: InterfaceBusyError "cannot reconfigure interface when active"; the live one is untouched', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const a = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, a, NetState.CONNECTED);
    const n = rec.changes.length;
    assert.throws(
      () => net.open({ interface: 'eth0', staticconfig: STATIC }),
      (err: unknown) => {
        assert.ok(err instanceof InterfaceBusyError);
        assert.equal(err.code, 'NICUP_INTERFACE_BUSY');
        assert.equal(err.name, 'InterfaceBusyError');
        assert.match(err.message, /cannot reconfigure interface when active/);
        return true;
      },
    );
    assert.throws(() => net.open({ interface: 'eth0', proxyconfig: PROXY }), InterfaceBusyError);
    await world.run(5000);
    assert.equal(rec.changes.length, n);
    assert.equal(a.state, NetState.CONNECTED);
    assert.equal(net.session('eth0')?.handles, 1, 'a refused open leaves no handle behind');
    assert.equal(a.ipTable()?.ipv4.dhcpserver, '192.168.1.1');
    await closeAndCheck(world, a);
  });

  test('{ reconfigure: true } tears down and brings up afresh with the new NIC (reason reconfigured)', async () => {
    const { world, net } = await simNetwork();
    const rec = recorder();
    const a = net.open({ interface: 'eth0' }, rec.onState);
    await untilState(world, a, NetState.CONNECTED);
    assert.deepEqual(world.addresses('eth0').map((x) => x.address), ['192.168.1.100']);
    const n = rec.changes.length;

    const rec2 = recorder();
    const b = net.open({ interface: 'eth0', staticconfig: STATIC }, { reconfigure: true, onState: rec2.onState });
    await untilState(world, b, NetState.CONNECTED);
    await world.run(1000);
    const fresh = ['STARTING reconfigured', 'ETHERNET_LINK_UP carrier', 'CONNECTED static-applied'];
    assert.deepEqual(rec.stepsFrom(n), fresh, 'the old handle sees the bring-up');
    assert.deepEqual(rec2.steps(), fresh, 'the new handle sees it too');
    assert.deepEqual(world.addresses('eth0').map((x) => x.address), ['192.168.1.50'], 'the DHCP address is gone, the static one applied');
    assert.equal(a.ipTable()?.ipv4.address, '192.168.1.50');
    assert.equal(a.ipTable()?.ipv4.dhcpserver, undefined);
    assert.deepEqual((a.nic as { staticconfig?: { ip: string } }).staticconfig?.ip, '192.168.1.50');
    assert.equal(net.session('eth0')?.handles, 2);
    // Now the static NIC is the live one: an identical re-open shares it.
    const c = net.open({ interface: 'eth0', staticconfig: STATIC_REORDERED });
    assert.equal(c.state, NetState.CONNECTED);
    await closeAndCheck(world, a, b, c);
  });
});

describe('handles and close', () => {
  test('closing one of two handles keeps the interface up; closing the last stops it and undoes everything', async () => {
    const { world, net } = await simNetwork();
    assert.equal(world.link('eth0').info.adminUp, false);
    const ra = recorder();
    const rb = recorder();
    const a = net.open({ interface: 'eth0' }, ra.onState);
    await untilState(world, a, NetState.CONNECTED);
    const b = net.open({ interface: 'eth0' }, rb.onState);

    await a.close();
    await world.run(5000);
    assert.equal(a.closed, true);
    assert.equal(b.state, NetState.CONNECTED, 'still up for the other handle');
    assert.equal(world.addresses('eth0').length, 1);
    assert.equal(ra.last()?.state, NetState.CONNECTED, 'the closed handle saw no STOPPED');
    assert.throws(() => a.retry(), { code: 'NICUP_CLOSED' });
    await a.close(); // twice is harmless
    assert.equal(net.session('eth0')?.handles, 1);

    // The remaining handle still follows the interface.
    world.setCable('eth0', false);
    await untilState(world, b, NetState.ETHERNET_STOPPED_NO_LINK, 1000);
    world.setCable('eth0', true);
    await untilState(world, b, NetState.CONNECTED);
    assert.equal(ra.changes.length, 4, 'nothing more for the closed handle');

    await b.close();
    assert.equal(rb.last()?.name, 'ETHERNET_STOPPED');
    assert.equal(rb.last()?.reason, 'closed-by-user');
    assert.deepEqual(world.addresses('eth0'), [], 'addresses it added are removed');
    assert.deepEqual(world.routes('eth0'), [], 'routes it added are removed');
    assert.equal(world.link('eth0').info.adminUp, false, 'admin-down again, as before open');
    assert.equal(net.session('eth0'), undefined);
    await closeAndCheck(world, a, b);
  });

  test('a link that was admin-up before open stays up after close; addresses nicup did not add stay', async () => {
    const { world, platform, net } = await simNetwork();
    await platform.setLinkUp('eth0', true);
    await platform.addAddress('eth0', { address: '192.168.1.7', prefixLength: 24 });
    const eth = net.open({ interface: 'eth0' });
    await untilState(world, eth, NetState.CONNECTED);
    assert.deepEqual(world.addresses('eth0').map((a) => a.address).sort(), ['192.168.1.100', '192.168.1.7']);
    await closeAndCheck(world, eth);
    assert.equal(world.link('eth0').info.adminUp, true);
    assert.deepEqual(world.addresses('eth0').map((a) => a.address), ['192.168.1.7']);
    assert.ok(!world.routes('eth0').some((r) => r.prefixLength === 0), 'our default route removed');
  });

  test('after the last close the interface can be opened afresh, with another NIC', async () => {
    const { world, net } = await simNetwork();
    const a = net.open({ interface: 'eth0' });
    await untilState(world, a, NetState.CONNECTED);
    await a.close();
    const rec = recorder();
    const b = net.open({ interface: 'eth0', staticconfig: STATIC }, rec.onState);
    await untilState(world, b, NetState.CONNECTED);
    assert.deepEqual(rec.steps(), ['STARTING opened', 'ETHERNET_LINK_UP carrier', 'CONNECTED static-applied']);
    assert.deepEqual(world.addresses('eth0').map((x) => x.address), ['192.168.1.50']);
    await closeAndCheck(world, b);
  });

  test('a second close() resolves only once the handle is closed (the first close is still running)', async () => {
    const { world, net } = await simNetwork();
    const eth = net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } });
    await untilState(world, eth, NetState.CONNECTED);
    void eth.close();
    await eth.close();
    assert.equal(eth.state, NetState.WIFI_STOPPED);
    assert.deepEqual(world.addresses('wlan0'), []);
    assert.equal(net.session('wlan0'), undefined);
    await closeAndCheck(world, eth);
  });

  test('Network.close stops every interface', async () => {
    const { world, net } = await simNetwork();
    const eth = net.open({ interface: 'eth0' });
    const wifi = net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } });
    await untilState(world, wifi, NetState.CONNECTED);
    await net.close();
    assert.equal(eth.state, NetState.ETHERNET_STOPPED);
    assert.equal(wifi.state, NetState.WIFI_STOPPED);
    assert.deepEqual(world.addresses('eth0'), []);
    assert.deepEqual(world.addresses('wlan0'), []);
    await closeAndCheck(world, eth, wifi);
  });
});

describe('names and NIC errors', () => {
  test('an unknown interface → InterfaceNotFoundError', async () => {
    const { net } = await simNetwork();
    assert.throws(() => net.open({ interface: 'eth7' }), (err: unknown) => err instanceof InterfaceNotFoundError && err.code === 'NICUP_INTERFACE_NOT_FOUND' && /eth7/.test(err.message));
    assert.throws(() => net.open({ interface: 'wl1' }), InterfaceNotFoundError);
    assert.throws(() => net.open({ interface: 'nosuch0' }), InterfaceNotFoundError);
    assert.equal(net.session('eth7'), undefined);
  });

  test('wificonfig on eth0 → NicError naming the field; nothing is opened', async () => {
    const { world, net } = await simNetwork();
    assert.throws(
      () => net.open({ interface: 'eth0', wificonfig: { ssid: 'Network', key: 'Password' } }),
      (err: unknown) => {
        assert.ok(err instanceof NicError);
        assert.equal(err.field, 'wificonfig');
        assert.match(err.message, /^wificonfig: /);
        return true;
      },
    );
    assert.throws(() => net.open({ interface: 'cell0', staticconfig: STATIC }), (err: unknown) => isNicupError(err, 'NICUP_INVALID_NIC') && err.field === 'staticconfig');
    assert.throws(() => net.open({ interface: 'eth0', cellconfig: { apn: 'internet' } }), (err: unknown) => isNicupError(err, 'NICUP_INVALID_NIC') && err.field === 'cellconfig');
    assert.throws(() => net.open({ interface: 'eth0', bogus: 1 }), NicError);
    assert.equal(net.session('eth0'), undefined);
    assert.equal(world.link('eth0').info.adminUp, false);
  });

  test('impOS aliases: wl0 → wlan0, cell0, eth0', async () => {
    const { world, net } = await simNetwork();
    const w = net.open({ interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } });
    const c = net.open({ interface: 'cell0' });
    const e = net.open({ interface: 'eth0' });
    assert.deepEqual([w.name, w.kind], ['wlan0', 'wifi']);
    assert.deepEqual([c.name, c.kind], ['cell0', 'cell']);
    assert.deepEqual([e.name, e.kind], ['eth0', 'ethernet']);
    await untilState(world, w, NetState.CONNECTED);
    await untilState(world, c, NetState.CONNECTED);
    await untilState(world, e, NetState.CONNECTED);
    await closeAndCheck(world, w, c, e);
  });

  test('ethN is the N-th wired link when no link has that name; wlN the N-th wireless one', async () => {
    const world = new SimWorld();
    world.addEthernet('enp3s0', { segment: { subnet: '192.168.5.0/24' } });
    world.addEthernet('enp4s0', { segment: { subnet: '192.168.6.0/24' } });
    world.addWifi('wlp2s0');
    const net = await Network.create(new SimPlatform(world), { logger: silent });
    assert.equal(net.resolve('eth0')?.name, 'enp3s0');
    assert.equal(net.resolve('eth1')?.name, 'enp4s0');
    assert.equal(net.resolve('wl0')?.name, 'wlp2s0');
    assert.equal(net.resolve('eth2'), undefined);
    const e = net.open({ interface: 'eth1' });
    assert.equal(e.name, 'enp4s0');
    await untilState(world, e, NetState.CONNECTED);
    assert.equal(e.ipTable()?.ipv4.address, '192.168.6.100');
    await closeAndCheck(world, e);
  });
});
