/**
 * Fault scenarios on the real lab: network namespaces joined by veth pairs, real dnsmasq and
 * Kea (test/lab), nicup's Linux platform. Each builds its own world and disposes it; the
 * kernel state nicup leaves on the client link is checked after close (no address, no
 * route, no ledger file), and the matrix runner checks this process (descriptors, handles,
 * children, namespaces, /run/nicup). Recovery times are wall-clock milliseconds from the
 * moment the fault was removed (command returned) to the CONNECTED callback.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetState, Reason } from '../../src/states.js';
import type { NetInterface } from '../../src/core/interface.js';
import type { LinuxPlatform } from '../../src/platform/linux/index.js';
import { SimDhcpServer } from '../../src/platform/sim/dhcp-server.js';
import { decodeMessage, messageTypeName } from '../../src/protocols/dhcp4/message-codec.js';
import { DEFAULT_LEFTOVERS_DIR } from '../../src/core/leftovers.js';
import { findBinary, type Lab, type VethPair } from '../../test/lab/netns.js';
import { StateRecorder, TestWorld, ethernetSetup, waitUntil, type RecordingLogger } from '../../test/lab/extra.js';
import { startKea } from '../../test/lab/kea.js';
import type { Scenario, ScenarioOutcome } from '../lib/types.js';

const SERVER_IP = '192.168.77.1';
const RANGE: [string, string] = ['192.168.77.10', '192.168.77.50'];
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./bring-up-child.ts', import.meta.url));

async function withLab<T>(fn: (w: TestWorld) => Promise<T>): Promise<T> {
  const w = await TestWorld.create();
  try {
    return await fn(w);
  } finally {
    await w.dispose();
  }
}

function dnsmasq(lab: Lab, ns: string, pair: VethPair, extra: string[] = [], range = RANGE) {
  return lab.startDnsmasq({ ns, iface: pair.serverName, range, extraArgs: extra });
}

/** What nicup left on the client link after close: addresses, routes, ledger files. */
async function kernelLeftovers(platform: LinuxPlatform, ifname: string, keep: string[] = []): Promise<string[]> {
  const left: string[] = [];
  const links = await platform.listLinks();
  if (!links.some((l) => l.name === ifname)) return left;
  const addrs = (await platform.getAddresses(ifname)).filter((a) => !keep.includes(a.address));
  if (addrs.length > 0) left.push(`${ifname}: address(es) ${addrs.map((a) => `${a.address}/${a.prefixLength}`).join(', ')}`);
  const routes = (await platform.getRoutes(ifname)).filter((r) => !(r.source && keep.includes(r.source)));
  if (routes.length > 0) left.push(`${ifname}: route(s) ${routes.map((r) => `${r.destination}/${r.prefixLength} via ${r.gateway ?? '-'} metric ${r.metric ?? 0}`).join(', ')}`);
  return left;
}

/** Ledger files (leftovers.ts) for a link of a lab namespace, whoever wrote them. */
function ledgerFiles(ns: string, ifname: string): string[] {
  const prefix = `${statSync(`/run/netns/${ns}`).ino}-${ifname}-`;
  try {
    return readdirSync(DEFAULT_LEFTOVERS_DIR).filter((f) => f.startsWith(prefix));
  } catch {
    return [];
  }
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Listeners the session holds (its private sets), for the flatness figures. */
function sessionListeners(iface: NetInterface): number {
  const s = (iface as unknown as { session: { listeners: Set<unknown>; ipv4Listeners: Set<unknown> } }).session;
  return s.listeners.size + s.ipv4Listeners.size;
}

function count(log: RecordingLogger, re: RegExp, from = 0): number {
  return log.matching(re, from).length;
}

export const labScenarios: Scenario[] = [
  {
    name: 'lab-carrier-flaps',
    where: 'lab',
    description: 'the cable is pulled and plugged back (veth peer down/up over rtnetlink), 1,000 times long, 50 short',
    run: (ctx) =>
      withLab(async (w): Promise<ScenarioOutcome> => {
        const { client, server, pair } = await ethernetSetup(w.lab);
        await dnsmasq(w.lab, server, pair);
        const srv = await w.network(server);
        const { network, platform, log } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open({ interface: 'eth0' }, rec.listener);
        await rec.waitFor(NetState.CONNECTED);
        const address = eth.ipTable()?.ipv4.address;
        assert.ok(address);
        const n = ctx.long ? 1000 : 50;
        const recovery: number[] = [];
        let fdsEarly = 0;
        let resourcesEarly = 0;
        let listenersEarly = 0;
        for (let i = 0; i < n; i++) {
          if (i === 10) {
            fdsEarly = fdCount();
            resourcesEarly = process.getActiveResourcesInfo().length;
            listenersEarly = sessionListeners(eth);
          }
          const mark = rec.mark();
          await srv.platform.setLinkUp(pair.serverName, false);
          await rec.waitFor(NetState.ETHERNET_STOPPED_NO_LINK, { from: mark, failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
          if (i % 100 === 0) {
            await waitUntil('the address to go with the carrier', async () => (await platform.getAddresses('eth0')).length === 0, 3000);
          }
          const back = rec.mark();
          await srv.platform.setLinkUp(pair.serverName, true);
          const t0 = performance.now();
          const c = await rec.waitFor(NetState.CONNECTED, { from: back, failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
          recovery.push(c.seenAtMs - t0);
          if (ctx.long && i % 100 === 99) ctx.log(`  flap ${i + 1}/${n}`);
        }
        // Let the last round's asynchronous work (socket closes) settle before counting.
        await new Promise((r) => setTimeout(r, 200));
        const fdsLate = fdCount();
        const resourcesLate = process.getActiveResourcesInfo().length;
        const listenersLate = sessionListeners(eth);
        assert.equal(eth.state, NetState.CONNECTED);
        assert.equal(eth.ipTable()?.ipv4.address, address, 'the same address after every flap (INIT-REBOOT)');
        assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), [address], 'exactly one address');
        const defaults = (await platform.getRoutes('eth0')).filter((r) => r.prefixLength === 0);
        assert.deepEqual(defaults.map((r) => [r.gateway, r.metric]), [[SERVER_IP, 100]], 'exactly one default route, metric 100');
        assert.ok(fdsLate <= fdsEarly + 2, `descriptors flat over the flaps: ${fdsEarly} at flap 10, ${fdsLate} at the end`);
        assert.ok(listenersLate <= listenersEarly, `session listeners flat: ${listenersEarly} → ${listenersLate}`);
        const discovers = count(log, /dhcp: .*-> SELECTING/);
        await eth.close();
        const left = await kernelLeftovers(platform, 'eth0');
        return {
          iterations: n,
          finalState: `CONNECTED ${address}, 1 address, 1 default route (metric 100)`,
          recoveryMs: recovery,
          leftBehind: left,
          figures: {
            'descriptors at flap 10 → at the end': `${fdsEarly} → ${fdsLate}`,
            'libuv handles at flap 10 → at the end': `${resourcesEarly} → ${resourcesLate}`,
            'session listeners at flap 10 → at the end': `${listenersEarly} → ${listenersLate}`,
            'fresh DISCOVERs (not INIT-REBOOT) over all flaps': discovers,
          },
        };
      }),
  },
  {
    name: 'lab-dnsmasq-restart',
    where: 'lab',
    description: 'dnsmasq is killed (SIGKILL) mid-lease and restarted with no memory of the lease: the lease is renewed, no state change (×5 long, ×1 short)',
    run: (ctx) =>
      withLab(async (w): Promise<ScenarioOutcome> => {
        const { client, server, pair } = await ethernetSetup(w.lab);
        // 120 s leases (dnsmasq's minimum) renewed every 2 s (T1), rebinding from 4 s (T2).
        const timers = ['--dhcp-option=option:T1,2', '--dhcp-option=option:T2,4'];
        let server1 = await dnsmasq(w.lab, server, pair, timers);
        const { network, platform, log } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open({ interface: 'eth0' }, { onState: rec.listener, driver: { dhcpMinRenewRetryMs: 300 } });
        await rec.waitFor(NetState.CONNECTED);
        const address = eth.ipTable()?.ipv4.address;
        const n = ctx.long ? 5 : 1;
        const recovery: number[] = [];
        const mark = rec.mark();
        for (let i = 0; i < n; i++) {
          await waitUntil('a renewal with the running server', () => count(log, /dhcp: RENEWING -> BOUND/) > i, 10_000, 20);
          process.kill(server1.pid, 'SIGKILL');
          await server1.exited;
          const logMark = log.mark();
          await log.waitFor(/dhcp: BOUND -> RENEWING/, { from: logMark, timeoutMs: 10_000 });
          server1 = await dnsmasq(w.lab, server, pair, timers);
          const t0 = performance.now();
          const renewed = await log.waitFor(/dhcp: (RENEWING|REBINDING) -> BOUND/, { from: logMark, timeoutMs: 15_000 });
          recovery.push(renewed.atMs - t0);
        }
        assert.deepEqual(rec.trail(mark), [], `no state change while the server died and came back: ${rec.trail(mark).join(' → ')}`);
        assert.equal(eth.state, NetState.CONNECTED);
        assert.equal(eth.ipTable()?.ipv4.address, address, 'the same address');
        assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), [address]);
        await eth.close();
        return { iterations: n, finalState: `CONNECTED ${address} throughout (no callback), renewed by the restarted server`, recoveryMs: recovery, leftBehind: await kernelLeftovers(platform, 'eth0') };
      }),
  },
  {
    name: 'lab-server-change',
    where: 'lab',
    description: 'another DHCP server and subnet on the same link, carrier up all along: renewal unanswered, rebind NAKed, new lease (×3 long, ×1 short)',
    run: (ctx) =>
      withLab(async (w): Promise<ScenarioOutcome> => {
        const { client, server, pair } = await ethernetSetup(w.lab);
        const timers = ['--dhcp-option=option:T1,2', '--dhcp-option=option:T2,3'];
        const n = ctx.long ? 3 : 1;
        const nets = ['10.9.0', '192.168.77', '10.10.0', '10.11.0'];
        let current = await dnsmasq(w.lab, server, pair, timers);
        const { network, platform } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open({ interface: 'eth0' }, { onState: rec.listener, driver: { dhcpMinRenewRetryMs: 300 } });
        await rec.waitFor(NetState.CONNECTED);
        const recovery: number[] = [];
        let finalAddress = '';
        for (let i = 0; i < n; i++) {
          const net = nets[i % nets.length]!;
          const before = eth.ipTable()?.ipv4.address ?? '';
          await current.stop();
          await w.lab.exec(server, ['ip', 'addr', 'flush', 'dev', pair.serverName]);
          await w.lab.exec(server, ['ip', 'addr', 'add', `${net}.1/24`, 'dev', pair.serverName]);
          const mark = rec.mark();
          current = await dnsmasq(w.lab, server, pair, timers, [`${net}.10`, `${net}.50`]);
          const t0 = performance.now();
          const c = await rec.waitFor(NetState.CONNECTED, { from: mark, timeoutMs: 30_000, failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
          recovery.push(c.seenAtMs - t0);
          assert.deepEqual(rec.trail(mark), ['ETHERNET_DHCPING(dhcp-nak)', 'CONNECTED(dhcp-bound)'], rec.trail(mark).join(' → '));
          finalAddress = eth.ipTable()?.ipv4.address ?? '';
          assert.ok(finalAddress.startsWith(`${net}.`), `new address ${finalAddress} in ${net}.0/24`);
          assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), [finalAddress], `only the new address (the old was ${before})`);
          const routes = await platform.getRoutes('eth0');
          assert.deepEqual(routes.filter((r) => r.prefixLength === 0).map((r) => r.gateway), [`${net}.1`]);
          assert.ok(!routes.some((r) => r.source === before), 'no route of the old address');
        }
        await eth.close();
        return { iterations: n, finalState: `CONNECTED ${finalAddress} on the new subnet, old address and routes gone`, recoveryMs: recovery, leftBehind: await kernelLeftovers(platform, 'eth0') };
      }),
  },
  {
    name: 'lab-nak-storm',
    where: 'lab',
    description: 'a server that NAKs every REQUEST for 30 s (long) / 4 s (short), then answers: the client backs off and comes up',
    run: (ctx) =>
      withLab(async (w): Promise<ScenarioOutcome> => {
        const { client, server, pair } = await ethernetSetup(w.lab);
        // A DHCP server of our own in the server namespace: the simulator's server logic on a
        // real socket bound to the server end, NAKing every REQUEST while `nakAll` is set.
        const srv = await w.network(server);
        const logic = new SimDhcpServer({ serverAddress: SERVER_IP, prefixLength: 24, poolStart: RANGE[0], poolEnd: RANGE[1], nakAll: true, delayMs: 0 });
        const socket = await srv.platform.openUdp(pair.serverName, { port: 67, broadcast: true });
        const seen: { type: string; atMs: number }[] = [];
        socket.onMessage((d) => {
          const m = decodeMessage(d.data);
          seen.push({ type: m.ok ? (messageTypeName(m.message.options.messageType) ?? '?') : 'bad', atMs: performance.now() });
          const reply = logic.handle(d.data, Date.now());
          if (reply) void socket.send(reply, 68, '255.255.255.255').catch(() => {});
        });
        w.defer(() => socket.close());
        const { network, platform } = await w.network(client);
        const rec = new StateRecorder();
        const stormMs = ctx.long ? 30_000 : 4_000;
        const started = performance.now();
        const eth = network.open({ interface: 'eth0' }, rec.listener);
        let addressDuringStorm = false;
        while (performance.now() - started < stormMs) {
          if ((await platform.getAddresses('eth0')).length > 0) addressDuringStorm = true;
          await new Promise((r) => setTimeout(r, 100));
        }
        const naks = seen.filter((s) => s.type === 'REQUEST').length;
        const discovers = seen.filter((s) => s.type === 'DISCOVER').length;
        assert.equal(addressDuringStorm, false, 'no address was put on the link during the storm');
        assert.ok(!rec.changes.some((c) => c.state === NetState.CONNECTED), 'never CONNECTED during the storm');
        const stormS = stormMs / 1000;
        // Back-off after repeated NAKs (timing.ts nakRestartDelayMs): about log2 of the time, not a loop.
        assert.ok(naks <= 4 + 2 * Math.log2(stormS * 1000), `${naks} REQUESTs NAKed in ${stormS} s: the client did not back off`);
        logic.options.nakAll = false;
        const t0 = performance.now();
        const c = await rec.waitFor(NetState.CONNECTED, { timeoutMs: 70_000 });
        const address = eth.ipTable()?.ipv4.address ?? '';
        assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), [address]);
        await eth.close();
        return {
          iterations: 1,
          finalState: `CONNECTED ${address} once the server stopped NAKing`,
          recoveryMs: [c.seenAtMs - t0],
          leftBehind: await kernelLeftovers(platform, 'eth0'),
          figures: {
            [`REQUESTs NAKed in ${stormS} s`]: naks,
            [`DISCOVERs in ${stormS} s`]: discovers,
            'states during the storm': [...new Set(rec.changes.filter((x) => x.seenAtMs < t0).map((x) => `${x.name}(${x.reason})`))].join(', '),
          },
        };
      }),
  },
  {
    name: 'lab-lease-expiry',
    where: 'lab',
    description: 'Kea (6 s leases) killed: the lease runs out, address and routes go; Kea back: CONNECTED again (×3 long, ×1 short)',
    run: (ctx) =>
      withLab(async (w): Promise<ScenarioOutcome> => {
        const { client, server, pair } = await ethernetSetup(w.lab, { serverCidr: '192.168.78.1/24', clientUp: true });
        const keaOptions = { ns: server, iface: pair.serverName, subnet: '192.168.78.0/24', pool: ['192.168.78.10', '192.168.78.50'] as [string, string], router: '192.168.78.1', validLifetimeS: 6, renewTimerS: 2, rebindTimerS: 4 };
        let kea = await startKea(w.lab, keaOptions);
        w.defer(() => kea.stop());
        const { network, platform } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open({ interface: 'eth0' }, { onState: rec.listener, driver: { dhcpMinRenewRetryMs: 500 } });
        await rec.waitFor(NetState.CONNECTED);
        const n = ctx.long ? 3 : 1;
        const recovery: number[] = [];
        const toExpiry: number[] = [];
        for (let i = 0; i < n; i++) {
          const mark = rec.mark();
          const killedAt = performance.now();
          process.kill(kea.pid, 'SIGKILL');
          await kea.exited;
          await kea.stop();
          const expired = await rec.waitFor(NetState.ETHERNET_DHCPING, { from: mark, reason: Reason.DHCP_LEASE_EXPIRED, timeoutMs: 15_000 });
          toExpiry.push(expired.seenAtMs - killedAt);
          await waitUntil('the expired address to go', async () => (await platform.getAddresses('eth0')).length === 0, 3000);
          assert.deepEqual((await platform.getRoutes('eth0')).filter((r) => r.prefixLength === 0), [], 'no default route without a lease');
          const back = rec.mark();
          kea = await startKea(w.lab, keaOptions);
          const t0 = performance.now();
          const c = await rec.waitFor(NetState.CONNECTED, { from: back, timeoutMs: 30_000 });
          recovery.push(c.seenAtMs - t0);
        }
        const address = eth.ipTable()?.ipv4.address ?? '';
        assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), [address]);
        await eth.close();
        const sorted = [...toExpiry].sort((a, b) => a - b);
        return { iterations: n, finalState: `CONNECTED ${address} after each expiry`, recoveryMs: recovery, leftBehind: await kernelLeftovers(platform, 'eth0'), figures: { 'server killed → DHCPING(dhcp-lease-expired), median ms': Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0) } };
      }),
  },
  {
    name: 'lab-interface-recreated',
    where: 'lab',
    description: 'the interface is deleted and re-created with the same name (USB unplug/replug): NO_LINK(interface-gone), then CONNECTED (×20 long, ×3 short)',
    run: (ctx) =>
      withLab(async (w): Promise<ScenarioOutcome> => {
        const setup = await ethernetSetup(w.lab);
        const { client, server } = setup;
        let pair = setup.pair;
        let server1 = await dnsmasq(w.lab, server, pair);
        const { network, platform } = await w.network(client);
        const rec = new StateRecorder();
        const eth = network.open({ interface: 'eth0' }, rec.listener);
        await rec.waitFor(NetState.CONNECTED);
        const n = ctx.long ? 20 : 3;
        const recovery: number[] = [];
        const indexes = new Set<number>();
        const serverStart: number[] = [];
        for (let i = 0; i < n; i++) {
          const mark = rec.mark();
          await server1.stop();
          await w.lab.removeVethPair(pair);
          await rec.waitFor(NetState.ETHERNET_STOPPED_NO_LINK, { from: mark, reason: Reason.INTERFACE_GONE });
          assert.equal(eth.ipTable(), undefined);
          const back = rec.mark();
          pair = await w.lab.addVethPair({ clientNs: client, serverNs: server, clientName: 'eth0', serverAddress: `${SERVER_IP}/24` });
          indexes.add(pair.clientIndex);
          const t0 = performance.now();
          // dnsmasq binds to the interface by name: it can only start once the link is back.
          server1 = await dnsmasq(w.lab, server, pair);
          serverStart.push(performance.now() - t0);
          const c = await rec.waitFor(NetState.CONNECTED, { from: back, timeoutMs: 20_000, failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
          recovery.push(c.seenAtMs - t0);
        }
        const address = eth.ipTable()?.ipv4.address ?? '';
        assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), [address]);
        assert.equal((await platform.getRoutes('eth0')).filter((r) => r.prefixLength === 0).length, 1);
        await eth.close();
        return { iterations: n, finalState: `CONNECTED ${address} on the re-created eth0 (${indexes.size} different ifindexes)`, recoveryMs: recovery, leftBehind: await kernelLeftovers(platform, 'eth0'), figures: { 'of which dnsmasq starting on the new link, median ms': Math.round([...serverStart].sort((x, y) => x - y)[Math.floor(serverStart.length / 2)] ?? 0) } };
      }),
  },
  {
    name: 'lab-killed-mid-bring-up',
    where: 'lab',
    description: 'nicup (a child process under ip netns exec) is SIGKILLed at points of its bring-up; the next start cleans what it left (×15 long, ×3 short)',
    run: (ctx) =>
      withLab(async (w): Promise<ScenarioOutcome> => {
        const { client, server, pair } = await ethernetSetup(w.lab);
        await dnsmasq(w.lab, server, pair);
        const { platform } = await w.network(client);
        const plans: { mode: 'dhcp' | 'static'; killAt: string; delayMs: number }[] = [
          { mode: 'dhcp', killAt: 'ETHERNET_DHCPING', delayMs: 0 },
          { mode: 'static', killAt: 'CONNECTED', delayMs: 0 },
          { mode: 'dhcp', killAt: 'CONNECTED', delayMs: 0 },
          { mode: 'static', killAt: 'ETHERNET_LINK_UP', delayMs: 0 },
          { mode: 'dhcp', killAt: 'ETHERNET_LINK_UP', delayMs: 1 },
          { mode: 'static', killAt: 'ETHERNET_LINK_UP', delayMs: 2 },
        ];
        const n = ctx.long ? 15 : 3;
        const leftByKill: string[] = [];
        const recovery: number[] = [];
        let cleaned = 0;
        for (let i = 0; i < n; i++) {
          const plan = plans[i % plans.length]!;
          const child = spawn(findBinary('ip'), ['netns', 'exec', client, process.execPath, '--import', 'tsx', CHILD, plan.mode], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
          child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          try {
            await waitUntil(`the child to reach ${plan.killAt}`, () => {
              if (child.exitCode !== null) throw new Error(`the child exited: ${err.trim()}`);
              return out.includes(`"state":"${plan.killAt}"`);
            }, 30_000, 1);
            if (plan.delayMs > 0) await new Promise((r) => setTimeout(r, plan.delayMs));
          } finally {
            child.kill('SIGKILL');
            await exited;
          }
          const addrs = await platform.getAddresses('eth0');
          const routes = await platform.getRoutes('eth0');
          const left = [...addrs.map((a) => a.address), ...routes.filter((r) => r.prefixLength === 0).map((r) => `default@${r.metric}`)];
          leftByKill.push(`${plan.mode}@${plan.killAt}${plan.delayMs ? `+${plan.delayMs}ms` : ''}: ${left.join(' ') || 'nothing'}`);
          if (left.length > 0) cleaned++;
          // The next start, in this process: it must end up with exactly its own configuration.
          const { network } = await w.network(client);
          const rec = new StateRecorder();
          const t0 = performance.now();
          const eth = network.open({ interface: 'eth0' }, rec.listener);
          const c = await rec.waitFor(NetState.CONNECTED, { timeoutMs: 20_000 });
          recovery.push(c.seenAtMs - t0);
          const address = eth.ipTable()?.ipv4.address ?? '';
          assert.deepEqual((await platform.getAddresses('eth0')).map((a) => a.address), [address], `after ${leftByKill.at(-1)}: only the new start's address`);
          const defaults = (await platform.getRoutes('eth0')).filter((r) => r.prefixLength === 0);
          assert.deepEqual(defaults.map((r) => [r.source, r.metric]), [[address, 100]], `after ${leftByKill.at(-1)}: one default route, ours, at metric 100`);
          await eth.close();
          await network.close();
          assert.deepEqual(await kernelLeftovers(platform, 'eth0'), [], 'the next start left nothing after close');
          assert.deepEqual(ledgerFiles(client, 'eth0'), [], 'no ledger file left for eth0');
        }
        return {
          iterations: n,
          finalState: `after every kill the next start had exactly its own address and one default route; ${cleaned} kill(s) had left something that it removed`,
          recoveryMs: recovery,
          leftBehind: await kernelLeftovers(platform, 'eth0'),
          figures: { 'left by the kills (then removed by the next start)': [...new Set(leftByKill)].map((k) => `${k} (×${leftByKill.filter((x) => x === k).length})`).join('; ') },
        };
      }),
  },
];
