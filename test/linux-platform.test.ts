/**
 * The Linux platform against the real kernel, inside throw-away network namespaces (the
 * lab in test/lab/netns.ts). Needs root, iproute2, dnsmasq-base, socat and udhcpc; fails
 * with a message naming what is missing otherwise. Nothing in the root namespace changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLab, findBinary, requireRoot, type Lab, type LabProcess, type VethPair } from './lab/netns.js';
import { LinuxPlatform } from '../src/platform/linux/index.js';
import type { Datagram, LinkEvent, UdpTransport } from '../src/platform/contract.js';
import { isNicupError } from '../src/errors.js';

const SERVER_CIDR = '192.168.77.1/24';
const SERVER_IP = '192.168.77.1';
const CLIENT_IP = '192.168.77.2';

interface World {
  lab: Lab;
  client: string;
  server: string;
  pair: VethPair;
  platform: LinuxPlatform;
}

/** Each test builds its own world and tears it down, whatever happens. */
async function withWorld(fn: (w: World) => Promise<void>, opts: { clientUp?: boolean } = {}): Promise<void> {
  const lab = await createLab();
  let platform: LinuxPlatform | undefined;
  try {
    const client = await lab.addNamespace('client');
    const server = await lab.addNamespace('server');
    const pair = await lab.addVethPair({ clientNs: client, serverNs: server, serverAddress: SERVER_CIDR });
    platform = new LinuxPlatform({ netns: client });
    if (opts.clientUp) await platform.setLinkUp('eth0', true);
    await fn({ lab, client, server, pair, platform });
  } finally {
    await platform?.dispose();
    await lab.dispose();
  }
}

/** Collects link events; `next` waits for the next one (with a deadline). */
function eventLog() {
  const events: { at: number; e: LinkEvent }[] = [];
  const waiters: (() => void)[] = [];
  return {
    events,
    listener: (e: LinkEvent) => {
      events.push({ at: performance.now(), e });
      for (const w of waiters.splice(0)) w();
    },
    async waitFor(pred: (e: LinkEvent) => boolean, fromIndex = 0, timeoutMs = 3000): Promise<{ at: number; e: LinkEvent }> {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const hit = events.slice(fromIndex).find((x) => pred(x.e));
        if (hit) return hit;
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`no matching link event within ${timeoutMs} ms; got ${JSON.stringify(events.map((x) => x.e))}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
}

function nextDatagram(t: UdpTransport, timeoutMs = 3000): Promise<Datagram> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no datagram within ${timeoutMs} ms`)), timeoutMs);
    t.onMessage((d) => {
      clearTimeout(timer);
      resolve(d);
    });
  });
}

/** Datagrams received so far, with a wait for the n-th. */
function datagramLog(t: UdpTransport) {
  const got: Datagram[] = [];
  t.onMessage((d) => got.push(d));
  return {
    got,
    async waitForCount(n: number, timeoutMs = 3000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} datagrams, got ${got.length}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

function ipJson(ns: string, args: string[]): unknown {
  // Cross-check only: the platform itself never parses `ip`.
  return JSON.parse(execFileSync(findBinary('ip'), ['-n', ns, '-j', ...args], { encoding: 'utf8' }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/**
 * A DHCP client message built byte by byte (RFC 2131 §2, RFC 2132) with the BROADCAST
 * flag (§4.1): DISCOVER, or REQUEST for an offered address (options 50 and 54).
 */
function dhcpRequest(xid: number, mac: Buffer, request?: { address: string; server: string }): Buffer {
  const b = Buffer.alloc(300);
  b[0] = 1; // op BOOTREQUEST
  b[1] = 1; // htype Ethernet
  b[2] = 6; // hlen
  b.writeUInt32BE(xid, 4);
  b.writeUInt16BE(0x8000, 10); // flags: BROADCAST
  mac.copy(b, 28); // chaddr
  b.writeUInt32BE(0x63825363, 236); // magic cookie
  const quad = (s: string) => s.split('.').map(Number);
  const options = request
    ? [53, 1, 3, 50, 4, ...quad(request.address), 54, 4, ...quad(request.server), 55, 3, 1, 3, 6, 255]
    : [53, 1, 1, 55, 3, 1, 3, 6, 255];
  Buffer.from(options).copy(b, 240);
  return b;
}

function dhcpOption(packet: Buffer, code: number): Buffer | undefined {
  for (let i = 240; i < packet.length; ) {
    const c = packet[i]!;
    if (c === 255) return undefined;
    if (c === 0) {
      i++;
      continue;
    }
    const len = packet[i + 1]!;
    if (c === code) return packet.subarray(i + 2, i + 2 + len);
    i += 2 + len;
  }
  return undefined;
}

const FIXTURES = fileURLToPath(new URL('./lab/child-fixtures.ts', import.meta.url));

/** Runs a fixture; resolves with its first stdout line and a handle on the process. */
function runFixture(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURES, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: string | null; atMs: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, atMs: performance.now() })),
  );
  const firstLine = new Promise<unknown>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
    void exited.then(() => reject(new Error(`fixture ${args[0]} exited before it was ready: ${err}`)));
  });
  return { child, firstLine, exited, stderr: () => err };
}

// The host's DNS configuration must survive every test (lab-notes.md: DHCP clients under
// `ip netns exec` have rewritten it before).
const resolvConf = existsSync('/etc/resolv.conf') ? { text: readFileSync('/etc/resolv.conf', 'utf8'), mtimeMs: statSync('/etc/resolv.conf').mtimeMs } : undefined;

before(() => {
  requireRoot();
  for (const b of ['ip', 'dnsmasq', 'socat', 'udhcpc']) findBinary(b);
});

after(() => {
  if (!resolvConf) return;
  assert.equal(readFileSync('/etc/resolv.conf', 'utf8'), resolvConf.text, '/etc/resolv.conf unchanged');
  assert.equal(statSync('/etc/resolv.conf').mtimeMs, resolvConf.mtimeMs, '/etc/resolv.conf not rewritten');
});

describe('namespaces', () => {
  test('a platform sees only its namespace; an unknown namespace is refused', async () => {
    await withWorld(async ({ platform, pair }) => {
      const links = await platform.listLinks();
      assert.deepEqual(links.map((l) => l.name).sort(), ['eth0', 'lo']);
      const root = new LinuxPlatform();
      try {
        const rootLinks = await root.listLinks();
        assert.ok(!rootLinks.some((l) => l.name === pair.serverName), 'the server end is not in the root namespace');
      } finally {
        await root.dispose();
      }
    });
    assert.throws(() => new LinuxPlatform({ netns: 'nicup-no-such-namespace' }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'netns');
    assert.throws(() => new LinuxPlatform({ netns: '../etc' }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT'));
  });
});

describe('links', () => {
  test('lists links with index, kind, MAC, MTU and flags, as ip -j link shows them', async () => {
    await withWorld(async ({ platform, client, pair }) => {
      const eth0 = await platform.getLink('eth0');
      assert.ok(eth0);
      assert.equal(eth0.index, pair.clientIndex);
      assert.equal(eth0.kind, 'ethernet', 'a veth is ethernet');
      assert.equal(eth0.adminUp, false);
      assert.equal(eth0.carrier, false);
      const [viaIp] = ipJson(client, ['link', 'show', 'dev', 'eth0']) as { ifindex: number; address: string; mtu: number }[];
      assert.ok(viaIp);
      assert.equal(eth0.mac, viaIp.address);
      assert.equal(eth0.mtu, viaIp.mtu);
      const lo = await platform.getLink('lo');
      assert.equal(lo?.kind, 'other');
      assert.equal(lo?.adminUp, true, 'the lab brings loopback up');
      assert.equal(await platform.getLink('nope0'), undefined);
      await assert.rejects(platform.setLinkUp('nope0', true), (e) => isNicupError(e, 'NICUP_INTERFACE_NOT_FOUND'));
      await assert.rejects(platform.getLink('bad/name'), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT'));
    });
  });

  test('admin up brings carrier (the peer is up); carrier follows the peer end, measured', async () => {
    await withWorld(async ({ lab, platform, server, pair }) => {
      const log = eventLog();
      const watch = platform.watchLink('eth0', log.listener);
      // Subscribe, then read: the read is ordered after the watcher's snapshot.
      assert.equal((await platform.getLink('eth0'))?.adminUp, false);
      await platform.setLinkUp('eth0', true);
      await log.waitFor((e) => e.type === 'carrier' && e.carrier);
      assert.deepEqual(
        log.events.map((x) => x.e),
        [
          { type: 'admin', up: true },
          { type: 'carrier', carrier: true },
        ],
      );
      const link = await platform.getLink('eth0');
      assert.equal(link?.adminUp, true);
      assert.equal(link?.carrier, true);

      // The peer goes down and up: driven through a platform in the server namespace, so
      // the latency is kernel -> event, not the cost of spawning `ip`.
      const serverSide = new LinuxPlatform({ netns: server });
      const downMs: number[] = [];
      const upMs: number[] = [];
      try {
        for (let i = 0; i < 10; i++) {
          let from = log.events.length;
          let t0 = performance.now();
          await serverSide.setLinkUp(pair.serverName, false);
          let hit = await log.waitFor((e) => e.type === 'carrier', from);
          assert.deepEqual(hit.e, { type: 'carrier', carrier: false });
          downMs.push(hit.at - t0);
          from = log.events.length;
          t0 = performance.now();
          await serverSide.setLinkUp(pair.serverName, true);
          hit = await log.waitFor((e) => e.type === 'carrier', from);
          assert.deepEqual(hit.e, { type: 'carrier', carrier: true });
          upMs.push(hit.at - t0);
        }
      } finally {
        await serverSide.dispose();
      }
      // And once through the lab helper (spawns `ip`), as the other tests use it.
      const from = log.events.length;
      const t0 = performance.now();
      await lab.setCarrier(pair, false);
      const viaIp = (await log.waitFor((e) => e.type === 'carrier', from)).at - t0;
      console.log(
        `carrier event latency (ms): down median ${median(downMs).toFixed(2)} max ${Math.max(...downMs).toFixed(2)}; ` +
          `up median ${median(upMs).toFixed(2)} max ${Math.max(...upMs).toFixed(2)}; via lab.setCarrier (incl. ip spawn) ${viaIp.toFixed(1)}`,
      );
      // Equal veth indexes delay carrier events by up to a second; the lab's differ.
      assert.ok(Math.max(...downMs, ...upMs) < 300, `carrier events arrive promptly (max ${Math.max(...downMs, ...upMs)} ms)`);
      assert.ok(!log.events.some((x) => x.e.type === 'admin' && !x.e.up), 'the client end stayed admin up');
      watch.dispose();
      const before = log.events.length;
      await lab.setCarrier(pair, true);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(log.events.length, before, 'a disposed watcher gets nothing');
    });
  });

  test('interface removal and re-creation are reported', async () => {
    await withWorld(async ({ lab, platform, client, server, pair }) => {
      const log = eventLog();
      platform.watchLink('eth0', log.listener);
      await platform.getLink('eth0');
      await lab.removeVethPair(pair);
      await log.waitFor((e) => e.type === 'removed');
      assert.equal(await platform.getLink('eth0'), undefined);
      const from = log.events.length;
      const again = await lab.addVethPair({ clientNs: client, serverNs: server, clientIndex: 40, serverIndex: 41 });
      const added = await log.waitFor((e) => e.type === 'added', from);
      assert.ok(added.e.type === 'added');
      assert.equal(added.e.link.name, 'eth0');
      assert.equal(added.e.link.index, again.clientIndex);
      assert.equal(added.e.link.kind, 'ethernet');
    });
  });
});

describe('addresses and routes', () => {
  test('add, list (cross-checked with ip -j addr), re-add, remove twice', async () => {
    await withWorld(
      async ({ platform, client }) => {
        await platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 24, validLifetimeS: 600, preferredLifetimeS: 300 });
        let addrs = await platform.getAddresses('eth0');
        assert.equal(addrs.length, 1);
        const a = addrs[0]!;
        assert.equal(a.address, CLIENT_IP);
        assert.equal(a.prefixLength, 24);
        assert.equal(a.broadcast, '192.168.77.255', 'derived from the prefix');
        assert.ok(a.validLifetimeS !== undefined && a.validLifetimeS <= 600 && a.validLifetimeS > 590);
        assert.ok(a.preferredLifetimeS !== undefined && a.preferredLifetimeS <= 300 && a.preferredLifetimeS > 290);

        const [dev] = ipJson(client, ['addr', 'show', 'dev', 'eth0']) as { addr_info: { family: string; local: string; prefixlen: number; broadcast?: string; valid_life_time: number }[] }[];
        const inet = dev?.addr_info.filter((x) => x.family === 'inet') ?? [];
        assert.equal(inet.length, 1);
        assert.equal(inet[0]?.local, CLIENT_IP);
        assert.equal(inet[0]?.prefixlen, 24);
        assert.equal(inet[0]?.broadcast, '192.168.77.255');
        assert.ok((inet[0]?.valid_life_time ?? 0) <= 600);

        // Re-adding updates in place (a DHCP renewal): no error, one address, new lifetimes.
        await platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 24 });
        addrs = await platform.getAddresses('eth0');
        assert.deepEqual(addrs, [{ address: CLIENT_IP, prefixLength: 24, broadcast: '192.168.77.255' }], 'now permanent');
        // A new broadcast replaces the old one.
        await platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 24, broadcast: '192.168.77.254' });
        assert.deepEqual(await platform.getAddresses('eth0'), [{ address: CLIENT_IP, prefixLength: 24, broadcast: '192.168.77.254' }]);
        // A /32 has no broadcast.
        await platform.addAddress('eth0', { address: '10.9.9.9', prefixLength: 32 });
        assert.deepEqual((await platform.getAddresses('eth0')).find((x) => x.address === '10.9.9.9'), { address: '10.9.9.9', prefixLength: 32 });

        await platform.removeAddress('eth0', { address: CLIENT_IP, prefixLength: 24 });
        await platform.removeAddress('eth0', { address: CLIENT_IP, prefixLength: 24 });
        await platform.removeAddress('nope0', { address: CLIENT_IP, prefixLength: 24 });
        assert.deepEqual((await platform.getAddresses('eth0')).map((x) => x.address), ['10.9.9.9']);

        await assert.rejects(platform.addAddress('nope0', { address: CLIENT_IP, prefixLength: 24 }), (e) => isNicupError(e, 'NICUP_INTERFACE_NOT_FOUND'));
        await assert.rejects(platform.addAddress('eth0', { address: '1.2.3', prefixLength: 24 }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'address.address');
        await assert.rejects(platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 33 }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'address.prefixLength');
        await assert.rejects(
          platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 24, validLifetimeS: 10, preferredLifetimeS: 20 }),
          (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'address.preferredLifetimeS',
        );
      },
      { clientUp: true },
    );
  });

  test('routes: add with gateway, metric and source; EEXIST only when identical; remove twice', async () => {
    await withWorld(
      async ({ platform, client }) => {
        await platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 24 });
        const def = { destination: '0.0.0.0', prefixLength: 0, gateway: SERVER_IP, metric: 100, source: CLIENT_IP };
        await platform.addRoute('eth0', def);
        await platform.addRoute('eth0', def); // identical: resolves
        const host = { destination: '192.168.99.7', prefixLength: 32, metric: 5 };
        await platform.addRoute('eth0', host);
        const routes = await platform.getRoutes('eth0');
        assert.deepEqual(
          routes.filter((r) => r.prefixLength !== 24),
          [
            { destination: '0.0.0.0', prefixLength: 0, metric: 100, gateway: SERVER_IP, source: CLIENT_IP },
            { destination: '192.168.99.7', prefixLength: 32, metric: 5 },
          ],
        );
        const viaIp = ipJson(client, ['route', 'show', 'dev', 'eth0']) as { dst: string; gateway?: string; metric?: number; prefsrc?: string; scope?: string }[];
        const d = viaIp.find((r) => r.dst === 'default');
        assert.equal(d?.gateway, SERVER_IP);
        assert.equal(d?.metric, 100);
        assert.equal(d?.prefsrc, CLIENT_IP);
        assert.equal(viaIp.find((r) => r.dst === '192.168.99.7')?.scope, 'link', 'a route without gateway is on-link');

        // Same key (destination, prefix, metric), different gateway: not silently replaced.
        await assert.rejects(
          platform.addRoute('eth0', { ...def, gateway: '192.168.77.9' }),
          (e) => isNicupError(e, 'NICUP_PLATFORM') && /already exists/.test(e.message),
        );
        await platform.removeRoute('eth0', def);
        await platform.removeRoute('eth0', def);
        await platform.removeRoute('eth0', host);
        await platform.removeRoute('nope0', host);
        assert.deepEqual((await platform.getRoutes('eth0')).map((r) => `${r.destination}/${r.prefixLength}`), ['192.168.77.0/24']);
        await assert.rejects(platform.addRoute('eth0', { destination: '10.0.0.0', prefixLength: 8, gateway: 'x' }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'route.gateway');
      },
      { clientUp: true },
    );
  });
});

describe('sockets', () => {
  test('DHCP socket: a hand-built DISCOVER to 255.255.255.255 gets dnsmasq\'s OFFER', async () => {
    await withWorld(
      async ({ lab, platform, server, pair }) => {
        const dnsmasq = await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.77.10', '192.168.77.50'] });
        const sock = await platform.openDhcpSocket('eth0');
        assert.equal(sock.localPort, 68);
        const mac = Buffer.from((await platform.getLink('eth0'))!.mac!.split(':').map((h) => parseInt(h, 16)));
        const xid = 0x1234abcd;
        const offer = nextDatagram(sock);
        const t0 = performance.now();
        await sock.send(dhcpRequest(xid, mac), 67, '255.255.255.255');
        const d = await offer;
        const ms = performance.now() - t0;
        console.log(`DISCOVER -> OFFER: ${ms.toFixed(2)} ms`);
        assert.equal(d.fromAddress, SERVER_IP);
        assert.equal(d.fromPort, 67);
        assert.equal(d.toAddress, '255.255.255.255', 'the OFFER was broadcast (BROADCAST flag)');
        assert.equal(d.toPort, 68);
        assert.equal(d.data[0], 2, 'BOOTREPLY');
        assert.equal(d.data.readUInt32BE(4), xid);
        assert.deepEqual(dhcpOption(d.data, 53), Buffer.from([2]), 'DHCPOFFER');
        const yiaddr = [...d.data.subarray(16, 20)].join('.');
        assert.match(yiaddr, /^192\.168\.77\.(\d+)$/);
        const host = Number(yiaddr.split('.')[3]);
        assert.ok(host >= 10 && host <= 50, `offered ${yiaddr} is in the range`);
        assert.match(dnsmasq.stderr(), /DHCPOFFER\(s-eth0\) 192\.168\.77\.\d+/);

        // REQUEST -> ACK completes the exchange; the lab reads the lease dnsmasq wrote.
        const ack = nextDatagram(sock);
        await sock.send(dhcpRequest(xid + 1, mac, { address: yiaddr, server: SERVER_IP }), 67, '255.255.255.255');
        const a = await ack;
        assert.deepEqual(dhcpOption(a.data, 53), Buffer.from([5]), 'DHCPACK');
        assert.equal([...a.data.subarray(16, 20)].join('.'), yiaddr);
        const deadline = performance.now() + 2000;
        let leases = dnsmasq.readLeases();
        while (leases.length === 0 && performance.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
          leases = dnsmasq.readLeases();
        }
        assert.equal(leases.length, 1);
        assert.equal(leases[0]?.address, yiaddr);
        assert.equal(leases[0]?.mac, (await platform.getLink('eth0'))!.mac);
        assert.ok((leases[0]?.expiry ?? 0) > Date.now() / 1000 + 3000, 'a one-hour lease');
        // The DHCP socket does not keep the process alive; another DHCP socket on another link coexists.
        await sock.close();
        await sock.close();
        await assert.rejects(sock.send(Buffer.alloc(1), 67, '255.255.255.255'), (e) => isNicupError(e, 'NICUP_CLOSED'));
      },
      { clientUp: true },
    );
  });

  test('device-bound UDP exchanges datagrams with a socat echo peer', async () => {
    await withWorld(
      async ({ lab, platform, server, pair }) => {
        await platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 24 });
        await lab.startUdpEcho({ ns: server, port: 7777 });
        const sock = await platform.openUdp('eth0', {});
        assert.ok(sock.localPort >= 1024, `ephemeral port ${sock.localPort}`);
        const log = datagramLog(sock);
        const rtt: number[] = [];
        for (let i = 0; i < 20; i++) {
          const t0 = performance.now();
          await sock.send(Buffer.from(`ping ${i}`), 7777, SERVER_IP);
          await log.waitForCount(i + 1);
          rtt.push(performance.now() - t0);
        }
        console.log(`UDP echo round trip via socat (fork per datagram): median ${median(rtt).toFixed(2)} ms`);
        log.got.forEach((d, i) => {
          assert.equal(d.data.toString(), `ping ${i}`);
          assert.equal(d.fromAddress, SERVER_IP);
          assert.equal(d.fromPort, 7777);
          assert.equal(d.toAddress, CLIENT_IP);
          assert.equal(d.toPort, sock.localPort);
        });
        // Empty and fragmented datagrams, received by a platform socket on the server side.
        const serverSide = new LinuxPlatform({ netns: server });
        try {
          const peer = await serverSide.openUdp(pair.serverName, { port: 7000 });
          const peerLog = datagramLog(peer);
          const big = Buffer.alloc(8000, 0xa5);
          await sock.send(new Uint8Array(big.buffer, big.byteOffset, big.length), 7000, SERVER_IP);
          await sock.send(Buffer.alloc(0), 7000, SERVER_IP);
          await peerLog.waitForCount(2);
          assert.ok(peerLog.got[0]?.data.equals(big), 'an 8000-byte datagram (fragmented at MTU 1500) arrives whole');
          assert.equal(peerLog.got[1]?.data.length, 0, 'an empty datagram arrives');
          assert.equal(peerLog.got[1]?.fromPort, sock.localPort);
          assert.equal(peerLog.got[1]?.fromAddress, CLIENT_IP);
        } finally {
          await serverSide.dispose();
        }
        await assert.rejects(sock.send(Buffer.from('x'), 0, SERVER_IP), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'port');
        await assert.rejects(sock.send(Buffer.from('x'), 7777, '192.168.77'), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'address');
        await assert.rejects(sock.send(Buffer.alloc(70000), 7777, SERVER_IP), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'data');
      },
      { clientUp: true },
    );
  });

  test('toAddress tells unicast, subnet broadcast and limited broadcast apart', async () => {
    await withWorld(
      async ({ lab, platform, server, pair }) => {
        await platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 24 });
        const sock = await platform.openUdp('eth0', { port: 5005 });
        const log = datagramLog(sock);
        const send = (to: string, data: string) =>
          lab.sendUdp({ ns: server, to, port: 5005, data, broadcast: to !== CLIENT_IP, device: pair.serverName });
        await send(CLIENT_IP, 'unicast');
        await log.waitForCount(1);
        await send('192.168.77.255', 'subnet');
        await log.waitForCount(2);
        await send('255.255.255.255', 'limited');
        await log.waitForCount(3);
        assert.deepEqual(
          log.got.map((d) => [d.data.toString(), d.toAddress, d.toPort, d.fromAddress]),
          [
            ['unicast', CLIENT_IP, 5005, SERVER_IP],
            ['subnet', '192.168.77.255', 5005, SERVER_IP],
            ['limited', '255.255.255.255', 5005, SERVER_IP],
          ],
        );
        // Sending to a broadcast address needs the broadcast option.
        await assert.rejects(sock.send(Buffer.from('x'), 9, '192.168.77.255'), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'address');
        const bsock = await platform.openUdp('eth0', { broadcast: true });
        await bsock.send(Buffer.from('x'), 9, '192.168.77.255');
      },
      { clientUp: true },
    );
  });

  test('a socket bound to eth1 leaves by eth1 although the route prefers eth0 (counters)', async () => {
    await withWorld(
      async ({ lab, platform, client, server }) => {
        // eth1: a second link into the same subnet.
        await lab.addVethPair({ clientNs: client, serverNs: server, clientName: 'eth1' });
        await platform.setLinkUp('eth1', true);
        await platform.addAddress('eth0', { address: CLIENT_IP, prefixLength: 24 });
        await platform.addAddress('eth1', { address: '192.168.77.3', prefixLength: 24 });
        // The routing table sends 192.168.77.1 by eth0.
        await platform.addRoute('eth0', { destination: SERVER_IP, prefixLength: 32, metric: 1 });
        const [viaRoute] = ipJson(client, ['route', 'get', SERVER_IP]) as { dev: string }[];
        assert.equal(viaRoute?.dev, 'eth0');

        const sock = await platform.openUdp('eth1', {});
        const before0 = await platform.getLinkStats('eth0');
        const before1 = await platform.getLinkStats('eth1');
        const procBefore1 = await lab.linkCounters(client, 'eth1');
        const n = 25;
        for (let i = 0; i < n; i++) await sock.send(Buffer.from(`via eth1 ${i}`), 9, SERVER_IP);
        await new Promise((r) => setTimeout(r, 50));
        const after0 = await platform.getLinkStats('eth0');
        const after1 = await platform.getLinkStats('eth1');
        const procAfter1 = await lab.linkCounters(client, 'eth1');
        const tx1 = after1.txPackets - before1.txPackets;
        const tx0 = after0.txPackets - before0.txPackets;
        console.log(`sent ${n} datagrams bound to eth1: eth1 tx +${tx1}, eth0 tx +${tx0}`);
        assert.ok(tx1 >= n, `eth1 sent them (tx +${tx1})`);
        assert.ok(tx0 < n, `eth0 did not (tx +${tx0})`);
        assert.ok(procAfter1.txPackets - procBefore1.txPackets >= n, '/proc/net/dev in the namespace agrees');
      },
      { clientUp: true },
    );
  });

  test('port in use, SO_REUSEADDR, the same port on two devices', async () => {
    await withWorld(
      async ({ lab, platform, client, server }) => {
        await lab.addVethPair({ clientNs: client, serverNs: server, clientName: 'eth1' });
        const a = await platform.openUdp('eth0', { port: 6000 });
        assert.equal(a.localPort, 6000);
        await assert.rejects(platform.openUdp('eth0', { port: 6000 }), (e) => isNicupError(e, 'NICUP_PORT_IN_USE') && /6000/.test(e.message));
        // Device-bound sockets on different devices do not conflict.
        const b = await platform.openUdp('eth1', { port: 6000 });
        await Promise.all([a.close(), b.close()]);
        // Closing freed the port.
        const c = await platform.openUdp('eth0', { port: 6000, reuseAddress: true });
        const d = await platform.openUdp('eth0', { port: 6000, reuseAddress: true });
        assert.equal(d.localPort, 6000);
        await Promise.all([c.close(), d.close()]);
        // Two DHCP sockets on two links share port 68.
        const dhcp0 = await platform.openDhcpSocket('eth0');
        const dhcp1 = await platform.openDhcpSocket('eth1');
        await Promise.all([dhcp0.close(), dhcp1.close()]);
        await assert.rejects(platform.openUdp('nope0', {}), (e) => isNicupError(e, 'NICUP_INTERFACE_NOT_FOUND'));
        await assert.rejects(platform.openUdp('eth0', { port: 70000 }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'port');
        await assert.rejects(platform.openUdp('eth0', { address: '10.1.1.1' }), (e) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === 'address');
      },
      { clientUp: true },
    );
  });

  test('dispose closes every socket and frees its port; later calls reject', async () => {
    await withWorld(async ({ client }) => {
      const p = new LinuxPlatform({ netns: client });
      const s = await p.openUdp('eth0', { port: 6100 });
      const dhcp = await p.openDhcpSocket('eth0');
      p.watchLink('eth0', () => undefined);
      await p.dispose();
      await assert.rejects(s.send(Buffer.from('x'), 9, SERVER_IP), (e) => isNicupError(e, 'NICUP_CLOSED'));
      await assert.rejects(dhcp.send(Buffer.from('x'), 67, '255.255.255.255'), (e) => isNicupError(e, 'NICUP_CLOSED'));
      await assert.rejects(p.listLinks(), (e) => isNicupError(e, 'NICUP_CLOSED'));
      const again = new LinuxPlatform({ netns: client });
      try {
        const s2 = await again.openUdp('eth0', { port: 6100 });
        assert.equal(s2.localPort, 6100);
      } finally {
        await again.dispose();
      }
    });
  });
});

describe('manager detection', () => {
  /** Polls until the manager is (or is no longer) seen: spawning under `ip netns exec` takes a moment. */
  async function expectManager(platform: LinuxPlatform, name: string, expected: string | undefined, proc?: LabProcess): Promise<void> {
    const deadline = performance.now() + 3000;
    let got: string | undefined;
    while ((got = await platform.detectManager(name)) !== expected && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(got, expected, `detectManager(${name})${proc ? `; udhcpc said: ${proc.stderr().trim()}` : ''}`);
  }

  test('finds udhcpc on the link in the same namespace only', async () => {
    await withWorld(async ({ lab, platform, client, server }) => {
      assert.equal(await platform.detectManager('eth0'), undefined);
      // Another namespace with its own eth0 and a udhcpc on it: not ours.
      const other = await lab.addNamespace('other');
      await lab.addVethPair({ clientNs: other, serverNs: server, clientName: 'eth0', serverName: 's-other', clientUp: true });
      // -s /bin/true: a lease (there is none here) would change nothing; -f: stays a child.
      const foreign = lab.spawn(other, ['udhcpc', '-f', '-i', 'eth0', '-s', '/bin/true']);
      // udhcpc on eth1 in our namespace: not on our link either.
      await lab.addVethPair({ clientNs: client, serverNs: server, clientName: 'eth1', clientUp: true });
      const sibling = lab.spawn(client, ['udhcpc', '-f', '-i', 'eth1', '-s', '/bin/true']);
      await expectManager(platform, 'eth1', 'udhcpc', sibling);
      await lab.waitForExec(foreign);
      assert.equal(await platform.detectManager('eth0'), undefined, 'a udhcpc on eth0 of another namespace is not ours');

      await platform.setLinkUp('eth0', true);
      const ours = lab.spawn(client, ['udhcpc', '-f', '-i', 'eth0', '-s', '/bin/true']);
      await expectManager(platform, 'eth0', 'udhcpc', ours);
      await ours.stop();
      assert.equal(await platform.detectManager('eth0'), undefined);
      await Promise.all([foreign.stop(), sibling.stop()]);
      await assert.rejects(platform.detectManager('nope0'), (e) => isNicupError(e, 'NICUP_INTERFACE_NOT_FOUND'));
    });
  });
});

describe('process lifetime', () => {
  test('watchers, the DHCP socket and an unref\'d UDP socket let the process exit', async () => {
    await withWorld(async ({ client }) => {
      const f = runFixture(['platform-idle', client]);
      assert.deepEqual(await f.firstLine, { ready: true });
      const readyAt = performance.now();
      const timer = setTimeout(() => f.child.kill('SIGKILL'), 5000);
      const end = await f.exited;
      clearTimeout(timer);
      assert.equal(end.signal, null, `exited by itself (stderr: ${f.stderr()})`);
      assert.equal(end.code, 0);
      assert.ok(end.atMs - readyAt < 2000, `exited ${(end.atMs - readyAt).toFixed(0)} ms after it was ready`);
    });
  });

  test('an open UDP socket keeps the process alive', async () => {
    await withWorld(async ({ client }) => {
      const f = runFixture(['udp-open', client]);
      assert.deepEqual(await f.firstLine, { ready: true });
      const still = await Promise.race([f.exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 500))]);
      f.child.kill('SIGKILL');
      await f.exited;
      assert.equal(still, true, 'still running 500 ms after it was ready');
    });
  });
});

describe('lab', () => {
  let lab: Lab | undefined;
  after(async () => lab?.dispose());

  test('dispose leaves no namespace, process or veth behind', async () => {
    lab = await createLab();
    const client = await lab.addNamespace('client');
    const server = await lab.addNamespace('server');
    const pair = await lab.addVethPair({ clientNs: client, serverNs: server, serverAddress: SERVER_CIDR, clientUp: true });
    const dnsmasq = await lab.startDnsmasq({ ns: server, iface: pair.serverName, range: ['192.168.77.10', '192.168.77.20'] });
    const echo = await lab.startUdpEcho({ ns: server, port: 7777 });
    const pids = [dnsmasq.pid, echo.pid];
    assert.deepEqual(lab.livePids().sort(), [...pids].sort());
    assert.deepEqual(lab.listNamespaces().sort(), [client, server].sort());
    await lab.dispose();
    const left = readdirSync('/run/netns').filter((n) => n === client || n === server);
    assert.deepEqual(left, [], 'namespaces deleted');
    for (const pid of pids) assert.ok(await gone(pid), `process ${pid} gone`);
    const rootLinks = JSON.parse(execFileSync(findBinary('ip'), ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
    assert.ok(!rootLinks.some((l) => l.ifname === pair.serverName), 'no lab veth in the root namespace');
    await assert.rejects(lab.addNamespace('late'), /disposed/);
    assert.throws(() => findBinary('dhclient-nicup-missing'), /not installed/);
    assert.throws(() => findBinary('dhclient-nicup-missing'), (e: Error) => !e.message.includes('apt-get'), 'no package guessed for an unknown binary');
  });

  test('a process interrupted with SIGINT still removes its namespaces and processes', async () => {
    const f = runFixture(['lab-sigint']);
    const made = (await f.firstLine) as { namespaces: string[]; pids: number[] };
    assert.equal(made.namespaces.length, 2);
    for (const n of made.namespaces) assert.ok(existsSync(`/run/netns/${n}`));
    for (const pid of made.pids) assert.ok(existsSync(`/proc/${pid}`));
    f.child.kill('SIGINT');
    const end = await f.exited;
    assert.equal(end.code, 130);
    for (const n of made.namespaces) assert.equal(existsSync(`/run/netns/${n}`), false, `${n} deleted`);
    for (const pid of made.pids) assert.ok(await gone(pid), `process ${pid} gone`);
  });
});

/** True once the process has exited (a zombie awaiting its reaper counts as exited). */
async function gone(pid: number, timeoutMs = 2000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let state: string | undefined;
    try {
      state = /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    } catch {
      return true;
    }
    if (state === 'Z' || state === 'X') return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}
