/**
 * nicup's Ethernet support on a real Linux kernel: network namespaces joined by veth
 * pairs, real dnsmasq and Kea DHCP servers (test/lab). Each test builds its own world and
 * tears it down whatever happens; the last test proves the root namespace was not touched.
 * Needs root, iproute2, dnsmasq-base, kea-dhcp4-server, tcpdump and busybox (udhcpc);
 * fails naming what is missing otherwise. NICUP_TEST_VERBOSE=1 prints states and logs.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetState, Reason } from '../src/states.js';
import { createImp } from '../src/imp-core.js';
import type { Lab, VethPair } from './lab/netns.js';
import { startKea } from './lab/kea.js';
import {
  StateRecorder,
  ethernetSetup,
  ipv4AddressesOf,
  ipv4Routes,
  linkFlags,
  rootSnapshot,
  startCapture,
  udpPortsIn,
  waitForOutput,
  waitUntil,
  withWorld,
  type RootSnapshot,
} from './lab/extra.js';

const SERVER_IP = '192.168.77.1';
const RANGE: [string, string] = ['192.168.77.10', '192.168.77.50'];
const DNS = ['192.168.77.53', '192.168.77.54'];
const TEST_TIMEOUT_MS = 60_000;

function startDnsmasq(lab: Lab, ns: string, pair: VethPair, range: [string, string] = RANGE) {
  return lab.startDnsmasq({ ns, iface: pair.serverName, range, extraArgs: [`--dhcp-option=option:dns-server,${DNS.join(',')}`] });
}

function inRange(address: string, [first, last]: [string, string]): boolean {
  const n = (a: string) => a.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  return n(address) >= n(first) && n(address) <= n(last);
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

let rootBefore: RootSnapshot;
before(async () => {
  rootBefore = await rootSnapshot();
});

describe('Ethernet on Linux (namespaces, veth, dnsmasq, Kea)', () => {
  test('DHCP lease: states in order, lease file, kernel address and routes, ip table', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      const dnsmasq = await startDnsmasq(w.lab, server, pair);
      const { network, platform } = await w.network(client);
      const rec = new StateRecorder();
      const openedAt = performance.now();
      const eth = network.open({ interface: 'eth0' }, rec.listener);
      const connected = await rec.waitFor(NetState.CONNECTED);
      t.diagnostic(`bring-up open → CONNECTED: ${ms(connected.seenAtMs - openedAt)}`);
      assert.deepEqual(rec.trail(), ['STARTING(opened)', 'ETHERNET_LINK_UP(carrier)', 'ETHERNET_DHCPING(dhcp-started)', 'CONNECTED(dhcp-bound)']);

      const table = eth.ipTable();
      const address = table?.ipv4.address;
      assert.ok(address && inRange(address, RANGE), `address ${address} in ${RANGE.join('-')}`);
      assert.deepEqual(table, {
        ipv4: { address, broadcast: '192.168.77.255', gateway: SERVER_IP, netmask: '255.255.255.0', dhcpserver: SERVER_IP, dnsserver: DNS },
      });
      // The impOS facade attached to the same interface reports the same table.
      const imp = createImp(network);
      const attached = imp.net.open({ interface: 'eth0' });
      assert.equal(attached.getstate(), NetState.CONNECTED);
      assert.deepEqual(attached.getiptable(), table);
      attached.close();

      // dnsmasq leased exactly that address to eth0's MAC.
      const mac = (await platform.getLink('eth0'))?.mac;
      assert.ok(mac, 'eth0 has a MAC');
      const lease = await waitUntil('dnsmasq to write the lease', () => dnsmasq.readLeases().find((l) => l.mac === mac));
      assert.equal(lease.address, address);

      // The kernel has the address with the lease's lifetime (rtnetlink and ip agree) …
      const kernel = await platform.getAddresses('eth0');
      assert.equal(kernel.length, 1, JSON.stringify(kernel));
      assert.equal(kernel[0]?.address, address);
      assert.equal(kernel[0]?.prefixLength, 24);
      assert.ok((kernel[0]?.validLifetimeS ?? 0) > 3000 && (kernel[0]?.validLifetimeS ?? 0) <= 3600, `valid lifetime ${kernel[0]?.validLifetimeS} from the 1 h lease`);
      const ipAddrs = await ipv4AddressesOf(w.lab, client, 'eth0');
      assert.deepEqual(
        ipAddrs.map((a) => ({ local: a.local, prefixlen: a.prefixlen, broadcast: a.broadcast, dynamic: a.dynamic })),
        [{ local: address, prefixlen: 24, broadcast: '192.168.77.255', dynamic: true }],
      );

      // … the subnet route and the default route via the server with metric 100.
      const routes = await platform.getRoutes('eth0');
      assert.ok(routes.some((r) => r.destination === '192.168.77.0' && r.prefixLength === 24), `subnet route in ${JSON.stringify(routes)}`);
      const defaults = routes.filter((r) => r.prefixLength === 0);
      assert.deepEqual(defaults, [{ destination: '0.0.0.0', prefixLength: 0, gateway: SERVER_IP, metric: 100, source: address }]);
      const ipRoutes = await ipv4Routes(w.lab, client);
      assert.ok(ipRoutes.some((r) => r.dst === '192.168.77.0/24' && r.dev === 'eth0' && r.prefsrc === address), JSON.stringify(ipRoutes));
      assert.deepEqual(
        ipRoutes.filter((r) => r.dst === 'default').map((r) => ({ gateway: r.gateway, dev: r.dev, metric: r.metric })),
        [{ gateway: SERVER_IP, dev: 'eth0', metric: 100 }],
      );
      await eth.close();
    }),
  );

  test('static config: no DHCP at all, address and default route in place', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      // A DHCP server that would answer, and a capture of every DHCP packet on the wire.
      const dnsmasq = await startDnsmasq(w.lab, server, pair);
      const capture = await startCapture(w.lab, server, pair.serverName, ['udp', 'and', '(port', '67', 'or', 'port', '68', 'or', 'port', '9)']);
      const { network, platform } = await w.network(client);
      const rec = new StateRecorder();
      const openedAt = performance.now();
      const eth = network.open(
        { interface: 'eth0', staticconfig: { ip: '192.168.77.5', netmask: '255.255.255.0', gateway: SERVER_IP, dns: ['192.168.77.53'] } },
        rec.listener,
      );
      const connected = await rec.waitFor(NetState.CONNECTED);
      t.diagnostic(`static bring-up open → CONNECTED: ${ms(connected.seenAtMs - openedAt)}`);
      assert.deepEqual(rec.trail(), ['STARTING(opened)', 'ETHERNET_LINK_UP(carrier)', 'CONNECTED(static-applied)']);
      assert.deepEqual(eth.ipTable(), {
        ipv4: { address: '192.168.77.5', broadcast: '192.168.77.255', gateway: SERVER_IP, netmask: '255.255.255.0', dnsserver: ['192.168.77.53'] },
      });
      const kernel = await platform.getAddresses('eth0');
      assert.deepEqual(
        kernel.map((a) => [a.address, a.prefixLength, a.validLifetimeS]),
        [['192.168.77.5', 24, undefined]],
        'the static address, with no lifetime',
      );
      const defaults = (await platform.getRoutes('eth0')).filter((r) => r.prefixLength === 0);
      assert.deepEqual(defaults, [{ destination: '0.0.0.0', prefixLength: 0, gateway: SERVER_IP, metric: 100, source: '192.168.77.5' }]);

      // A marker datagram (to the discard port) from the client: once the capture shows it,
      // anything nicup sent before it would have been captured too.
      await w.lab.sendUdp({ ns: client, to: SERVER_IP, port: 9, data: 'marker', device: 'eth0' });
      const marker = /192\.168\.77\.5\.\d+ > 192\.168\.77\.1\.9: UDP, length 6/;
      await capture.waitFor(marker);
      const lines = await capture.stop();
      assert.deepEqual(
        lines.filter((l) => !marker.test(l)),
        [],
        'no DHCP packet on the wire',
      );
      assert.deepEqual(dnsmasq.readLeases(), [], 'dnsmasq leased nothing');
      await eth.close();
    }),
  );

  test('carrier loss removes address and routes; carrier return → CONNECTED with the same address (INIT-REBOOT)', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      await startDnsmasq(w.lab, server, pair);
      const { network, platform, log } = await w.network(client);
      const rec = new StateRecorder();
      const eth = network.open({ interface: 'eth0' }, rec.listener);
      await rec.waitFor(NetState.CONNECTED);
      const address = eth.ipTable()?.ipv4.address;
      assert.ok(address);

      const lossMark = rec.mark();
      const pulledAt = performance.now();
      await w.lab.setCarrier(pair, false);
      const commandMs = performance.now() - pulledAt;
      const lost = await rec.waitFor(NetState.ETHERNET_STOPPED_NO_LINK, { from: lossMark });
      t.diagnostic(`carrier loss → NO_LINK: ${ms(lost.seenAtMs - pulledAt)} after \`ip link set down\` started (the command took ${ms(commandMs)})`);
      assert.deepEqual(rec.trail(lossMark), ['ETHERNET_STOPPED_NO_LINK(no-carrier)']);
      assert.equal(eth.ipTable(), undefined);
      await waitUntil('address and routes to be removed', async () => (await platform.getAddresses('eth0')).length === 0 && (await platform.getRoutes('eth0')).length === 0);
      assert.deepEqual(await ipv4AddressesOf(w.lab, client, 'eth0'), []);
      assert.deepEqual(await ipv4Routes(w.lab, client), []);

      const returnMark = rec.mark();
      const logMark = log.mark();
      const pluggedAt = performance.now();
      await w.lab.setCarrier(pair, true);
      const back = await rec.waitFor(NetState.CONNECTED, { from: returnMark });
      t.diagnostic(`carrier return → CONNECTED: ${ms(back.seenAtMs - pluggedAt)}`);
      assert.deepEqual(rec.trail(returnMark), ['ETHERNET_LINK_UP(carrier)', 'ETHERNET_DHCPING(dhcp-started)', 'CONNECTED(dhcp-bound)']);
      assert.equal(eth.ipTable()?.ipv4.address, address, 'same address');
      assert.ok(log.matching(/dhcp: IDLE -> INIT-REBOOT/, logMark).length === 1, 'INIT-REBOOT after the carrier returned');
      assert.deepEqual(log.matching(/dhcp: .*SELECTING/, logMark), [], 'no new discovery');
      assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), [address]);
      assert.equal((await platform.getRoutes('eth0')).filter((r) => r.prefixLength === 0 && r.gateway === SERVER_IP).length, 1);
      await eth.close();
    }),
  );

  test('cable absent at open: NO_LINK first, CONNECTED when it is plugged in', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      await startDnsmasq(w.lab, server, pair);
      await w.lab.setCarrier(pair, false);
      const { network } = await w.network(client);
      const rec = new StateRecorder();
      const eth = network.open({ interface: 'eth0' }, rec.listener);
      await rec.waitFor(NetState.ETHERNET_STOPPED_NO_LINK);
      assert.deepEqual(rec.trail(), ['STARTING(opened)', 'ETHERNET_STOPPED_NO_LINK(no-carrier)']);
      const flags = await linkFlags(w.lab, client, 'eth0');
      assert.ok(flags.includes('UP') && !flags.includes('LOWER_UP'), `eth0 admin up without carrier: ${flags.join(',')}`);

      const mark = rec.mark();
      const pluggedAt = performance.now();
      await w.lab.setCarrier(pair, true);
      const connected = await rec.waitFor(NetState.CONNECTED, { from: mark });
      t.diagnostic(`plug in → CONNECTED: ${ms(connected.seenAtMs - pluggedAt)}`);
      assert.deepEqual(rec.trail(mark), ['ETHERNET_LINK_UP(carrier)', 'ETHERNET_DHCPING(dhcp-started)', 'CONNECTED(dhcp-bound)']);
      assert.ok(inRange(eth.ipTable()?.ipv4.address ?? '', RANGE));
      await eth.close();
    }),
  );

  test('no DHCP server: UNHAPPY (dhcp-timeout); a server appears → CONNECTED without reopening', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      const { network } = await w.network(client);
      const rec = new StateRecorder();
      const eth = network.open({ interface: 'eth0' }, { onState: rec.listener, driver: { dhcpGiveUpMs: 1500 } });
      const dhcping = await rec.waitFor(NetState.ETHERNET_DHCPING);
      const unhappy = await rec.waitFor(NetState.ETHERNET_STOPPED_UNHAPPY, { reason: Reason.DHCP_TIMEOUT });
      t.diagnostic(`DHCPING → UNHAPPY(dhcp-timeout): ${ms(unhappy.seenAtMs - dhcping.seenAtMs)} (dhcpGiveUpMs 1500)`);
      assert.deepEqual(rec.trail(), ['STARTING(opened)', 'ETHERNET_LINK_UP(carrier)', 'ETHERNET_DHCPING(dhcp-started)', 'ETHERNET_STOPPED_UNHAPPY(dhcp-timeout)']);
      assert.match(unhappy.detail ?? '', /no lease after \d+ ms/);

      const mark = rec.mark();
      const startedAt = performance.now();
      await startDnsmasq(w.lab, server, pair);
      const connected = await rec.waitFor(NetState.CONNECTED, { from: mark, timeoutMs: 30_000 });
      t.diagnostic(`server started → CONNECTED: ${ms(connected.seenAtMs - startedAt)} (the next DISCOVER retransmission)`);
      assert.deepEqual(rec.trail(mark), ['CONNECTED(dhcp-bound)'], 'the same interface came up by itself');
      assert.ok(inRange(eth.ipTable()?.ipv4.address ?? '', RANGE));
      await eth.close();
    }),
  );

  test('NAK: remembered address on a new network → DHCPING (dhcp-nak) → CONNECTED in the new range, old address gone', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      const serverA = await startDnsmasq(w.lab, server, pair);
      const { network, platform, log } = await w.network(client);
      const rec = new StateRecorder();
      const eth = network.open({ interface: 'eth0' }, rec.listener);
      await rec.waitFor(NetState.CONNECTED);
      const oldAddress = eth.ipTable()?.ipv4.address;
      assert.ok(oldAddress && inRange(oldAddress, RANGE));

      // Pull the cable, and replace the network behind it: another subnet, an authoritative server.
      let mark = rec.mark();
      await w.lab.setCarrier(pair, false);
      await rec.waitFor(NetState.ETHERNET_STOPPED_NO_LINK, { from: mark });
      await serverA.stop();
      await w.lab.exec(server, ['ip', 'addr', 'flush', 'dev', pair.serverName]);
      await w.lab.exec(server, ['ip', 'addr', 'add', '10.9.0.1/24', 'dev', pair.serverName]);
      const newRange: [string, string] = ['10.9.0.10', '10.9.0.50'];
      await w.lab.startDnsmasq({ ns: server, iface: pair.serverName, range: newRange, extraArgs: ['--dhcp-authoritative'] });

      mark = rec.mark();
      const logMark = log.mark();
      const pluggedAt = performance.now();
      await w.lab.setCarrier(pair, true);
      const connected = await rec.waitFor(NetState.CONNECTED, { from: mark });
      t.diagnostic(`plug in → NAK → CONNECTED on the new network: ${ms(connected.seenAtMs - pluggedAt)}`);
      assert.deepEqual(rec.trail(mark), ['ETHERNET_LINK_UP(carrier)', 'ETHERNET_DHCPING(dhcp-started)', 'ETHERNET_DHCPING(dhcp-nak)', 'CONNECTED(dhcp-bound)']);
      assert.ok(log.matching(/dhcp: IDLE -> INIT-REBOOT/, logMark).length === 1, 'INIT-REBOOT was tried');
      const newAddress = eth.ipTable()?.ipv4.address;
      assert.ok(newAddress && inRange(newAddress, newRange), `new address ${newAddress} in ${newRange.join('-')}`);
      assert.equal(eth.ipTable()?.ipv4.gateway, '10.9.0.1');
      assert.deepEqual((await platform.getAddresses('eth0')).map((a) => `${a.address}/${a.prefixLength}`), [`${newAddress}/24`], 'only the new address');
      const routes = await ipv4Routes(w.lab, client);
      assert.deepEqual(routes.filter((r) => r.dst === 'default').map((r) => r.gateway), ['10.9.0.1']);
      assert.ok(!routes.some((r) => r.dst.startsWith('192.168.77.')), `no route of the old network: ${JSON.stringify(routes)}`);
      await eth.close();
    }),
  );

  test('Kea, 6 s leases: renewals keep the address; server gone → lease expires → address removed, DHCPING (dhcp-lease-expired)', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      // Kea opens its socket only on a RUNNING interface: the client end starts admin-up.
      const { client, server, pair } = await ethernetSetup(w.lab, { serverCidr: '192.168.78.1/24', clientUp: true });
      const kea = await startKea(w.lab, { ns: server, iface: pair.serverName, subnet: '192.168.78.0/24', pool: ['192.168.78.10', '192.168.78.50'], router: '192.168.78.1', validLifetimeS: 6, renewTimerS: 2, rebindTimerS: 4 });
      w.defer(() => kea.stop());
      const { network, platform, log } = await w.network(client);
      const rec = new StateRecorder();
      const openedAt = performance.now();
      const eth = network.open({ interface: 'eth0' }, { onState: rec.listener, driver: { dhcpMinRenewRetryMs: 500 } });
      const connected = await rec.waitFor(NetState.CONNECTED);
      t.diagnostic(`bring-up with Kea, open → CONNECTED: ${ms(connected.seenAtMs - openedAt)}`);
      const address = eth.ipTable()?.ipv4.address;
      assert.ok(address?.startsWith('192.168.78.'));
      assert.equal(eth.ipv4?.leaseTimeS, 6);
      const first = await platform.getAddresses('eth0');
      assert.ok((first[0]?.validLifetimeS ?? 99) <= 6, `kernel lifetime from the 6 s lease: ${JSON.stringify(first)}`);

      // Renewals: four in a row (renew-timer 2 s) take us well past the first 6 s lease's end; the address must still be there.
      const mark = rec.mark();
      await waitUntil('four renewals', () => log.matching(/dhcp: RENEWING -> BOUND/).length >= 4, 20_000, 50);
      const sinceBound = performance.now() - connected.seenAtMs;
      assert.ok(sinceBound > 6000, `past the first lease's end (${ms(sinceBound)})`);
      assert.ok(log.matching(/eth0: CONNECTED \(dhcp-renewed/).length >= 1, 'the session logged dhcp-renewed');
      // A renewal is not a state change: no callback at all while the lease is renewed.
      assert.deepEqual(rec.trail(mark), [], `no state change on renewal: ${rec.trail(mark).join(' → ')}`);
      assert.equal(eth.state, NetState.CONNECTED);
      const renewed = await platform.getAddresses('eth0');
      assert.deepEqual(renewed.map((a) => a.address), [address]);
      assert.ok((renewed[0]?.validLifetimeS ?? 0) > 0 && (renewed[0]?.validLifetimeS ?? 99) <= 6, `lifetime refreshed: ${renewed[0]?.validLifetimeS}`);
      assert.ok(kea.readLeases().filter((l) => l.address === address).length >= 3, 'Kea recorded the renewals');

      // The server goes away: RENEWING, REBINDING, then the lease runs out.
      const stopMark = rec.mark();
      const logMark = log.mark();
      const stoppedAt = performance.now();
      await kea.stop();
      const expired = await rec.waitFor(NetState.ETHERNET_DHCPING, { from: stopMark, reason: Reason.DHCP_LEASE_EXPIRED, timeoutMs: 15_000 });
      t.diagnostic(`Kea stopped → lease expired (DHCPING): ${ms(expired.seenAtMs - stoppedAt)}`);
      assert.deepEqual(rec.trail(stopMark), ['ETHERNET_DHCPING(dhcp-lease-expired)'], 'CONNECTED until the lease ran out');
      assert.ok(log.matching(/dhcp: RENEWING -> REBINDING/, logMark).length === 1, 'rebinding was tried');
      assert.equal(eth.ipTable(), undefined);
      await waitUntil('the expired address to be removed', async () => (await platform.getAddresses('eth0')).length === 0);
      assert.deepEqual((await ipv4Routes(w.lab, client)).filter((r) => r.dst === 'default'), []);
      await eth.close();
    }),
  );

  test('another DHCP client (udhcpc) runs on eth0: UNHAPPY (managed-elsewhere); takeOver brings it up', { timeout: TEST_TIMEOUT_MS }, () =>
    withWorld(async (w) => {
      const { client, server, pair } = await ethernetSetup(w.lab);
      await startDnsmasq(w.lab, server, pair);
      const udhcpc = w.lab.spawn(client, ['busybox', 'udhcpc', '-f', '-i', 'eth0', '-s', '/bin/true']);
      await waitForOutput(udhcpc, (o) => o.stderr.includes('udhcpc: started') || o.stdout.includes('udhcpc: started'), 'udhcpc to start');
      const { network } = await w.network(client);

      const rec = new StateRecorder();
      const refused = network.open({ interface: 'eth0' }, rec.listener);
      const unhappy = await rec.waitFor(NetState.ETHERNET_STOPPED_UNHAPPY);
      assert.equal(unhappy.reason, Reason.MANAGED_ELSEWHERE);
      assert.match(unhappy.detail ?? '', /udhcpc/);
      assert.deepEqual(rec.trail(), ['STARTING(opened)', 'ETHERNET_STOPPED_UNHAPPY(managed-elsewhere)']);
      assert.ok(!(await linkFlags(w.lab, client, 'eth0')).includes('UP'), 'nicup left the link alone');
      await refused.close();

      const rec2 = new StateRecorder();
      const taken = network.open({ interface: 'eth0' }, { onState: rec2.listener, driver: { takeOver: true } });
      await rec2.waitFor(NetState.CONNECTED);
      assert.deepEqual(rec2.trail(), ['STARTING(opened)', 'ETHERNET_LINK_UP(carrier)', 'ETHERNET_DHCPING(dhcp-started)', 'CONNECTED(dhcp-bound)']);
      assert.ok(inRange(taken.ipTable()?.ipv4.address ?? '', RANGE));
      await taken.close();
      await udhcpc.stop();
    }),
  );

  describe('close removes exactly what nicup added', () => {
    test('link down before open: a hand-made address survives; nicup address and routes go; link down again', { timeout: TEST_TIMEOUT_MS }, () =>
      withWorld(async (w) => {
        const { client, server, pair } = await ethernetSetup(w.lab);
        await startDnsmasq(w.lab, server, pair);
        await w.lab.exec(client, ['ip', 'addr', 'add', '10.99.0.5/24', 'dev', 'eth0']);
        const { network } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open({ interface: 'eth0' }, rec.listener);
        await rec.waitFor(NetState.CONNECTED);
        const address = eth.ipTable()?.ipv4.address;
        assert.deepEqual((await ipv4AddressesOf(w.lab, client, 'eth0')).map((a) => a.local).sort(), [address, '10.99.0.5'].sort());

        await eth.close();
        assert.deepEqual(rec.trail().slice(-1), ['ETHERNET_STOPPED(closed-by-user)']);
        assert.deepEqual((await ipv4AddressesOf(w.lab, client, 'eth0')).map((a) => `${a.local}/${a.prefixlen}`), ['10.99.0.5/24']);
        const routes = await ipv4Routes(w.lab, client);
        assert.ok(!routes.some((r) => r.dst === 'default' || r.dst === '192.168.77.0/24'), JSON.stringify(routes));
        assert.ok(!(await linkFlags(w.lab, client, 'eth0')).includes('UP'), 'admin down again');
      }),
    );

    test('link up before open: hand-made address and route survive; the link stays up', { timeout: TEST_TIMEOUT_MS }, () =>
      withWorld(async (w) => {
        const { client, server, pair } = await ethernetSetup(w.lab, { clientUp: true });
        await startDnsmasq(w.lab, server, pair);
        await w.lab.exec(client, ['ip', 'addr', 'add', '10.99.0.5/24', 'dev', 'eth0']);
        await w.lab.exec(client, ['ip', 'route', 'add', '10.98.0.0/16', 'via', '10.99.0.1', 'dev', 'eth0']);
        const before = await ipv4Routes(w.lab, client);
        const { network } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open({ interface: 'eth0' }, rec.listener);
        await rec.waitFor(NetState.CONNECTED);
        await eth.close();
        assert.deepEqual((await ipv4AddressesOf(w.lab, client, 'eth0')).map((a) => `${a.local}/${a.prefixlen}`), ['10.99.0.5/24']);
        assert.deepEqual(await ipv4Routes(w.lab, client), before, 'exactly the routes that were there before');
        assert.ok((await linkFlags(w.lab, client, 'eth0')).includes('UP'), 'still admin up');
      }),
    );

    test('a failed bring-up (default route refused) leaves nothing behind', { timeout: TEST_TIMEOUT_MS }, () =>
      withWorld(async (w) => {
        const { client } = await ethernetSetup(w.lab, { clientUp: true });
        // Someone else's default routes on eth0, which nicup must not replace: one on each
        // metric nicup may try (it steps past a clash, from 100 up to 116). And their address:
        // the kernel flushes a link's routes when its last IPv4 address goes (fib_disable_ip).
        await w.lab.exec(client, ['ip', 'addr', 'add', '10.99.0.5/24', 'dev', 'eth0']);
        for (let m = 100; m <= 116; m++) {
          await w.lab.exec(client, ['ip', 'route', 'add', 'default', 'via', '192.168.77.254', 'dev', 'eth0', 'onlink', 'metric', String(m)]);
        }
        const before = await ipv4Routes(w.lab, client);
        const { network, platform } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open(
          { interface: 'eth0', staticconfig: { ip: '192.168.77.5', netmask: '255.255.255.0', gateway: SERVER_IP, dns: ['192.168.77.53'] } },
          rec.listener,
        );
        const unhappy = await rec.waitFor(NetState.ETHERNET_STOPPED_UNHAPPY);
        assert.equal(unhappy.reason, Reason.CONFIG_FAILED);
        // Nothing half-done is left while UNHAPPY: no address without its routes.
        await waitUntil('the partial configuration to be undone', async () => (await platform.getAddresses('eth0')).length === 1, 2000);
        assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), ['10.99.0.5']);
        await eth.close();
        assert.deepEqual((await ipv4AddressesOf(w.lab, client, 'eth0')).map((a) => `${a.local}/${a.prefixlen}`), ['10.99.0.5/24']);
        assert.deepEqual(await ipv4Routes(w.lab, client), before);
        assert.ok((await linkFlags(w.lab, client, 'eth0')).includes('UP'), 'still admin up, as it was');
      }),
    );

    test('the interface vanishes during DHCPING: NO_LINK (interface-gone); close leaves nothing behind', { timeout: TEST_TIMEOUT_MS }, () =>
      withWorld(async (w) => {
        const { client, pair } = await ethernetSetup(w.lab);
        const { network } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open({ interface: 'eth0' }, rec.listener);
        await rec.waitFor(NetState.ETHERNET_DHCPING);
        await waitUntil('the DHCP socket (port 68)', async () => (await udpPortsIn(w.lab, client)).includes(68));

        const mark = rec.mark();
        await w.lab.removeVethPair(pair);
        // The kernel reports the carrier going first, then the link's removal.
        await rec.waitFor(NetState.ETHERNET_STOPPED_NO_LINK, { from: mark, reason: Reason.INTERFACE_GONE });
        await eth.close();
        assert.equal(eth.state, NetState.ETHERNET_STOPPED);
        assert.deepEqual(rec.trail(mark).slice(-2), ['ETHERNET_STOPPED_NO_LINK(interface-gone)', 'ETHERNET_STOPPED(closed-by-user)'], rec.trail(mark).join(' → '));
        assert.ok(rec.changes.slice(mark).every((c) => c.state === NetState.ETHERNET_STOPPED_NO_LINK || c.state === NetState.ETHERNET_STOPPED), rec.trail(mark).join(' → '));
        assert.ok(!(await udpPortsIn(w.lab, client)).includes(68), 'the DHCP socket is closed');
        assert.deepEqual(await ipv4Routes(w.lab, client), []);
        assert.equal(network.session('eth0'), undefined);
      }),
    );
  });

  test('nothing touched the root namespace (links, addresses, routes, /etc/resolv.conf)', async () => {
    assert.deepEqual(await rootSnapshot(), rootBefore);
  });
});
