/**
 * ARP address conflict detection (RFC 5227, `driver: { arpProbe: true }`) on a real Linux
 * kernel: namespaces joined by a veth pair, dnsmasq handing out 192.168.77.10–.11, and the
 * server namespace holding 192.168.77.10 itself, so its kernel answers ARP for it. With
 * arpProbe nicup DECLINEs .10 (dnsmasq logs the DECLINE) and ends on .11; without it, it
 * takes .10. A static address in use is UNHAPPY address-conflict. After a clean probe the
 * address is announced (RFC 5227 §2.3): two announcements 2 s apart, captured with tcpdump
 * in the server namespace and read byte by byte from the pcap file, and the second
 * cancelled when the interface closes first. The packets are checked on the wire with
 * tcpdump, the extra bring-up time is measured, and a packet socket without CAP_NET_RAW
 * fails with a message that says so.
 * Needs root, iproute2, dnsmasq-base and tcpdump; fails naming what is missing otherwise.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetState, Reason } from '../src/states.js';
import { findBinary, type Lab, type VethPair } from './lab/netns.js';
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

/**
 * Packet sockets open in a namespace (/proc/net/packet): nicup's ARP sockets — the probe's
 * (protocol 0806) and the announcer's (protocol 0: it only sends). Nothing else in the
 * client namespace opens one (tcpdump runs in the server's).
 */
async function packetSocketsIn(lab: Lab, ns: string): Promise<number> {
  const r = await lab.exec(ns, ['cat', '/proc/net/packet']);
  return r.stdout
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '').length;
}

/** One ARP frame as captured on the wire: its capture time and the fields, read at their offsets. */
interface WireArp {
  atMs: number;
  ethDst: string;
  ethSrc: string;
  operation: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

const macAt = (b: Buffer, at: number) => [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ipAt = (b: Buffer, at: number) => [...b.subarray(at, at + 4)].join('.');

/**
 * Reads a pcap file (tcpdump -w) of Ethernet frames: the ARP ones, with their kernel
 * capture times. A record still being written at the end is left for the next read.
 */
function readPcapArp(file: string): WireArp[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const magicLe = b.readUInt32LE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const magic = u32(0);
  assert.ok(magic === 0xa1b2c3d4 || magic === 0xa1b23c4d, `pcap magic 0x${magicLe.toString(16)}`);
  const fractionPerMs = magic === 0xa1b23c4d ? 1e6 : 1e3;
  assert.equal(u32(20), 1, 'pcap link type Ethernet');
  const out: WireArp[] = [];
  for (let at = 24; at + 16 <= b.length; ) {
    const length = u32(at + 8);
    if (at + 16 + length > b.length) break;
    const f = b.subarray(at + 16, at + 16 + length);
    if (f.length >= 42 && f.readUInt16BE(12) === 0x0806) {
      out.push({
        atMs: u32(at) * 1000 + u32(at + 4) / fractionPerMs,
        ethDst: macAt(f, 0),
        ethSrc: macAt(f, 6),
        operation: f.readUInt16BE(20),
        senderMac: macAt(f, 22),
        senderIp: ipAt(f, 28),
        targetMac: macAt(f, 32),
        targetIp: ipAt(f, 38),
      });
    }
    at += 16 + length;
  }
  return out;
}

/** tcpdump writing every ARP frame on `iface` to a pcap file, packet by packet (-U). */
async function startPcap(w: TestWorld, ns: string, iface: string): Promise<{ packets(): WireArp[]; stop(): Promise<WireArp[]> }> {
  const dir = mkdtempSync(join(tmpdir(), 'nicup-arp-pcap-'));
  w.defer(async () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'arp.pcap');
  const p = w.lab.spawn(ns, [findBinary('tcpdump'), '-n', '-p', '-U', '-Z', 'root', '-i', iface, '-w', file, 'arp']);
  await waitUntil('tcpdump to listen', () => p.stderr().includes('listening on'));
  const packets = () => readPcapArp(file);
  return {
    packets,
    stop: async () => {
      await p.stop();
      return packets();
    },
  };
}

/** RFC 5227 §2.3: an ARP request whose sender and target IP are both the address. */
const isAnnouncementOf = (address: string) => (p: WireArp) => p.operation === 1 && p.senderIp === address && p.targetIp === address;

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
      // The probes' sockets are closed at once; the announcer's after its second announcement.
      await waitUntil('the ARP sockets to close', async () => (await packetSocketsIn(w.lab, c.client)) === 0, 10_000);
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
      assert.equal(await packetSocketsIn(w.lab, c.client), 0, 'no ARP socket left open (closing cancels the announcements)');
    }));

  test('after a clean probe: two RFC 5227 announcements from the interface\'s MAC, 2 s apart, CONNECTED not held back', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const c = await conflictSetup(w.lab, undefined);
      await startDnsmasq(w.lab, c);
      const ifMac = (await ipJson<IpLink[]>(w.lab, c.client, ['link', 'show', 'dev', 'eth0']))[0]?.address;
      assert.ok(ifMac, 'eth0 has a MAC');
      const pcap = await startPcap(w, c.server, c.pair.serverName);
      const { rec, log } = await openAndConnect(w, c.client, { interface: 'eth0' }, { arpProbe: true });
      await rec.waitFor(NetState.CONNECTED, { failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
      const address = (await ipv4AddressesOf(w.lab, c.client, 'eth0'))[0]?.local;
      assert.ok(address, 'an address is on eth0');
      const announcements = () => pcap.packets().filter(isAnnouncementOf(address));
      // The address is usable once probing is done: CONNECTED does not wait for the second.
      assert.ok(announcements().length < 2, `CONNECTED came before the second announcement:\n${JSON.stringify(announcements())}`);

      await log.waitFor(new RegExp(`arp announce ${address.replace(/\./g, '\\.')}: 2 sent$`), { timeoutMs: 10_000 });
      await waitUntil('the announcer\'s socket to close', async () => (await packetSocketsIn(w.lab, c.client)) === 0);
      await waitUntil('two announcements on the wire', () => announcements().length >= 2);
      const all = await pcap.stop();
      const seen = all.filter(isAnnouncementOf(address));
      for (const p of all) t.diagnostic(`wire: op ${p.operation} ${p.senderMac} ${p.senderIp} -> ${p.targetMac} ${p.targetIp}`);
      assert.equal(seen.length, 2, `exactly two announcements:\n${JSON.stringify(all, null, 1)}`);
      for (const p of seen) {
        assert.deepEqual(
          { ethDst: p.ethDst, ethSrc: p.ethSrc, senderMac: p.senderMac, targetMac: p.targetMac },
          { ethDst: 'ff:ff:ff:ff:ff:ff', ethSrc: ifMac, senderMac: ifMac, targetMac: '00:00:00:00:00:00' },
        );
      }
      const [first, second] = seen as [WireArp, WireArp];
      const spacingMs = second.atMs - first.atMs;
      t.diagnostic(`announcements of ${address} ${ms(spacingMs)} apart on the wire`);
      assert.ok(spacingMs >= 1_900, `ANNOUNCE_INTERVAL (2 s) between them: ${ms(spacingMs)}`);
      // Probing came first: every probe for the address is before the first announcement.
      const probes = all.filter((p) => p.operation === 1 && p.senderIp === '0.0.0.0' && p.targetIp === address);
      assert.equal(probes.length, 3);
      assert.ok(all.indexOf(probes.at(-1)!) < all.indexOf(first), 'the announcements follow the probes');
    }));

  test('the interface closed between the two announcements: the second is never sent', { timeout: TEST_TIMEOUT_MS }, (t) =>
    withWorld(async (w) => {
      const c = await conflictSetup(w.lab, undefined);
      await startDnsmasq(w.lab, c);
      const pcap = await startPcap(w, c.server, c.pair.serverName);
      const { rec, log, iface } = await openAndConnect(w, c.client, { interface: 'eth0' }, { arpProbe: true });
      await rec.waitFor(NetState.CONNECTED, { failOn: [NetState.ETHERNET_STOPPED_UNHAPPY] });
      const address = (await ipv4AddressesOf(w.lab, c.client, 'eth0'))[0]?.local;
      assert.ok(address, 'an address is on eth0');
      const announcements = () => pcap.packets().filter(isAnnouncementOf(address));
      await waitUntil('the first announcement on the wire', () => announcements().length >= 1);
      const firstSeenAt = performance.now();
      await iface.close();
      assert.equal(await packetSocketsIn(w.lab, c.client), 0, 'closing closed the announcer\'s socket');
      assert.ok(log.matching(new RegExp(`arp announce ${address.replace(/\./g, '\\.')}: 1 sent, the rest cancelled`)).length === 1, 'the log says the rest was cancelled');
      // Past the time the second was due, with a margin.
      await new Promise((r) => setTimeout(r, Math.max(0, firstSeenAt + 3_000 - performance.now())));
      const all = await pcap.stop();
      t.diagnostic(`announcements of ${address} on the wire: ${all.filter(isAnnouncementOf(address)).length}`);
      assert.equal(all.filter(isAnnouncementOf(address)).length, 1, `one announcement only:\n${JSON.stringify(all, null, 1)}`);
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
