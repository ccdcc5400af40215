/**
 * Interface priority and failover on a real kernel: eth0 and eth1 in one client
 * namespace, each with its own server namespace and dnsmasq, both giving a default route.
 *
 * setServerInterfaces(['eth1']) moves default traffic to eth1; pulling eth1's cable moves
 * it to eth0; plugging it back returns it to eth1. "Default traffic" is checked twice:
 * with `ip route get 198.51.100.1` in the client namespace (nothing is sent there), and
 * with real datagrams from a plain socket (not bound to a device) in the client namespace
 * to 10.99.0.1 — an address both server namespaces hold, reachable only by a default
 * route, so whichever server receives a datagram is the one the default route leads to.
 * The times are printed as test diagnostics (docs/failover.md quotes them).
 * Needs root, iproute2 and dnsmasq-base; fails naming what is missing.
 */
import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { NetState, type NetStateValue } from '../src/states.js';
import type { Network } from '../src/core/network.js';
import type { Lab, LabProcess, VethPair } from './lab/netns.js';
import { StateRecorder, ipJson, ipv4Routes, rootSnapshot, waitForOutput, waitUntil, withWorld, type IpRoute, type RootSnapshot } from './lab/extra.js';

const TEST_TIMEOUT_MS = 120_000;
/** Held by both server namespaces: only a default route leads there. */
const TARGET = '10.99.0.1';
const TARGET_PORT = 9999;
/** Only asked about (`ip route get`); never sent to. */
const ROUTE_PROBE = '198.51.100.1';
const SEND_INTERVAL_MS = 5;
/** The goal for failover: default traffic on the other interface within a second. */
const FAILOVER_BUDGET_MS = 1000;
const CYCLES = 3;

/** Receives datagrams on TARGET:port; one JSON line each, with the receive time (CommonJS for `node -e`). */
const RECEIVER_SCRIPT = `
const dgram = require('node:dgram');
const [address, port] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.on('message', (data, rinfo) => {
  const [seq, sentAt] = data.toString().split(' ');
  console.log(JSON.stringify({ seq: Number(seq), sentAt: Number(sentAt), recvAt: Date.now(), from: rinfo.address }));
});
s.bind(Number(port), address, () => console.log(JSON.stringify({ ready: true })));
`;

/** Sends "SEQ SENT_AT_MS" every interval with a plain socket: the kernel's routing picks the way out. */
const SENDER_SCRIPT = `
const dgram = require('node:dgram');
const [address, port, intervalMs] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
let seq = 0;
s.bind(0, () => {
  console.log(JSON.stringify({ ready: true }));
  setInterval(() => s.send(String(seq++) + ' ' + Date.now(), Number(port), address, () => {}), Number(intervalMs));
});
`;

interface Arrival {
  seq: number;
  sentAt: number;
  recvAt: number;
  from: string;
}

function arrivals(p: LabProcess): Arrival[] {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{"seq"'))
    .map((l) => JSON.parse(l) as Arrival);
}

async function routeDevice(lab: Lab, ns: string): Promise<string | undefined> {
  const r = await lab.exec(ns, ['ip', '-j', 'route', 'get', ROUTE_PROBE], { allowFailure: true });
  if (r.code !== 0) return undefined; // no default route at all for a moment
  return (JSON.parse(r.stdout) as IpRoute[])[0]?.dev;
}

async function twoUplinks(lab: Lab) {
  const client = await lab.addNamespace('client');
  const server0 = await lab.addNamespace('server');
  const server1 = await lab.addNamespace('server');
  const pair0 = await lab.addVethPair({ clientNs: client, serverNs: server0, clientName: 'eth0', serverAddress: '192.168.77.1/24' });
  const pair1 = await lab.addVethPair({ clientNs: client, serverNs: server1, clientName: 'eth1', serverAddress: '192.168.88.1/24' });
  await lab.startDnsmasq({ ns: server0, iface: pair0.serverName, range: ['192.168.77.10', '192.168.77.50'] });
  await lab.startDnsmasq({ ns: server1, iface: pair1.serverName, range: ['192.168.88.10', '192.168.88.50'] });
  const receivers: LabProcess[] = [];
  for (const [ns, pair] of [[server0, pair0], [server1, pair1]] as [string, VethPair][]) {
    await lab.exec(ns, ['ip', 'addr', 'add', `${TARGET}/32`, 'dev', pair.serverName]);
    const r = lab.spawn(ns, [process.execPath, '-e', RECEIVER_SCRIPT, TARGET, String(TARGET_PORT)]);
    await waitForOutput(r, (o) => o.stdout.includes('"ready":true'), `the receiver in ${ns}`);
    receivers.push(r);
  }
  return { client, server0, server1, pair0, pair1, receivers: receivers as [LabProcess, LabProcess] };
}

/** Which interface info() calls active, by name. */
function activeName(network: Network): string | undefined {
  const info = network.info();
  return info.active === undefined ? undefined : info.interface[info.active]?.name;
}

/**
 * Waits, from `startMs` (Date.now()), for `ip route get` to name `dev` and for a datagram
 * sent after startMs to arrive at `receiver`; returns both delays in ms.
 */
async function timeSwitch(lab: Lab, client: string, dev: string, receiver: LabProcess, startMs: number, budgetMs: number): Promise<{ routeMs: number; trafficMs: number }> {
  const route = waitUntil(`ip route get ${ROUTE_PROBE} to say dev ${dev}`, async () => ((await routeDevice(lab, client)) === dev ? Date.now() - startMs : undefined), budgetMs + 4000, 2);
  const traffic = waitUntil(`datagrams to ${TARGET} to arrive by ${dev}`, () => {
    const first = arrivals(receiver).find((a) => a.sentAt >= startMs);
    return first ? first.recvAt - startMs : undefined;
  }, budgetMs + 4000, 2);
  const [routeMs, trafficMs] = await Promise.all([route, traffic]);
  return { routeMs, trafficMs };
}

let rootBefore: RootSnapshot;
before(async () => {
  rootBefore = await rootSnapshot();
});

describe('interface priority and failover (two uplinks in namespaces)', () => {
  test(`setServerInterfaces(['eth1']) moves default traffic to eth1; eth1's cable pulled → eth0 within ${FAILOVER_BUDGET_MS} ms; plugged back → eth1 (${CYCLES} cycles)`, { timeout: TEST_TIMEOUT_MS }, (t: TestContext) =>
    withWorld(async (w) => {
      const { client, pair1, receivers } = await twoUplinks(w.lab);
      const [rx0, rx1] = receivers;
      const { network } = await w.network(client);
      const rec0 = new StateRecorder();
      const rec1 = new StateRecorder();
      const eth0 = network.open({ interface: 'eth0' }, rec0.listener);
      await rec0.waitFor(NetState.CONNECTED, { failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
      const eth1 = network.open({ interface: 'eth1' }, rec1.listener);
      await rec1.waitFor(NetState.CONNECTED, { failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });

      // Default order (both Ethernet): eth0, opened first, holds the lower metric.
      assert.equal(await routeDevice(w.lab, client), 'eth0');
      assert.equal(activeName(network), 'eth0');
      assert.deepEqual(network.getServerInterfaces(), []);

      const sender = w.lab.spawn(client, [process.execPath, '-e', SENDER_SCRIPT, TARGET, String(TARGET_PORT), String(SEND_INTERVAL_MS)]);
      await waitForOutput(sender, (o) => o.stdout.includes('"ready":true'), 'the sender');
      await waitUntil('datagrams to arrive at server 0 (by eth0)', () => arrivals(rx0).length > 0);
      assert.equal(arrivals(rx1).length, 0, 'nothing by eth1 while eth0 is preferred');

      // Priority: eth1 first.
      let start = Date.now();
      await network.setServerInterfaces(['eth1']);
      const moved = await timeSwitch(w.lab, client, 'eth1', rx1, start, FAILOVER_BUDGET_MS);
      t.diagnostic(`setServerInterfaces(['eth1']): ip route get → eth1 after ${moved.routeMs} ms, traffic at server 1 after ${moved.trafficMs} ms`);
      assert.deepEqual(network.getServerInterfaces(), ['eth1']);
      assert.equal(activeName(network), 'eth1');
      const defaults = (await ipv4Routes(w.lab, client)).filter((r) => r.dst === 'default').sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
      assert.deepEqual(defaults.map((r) => r.dev), ['eth1', 'eth0'], `eth1's default route has the lower metric: ${JSON.stringify(defaults)}`);
      assert.ok(network.info().ipv4?.address?.startsWith('192.168.88.'), 'info().ipv4 is eth1\'s');

      const failovers: number[][] = [];
      const failbacks: number[][] = [];
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        // Pull eth1's cable: default traffic goes by eth0.
        let mark = rec1.mark();
        start = Date.now();
        const startPerf = performance.now();
        const pulled = w.lab.setCarrier(pair1, false);
        const over = await timeSwitch(w.lab, client, 'eth0', rx0, start, FAILOVER_BUDGET_MS);
        await pulled;
        const noLink = await rec1.waitFor(NetState.ETHERNET_STOPPED_NO_LINK, { from: mark });
        t.diagnostic(`cycle ${cycle}: eth1 cable pulled → NO_LINK reported after ${(noLink.seenAtMs - startPerf).toFixed(0)} ms, ip route get says eth0 after ${over.routeMs} ms, traffic at server 0 after ${over.trafficMs} ms`);
        failovers.push([over.routeMs, over.trafficMs]);
        assert.ok(over.routeMs <= FAILOVER_BUDGET_MS, `route switched within ${FAILOVER_BUDGET_MS} ms (${over.routeMs})`);
        assert.ok(over.trafficMs <= FAILOVER_BUDGET_MS, `traffic switched within ${FAILOVER_BUDGET_MS} ms (${over.trafficMs})`);
        assert.equal(activeName(network), 'eth0', 'info().active follows to eth0');
        assert.equal(eth1.state, NetState.ETHERNET_STOPPED_NO_LINK);
        assert.equal(eth0.state, NetState.CONNECTED, 'eth0 was never disturbed');

        // Plug it back: eth1 again (after its DHCP).
        mark = rec1.mark();
        start = Date.now();
        await w.lab.setCarrier(pair1, true);
        const back = await timeSwitch(w.lab, client, 'eth1', rx1, start, 10_000);
        await rec1.waitFor(NetState.CONNECTED, { from: mark });
        t.diagnostic(`cycle ${cycle}: eth1 cable back → ip route get says eth1 after ${back.routeMs} ms, traffic at server 1 after ${back.trafficMs} ms`);
        failbacks.push([back.routeMs, back.trafficMs]);
        assert.equal(activeName(network), 'eth1', 'info().active follows back to eth1');
      }
      const worst = (xs: number[][], i: number) => Math.max(...xs.map((x) => x[i] ?? 0));
      t.diagnostic(`worst of ${CYCLES}: failover route ${worst(failovers, 0)} ms, traffic ${worst(failovers, 1)} ms; failback route ${worst(failbacks, 0)} ms, traffic ${worst(failbacks, 1)} ms`);

      // eth0 first again.
      start = Date.now();
      await network.setServerInterfaces(['eth0']);
      const restored = await timeSwitch(w.lab, client, 'eth0', rx0, start, FAILOVER_BUDGET_MS);
      t.diagnostic(`setServerInterfaces(['eth0']): back on eth0 after ${restored.routeMs} ms (route), ${restored.trafficMs} ms (traffic)`);
      assert.equal(activeName(network), 'eth0');

      await sender.stop();
      const states = (r: StateRecorder) => r.changes.map((c) => c.state as NetStateValue);
      assert.ok(!states(rec0).includes(NetState.ETHERNET_STOPPED_NO_LINK), 'eth0 never lost its link');
      await eth1.close();
      await eth0.close();
      const routesAfter = (await ipJson<IpRoute[]>(w.lab, client, ['-4', 'route', 'show', 'default'])).length;
      assert.equal(routesAfter, 0, 'closing both removed both default routes');
    }),
  );

  test('the root namespace is untouched', async () => {
    assert.deepEqual(await rootSnapshot(), rootBefore);
  });
});
