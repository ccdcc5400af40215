/**
 * UDP sockets bound to an interface, on the simulator: datagrams to and from a SimHost
 * with the right addresses and ports, broadcasts, the impOS rules (IMPOS_UDP_RULES), the
 * burst limit in virtual time, and a socket that survives a cable pull.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, ClosedError, IMPOS_UDP_RULES, InterfaceNotUpError, MAX_UDP_PAYLOAD, NetState, PlatformError, PortInUseError, SendError } from '../src/index.js';
import type { Datagram, UdpMessage } from '../src/index.js';
import { closeAndCheck, simNetwork, until, untilState } from './helpers/sim.js';

const HOST = '192.168.1.50';

async function connectedEth(scenario = 'default') {
  const rig = await simNetwork(scenario);
  const eth = rig.net.open({ interface: 'eth0' });
  await untilState(rig.world, eth, NetState.CONNECTED);
  const host = rig.world.segment('eth0').host(HOST);
  return { ...rig, eth, host };
}

describe('datagrams', () => {
  test('openUdp needs CONNECTED: InterfaceNotUpError before, and on a closed handle ClosedError', async () => {
    const { world, net } = await simNetwork('no-cable');
    const eth = net.open({ interface: 'eth0' });
    await world.run(1000);
    await assert.rejects(eth.openUdp(), (err: unknown) => err instanceof InterfaceNotUpError && err.code === 'NICUP_INTERFACE_NOT_UP');
    assert.throws(() => eth.openUdpNow(), InterfaceNotUpError);
    await eth.close();
    await assert.rejects(eth.openUdp(), ClosedError);
    await closeAndCheck(world, eth);
  });

  test('to and from a host: addresses and ports as sent', async () => {
    const { world, eth, host } = await connectedEth();
    const atHost: Datagram[] = [];
    host.bind(7000, (d) => atHost.push(d));
    const received: UdpMessage[] = [];
    const sock = await eth.openUdp({ port: 40000, onMessage: (m) => received.push(m) });
    assert.equal(sock.localPort, 40000);
    assert.equal(sock.bound, true);

    assert.equal(sock.send(HOST, 7000, 'hello'), SendError.OK);
    assert.equal(sock.send(HOST, 7000, Buffer.from([0, 1, 2, 255])), SendError.OK);
    await until(world, () => atHost.length === 2, 'the host got both');
    assert.deepEqual(
      atHost.map((d) => ({ ...d, data: d.data.toString('hex') })),
      [
        { fromAddress: '192.168.1.100', fromPort: 40000, toAddress: HOST, toPort: 7000, data: Buffer.from('hello').toString('hex') },
        { fromAddress: '192.168.1.100', fromPort: 40000, toAddress: HOST, toPort: 7000, data: '000102ff' },
      ],
    );

    host.send(7001, '192.168.1.100', 40000, 'from the host');
    host.send(7001, '192.168.1.100', 40001, 'to a port nobody holds');
    await until(world, () => received.length === 1, 'the socket got it');
    await world.run(100);
    assert.equal(received.length, 1);
    const m = received[0]!;
    assert.deepEqual({ ...m, data: m.data.toString() }, { fromAddress: HOST, fromPort: 7001, toAddress: '192.168.1.100', toPort: 40000, data: 'from the host' });
    assert.ok(Buffer.isBuffer(m.data));
    await sock.close();
    await closeAndCheck(world, eth);
  });

  test('without a port one is assigned; sendAsync resolves', async () => {
    const { world, eth, host } = await connectedEth();
    const atHost: Datagram[] = [];
    host.bind(7000, (d) => atHost.push(d));
    const sock = await eth.openUdp();
    assert.ok(sock.localPort >= 1024 && sock.localPort <= 65535, `assigned ${sock.localPort}`);
    await sock.sendAsync(HOST, 7000, 'x');
    await until(world, () => atHost.length === 1, 'delivered');
    assert.equal(atHost[0]!.fromPort, sock.localPort);
    await sock.close();
    await closeAndCheck(world, eth);
  });

  test('broadcasts: a host sends to the subnet broadcast and to 255.255.255.255; the socket sends to the subnet broadcast', async () => {
    const { world, eth, host } = await connectedEth();
    const other = world.segment('eth0').host('192.168.1.51');
    const atHosts: string[] = [];
    host.bind(7000, (d) => atHosts.push(`${HOST} ${d.toAddress}`));
    other.bind(7000, (d) => atHosts.push(`192.168.1.51 ${d.toAddress}`));
    const received: UdpMessage[] = [];
    const sock = await eth.openUdp({ port: 40000, rules: IMPOS_UDP_RULES, onMessage: (m) => received.push(m) });

    host.send(7000, '192.168.1.255', 40000, 'subnet');
    host.send(7000, '255.255.255.255', 40000, 'limited');
    await until(world, () => received.length === 2, 'both broadcasts arrive');
    assert.deepEqual(
      received.map((r) => [r.toAddress, r.toPort, r.fromAddress, r.data.toString()]),
      [
        ['192.168.1.255', 40000, HOST, 'subnet'],
        ['255.255.255.255', 40000, HOST, 'limited'],
      ],
    );

    assert.equal(sock.send('192.168.1.255', 7000, 'to all'), SendError.OK);
    await until(world, () => atHosts.length >= 2, 'every host on the segment gets it');
    assert.deepEqual(atHosts.sort(), [`${HOST} 192.168.1.255`, '192.168.1.51 192.168.1.255']);
    await sock.close();
    await closeAndCheck(world, eth);
  });
});

describe('impOS rules', () => {
  test('ports 67/68, public destinations, malformed addresses and bad ports are refused; nothing is sent', async () => {
    const { world, eth, host } = await connectedEth();
    let atHost = 0;
    host.bind(67, () => atHost++).bind(68, () => atHost++);
    const sock = await eth.openUdp({ rules: IMPOS_UDP_RULES });
    const field = (f: string) => (err: unknown) => err instanceof ArgumentError && err.code === 'NICUP_INVALID_ARGUMENT' && err.field === f;
    assert.throws(() => sock.send(HOST, 67, 'x'), field('port'));
    assert.throws(() => sock.send(HOST, 68, 'x'), field('port'));
    assert.throws(() => sock.send(HOST, 65536, 'x'), field('port'));
    assert.throws(() => sock.send(HOST, -1, 'x'), field('port'));
    assert.throws(() => sock.send(HOST, 1.5, 'x'), field('port'));
    assert.throws(() => sock.send('8.8.8.8', 7000, 'x'), field('address'));
    assert.throws(() => sock.send('172.32.0.1', 7000, 'x'), field('address'));
    assert.throws(() => sock.send('255.255.255.255', 7000, 'x'), field('address'));
    assert.throws(() => sock.send('192.168.1', 7000, 'x'), field('address'));
    assert.throws(() => sock.send('host.example', 7000, 'x'), field('address'));
    for (const ok of ['10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.200.1']) assert.equal(sock.send(ok, 7000, 'x'), SendError.OK, ok);
    await world.run(100);
    assert.equal(atHost, 0);
    await sock.close();
    await closeAndCheck(world, eth);
  });

  test('an address accepted once is still checked against the rules on every send; data arrives as given', async () => {
    const { world, eth, host } = await connectedEth();
    const other = world.segment('eth0').host('192.168.1.51');
    const atHost: string[] = [];
    host.bind(7000, (d) => atHost.push(`${HOST} ${d.data.toString('hex')}`));
    other.bind(7000, (d) => atHost.push(`192.168.1.51 ${d.data.toString('hex')}`));
    const rules = { ...IMPOS_UDP_RULES, rateLimit: { burst: 1000, perSecond: 25 } };
    const sock = await eth.openUdp({ rules });
    const field = (f: string) => (err: unknown) => err instanceof ArgumentError && err.field === f;
    const view = new Uint8Array(new Uint8Array([9, 1, 2, 3, 9]).buffer, 1, 3);
    assert.equal(sock.send(HOST, 7000, Buffer.from([0xaa])), SendError.OK);
    assert.throws(() => sock.send(HOST, 67, 'x'), field('port'));
    assert.throws(() => sock.send(HOST, 0, 'x'), field('port'));
    assert.throws(() => sock.send(HOST, 7000, 5 as unknown as string), field('data'));
    assert.throws(() => sock.send('8.8.8.8', 7000, 'x'), field('address'));
    assert.throws(() => sock.send('8.8.8.8', 7000, 'x'), field('address'), 'a refused address stays refused');
    assert.equal(sock.send('192.168.1.51', 7000, view), SendError.OK);
    assert.throws(() => sock.send('192.168.1', 7000, 'x'), field('address'));
    assert.equal(sock.send(['192', '168', '1', '50'].join('.'), 7000, 'hi'), SendError.OK);
    // The rules object is the socket's own: a rule turned on later applies to an address already seen.
    const open = await eth.openUdp();
    // Before any address was accepted, nothing passes for checked.
    assert.throws(() => open.send(undefined as unknown as string, 53, 'x'), field('address'));
    assert.equal(open.send('8.8.8.8', 53, 'x'), SendError.OK);
    open.rules.privateOnly = true;
    assert.throws(() => open.send('8.8.8.8', 53, 'x'), field('address'));
    await until(world, () => atHost.length === 3, 'the three accepted datagrams');
    assert.deepEqual(atHost, [`${HOST} aa`, '192.168.1.51 010203', `${HOST} ${Buffer.from('hi').toString('hex')}`]);
    await sock.close();
    assert.throws(() => sock.send(HOST, 7000, 'x'), ClosedError);
    await open.close();
    await closeAndCheck(world, eth);
  });

  test('the rules are opt-in: a socket without them may use port 67 and public addresses', async () => {
    const { world, eth } = await connectedEth();
    const sock = await eth.openUdp();
    assert.equal(sock.send('8.8.8.8', 53, 'x'), SendError.OK);
    assert.equal(sock.send(HOST, 67, 'x'), SendError.OK);
    await sock.close();
    await closeAndCheck(world, eth);
  });

  test('65507 bytes go out whole; 65508 are refused', async () => {
    const { world, eth, host } = await connectedEth();
    const sizes: number[] = [];
    host.bind(7000, (d) => sizes.push(d.data.length));
    const sock = await eth.openUdp({ rules: IMPOS_UDP_RULES });
    assert.equal(MAX_UDP_PAYLOAD, 65507);
    assert.equal(sock.send(HOST, 7000, Buffer.alloc(65507, 7)), SendError.OK);
    assert.throws(() => sock.send(HOST, 7000, Buffer.alloc(65508)), (err: unknown) => err instanceof ArgumentError && err.field === 'data');
    assert.throws(() => sock.send(HOST, 7000, 'é'.repeat(32754)), ArgumentError, 'the limit is in bytes, not characters');
    await until(world, () => sizes.length === 1, 'delivered');
    await world.run(100);
    assert.deepEqual(sizes, [65507]);
    await sock.close();
    await closeAndCheck(world, eth);
  });

  test('local ports: 1024–65535 only; a port in use → PortInUseError', async () => {
    const { world, eth } = await connectedEth();
    for (const port of [1, 80, 1023, 65536, 2.5, -1]) {
      await assert.rejects(eth.openUdp({ port, rules: IMPOS_UDP_RULES }), (err: unknown) => err instanceof ArgumentError && err.field === 'localPort', `port ${port}`);
    }
    const low = await eth.openUdp({ port: 1024, rules: IMPOS_UDP_RULES });
    const high = await eth.openUdp({ port: 65535, rules: IMPOS_UDP_RULES });
    await assert.rejects(eth.openUdp({ port: 1024, rules: IMPOS_UDP_RULES }), (err: unknown) => err instanceof PortInUseError && err.code === 'NICUP_PORT_IN_USE');
    await low.close();
    const again = await eth.openUdp({ port: 1024, rules: IMPOS_UDP_RULES });
    assert.equal(again.localPort, 1024, 'a closed socket frees its port');
    await Promise.all([high.close(), again.close()]);
    await closeAndCheck(world, eth);
  });

  test('a closed socket throws ClosedError; closing twice is harmless', async () => {
    const { world, eth } = await connectedEth();
    const sock = await eth.openUdp({ rules: IMPOS_UDP_RULES });
    await sock.close();
    await sock.close();
    assert.equal(sock.closed, true);
    assert.throws(() => sock.send(HOST, 7000, 'x'), (err: unknown) => err instanceof ClosedError && err.code === 'NICUP_CLOSED');
    await assert.rejects(sock.sendAsync(HOST, 7000, 'x'), ClosedError);
    await closeAndCheck(world, eth);
  });

  test('closing the interface closes its sockets', async () => {
    const { world, eth } = await connectedEth();
    const sock = await eth.openUdp({ port: 40000 });
    await eth.close();
    assert.equal(sock.closed, true);
    assert.throws(() => sock.send(HOST, 7000, 'x'), ClosedError);
    await closeAndCheck(world, eth);
  });

  test('a burst of 100, then WOULDBLOCK (4), refilled at 25 per second of virtual time', async () => {
    const { world, eth, host } = await connectedEth();
    let atHost = 0;
    host.bind(7000, () => atHost++);
    const sock = await eth.openUdp({ rules: IMPOS_UDP_RULES });
    const burst = (n: number) => Array.from({ length: n }, () => sock.send(HOST, 7000, 'x'));
    assert.deepEqual(burst(100), Array(100).fill(SendError.OK));
    assert.equal(sock.send(HOST, 7000, 'x'), SendError.WOULDBLOCK);
    assert.equal(SendError.WOULDBLOCK, 4);
    await world.run(40);
    assert.deepEqual(burst(2), [SendError.OK, SendError.WOULDBLOCK], 'one token per 40 ms');
    await world.run(1000);
    assert.deepEqual(burst(26), [...Array(25).fill(SendError.OK), SendError.WOULDBLOCK], '25 after a second');
    await world.run(10_000);
    assert.deepEqual(burst(101), [...Array(100).fill(SendError.OK), SendError.WOULDBLOCK], 'never more than the burst of 100');
    await world.run(100);
    assert.equal(atHost, 100 + 1 + 25 + 100, 'only accepted datagrams were sent');
    await sock.close();
    await closeAndCheck(world, eth);
  });
});

describe('bounces', () => {
  test('a fire-and-forget send that the platform rejects (cable gone, not yet noticed) becomes an error event; without a listener it is dropped', async () => {
    const { world, eth } = await connectedEth();
    const sock = await eth.openUdp();
    const errors: Error[] = [];
    sock.on('error', (e) => errors.push(e));
    world.setCable('eth0', false);
    // Still bound: the interface has not seen the carrier loss yet, the platform refuses the send.
    assert.equal(sock.bound, true);
    assert.equal(sock.send(HOST, 7000, 'a'), SendError.OK);
    assert.equal(sock.send(HOST, 7000, 'b'), SendError.OK);
    await until(world, () => errors.length === 2, 'one error event per refused send');
    assert.ok(errors.every((e) => e instanceof PlatformError), errors.map((e) => e.message).join('; '));
    sock.removeAllListeners('error');
    world.setCable('eth0', true);
    await untilState(world, eth, NetState.CONNECTED);
    await sock.close();
    await closeAndCheck(world, eth);
  });

  test('the socket survives a cable pull: NOT_CONNECTED (1) while down, then works on the same port', async () => {
    const { world, eth, host } = await connectedEth();
    const atHost: Datagram[] = [];
    host.bind(7000, (d) => atHost.push(d));
    const received: string[] = [];
    const sock = await eth.openUdp({ rules: IMPOS_UDP_RULES, onMessage: (m) => received.push(m.data.toString()) });
    const port = sock.localPort;
    assert.equal(sock.send(HOST, 7000, 'before'), SendError.OK);

    world.setCable('eth0', false);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_NO_LINK);
    assert.equal(sock.bound, false);
    assert.equal(sock.send(HOST, 7000, 'while down'), SendError.NOT_CONNECTED);
    assert.equal(SendError.NOT_CONNECTED, 1);
    await assert.rejects(sock.sendAsync(HOST, 7000, 'while down'), InterfaceNotUpError, 'sendAsync while the interface is down: not up, not closed');
    host.send(7000, '192.168.1.100', port, 'lost');

    world.setCable('eth0', true);
    await untilState(world, eth, NetState.CONNECTED);
    await until(world, () => sock.bound, 'the socket is bound again');
    assert.equal(sock.closed, false);
    assert.equal(sock.localPort, port, 'the same local port');
    assert.equal(sock.send(HOST, 7000, 'after'), SendError.OK);
    host.send(7000, '192.168.1.100', port, 'back');
    await until(world, () => atHost.length === 2 && received.length === 1, 'traffic flows both ways again');
    assert.deepEqual(atHost.map((d) => [d.data.toString(), d.fromPort]), [['before', port], ['after', port]]);
    assert.deepEqual(received, ['back']);
    await sock.close();
    await closeAndCheck(world, eth);
  });

  test('the socket survives a DHCP lease expiry and a new lease', async () => {
    const { world, eth, host } = await connectedEth('short-lease');
    const sock = await eth.openUdp({ port: 40000 });
    const server = world.segment('eth0').dhcp!;
    server.options.silent = true;
    await until(world, () => eth.state === NetState.ETHERNET_DHCPING, 'lease expired');
    assert.equal(sock.send(HOST, 7000, 'x'), SendError.NOT_CONNECTED);
    server.options.silent = false;
    await untilState(world, eth, NetState.CONNECTED);
    await until(world, () => sock.bound, 'bound again');
    const got: string[] = [];
    host.bind(7000, (d) => got.push(d.data.toString()));
    assert.equal(sock.send(HOST, 7000, 'y'), SendError.OK);
    await until(world, () => got.length === 1, 'delivered');
    await sock.close();
    await closeAndCheck(world, eth);
  });
});

describe('re-bind failures', () => {
  test('the port taken while the interface was down: an error event (or nothing), never a crash; the socket stays unbound', async () => {
    const { world, net } = await simNetwork();
    const eth = net.open({ interface: 'eth0' });
    await untilState(world, eth, NetState.CONNECTED);
    const sock = await eth.openUdp({ port: 40000 });
    const errors: Error[] = [];
    sock.on('error', (e) => errors.push(e));
    world.setCable('eth0', false);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_NO_LINK);
    // Someone else takes the port meanwhile.
    const thief = await net.platform.openUdp('eth0', { port: 40000 });
    world.setCable('eth0', true);
    await untilState(world, eth, NetState.CONNECTED);
    await until(world, () => errors.length > 0, 'the re-bind error');
    assert.ok(errors[0] instanceof PortInUseError, `got ${errors[0]?.name}`);
    assert.equal(sock.bound, false);
    assert.equal(sock.send('192.168.1.50', 7, 'x'), SendError.NOT_CONNECTED);
    // Without an 'error' listener the failure is dropped: no uncaught exception.
    sock.removeAllListeners('error');
    world.setCable('eth0', false);
    await untilState(world, eth, NetState.ETHERNET_STOPPED_NO_LINK);
    world.setCable('eth0', true);
    await untilState(world, eth, NetState.CONNECTED);
    await world.run(100);
    await thief.close();
    await sock.close();
    await closeAndCheck(world, eth);
  });
});

describe('cellular', () => {
  test('the modern openUdp works on a modem: bound to its PPP link, datagrams reach the network side', async () => {
    const { world, net } = await simNetwork();
    const cell = net.open({ interface: 'cell0', cellconfig: { apn: 'internet' } });
    await untilState(world, cell, NetState.CONNECTED, 60_000);
    assert.equal(cell.ipv4?.device, 'ppp0');
    const got: Datagram[] = [];
    world.modem('cell0').segment.host('10.64.64.1').bind(9000, (d) => got.push(d));
    const sock = await cell.openUdp();
    assert.equal(sock.send('10.64.64.1', 9000, 'over ppp'), SendError.OK);
    await until(world, () => got.length > 0, 'the datagram at the network side');
    assert.equal(got[0]!.data.toString(), 'over ppp');
    assert.equal(got[0]!.fromAddress, '10.64.64.2');
    await sock.close();
    await closeAndCheck(world, cell);
  });
});
