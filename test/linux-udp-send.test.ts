/**
 * The send path of the Linux UDP transport against the real kernel: the destination cache
 * never sends to a stale address or port, bad input is refused after a destination was
 * cached, received datagrams name their source and destination as these change, and when the socket's send buffer is full (EAGAIN, held back by a slow tbf qdisc)
 * later sends queue behind and reach the peer in order; closing rejects what is queued.
 * Needs root, iproute2 (ip, tc) and the tbf qdisc; fails naming what is missing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createLab, findBinary, type Lab, type VethPair } from './lab/netns.js';
import { LinuxPlatform } from '../src/platform/linux/index.js';
import type { Datagram, UdpTransport } from '../src/platform/contract.js';
import { isNicupError } from '../src/errors.js';

const SERVER_IP = '192.168.78.1';
const SERVER_IP2 = '192.168.78.3';
const CLIENT_IP = '192.168.78.2';
const TEST_TIMEOUT_MS = 60_000;

interface World {
  lab: Lab;
  server: string;
  pair: VethPair;
  client: LinuxPlatform;
  serverSide: LinuxPlatform;
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const lab = await createLab();
  let client: LinuxPlatform | undefined;
  let serverSide: LinuxPlatform | undefined;
  try {
    const clientNs = await lab.addNamespace('client');
    const server = await lab.addNamespace('server');
    const pair = await lab.addVethPair({ clientNs, serverNs: server, serverAddress: `${SERVER_IP}/24`, clientUp: true });
    await lab.exec(server, ['ip', 'addr', 'add', `${SERVER_IP2}/24`, 'dev', pair.serverName]);
    client = new LinuxPlatform({ netns: clientNs });
    serverSide = new LinuxPlatform({ netns: server });
    await client.addAddress(pair.clientName, { address: CLIENT_IP, prefixLength: 24 });
    await fn({ lab, server, pair, client, serverSide });
  } finally {
    await client?.dispose();
    await serverSide?.dispose();
    await lab.dispose();
  }
}

function collect(t: UdpTransport): Datagram[] {
  const got: Datagram[] = [];
  t.onMessage((d) => got.push(d));
  return got;
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Settles promises' outcomes into an array as they come, so a test can see which are still pending. */
function track(list: Promise<void>[]): ('pending' | 'sent' | Error)[] {
  const out: ('pending' | 'sent' | Error)[] = list.map(() => 'pending');
  list.forEach((p, i) =>
    p.then(
      () => void (out[i] = 'sent'),
      (e: Error) => void (out[i] = e),
    ),
  );
  return out;
}

/** Microtasks only: promises settled by a send that went out at once settle here; none that waits for the poll. */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/**
 * A tbf qdisc on the client's link holds datagrams (and so the socket's send-buffer space)
 * until the rate lets them out: a burst larger than the send buffer gets EAGAIN.
 * Returns how many datagrams of `size` bytes make such a burst.
 */
async function slowLink(w: World, size: number, drainMs: number): Promise<number> {
  const sndbuf = Number(readFileSync('/proc/sys/net/core/wmem_default', 'utf8').trim());
  const count = Math.ceil((3 * sndbuf) / size) + 50;
  const bits = count * (size + 42) * 8;
  const rate = Math.max(1_000_000, Math.ceil(bits / (drainMs / 1000)));
  const clientNs = w.pair.clientNs;
  await w.lab.exec(clientNs, [findBinary('tc'), 'qdisc', 'add', 'dev', w.pair.clientName, 'root', 'tbf', 'rate', `${rate}bit`, 'burst', '16kb', 'limit', `${count * (size + 200) * 2}`]);
  return count;
}

function numbered(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, 0x5a);
  b.writeUInt32BE(i, 0);
  return b;
}

describe('Linux UDP send path (namespaces, veth, tbf)', () => {
  test('cached destinations and addresses: every datagram reaches the address and port it was sent to, across more destinations than the cache holds, and received ones name their own source and destination', { timeout: TEST_TIMEOUT_MS }, () =>
    withWorld(async (w) => {
      const ports = [7100, 7101, 7102, 7103, 7104, 7105, 7106, 7107, 7108, 7109];
      const sinks = await Promise.all(ports.map((port) => w.serverSide.openUdp(w.pair.serverName, { port })));
      const got = sinks.map(collect);
      const sock = await w.client.openUdp(w.pair.clientName, {});
      // 20 destinations (10 ports × 2 addresses): more than the 8 the transport remembers,
      // so entries are replaced while sends go on; the same destination twice in a row hits it.
      const plan: { address: string; port: number }[] = [];
      for (let round = 0; round < 3; round++) {
        for (const port of ports) {
          plan.push({ address: SERVER_IP, port }, { address: SERVER_IP, port });
          // A string equal to an earlier one but another object: the cache compares values.
          plan.push({ address: ['192', '168', '78', '3'].join('.'), port });
        }
        plan.push({ address: SERVER_IP2, port: ports[round]! }, { address: SERVER_IP, port: ports[9 - round]! });
      }
      for (const [i, d] of plan.entries()) await sock.send(Buffer.from(`${i} ${d.address}:${d.port}`), d.port, d.address);
      await waitFor('every datagram', () => got.reduce((n, g) => n + g.length, 0) === plan.length);
      ports.forEach((port, k) => {
        for (const d of got[k]!) {
          const [, to] = d.data.toString().split(' ');
          assert.equal(to, `${d.toAddress}:${port}`, `sink on port ${port} got a datagram meant for ${to}`);
          assert.equal(d.fromPort, sock.localPort);
        }
      });
      const expected = (port: number) => plan.filter((d) => d.port === port).length;
      assert.deepEqual(
        got.map((g) => g.length),
        ports.map(expected),
      );

      // Received datagrams name their source and destination even as both change from one to the next.
      const fromA = await w.serverSide.openUdp(w.pair.serverName, { address: SERVER_IP, port: 7150, broadcast: true });
      const fromB = await w.serverSide.openUdp(w.pair.serverName, { address: SERVER_IP2, port: 7151 });
      const inbox = collect(sock);
      const heard = [
        { from: fromA, address: SERVER_IP, to: CLIENT_IP },
        { from: fromA, address: SERVER_IP, to: CLIENT_IP },
        { from: fromB, address: SERVER_IP2, to: CLIENT_IP },
        { from: fromA, address: SERVER_IP, to: '192.168.78.255' },
        { from: fromB, address: SERVER_IP2, to: CLIENT_IP },
        { from: fromA, address: SERVER_IP, to: CLIENT_IP },
      ];
      for (const [i, h] of heard.entries()) await h.from.send(Buffer.from(String(i)), sock.localPort, h.to);
      await waitFor('the datagrams from two addresses', () => inbox.length === heard.length);
      assert.deepEqual(
        inbox.map((d) => [d.data.toString(), d.fromAddress, d.fromPort, d.toAddress, d.toPort]).sort(),
        heard.map((h, i) => [String(i), h.address, h.from.localPort, h.to, sock.localPort]),
      );

      // A cached destination does not let bad input through.
      const field = (f: string) => (e: unknown) => isNicupError(e, 'NICUP_INVALID_ARGUMENT') && e.field === f;
      await assert.rejects(sock.send(Buffer.from('x'), 0, SERVER_IP), field('port'));
      await assert.rejects(sock.send(Buffer.from('x'), 7100.5, SERVER_IP), field('port'));
      await assert.rejects(sock.send(Buffer.from('x'), 7100, '192.168.78'), field('address'));
      await assert.rejects(sock.send(Buffer.from('x'), 7100, ` ${SERVER_IP}`), field('address'));
      await assert.rejects(sock.send('x' as unknown as Uint8Array, 7100, SERVER_IP), field('data'));
      await assert.rejects(sock.send(Buffer.alloc(70000), 7100, SERVER_IP), field('data'));
      await sock.close();
      await assert.rejects(sock.send(Buffer.from('x'), 7100, SERVER_IP), (e) => isNicupError(e, 'NICUP_CLOSED'));
    }),
  );

  test('a full send buffer (EAGAIN): later sends queue behind, nothing is lost and the peer gets them in order', { timeout: TEST_TIMEOUT_MS }, () =>
    withWorld(async (w) => {
      const size = 1200;
      const count = await slowLink(w, size, 500);
      const sink = await w.serverSide.openUdp(w.pair.serverName, { port: 7200 });
      const got = collect(sink);
      const sock = await w.client.openUdp(w.pair.clientName, {});
      const sends: Promise<void>[] = [];
      for (let i = 0; i < count; i++) sends.push(sock.send(numbered(i, size), 7200, SERVER_IP));
      const outcome = track(sends);
      await drainMicrotasks();
      const firstPending = outcome.indexOf('pending');
      assert.ok(firstPending > 0, `the first sends went out at once and some waited for the socket (first pending: ${firstPending})`);
      assert.ok(
        outcome.slice(firstPending).every((o) => o === 'pending'),
        'once one send waits, every later one waits behind it',
      );
      await Promise.all(sends);
      await waitFor(`${count} datagrams at the peer`, () => got.length === count);
      // Queue empty and the link drained (the kernel freed the buffer space): the next send goes at once.
      const after = sock.send(numbered(count, size), 7200, SERVER_IP);
      const afterOutcome = track([after]);
      await drainMicrotasks();
      assert.deepEqual(afterOutcome, ['sent']);
      await waitFor(`${count + 1} datagrams at the peer`, () => got.length === count + 1);
      assert.deepEqual(
        got.map((d) => d.data.readUInt32BE(0)),
        Array.from({ length: count + 1 }, (_, i) => i),
      );
      await sock.close();
    }),
  );

  test('closing with sends queued rejects them with ClosedError naming the destination; those sent before resolve', { timeout: TEST_TIMEOUT_MS }, () =>
    withWorld(async (w) => {
      const size = 1200;
      const count = await slowLink(w, size, 2000);
      const sock = await w.client.openUdp(w.pair.clientName, {});
      const sends: Promise<void>[] = [];
      for (let i = 0; i < count; i++) sends.push(sock.send(numbered(i, size), 7300, SERVER_IP));
      const outcome = track(sends);
      await drainMicrotasks();
      const firstPending = outcome.indexOf('pending');
      assert.ok(firstPending > 0, `some sends wait for the socket (first pending: ${firstPending})`);
      await sock.close();
      await Promise.allSettled(sends);
      assert.ok(outcome.slice(0, firstPending).every((o) => o === 'sent'));
      for (const o of outcome.slice(firstPending)) {
        assert.ok(o instanceof Error && isNicupError(o, 'NICUP_CLOSED'), `queued send: ${String(o)}`);
        assert.match(o.message, new RegExp(`send to ${SERVER_IP.replace(/\./g, '\\.')}:7300 on ${w.pair.clientName}: socket closed`));
      }
    }),
  );
});
