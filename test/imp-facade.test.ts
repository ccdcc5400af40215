/**
 * The impOS facade (createImp over a simulated Network): imp.net's constants, open and
 * getstate, getiptable's shape, openudp's refusals, send's return codes, onreceive, close.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, ClosedError, InterfaceNotFoundError, InterfaceNotUpError, NotSupportedError, NetState, PortInUseError, createImp } from '../src/index.js';
import type { ImpInterface, Imp } from '../src/index.js';
import { toIpTable } from '../src/core/interface.js';
import { closeAndCheck, simNetwork, until } from './helpers/sim.js';
import type { SimWorld } from '../src/platform/sim/index.js';

/** imp.net's state constants as Electric Imp documents them (API.md Part 1). */
const IMPOS_TABLE = {
  UNKNOWN: -1,
  STARTING: 0,
  CONNECTED: 1,
  WIFI_SCANNING: 100,
  WIFI_JOINING: 101,
  WIFI_WPSING: 102,
  WIFI_LINK_UP: 103,
  WIFI_DHCPING: 104,
  WIFI_STOPPED: 105,
  WIFI_STOPPED_UNHAPPY: 106,
  ETHERNET_LINK_UP: 200,
  ETHERNET_DHCPING: 201,
  ETHERNET_STOPPED: 202,
  ETHERNET_STOPPED_UNHAPPY: 203,
  ETHERNET_STOPPED_NO_LINK: 204,
  CELLULAR_PINGING: 300,
  CELLULAR_WAITING_FOR_SIM: 301,
  CELLULAR_PPP_CONNECTING: 302,
  CELLULAR_REGISTERING: 303,
  CELLULAR_REGISTRATION_DENIED: 304,
  CELLULAR_STOPPED: 305,
  CELLULAR_STOPPED_UNHAPPY: 306,
};

const HOST = '192.168.1.50';

async function simImp(scenario = 'default', tweak?: (w: SimWorld) => void): Promise<{ imp: Imp; world: SimWorld }> {
  const { world, net } = await simNetwork(scenario, {}, tweak);
  return { imp: createImp(net), world };
}

async function openConnected(imp: Imp, world: SimWorld, nic: object): Promise<{ iface: ImpInterface; states: number[] }> {
  const states: number[] = [];
  const iface = imp.net.open(nic, (...args: unknown[]) => {
    assert.equal(args.length, 1, 'the callback gets the state only, as in impOS');
    states.push(args[0] as number);
  });
  await until(world, () => iface.getstate() === imp.net.CONNECTED, 'CONNECTED');
  return { iface, states };
}

describe('imp.net', () => {
  test('the state constants equal the impOS table', async () => {
    const { imp } = await simImp();
    for (const [name, value] of Object.entries(IMPOS_TABLE)) assert.equal((imp.net as unknown as Record<string, number>)[name], value, name);
    assert.deepEqual({ ...NetState }, IMPOS_TABLE);
  });

  test('open → callback with every state, getstate() follows; close → ETHERNET_STOPPED', async () => {
    const { imp, world } = await simImp();
    const { iface, states } = await openConnected(imp, world, { interface: 'eth0' });
    assert.deepEqual(states, [imp.net.STARTING, imp.net.ETHERNET_LINK_UP, imp.net.ETHERNET_DHCPING, imp.net.CONNECTED]);
    iface.close();
    await until(world, () => iface.getstate() === imp.net.ETHERNET_STOPPED, 'stopped');
    assert.equal(states.at(-1), imp.net.ETHERNET_STOPPED);
    await closeAndCheck(world, iface.modern);
  });

  test('open throws for an interface that is not there, a bad NIC or a bad callback', async () => {
    const { imp } = await simImp();
    assert.throws(() => imp.net.open({ interface: 'eth5' }), InterfaceNotFoundError);
    assert.throws(() => imp.net.open({ interface: 'eth0', wificonfig: { ssid: 'x' } }), { code: 'NICUP_INVALID_NIC', field: 'wificonfig' });
    assert.throws(() => imp.net.open({ interface: 'eth0' }, 'not a function' as never), TypeError);
    assert.equal(imp.network.session('eth0'), undefined);
  });

  test('WiFi through the wl0 alias', async () => {
    const { imp, world } = await simImp();
    const { iface, states } = await openConnected(imp, world, { interface: 'wl0', wificonfig: { ssid: 'Network', key: 'Password' } });
    assert.deepEqual(states, [imp.net.STARTING, imp.net.WIFI_SCANNING, imp.net.WIFI_JOINING, imp.net.WIFI_LINK_UP, imp.net.WIFI_DHCPING, imp.net.CONNECTED]);
    assert.equal((iface.getiptable() as { ipv4: { address: string } }).ipv4.address, '192.168.2.100');
    iface.close();
    await closeAndCheck(world, iface.modern);
  });
});

describe('getiptable', () => {
  test('{} until CONNECTED, then the DHCP lease in impOS form', async () => {
    const { imp, world } = await simImp();
    const iface = imp.net.open({ interface: 'eth0' });
    assert.deepEqual(iface.getiptable(), {});
    await until(world, () => iface.getstate() === imp.net.CONNECTED, 'CONNECTED');
    assert.deepEqual(iface.getiptable(), {
      ipv4: { address: '192.168.1.100', broadcast: '192.168.1.255', gateway: '192.168.1.1', netmask: '255.255.255.0', dhcpserver: '192.168.1.1', dnsserver: ['192.168.1.1'] },
    });
    iface.close();
    await closeAndCheck(world, iface.modern);
  });

  test('a 0.0.0.0 field is left out (a DHCP server that offers router 0.0.0.0)', async () => {
    const { imp, world } = await simImp('default', (w) => (w.segment('eth0').dhcp!.options.router = '0.0.0.0'));
    const { iface } = await openConnected(imp, world, { interface: 'eth0' });
    const t = iface.getiptable() as { ipv4: Record<string, unknown> };
    assert.equal('gateway' in t.ipv4, false);
    assert.equal(t.ipv4.address, '192.168.1.100');
    iface.close();
    await closeAndCheck(world, iface.modern);
  });

  test('toIpTable leaves out every 0.0.0.0 dotted-quad field', () => {
    const t = toIpTable({ address: '10.0.0.5', prefixLength: 8, netmask: '255.0.0.0', broadcast: '0.0.0.0', gateway: '0.0.0.0', dhcpServer: '0.0.0.0', dns: ['10.0.0.1'] }, { interface: 'eth0' });
    assert.deepEqual(t, { ipv4: { address: '10.0.0.5', netmask: '255.0.0.0', dnsserver: ['10.0.0.1'] } });
  });

  test('staticconfig: no dhcpserver; proxyconfig: proxy shown without its password', async () => {
    const { imp, world } = await simImp('no-dhcp');
    const { iface } = await openConnected(imp, world, {
      interface: 'eth0',
      staticconfig: { ip: '192.168.1.60', netmask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1', '9.9.9.9'] },
      proxyconfig: { type: 'HTTP', address: 'Proxy.Example', port: 3128, username: 'user', password: 'proxy-secret' },
    });
    const table = iface.getiptable();
    assert.deepEqual(table, {
      ipv4: {
        address: '192.168.1.60',
        broadcast: '192.168.1.255',
        gateway: '192.168.1.1',
        netmask: '255.255.255.0',
        dnsserver: ['192.168.1.1', '9.9.9.9'],
        proxy: { address: 'proxy.example', port: 3128, type: 'http', user: 'user' },
      },
    });
    assert.ok(!JSON.stringify(table).includes('proxy-secret'));
    iface.close();
    await closeAndCheck(world, iface.modern);
  });

  test('no proxy key without proxyconfig; a proxy without a username shows no user', async () => {
    const { imp, world } = await simImp();
    const { iface } = await openConnected(imp, world, { interface: 'eth0', proxyconfig: { type: 'http', address: '192.168.1.9', port: 8080 } });
    assert.deepEqual((iface.getiptable() as { ipv4: { proxy?: unknown } }).ipv4.proxy, { address: '192.168.1.9', port: 8080, type: 'http' });
    iface.close();
    await iface.modern.close(); // wait for the stop: a re-open before it would attach to the live session
    const plain = await openConnected(imp, world, { interface: 'eth0' });
    assert.equal('proxy' in (plain.iface.getiptable() as { ipv4: object }).ipv4, false);
    plain.iface.close();
    await closeAndCheck(world, iface.modern, plain.iface.modern);
  });
});

describe('openudp and udpsocket', () => {
  test('openudp throws on cellular, on an interface that is not up, for a bad or busy port', async () => {
    const { imp, world } = await simImp('no-cable');
    const cell = imp.net.open({ interface: 'cell0' });
    await until(world, () => cell.getstate() === imp.net.CONNECTED, 'cell CONNECTED');
    assert.throws(() => cell.openudp(), NotSupportedError);
    const eth = imp.net.open({ interface: 'eth0' });
    await world.run(1000);
    assert.equal(eth.getstate(), imp.net.ETHERNET_STOPPED_NO_LINK);
    assert.throws(() => eth.openudp(() => {}, 2000), InterfaceNotUpError);
    world.setCable('eth0', true);
    await until(world, () => eth.getstate() === imp.net.CONNECTED, 'eth CONNECTED');
    for (const port of [80, 1023, 65536, 3.5, -1]) assert.throws(() => eth.openudp(() => {}, port), ArgumentError, `port ${port}`);
    const udp = eth.openudp(() => {}, 2000);
    assert.equal(udp.localport, 2000);
    assert.throws(() => eth.openudp(() => {}, 2000), PortInUseError);
    const auto = eth.openudp();
    assert.ok(auto.localport >= 1024);
    udp.close();
    auto.close();
    cell.close();
    eth.close();
    await closeAndCheck(world, cell.modern, eth.modern);
  });

  test('openudp with an explicit local port 0 throws: outside 1024–65535 (API.md: openudp)', async () => {
    const { imp, world } = await simImp();
    const { iface } = await openConnected(imp, world, { interface: 'eth0' });
    assert.throws(() => iface.openudp(() => {}, 0), ArgumentError);
    iface.close();
    await closeAndCheck(world, iface.modern);
  });

  test('send: 0, 4 (WOULDBLOCK) past the burst, 1 (NOT_CONNECTED) while down, 0 again after; throws for bad arguments', async () => {
    const { imp, world } = await simImp();
    const { iface } = await openConnected(imp, world, { interface: 'eth0' });
    const host = world.segment('eth0').host(HOST);
    let atHost = 0;
    host.bind(7000, () => atHost++);
    const udp = iface.openudp(null, 2000);
    assert.equal(udp.send(HOST, 7000, 'x'), 0);
    for (let i = 0; i < 99; i++) udp.send(HOST, 7000, 'x');
    assert.equal(udp.send(HOST, 7000, 'x'), 4);
    await world.run(1000);
    world.setCable('eth0', false);
    await until(world, () => iface.getstate() === imp.net.ETHERNET_STOPPED_NO_LINK, 'no link');
    assert.equal(udp.send(HOST, 7000, 'x'), 1);
    world.setCable('eth0', true);
    await until(world, () => iface.getstate() === imp.net.CONNECTED, 'back');
    await until(world, () => udp.send(HOST, 7000, 'x') === 0, 'sends again');
    await world.run(100);
    assert.equal(atHost, 101);
    assert.throws(() => udp.send(HOST, 67, 'x'), ArgumentError);
    assert.throws(() => udp.send(HOST, 68, 'x'), ArgumentError);
    assert.throws(() => udp.send('1.1.1.1', 7000, 'x'), ArgumentError);
    assert.throws(() => udp.send(HOST, 7000, Buffer.alloc(65508)), ArgumentError);
    udp.close();
    iface.close();
    await closeAndCheck(world, iface.modern);
  });

  test('onreceive: (fromAddress, fromPort, toAddress, toPort, data); null stops delivery; close frees the port', async () => {
    const { imp, world } = await simImp();
    const { iface } = await openConnected(imp, world, { interface: 'eth0' });
    const host = world.segment('eth0').host(HOST);
    const got: unknown[][] = [];
    const udp = iface.openudp((...args: unknown[]) => got.push(args), 2000);
    host.send(5000, '192.168.1.100', 2000, 'one');
    await until(world, () => got.length === 1, 'received');
    const [from, fromPort, to, toPort, data] = got[0]!;
    assert.deepEqual([from, fromPort, to, toPort], [HOST, 5000, '192.168.1.100', 2000]);
    assert.ok(Buffer.isBuffer(data), 'data is a blob (Buffer)');
    assert.equal((data as Buffer).toString(), 'one');

    udp.onreceive(null);
    host.send(5000, '192.168.1.100', 2000, 'two');
    await world.run(100);
    assert.equal(got.length, 1, 'nothing delivered after onreceive(null)');
    udp.onreceive((...args: unknown[]) => got.push(args));
    host.send(5000, '192.168.1.255', 2000, 'three');
    await until(world, () => got.length === 2, 'delivered again');
    assert.equal(got[1]![2], '192.168.1.255', 'toAddress may be the broadcast address');
    assert.throws(() => udp.onreceive('nope' as never), TypeError);

    udp.close();
    udp.close(); // twice is harmless
    assert.throws(() => udp.send(HOST, 7000, 'x'), ClosedError);
    assert.throws(() => udp.onreceive(null), ClosedError);
    await world.run(10);
    const again = iface.openudp(null, 2000);
    assert.equal(again.localport, 2000, 'the port was freed');
    again.close();
    iface.close();
    await closeAndCheck(world, iface.modern);
  });
});
