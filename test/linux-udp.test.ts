/**
 * nicup's interface-bound UDP on a real Linux kernel: a socat echo peer, broadcasts sent
 * by socat from the server namespace, a carrier bounce, and two interfaces where the
 * routing table prefers one while a socket bound to the other still leaves by it.
 * Needs root, iproute2, dnsmasq-base, socat and tcpdump; fails naming what is missing.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetState, SendError } from '../src/states.js';
import type { UdpMessage, UdpSocket } from '../src/core/udp.js';
import type { Lab, VethPair } from './lab/netns.js';
import {
  StateRecorder,
  ethernetSetup,
  ipJson,
  ipv4Routes,
  rootSnapshot,
  startCapture,
  udpPortsIn,
  waitUntil,
  withWorld,
  type IpRoute,
  type RootSnapshot,
} from './lab/extra.js';

const TEST_TIMEOUT_MS = 60_000;

function startDnsmasq(lab: Lab, ns: string, pair: VethPair, net: string) {
  return lab.startDnsmasq({ ns, iface: pair.serverName, range: [`${net}.10`, `${net}.50`] });
}

/** Collects a socket's datagrams; `next` waits for one that matches. */
function inbox(socket: UdpSocket) {
  const got: UdpMessage[] = [];
  socket.on('message', (m) => got.push(m));
  return {
    got,
    next: (pred: (m: UdpMessage) => boolean, what: string) => waitUntil(what, () => got.find(pred), 5000, 5),
  };
}

let rootBefore: RootSnapshot;
before(async () => {
  rootBefore = await rootSnapshot();
});

describe('UDP on Linux (namespaces, veth, socat)', () => {
  test('round trip with a socat echo; toAddress for unicast, subnet broadcast and 255.255.255.255', { timeout: TEST_TIMEOUT_MS }, () =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      await startDnsmasq(w.lab, server, pair, '192.168.77');
      await w.lab.startUdpEcho({ ns: server, port: 7 });
      const { network } = await w.network(client);
      const eth = network.open({ interface: 'eth0' });
      const table = await eth.connected({ signal: AbortSignal.timeout(10_000) });
      const address = table.ipv4.address!;
      const udp = await eth.openUdp();
      const box = inbox(udp);
      assert.ok(udp.localPort > 0, 'a port was assigned at bind');
      assert.ok((await udpPortsIn(w.lab, client)).includes(udp.localPort), 'the socket lives in the client namespace');

      assert.equal(udp.send('192.168.77.1', 7, 'hello, echo'), SendError.OK);
      const echo = await box.next((m) => m.data.toString() === 'hello, echo', 'the echo');
      assert.deepEqual({ ...echo, data: echo.data.toString() }, {
        fromAddress: '192.168.77.1',
        fromPort: 7,
        toAddress: address,
        toPort: udp.localPort,
        data: 'hello, echo',
      });

      await w.lab.sendUdp({ ns: server, to: '192.168.77.255', port: udp.localPort, data: 'to the subnet', broadcast: true, device: pair.serverName });
      const subnet = await box.next((m) => m.data.toString() === 'to the subnet', 'the subnet broadcast');
      assert.equal(subnet.toAddress, '192.168.77.255');
      assert.equal(subnet.fromAddress, '192.168.77.1');
      assert.equal(subnet.toPort, udp.localPort);

      await w.lab.sendUdp({ ns: server, to: '255.255.255.255', port: udp.localPort, data: 'to everyone', broadcast: true, device: pair.serverName });
      const limited = await box.next((m) => m.data.toString() === 'to everyone', 'the limited broadcast');
      assert.equal(limited.toAddress, '255.255.255.255');
      assert.equal(limited.fromAddress, '192.168.77.1');

      // Binary data, byte for byte (every byte value, and more than one MTU: fragmented and reassembled).
      const blob = Buffer.alloc(4000, 0);
      for (let i = 0; i < blob.length; i++) blob[i] = (i * 7) & 0xff;
      assert.equal(udp.send('192.168.77.1', 7, blob), SendError.OK);
      const back = await box.next((m) => m.data.length === blob.length, 'the binary echo');
      assert.ok(back.data.equals(blob), 'binary echo is byte-for-byte');
      await udp.close();
      await eth.close();
    }),
  );

  test('a socket survives a carrier bounce: NOT_CONNECTED while down, same port and working after', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      await startDnsmasq(w.lab, server, pair, '192.168.77');
      await w.lab.startUdpEcho({ ns: server, port: 7 });
      const { network } = await w.network(client);
      const rec = new StateRecorder();
      const eth = network.open({ interface: 'eth0' }, rec.listener);
      await rec.waitFor(NetState.CONNECTED);
      const udp = await eth.openUdp();
      const box = inbox(udp);
      let closed = false;
      udp.once('close', () => (closed = true));
      const port = udp.localPort;
      assert.equal(udp.send('192.168.77.1', 7, 'before'), SendError.OK);
      await box.next((m) => m.data.toString() === 'before', 'the echo before the bounce');

      let mark = rec.mark();
      await w.lab.setCarrier(pair, false);
      await rec.waitFor(NetState.ETHERNET_STOPPED_NO_LINK, { from: mark });
      assert.equal(udp.send('192.168.77.1', 7, 'while down'), SendError.NOT_CONNECTED);
      assert.equal(udp.bound, false);

      mark = rec.mark();
      const pluggedAt = performance.now();
      await w.lab.setCarrier(pair, true);
      await rec.waitFor(NetState.CONNECTED, { from: mark });
      await waitUntil('the socket to be bound again', () => udp.bound, 5000, 2);
      t.diagnostic(`carrier back → socket usable again: ${(performance.now() - pluggedAt).toFixed(1)} ms`);
      assert.equal(udp.localPort, port, 'same local port');
      assert.ok((await udpPortsIn(w.lab, client)).includes(port));
      assert.equal(udp.send('192.168.77.1', 7, 'after'), SendError.OK);
      const after = await box.next((m) => m.data.toString() === 'after', 'the echo after the bounce');
      assert.equal(after.toPort, port);
      assert.ok(!box.got.some((m) => m.data.toString() === 'while down'), 'nothing was sent while down');
      assert.equal(closed, false, 'the socket was never closed');
      await udp.close();
      await eth.close();
    }),
  );

  describe('two interfaces', () => {
    async function twoInterfaces(lab: Lab) {
      const client = await lab.addNamespace('client');
      const server0 = await lab.addNamespace('server');
      const server1 = await lab.addNamespace('server');
      const pair0 = await lab.addVethPair({ clientNs: client, serverNs: server0, clientName: 'eth0', serverAddress: '192.168.77.1/24' });
      const pair1 = await lab.addVethPair({ clientNs: client, serverNs: server1, clientName: 'eth1', serverAddress: '192.168.88.1/24' });
      await startDnsmasq(lab, server0, pair0, '192.168.77');
      await startDnsmasq(lab, server1, pair1, '192.168.88');
      return { client, server0, server1, pair0, pair1 };
    }

    test('the default route prefers eth0, yet a socket on eth1 leaves by eth1, even to an address only eth0 routes', { timeout: TEST_TIMEOUT_MS }, () =>
      withWorld(async (w) => {
        const { client, server0, server1, pair0, pair1 } = await twoInterfaces(w.lab);
        const { network, platform } = await w.network(client);
        // Both are brought up at once over one platform (one rtnetlink socket, whose dumps must take turns).
        const eth0 = network.open({ interface: 'eth0' });
        const eth1 = network.open({ interface: 'eth1' }, { driver: { routeMetric: 300 } });
        const dumps = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? platform.getAddresses('eth0') : platform.getRoutes('eth1'))));
        assert.equal(dumps.length, 16, 'concurrent address and route dumps all answered');
        await eth0.connected({ signal: AbortSignal.timeout(10_000) });
        const eth1Address = (await eth1.connected({ signal: AbortSignal.timeout(10_000) })).ipv4.address!;

        const defaults = (await ipv4Routes(w.lab, client)).filter((r) => r.dst === 'default');
        assert.deepEqual(
          defaults.map((r) => `${r.gateway} ${r.dev} ${r.metric}`).sort(),
          ['192.168.77.1 eth0 100', '192.168.88.1 eth1 300'],
        );
        const chosen = await ipJson<IpRoute[]>(w.lab, client, ['route', 'get', '10.20.30.40']);
        assert.equal(chosen[0]?.dev, 'eth0', 'the kernel routes 10.20.30.40 by eth0');

        const cap0 = await startCapture(w.lab, server0, pair0.serverName, ['udp', 'port', '9999']);
        const cap1 = await startCapture(w.lab, server1, pair1.serverName, ['udp', 'port', '9999']);
        const before = await platform.getLinkStats('eth1');
        const udp1 = await eth1.openUdp();
        assert.equal(udp1.send('192.168.88.1', 9999, 'to the eth1 peer'), SendError.OK);
        assert.equal(udp1.send('10.20.30.40', 9999, 'beyond the gateway'), SendError.OK);
        const src = eth1Address.replace(/\./g, '\\.');
        await cap1.waitFor(new RegExp(`${src}\\.${udp1.localPort} > 192\\.168\\.88\\.1\\.9999: UDP, length 16`));
        await cap1.waitFor(new RegExp(`${src}\\.${udp1.localPort} > 10\\.20\\.30\\.40\\.9999: UDP, length 18`));
        const after = await platform.getLinkStats('eth1');
        assert.ok(after.txPackets - before.txPackets >= 2, `eth1 sent them: tx ${before.txPackets} → ${after.txPackets}`);

        // A marker on eth0 itself: once the eth0 side has seen it, it would have seen the others.
        const udp0 = await eth0.openUdp();
        assert.equal(udp0.send('192.168.77.1', 9999, 'marker'), SendError.OK);
        await cap0.waitFor(/> 192\.168\.77\.1\.9999: UDP, length 6/);
        const seen0 = await cap0.stop();
        assert.deepEqual(seen0.filter((l) => !/UDP, length 6$/.test(l)), [], 'nothing from the eth1 socket left by eth0');
        await cap1.stop();
        await udp0.close();
        await udp1.close();
        await eth1.close();
        await eth0.close();
      }),
    );

    test('two interfaces with the same default metric both come up (the second steps past the clash)', { timeout: TEST_TIMEOUT_MS }, () =>
      withWorld(async (w) => {
        const { client } = await twoInterfaces(w.lab);
        const { network } = await w.network(client);
        const rec0 = new StateRecorder();
        const rec1 = new StateRecorder();
        const eth0 = network.open({ interface: 'eth0' }, rec0.listener);
        await rec0.waitFor(NetState.CONNECTED);
        const eth1 = network.open({ interface: 'eth1' }, rec1.listener);
        await rec1.waitFor(NetState.CONNECTED, { failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
        const defaults = (await ipv4Routes(w.lab, client)).filter((r) => r.dst === 'default');
        assert.deepEqual(defaults.map((r) => `${r.gateway} ${r.dev} ${r.metric}`).sort(), ['192.168.77.1 eth0 100', '192.168.88.1 eth1 101']);
        await eth1.close();
        await eth0.close();
      }),
    );
  });

  test('nothing touched the root namespace (links, addresses, routes, /etc/resolv.conf)', async () => {
    assert.deepEqual(await rootSnapshot(), rootBefore);
  });
});
