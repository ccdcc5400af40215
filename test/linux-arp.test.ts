/**
 * ARP address conflict detection (RFC 5227, `driver: { arpProbe: true }`) on a real Linux
 * kernel: namespaces joined by a veth pair, dnsmasq handing out 192.168.77.10–.11, and the
 * server namespace holding 192.168.77.10 itself, so its kernel answers ARP for it. With
 * arpProbe nicup DECLINEs .10 (dnsmasq logs the DECLINE) and ends on .11; without it, it
 * takes .10. A static address in use is UNHAPPY address-conflict. The packets are checked
 * on the wire with tcpdump, the extra bring-up time is measured, and a packet socket
 * without CAP_NET_RAW fails with a message that says so.
 * Needs root, iproute2, dnsmasq-base and tcpdump; fails naming what is missing otherwise.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetState, Reason } from '../src/states.js';
import type { Lab, VethPair } from './lab/netns.js';
import { StateRecorder, ethernetSetup, ipJson, ipv4AddressesOf, rootSnapshot, startCapture, waitUntil, withWorld, type IpLink, type RootSnapshot, type TestWorld } from './lab/extra.js';

const SERVER_IP = '192.168.77.1';
const TAKEN = '192.168.77.10';
const FREE = '192.168.77.11';
/**
 * dnsmasq starts its search of the range at a hash of the client's MAC plus an epoch that a
 * DECLINE increments (rfc2131.c, address_allocate): with this MAC the first offer is .10,
 * and after the DECLINE .11. The run without arpProbe proves the first half.
 */
const CLIENT_MAC = '02:00:00:77:00:11';
const TEST_TIMEOUT_MS = 60_000;

const ms = (x: number) => `${x.toFixed(1)} ms`;

interface ConflictLab {
  client: string;
  server: string;
  pair: VethPair;
  serverMac: string;
}

/** The usual client/server pair; eth0 gets CLIENT_MAC; the server also holds `taken` (if given) on s-eth0. */
async function conflictSetup(lab: Lab, taken: string | undefined): Promise<ConflictLab> {
  const { client, server, pair } = await ethernetSetup(lab);
  await lab.exec(client, ['ip', 'link', 'set', 'eth0', 'address', CLIENT_MAC]);
  if (taken) await lab.exec(server, ['ip', 'addr', 'add', `${taken}/24`, 'dev', pair.serverName]);
  const links = await ipJson<IpLink[]>(lab, server, ['link', 'show', 'dev', pair.serverName]);
  const serverMac = links[0]?.address;
  assert.ok(serverMac, 'the server end has a MAC');
  return { client, server, pair, serverMac };
}

function startDnsmasq(lab: Lab, c: ConflictLab) {
  return lab.startDnsmasq({ ns: c.server, iface: c.pair.serverName, range: [TAKEN, FREE] });
}

/** ARP packet sockets open in a namespace (/proc/net/packet, protocol 0806). */
async function arpSocketsIn(lab: Lab, ns: string): Promise<number> {
  const r = await lab.exec(ns, ['cat', '/proc/net/packet']);
  return r.stdout
    .split('\n')
    .slice(1)
    .filter((l) => l.trim().split(/\s+/)[3] === '0806').length;
}

async function openAndConnect(w: TestWorld, ns: string, nic: object, driver: object) {
  const { network, platform, log } = await w.network(ns);
  const rec = new StateRecorder();
  const openedAt = performance.now();
  const iface = network.open(nic as { interface: string }, { onState: rec.listener, driver });
  return { network, platform, log, rec, iface, openedAt };
}

let rootBefore: RootSnapshot;
before(async () => {
  rootBefore = await rootSnapshot();
});

describe('ARP probe on Linux (namespaces, veth, dnsmasq)', () => {
  test('without arpProbe nicup takes the address another host holds (the defect arpProbe fixes)', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const c = await conflictSetup(w.lab, TAKEN);
      await startDnsmasq(w.lab, c);
      const capture = await startCapture(w.lab, c.server, c.pair.serverName, ['arp']);
      const { rec, openedAt } = await openAndConnect(w, c.client, { interface: 'eth0' }, {});
      const connected = await rec.waitFor(NetState.CONNECTED, { failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
      t.diagnostic(`without arpProbe: open → CONNECTED ${ms(connected.seenAtMs - openedAt)} on ${TAKEN}, an address the server also holds`);
      assert.deepEqual(rec.trail(), ['STARTING(opened)', 'ETHERNET_LINK_UP(carrier)', 'ETHERNET_DHCPING(dhcp-started)', 'CONNECTED(dhcp-bound)']);
      assert.deepEqual((await ipv4AddressesOf(w.lab, c.client, 'eth0')).map((a) => a.local), [TAKEN]);
      const lines = await capture.stop();
      assert.equal(lines.filter((l) => /tell 0\.0\.0\.0/.test(l)).length, 0, `no ARP probe on the wire:\n${lines.join('\n')}`);
    }));

  test('with arpProbe: the probe finds the address in use, DECLINE reaches dnsmasq, then .11 and CONNECTED', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const c = await conflictSetup(w.lab, TAKEN);
      const dnsmasq = await startDnsmasq(w.lab, c);
      const capture = await startCapture(w.lab, c.server, c.pair.serverName, ['arp']);
      const { rec, log, openedAt } = await openAndConnect(w, c.client, { interface: 'eth0' }, { arpProbe: true });

      const conflict = await rec.waitFor(NetState.ETHERNET_DHCPING, { reason: Reason.ADDRESS_CONFLICT, failOn: [NetState.ETHERNET_STOPPED_UNHAPPY, NetState.CONNECTED] });
      t.diagnostic(`open → address-conflict (probe answered): ${ms(conflict.seenAtMs - openedAt)}`);
      assert.equal(conflict.detail, `${TAKEN} is in use`);
      // The conflicting address never went on the link.
      assert.deepEqual(await ipv4AddressesOf(w.lab, c.client, 'eth0'), []);
      assert.ok(log.matching(new RegExp(`arp probe ${TAKEN.replace(/\./g, '\\.')}: in use by ${c.serverMac}`)).length === 1, 'the log names the holder\'s MAC');

      // dnsmasq got the DECLINE (its --log-dhcp output), for that address, from our MAC.
      const declineLine = await waitUntil('dnsmasq to log the DECLINE', () =>
        dnsmasq.stderr().split('\n').find((l) => l.includes(`DHCPDECLINE(${c.pair.serverName}) ${TAKEN} ${CLIENT_MAC}`)),
      );
      t.diagnostic(`dnsmasq: ${declineLine.trim()}`);

      // RFC 2131 §3.1.5: rediscovery after 10 s; then the other address, probed free.
      const connected = await rec.waitFor(NetState.CONNECTED, { from: rec.mark() - 1, timeoutMs: 20_000, failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
      t.diagnostic(`address-conflict → CONNECTED on ${FREE}: ${ms(connected.seenAtMs - conflict.seenAtMs)} (10 s of it the RFC 2131 wait after a DECLINE)`);
      assert.deepEqual(rec.trail(), [
        'STARTING(opened)',
        'ETHERNET_LINK_UP(carrier)',
        'ETHERNET_DHCPING(dhcp-started)',
        'ETHERNET_DHCPING(address-conflict)',
        'CONNECTED(dhcp-bound)',
      ]);
      assert.equal(connected.detail, `${FREE}/24 from ${SERVER_IP}`);
      assert.ok(connected.seenAtMs - conflict.seenAtMs >= 9_900, 'the DECLINE wait was kept');
      assert.deepEqual((await ipv4AddressesOf(w.lab, c.client, 'eth0')).map((a) => a.local), [FREE]);
      const lease = await waitUntil('dnsmasq to lease .11', () => dnsmasq.readLeases().find((l) => l.mac === CLIENT_MAC));
      assert.equal(lease.address, FREE);
      assert.ok(dnsmasq.stderr().includes(`DHCPACK(${c.pair.serverName}) ${FREE} ${CLIENT_MAC}`));

      // On the wire: RFC 5227 probes (sender IP 0.0.0.0), the kernel's reply for .10, then
      // three unanswered probes for .11.
      const lines = await capture.stop();
      for (const l of lines) t.diagnostic(`wire: ${l}`);
      const probesFor = (a: string) => lines.filter((l) => l.includes(`Request who-has ${a} tell 0.0.0.0`));
      assert.ok(probesFor(TAKEN).length >= 1, `a probe for ${TAKEN}:\n${lines.join('\n')}`);
      assert.ok(lines.some((l) => l.includes(`Reply ${TAKEN} is-at ${c.serverMac}`)), `the server's kernel answered:\n${lines.join('\n')}`);
      assert.equal(probesFor(FREE).length, 3, `three probes for ${FREE}:\n${lines.join('\n')}`);
      assert.equal(lines.filter((l) => l.includes(`Reply ${FREE} is-at`)).length, 0);
      assert.equal(await arpSocketsIn(w.lab, c.client), 0, 'the ARP sockets are closed');
    }));

  test('arpProbe on a free address: the extra bring-up time is the probe time', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const c = await conflictSetup(w.lab, undefined);
      await w.lab.startDnsmasq({ ns: c.server, iface: c.pair.serverName, range: ['192.168.77.10', '192.168.77.50'] });
      const runs: Record<string, number[]> = { off: [], on: [], on100: [] };
      const options: Record<string, object> = { off: {}, on: { arpProbe: true }, on100: { arpProbe: true, arpProbeTimeoutMs: 100 } };
      for (let round = 0; round < 3; round++) {
        for (const mode of ['off', 'on', 'on100']) {
          const { rec, iface, network, openedAt } = await openAndConnect(w, c.client, { interface: 'eth0' }, options[mode]!);
          const connected = await rec.waitFor(NetState.CONNECTED, { failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
          runs[mode]!.push(connected.seenAtMs - openedAt);
          assert.deepEqual(rec.trail(), ['STARTING(opened)', 'ETHERNET_LINK_UP(carrier)', 'ETHERNET_DHCPING(dhcp-started)', 'CONNECTED(dhcp-bound)']);
          await iface.close();
          await network.close();
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const off = median(runs.off!);
      const on = median(runs.on!);
      const on100 = median(runs.on100!);
      t.diagnostic(`open → CONNECTED, median of 3: arpProbe off ${ms(off)}, on (400 ms default) ${ms(on)} (+${ms(on - off)}), arpProbeTimeoutMs 100 ${ms(on100)} (+${ms(on100 - off)})`);
      // The probe cannot be shorter than its budget when nobody answers…
      for (const x of runs.on!) assert.ok(x >= 400, `with the default probe, bring-up ≥ 400 ms: ${ms(x)}`);
      for (const x of runs.on100!) assert.ok(x >= 100, `with arpProbeTimeoutMs 100, bring-up ≥ 100 ms: ${ms(x)}`);
      // …and adds little beyond it (wide margins: other tests may load the machine).
      assert.ok(on - off < 400 + 300, `default probe: +${ms(on - off)}`);
      assert.ok(on100 - off < 100 + 300, `arpProbeTimeoutMs 100: +${ms(on100 - off)}`);
      assert.equal(await arpSocketsIn(w.lab, c.client), 0, 'no ARP socket left open');
    }));

  test('static address in use with arpProbe: ETHERNET_STOPPED_UNHAPPY address-conflict naming the MAC, nothing applied', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const c = await conflictSetup(w.lab, TAKEN);
      const nic = { interface: 'eth0', staticconfig: { ip: TAKEN, netmask: '255.255.255.0', gateway: SERVER_IP, dns: [SERVER_IP] } };
      const { rec, iface, openedAt } = await openAndConnect(w, c.client, nic, { arpProbe: true });
      const unhappy = await rec.waitFor(NetState.ETHERNET_STOPPED_UNHAPPY, { failOn: [NetState.CONNECTED] });
      t.diagnostic(`static: open → UNHAPPY address-conflict ${ms(unhappy.seenAtMs - openedAt)}`);
      assert.deepEqual(rec.trail(), ['STARTING(opened)', 'ETHERNET_LINK_UP(carrier)', 'ETHERNET_STOPPED_UNHAPPY(address-conflict)']);
      assert.equal(unhappy.detail, `${TAKEN} is in use by ${c.serverMac}`);
      assert.deepEqual(await ipv4AddressesOf(w.lab, c.client, 'eth0'), []);

      // The other host lets the address go; a retry probes again and applies it.
      await w.lab.exec(c.server, ['ip', 'addr', 'del', `${TAKEN}/24`, 'dev', c.pair.serverName]);
      const from = rec.mark();
      iface.retry();
      const connected = await rec.waitFor(NetState.CONNECTED, { from, failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
      assert.equal(connected.reason, Reason.STATIC_APPLIED);
      assert.deepEqual((await ipv4AddressesOf(w.lab, c.client, 'eth0')).map((a) => a.local), [TAKEN]);
    }));

  test('a packet socket without CAP_NET_RAW: a PermissionError that says what is needed', { timeout: TEST_TIMEOUT_MS }, async () => {
    // A child that is not root tries to open the ARP socket (on lo: nothing is sent).
    const arpModule = fileURLToPath(new URL('../src/platform/linux/arp.ts', import.meta.url));
    const script = `
      const { ArpSocket } = await import(${JSON.stringify(arpModule)});
      try { ArpSocket.open({ device: 'lo', ifindex: 1, operation: 'probe 192.168.77.10 on lo' }); console.log('opened'); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }
    `;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('..', import.meta.url)) });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(`child exited ${code}: ${stderr}`))));
    });
    const e = JSON.parse(out) as { name: string; code: string; message: string };
    assert.equal(e.name, 'PermissionError');
    assert.match(e.message, /^probe 192\.168\.77\.10 on lo: an ARP \(AF_PACKET\) socket needs CAP_NET_RAW — run as root or grant cap_net_raw \(EPERM\)$/);
  });

  test('the root namespace was not touched', async () => {
    assert.deepEqual(await rootSnapshot(), rootBefore);
  });
});
